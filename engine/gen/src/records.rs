//! PPID-linked certificate records for the bulk validation job, with the
//! expected verdict of every record beside them (ground truth by
//! construction: the generator knows which serials it drew from a CRL).
//!
//! Mix per record (deterministic from the seed): the user-identification
//! certificate of an auth CA (2023: 70%, 2019: 30%) and the linked signing
//! certificate of the same generation (absent for 10%); each revoked with
//! some probability (auth 8%, sign 15%; the CRL's reason mix makes most
//! signing revocations affiliationChanged and puts some auth certificates on
//! hold); 3% of auth certificates expired; 1% issued by a CA the job does not
//! know; 0.5% with a malformed serial and 0.2% missing a required value
//! (rejects); serials written in mixed forms (upper case, leading zeros,
//! colons).

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rand::Rng;

use crate::keys::rng_for;
use crate::pki::{Ca, Hierarchy};
use crate::GenError;
use crlbatch_crl::{Reason, Serial, Timestamp};

/// One revoked entry of a CA, as the records generator needs it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub serial: Serial,
    pub revoked: Timestamp,
    pub reason: Option<Reason>,
    pub invalidity: Option<Timestamp>,
}

/// A CA the records can reference.
#[derive(Debug)]
pub struct RecordCa<'a> {
    pub ca: &'a Ca,
    /// Its CRL entries, ascending by serial.
    pub listed: Vec<Listed>,
    /// Serials are issued in `[base, base + span)`.
    pub base: u64,
    pub span: u64,
}

/// What to write.
#[derive(Debug, Clone)]
pub struct RecordsOptions {
    pub count: u64,
    pub files: usize,
    pub seed: u64,
    /// The evaluation time the expected verdicts assume (inside the CRLs'
    /// validity window).
    pub at: Timestamp,
}

/// Rows per row group of the generated records files.
const RECORD_ROW_GROUP: usize = 256 * 1024;

fn records_schema() -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("ppid", DataType::Utf8, true),
        Field::new("local_user_id", DataType::Utf8, true),
        Field::new("auth_issuer_kid", DataType::Utf8, true),
        Field::new("auth_serial", DataType::Utf8, true),
        Field::new("auth_not_after", ts.clone(), true),
        Field::new("sign_issuer_kid", DataType::Utf8, true),
        Field::new("sign_serial", DataType::Utf8, true),
        Field::new("sign_not_after", ts.clone(), true),
        // An extra column, which the job must ignore.
        Field::new("linked_at", ts, true),
    ]))
}

fn expected_schema() -> SchemaRef {
    let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("ppid", DataType::Utf8, true),
        Field::new("file", DataType::Utf8, false),
        Field::new("row", DataType::Int64, false),
        Field::new("reject_column", DataType::Utf8, true),
        Field::new("auth_status", DataType::Utf8, true),
        Field::new("auth_reason", DataType::Utf8, true),
        Field::new("auth_reason_code", DataType::Int32, true),
        Field::new("auth_revocation_time", ts.clone(), true),
        Field::new("auth_invalidity_time", ts.clone(), true),
        Field::new("sign_status", DataType::Utf8, true),
        Field::new("sign_reason", DataType::Utf8, true),
        Field::new("sign_reason_code", DataType::Int32, true),
        Field::new("sign_revocation_time", ts.clone(), true),
        Field::new("sign_invalidity_time", ts, true),
        Field::new("basic_four_changed", DataType::Boolean, true),
        Field::new("category", DataType::Utf8, false),
    ]))
}

/// Write a serial in one of the accepted input forms.
fn serial_text(rng: &mut impl Rng, s: &Serial) -> String {
    let canon = s.to_string();
    let (neg, digits) = match canon.strip_prefix('-') {
        Some(d) => ("-", d.to_owned()),
        None => ("", canon.clone()),
    };
    let roll = rng.gen_range(0..100);
    let body = if roll < 30 {
        digits.to_ascii_uppercase()
    } else if roll < 50 {
        format!("00{digits}")
    } else if roll < 60 {
        let even = if digits.len() % 2 == 1 { format!("0{digits}") } else { digits.clone() };
        even.as_bytes().chunks(2).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(":")
    } else {
        digits
    };
    format!("{neg}{body}")
}

/// A certificate drawn for a record, and what the job should say of it.
struct Drawn {
    kid: String,
    serial_text: Option<String>,
    not_after: Option<Timestamp>,
    status: &'static str,
    listed: Option<Listed>,
}

fn micros(t: Timestamp) -> i64 {
    t.0.saturating_mul(1_000_000)
}

fn draw(rng: &mut impl Rng, ca: &RecordCa<'_>, revoke_pct: u32, at: Timestamp, expire: bool) -> Drawn {
    let kid = {
        let k = ca.ca.kid_hex();
        if rng.gen_range(0..100) < 20 {
            k.to_ascii_uppercase()
        } else {
            k
        }
    };
    let listed = (rng.gen_range(0..100) < revoke_pct && !ca.listed.is_empty())
        .then(|| ca.listed.get(rng.gen_range(0..ca.listed.len())).cloned())
        .flatten();
    let serial = match &listed {
        Some(l) => l.serial,
        None => loop {
            let s = ca.base + rng.gen_range(0..ca.span.max(1));
            let serial = Serial::from_u64(s);
            if ca.listed.binary_search_by(|l| l.serial.to_u64().unwrap_or(u64::MAX).cmp(&s)).is_err() {
                break serial;
            }
        },
    };
    let not_after = if expire {
        Some(Timestamp(at.0 - rng.gen_range(86_400..400 * 86_400)))
    } else if rng.gen_range(0..100) < 10 {
        None
    } else {
        Some(Timestamp(at.0 + rng.gen_range(86_400..5 * 365 * 86_400)))
    };
    let status = match (&listed, expire) {
        (Some(_), _) => "revoked",
        (None, true) => "expired",
        (None, false) => "good",
    };
    Drawn { kid, serial_text: Some(serial_text(rng, &serial)), not_after, status, listed }
}

/// Write `records/part-NNNNN.parquet` and `expected/expected.parquet` under `out`.
pub fn write_records(
    out: &Path,
    opts: &RecordsOptions,
    auth: &[RecordCa<'_>],
    sign: &[RecordCa<'_>],
) -> Result<u64, GenError> {
    let io = |p: &Path, e: &dyn std::fmt::Display| GenError::Io(format!("{}: {e}", p.display()));
    if auth.is_empty() {
        return Err(GenError::Invalid("records need at least one user-authentication CA with a CRL".into()));
    }
    let rdir = out.join("records");
    let edir = out.join("expected");
    for d in [&rdir, &edir] {
        std::fs::create_dir_all(d).map_err(|e| io(d, &e))?;
    }
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(RECORD_ROW_GROUP))
        .build();
    let eprops = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
    let epath = edir.join("expected.parquet");
    let efile = std::fs::File::create(&epath).map_err(|e| io(&epath, &e))?;
    let mut ew = ArrowWriter::try_new(efile, expected_schema(), Some(eprops)).map_err(|e| io(&epath, &e))?;
    let files = opts.files.max(1) as u64;
    let per_file = opts.count.div_ceil(files);
    let mut rng = rng_for(opts.seed, "records");
    let mut written = 0u64;
    let weights = |cas: &[RecordCa<'_>], rng: &mut rand_chacha::ChaCha20Rng| -> usize {
        // Newest generation 70%, the others share the rest.
        if cas.len() == 1 || rng.gen_range(0..100) < 70 {
            cas.len() - 1
        } else {
            rng.gen_range(0..cas.len() - 1)
        }
    };
    for f in 0..files {
        let rows = per_file.min(opts.count - written);
        if rows == 0 {
            break;
        }
        let name = format!("part-{f:05}.parquet");
        let path = rdir.join(&name);
        let file = std::fs::File::create(&path).map_err(|e| io(&path, &e))?;
        let mut w = ArrowWriter::try_new(file, records_schema(), Some(props.clone())).map_err(|e| io(&path, &e))?;
        let mut row = 0u64;
        while row < rows {
            let n = usize::try_from((rows - row).min(65_536)).unwrap_or(65_536);
            let mut b = Builders::new(n);
            for i in 0..n {
                let global = written + row + i as u64;
                let ppid = format!("{:016x}{:016x}", rng.gen::<u64>(), global);
                let ca_a = auth.get(weights(auth, &mut rng));
                let Some(ca_a) = ca_a else { continue };
                let gen = ca_a.ca.spec.generation;
                let ca_s = sign.iter().find(|s| s.ca.spec.generation == gen).or_else(|| sign.first());
                let roll = rng.gen_range(0..1000);
                let mut category = "normal";
                let mut reject: Option<&'static str> = None;
                let expired = rng.gen_range(0..100) < 3;
                let mut a = draw(&mut rng, ca_a, 8, opts.at, expired);
                let mut s = match ca_s {
                    Some(c) if rng.gen_range(0..100) >= 10 => Some(draw(&mut rng, c, 15, opts.at, false)),
                    _ => None,
                };
                if roll < 10 {
                    // Issued by a CA the job does not know (a key it was not given).
                    category = "unknown_issuer";
                    // One of three keys no configured CA has (like an old CA generation).
                    let k = rng.gen_range(0..3u8);
                    a.kid = format!("{:02x}", 0xe0 + k).repeat(20);
                    a.status = if expired { "expired" } else { "unknown" };
                    a.listed = None;
                } else if roll < 15 {
                    category = "malformed_serial";
                    reject = Some("auth_serial");
                    a.serial_text = Some(if rng.gen_bool(0.5) { "12G4".to_owned() } else { "f".repeat(41) });
                } else if roll < 17 {
                    category = "missing_required";
                    reject = Some("auth_serial");
                    a.serial_text = None;
                }
                let b4c =
                    s.as_ref().map(|d| d.listed.as_ref().is_some_and(|l| l.reason == Some(Reason::AffiliationChanged)));
                if reject.is_some() {
                    s = s.map(|mut d| {
                        d.status = "";
                        d
                    });
                }
                b.push(&ppid, !global.is_multiple_of(20), &a, s.as_ref(), opts.at, &mut rng);
                b.expect(&ppid, &name, row + i as u64, reject, &a, s.as_ref(), b4c, category);
            }
            let (rb, eb) = b.finish()?;
            w.write(&rb).map_err(|e| io(&path, &e))?;
            ew.write(&eb).map_err(|e| io(&epath, &e))?;
            row += n as u64;
        }
        w.close().map_err(|e| io(&path, &e))?;
        written += rows;
    }
    ew.close().map_err(|e| io(&epath, &e))?;
    Ok(written)
}

struct Builders {
    ppid: StringBuilder,
    luid: StringBuilder,
    akid: StringBuilder,
    aser: StringBuilder,
    ana: TimestampMicrosecondBuilder,
    skid: StringBuilder,
    sser: StringBuilder,
    sna: TimestampMicrosecondBuilder,
    linked: TimestampMicrosecondBuilder,
    e_ppid: StringBuilder,
    e_file: StringBuilder,
    e_row: Int64Builder,
    e_reject: StringBuilder,
    e: [RoleExpect; 2],
    e_b4c: BooleanBuilder,
    e_cat: StringBuilder,
}

struct RoleExpect {
    status: StringBuilder,
    reason: StringBuilder,
    code: Int32Builder,
    time: TimestampMicrosecondBuilder,
    inv: TimestampMicrosecondBuilder,
}

fn ts(n: usize) -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC")
}

impl RoleExpect {
    fn new(n: usize) -> Self {
        RoleExpect {
            status: StringBuilder::new(),
            reason: StringBuilder::new(),
            code: Int32Builder::with_capacity(n),
            time: ts(n),
            inv: ts(n),
        }
    }

    fn push(&mut self, d: Option<&Drawn>, rejected: bool) {
        match d {
            Some(d) if !rejected => {
                self.status.append_value(d.status);
                let reason = d.listed.as_ref().and_then(|l| l.reason);
                self.reason.append_option(reason.map(Reason::name));
                self.code.append_option(reason.map(|r| i32::from(r.code())));
                self.time.append_option(d.listed.as_ref().map(|l| micros(l.revoked)));
                self.inv.append_option(d.listed.as_ref().and_then(|l| l.invalidity).map(micros));
            }
            _ => {
                self.status.append_null();
                self.reason.append_null();
                self.code.append_null();
                self.time.append_null();
                self.inv.append_null();
            }
        }
    }

    fn finish(&mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.status.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.code.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.inv.finish()),
        ]
    }
}

impl Builders {
    fn new(n: usize) -> Self {
        let s = || StringBuilder::with_capacity(n, n * 24);
        Builders {
            ppid: s(),
            luid: s(),
            akid: s(),
            aser: s(),
            ana: ts(n),
            skid: s(),
            sser: s(),
            sna: ts(n),
            linked: ts(n),
            e_ppid: s(),
            e_file: s(),
            e_row: Int64Builder::with_capacity(n),
            e_reject: s(),
            e: [RoleExpect::new(n), RoleExpect::new(n)],
            e_b4c: BooleanBuilder::with_capacity(n),
            e_cat: s(),
        }
    }

    fn push(&mut self, ppid: &str, with_luid: bool, a: &Drawn, s: Option<&Drawn>, at: Timestamp, rng: &mut impl Rng) {
        self.ppid.append_value(ppid);
        if with_luid {
            self.luid.append_value(format!("U{:08}", rng.gen_range(0..100_000_000u32)));
        } else {
            self.luid.append_null();
        }
        self.akid.append_value(&a.kid);
        self.aser.append_option(a.serial_text.as_deref());
        self.ana.append_option(a.not_after.map(micros));
        match s {
            Some(d) => {
                self.skid.append_value(&d.kid);
                self.sser.append_option(d.serial_text.as_deref());
                self.sna.append_option(d.not_after.map(micros));
            }
            None => {
                self.skid.append_null();
                self.sser.append_null();
                self.sna.append_null();
            }
        }
        self.linked.append_value(micros(Timestamp(at.0 - rng.gen_range(0..3 * 365 * 86_400))));
    }

    #[allow(clippy::too_many_arguments)]
    fn expect(
        &mut self,
        ppid: &str,
        file: &str,
        row: u64,
        reject: Option<&str>,
        a: &Drawn,
        s: Option<&Drawn>,
        b4c: Option<bool>,
        category: &str,
    ) {
        self.e_ppid.append_value(ppid);
        self.e_file.append_value(file);
        self.e_row.append_value(i64::try_from(row).unwrap_or(i64::MAX));
        self.e_reject.append_option(reject);
        let [ea, es] = &mut self.e;
        ea.push(Some(a), reject.is_some());
        es.push(s, reject.is_some());
        self.e_b4c.append_option(if reject.is_some() { None } else { b4c });
        self.e_cat.append_value(category);
    }

    fn finish(mut self) -> Result<(RecordBatch, RecordBatch), GenError> {
        let err = |e: arrow_schema::ArrowError| GenError::Invalid(e.to_string());
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.ppid.finish()),
            Arc::new(self.luid.finish()),
            Arc::new(self.akid.finish()),
            Arc::new(self.aser.finish()),
            Arc::new(self.ana.finish()),
            Arc::new(self.skid.finish()),
            Arc::new(self.sser.finish()),
            Arc::new(self.sna.finish()),
            Arc::new(self.linked.finish()),
        ];
        let rb = RecordBatch::try_new(records_schema(), cols).map_err(err)?;
        let mut ecols: Vec<ArrayRef> = vec![
            Arc::new(self.e_ppid.finish()),
            Arc::new(self.e_file.finish()),
            Arc::new(self.e_row.finish()),
            Arc::new(self.e_reject.finish()),
        ];
        let [ea, es] = &mut self.e;
        ecols.extend(ea.finish());
        ecols.extend(es.finish());
        ecols.push(Arc::new(self.e_b4c.finish()));
        ecols.push(Arc::new(self.e_cat.finish()));
        let eb = RecordBatch::try_new(expected_schema(), ecols).map_err(err)?;
        Ok((rb, eb))
    }
}

/// Which hierarchy a records CA belongs to.
pub fn is_auth(ca: &Ca) -> bool {
    ca.spec.hierarchy == Hierarchy::Auth
}
