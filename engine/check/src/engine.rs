//! The bulk check: records files are cut into row groups; one worker per
//! core pulls row groups, decodes them batch by batch, judges both roles of
//! every record, and writes the records needing attention (and the rejects)
//! to its own Parquet part files. Memory is a few batches and one row group
//! of output per worker, whatever the input size.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crlbatch_crl::{Reason, Timestamp};
use crlbatch_write::{DatasetWriter, PartFile, TableSchema};

use crate::columns::{StrCol, TsCol};
use crate::error::CheckError;
use crate::issuers::{parse_kid, Issuers};
use crate::keyhash::{KeyHasher, KeySet};
use crate::records::{self, RecordsFile};
use crate::verdict::{judge, why_text, CertStatus, SerialKey, Verdict};

/// Rows decoded per batch.
pub const BATCH_ROWS: usize = 32 * 1024;

/// Which records go to `results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Emit {
    /// Records with any role not `good` (default).
    #[default]
    Attention,
    /// Every record.
    All,
}

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    /// A Parquet file or a folder of them.
    pub records: PathBuf,
    pub at: Timestamp,
    pub emit: Emit,
    pub run_id: String,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

/// One input file, as read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputFile {
    pub file: String,
    pub rows: u64,
    pub row_groups: usize,
}

/// Counts for the summary table: (role, issuer kid hex, status, reason).
pub type SummaryKey = (&'static str, String, CertStatus, Option<Reason>);

/// The outcome of a check.
#[derive(Debug, Default)]
pub struct CheckOutput {
    pub inputs: Vec<InputFile>,
    pub results: Vec<PartFile>,
    pub rejects: Vec<PartFile>,
    /// (count, of which basic four changed) per key.
    pub summary: Vec<(SummaryKey, u64, u64)>,
    /// Keys of the records needing attention (for the next run).
    pub flagged: Vec<u64>,
    pub rows_checked: u64,
    pub rows_emitted: u64,
    pub rows_attention: u64,
    pub rows_new: u64,
    pub rows_rejected: u64,
    pub basic_four_changed: u64,
}

/// Open and validate every input file.
pub fn open_inputs(root: &Path) -> Result<Vec<RecordsFile>, CheckError> {
    let spec = TableSchema::records()?;
    records::list_files(root)?.iter().map(|p| records::open(p, root, &spec)).collect()
}

/// A key identifier as seen in one worker: its issuer slot and canonical hex.
#[derive(Debug, Clone, Copy)]
struct KidHandle {
    slot: Option<usize>,
    id: u32,
}

/// (role 0 = auth / 1 = sign, worker-local kid id, status, reason).
type WorkerSummaryKey = (u8, u32, CertStatus, Option<Reason>);

/// Per-worker state.
struct Worker<'a> {
    issuers: &'a Issuers,
    previous: &'a KeySet,
    at_micros: i64,
    emit: Emit,
    run_id: String,
    results: DatasetWriter,
    rejects: DatasetWriter,
    results_schema: SchemaRef,
    rejects_schema: SchemaRef,
    kids: Vec<String>,
    kid_ids: HashMap<Vec<u8>, u32>,
    summary: HashMap<WorkerSummaryKey, (u64, u64)>,
    flagged: Vec<u64>,
    out: CheckOutput,
}

/// Output columns of one batch.
struct Out {
    ppid: StringBuilder,
    luid: StringBuilder,
    akid: StringBuilder,
    aser: StringBuilder,
    ast: StringBuilder,
    arsn: StringBuilder,
    acode: Int32Builder,
    atime: TimestampMicrosecondBuilder,
    ainv: TimestampMicrosecondBuilder,
    skid: StringBuilder,
    sser: StringBuilder,
    sst: StringBuilder,
    srsn: StringBuilder,
    scode: Int32Builder,
    stime: TimestampMicrosecondBuilder,
    sinv: TimestampMicrosecondBuilder,
    b4c: BooleanBuilder,
    new: BooleanBuilder,
    detail: StringBuilder,
    run: StringBuilder,
    rows: usize,
}

fn ts_builder(n: usize) -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::with_capacity(n).with_timezone("UTC")
}

impl Out {
    fn new(n: usize) -> Self {
        let s = || StringBuilder::with_capacity(n, n * 8);
        Out {
            ppid: s(),
            luid: s(),
            akid: s(),
            aser: s(),
            ast: s(),
            arsn: s(),
            acode: Int32Builder::with_capacity(n),
            atime: ts_builder(n),
            ainv: ts_builder(n),
            skid: s(),
            sser: s(),
            sst: s(),
            srsn: s(),
            scode: Int32Builder::with_capacity(n),
            stime: ts_builder(n),
            sinv: ts_builder(n),
            b4c: BooleanBuilder::with_capacity(n),
            new: BooleanBuilder::with_capacity(n),
            detail: s(),
            run: s(),
            rows: 0,
        }
    }

    fn finish(mut self, schema: &SchemaRef) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.ppid.finish()),
            Arc::new(self.luid.finish()),
            Arc::new(self.akid.finish()),
            Arc::new(self.aser.finish()),
            Arc::new(self.ast.finish()),
            Arc::new(self.arsn.finish()),
            Arc::new(self.acode.finish()),
            Arc::new(self.atime.finish()),
            Arc::new(self.ainv.finish()),
            Arc::new(self.skid.finish()),
            Arc::new(self.sser.finish()),
            Arc::new(self.sst.finish()),
            Arc::new(self.srsn.finish()),
            Arc::new(self.scode.finish()),
            Arc::new(self.stime.finish()),
            Arc::new(self.sinv.finish()),
            Arc::new(self.b4c.finish()),
            Arc::new(self.new.finish()),
            Arc::new(self.detail.finish()),
            Arc::new(self.run.finish()),
        ];
        RecordBatch::try_new(schema.clone(), cols)
    }
}

/// Rejected rows of one batch.
struct Rejects {
    file: StringBuilder,
    row: Int64Builder,
    column: StringBuilder,
    error: StringBuilder,
    run: StringBuilder,
    rows: usize,
}

impl Rejects {
    fn new() -> Self {
        Rejects {
            file: StringBuilder::new(),
            row: Int64Builder::new(),
            column: StringBuilder::new(),
            error: StringBuilder::new(),
            run: StringBuilder::new(),
            rows: 0,
        }
    }

    fn push(&mut self, file: &str, row: u64, column: &str, error: &str, run: &str) {
        self.file.append_value(file);
        self.row.append_value(i64::try_from(row).unwrap_or(i64::MAX));
        self.column.append_value(column);
        self.error.append_value(error);
        self.run.append_value(run);
        self.rows += 1;
    }

    fn finish(mut self, schema: &SchemaRef) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.file.finish()),
            Arc::new(self.row.finish()),
            Arc::new(self.column.finish()),
            Arc::new(self.error.finish()),
            Arc::new(self.run.finish()),
        ];
        RecordBatch::try_new(schema.clone(), cols)
    }
}

fn secs_to_micros(t: Timestamp) -> i64 {
    t.0.saturating_mul(1_000_000)
}

/// A role as parsed from a record.
struct Role {
    kid: KidHandle,
    serial: SerialKey,
    not_after: Option<i64>,
}

impl<'a> Worker<'a> {
    fn kid_handle(&mut self, text: &str) -> Option<KidHandle> {
        let bytes = parse_kid(text)?;
        let slot = self.issuers.slot(&bytes);
        let next = u32::try_from(self.kids.len()).unwrap_or(u32::MAX);
        let id = *self.kid_ids.entry(bytes.clone()).or_insert_with(|| {
            self.kids.push(crlbatch_crl::hex(&bytes));
            next
        });
        Some(KidHandle { slot, id })
    }

    /// Per-batch decoder of a kid column: each distinct value decoded once.
    fn kid_lookup(&mut self, col: &StrCol<'_>) -> KidLookup {
        let mut dict = Vec::new();
        if col.is_dict() {
            for k in 0..col.dict_len() {
                let h = col.dict_value(k).and_then(|v| self.kid_handle(v));
                dict.push(h);
            }
        }
        KidLookup { dict, cache: HashMap::new() }
    }

    fn resolve(&mut self, l: &mut KidLookup, col: &StrCol<'_>, i: usize) -> Result<Option<KidHandle>, &'static str> {
        if col.is_dict() {
            return match col.dict_key(i) {
                None => Ok(None),
                Some(k) => l.dict.get(k).copied().flatten().map(Some).ok_or("not hexadecimal"),
            };
        }
        let Some(v) = col.get(i) else { return Ok(None) };
        if let Some(h) = l.cache.get(v) {
            return Ok(Some(*h));
        }
        let h = self.kid_handle(v).ok_or("not hexadecimal")?;
        l.cache.insert(v.to_owned(), h);
        Ok(Some(h))
    }

    fn count(&mut self, role: u8, kid: KidHandle, v: &Verdict, b4c: bool) {
        let e = self.summary.entry((role, kid.id, v.status, v.reason())).or_insert((0, 0));
        e.0 += 1;
        e.1 += u64::from(b4c);
    }

    fn process_batch(&mut self, batch: &RecordBatch, file: &RecordsFile, row_base: u64) -> Result<(), CheckError> {
        let col = |k: usize| file.positions.get(k).copied().flatten().map(|p| batch.column(p));
        let ppid = StrCol::new(col(0));
        let luid = StrCol::new(col(1));
        let akid = StrCol::new(col(2));
        let aser = StrCol::new(col(3));
        let ana = TsCol::new(col(4));
        let skid = StrCol::new(col(5));
        let sser = StrCol::new(col(6));
        let sna = TsCol::new(col(7));
        let mut akl = self.kid_lookup(&akid);
        let mut skl = self.kid_lookup(&skid);
        let n = batch.num_rows();
        let mut out = Out::new(if self.emit == Emit::All { n } else { n / 3 + 16 });
        let mut rej = Rejects::new();
        let mut buf = String::with_capacity(64);
        let run_id = self.run_id.clone();
        for i in 0..n {
            let row = row_base + i as u64;
            let mut reject = |column: &str, error: &str| rej.push(&file.name, row, column, error, &run_id);
            let Some(ppid_v) = ppid.get(i).filter(|p| !p.is_empty()) else {
                reject("ppid", "missing required value");
                continue;
            };
            let auth_kid = match self.resolve(&mut akl, &akid, i) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    reject("auth_issuer_kid", "missing required value");
                    continue;
                }
                Err(e) => {
                    reject("auth_issuer_kid", e);
                    continue;
                }
            };
            let auth_serial = match aser.get(i).map(SerialKey::parse) {
                None => {
                    reject("auth_serial", "missing required value");
                    continue;
                }
                Some(Err(e)) => {
                    reject("auth_serial", &e.to_string());
                    continue;
                }
                Some(Ok(s)) => s,
            };
            let sign_kid = match self.resolve(&mut skl, &skid, i) {
                Ok(h) => h,
                Err(e) => {
                    reject("sign_issuer_kid", e);
                    continue;
                }
            };
            let sign = match (sign_kid, sser.get(i)) {
                (None, None) => None,
                (Some(k), Some(s)) => match SerialKey::parse(s) {
                    Ok(serial) => Some(Role { kid: k, serial, not_after: sna.micros(i) }),
                    Err(e) => {
                        reject("sign_serial", &e.to_string());
                        continue;
                    }
                },
                (Some(_), None) => {
                    reject("sign_serial", "missing while sign_issuer_kid is given");
                    continue;
                }
                (None, Some(_)) => {
                    reject("sign_issuer_kid", "missing while sign_serial is given");
                    continue;
                }
            };
            let auth = Role { kid: auth_kid, serial: auth_serial, not_after: ana.micros(i) };
            let av = judge(self.issuers, auth.kid.slot, auth.serial, auth.not_after, self.at_micros);
            let sv = sign.as_ref().map(|s| judge(self.issuers, s.kid.slot, s.serial, s.not_after, self.at_micros));
            let b4c = sv.map(|v| match v.status {
                CertStatus::Unknown => None,
                _ => Some(v.reason() == Some(Reason::AffiliationChanged)),
            });
            let b4c_true = b4c.flatten() == Some(true);
            self.count(0, auth.kid, &av, false);
            if let (Some(s), Some(v)) = (&sign, &sv) {
                self.count(1, s.kid, v, b4c_true);
            }
            self.out.rows_checked += 1;
            self.out.basic_four_changed += u64::from(b4c_true);
            let attention = av.status != CertStatus::Good || sv.is_some_and(|v| v.status != CertStatus::Good);
            let mut is_new = false;
            if attention {
                self.out.rows_attention += 1;
                let mut h = KeyHasher::new();
                h.field(ppid_v.as_bytes());
                for role in [Some(&auth), sign.as_ref()] {
                    match role {
                        Some(r) => {
                            h.field(self.kids.get(r.kid.id as usize).map_or(&[][..], |k| k.as_bytes()));
                            match &r.serial {
                                SerialKey::U64(v) => h.field(&v.to_be_bytes()),
                                SerialKey::Exact(s) => {
                                    h.field(&[u8::from(s.is_negative())]);
                                    h.field(s.magnitude());
                                }
                            }
                        }
                        None => h.field(b"-"),
                    }
                }
                let key = h.finish();
                self.flagged.push(key);
                is_new = !self.previous.contains(&key);
                self.out.rows_new += u64::from(is_new);
            }
            if !(attention || self.emit == Emit::All) {
                continue;
            }
            // One output row.
            out.rows += 1;
            out.ppid.append_value(ppid_v);
            out.luid.append_option(luid.get(i));
            out.akid.append_value(self.kids.get(auth.kid.id as usize).map_or("", String::as_str));
            buf.clear();
            let _ = write!(buf, "{}", auth.serial.to_serial());
            out.aser.append_value(&buf);
            push_verdict(&av, &mut out.ast, &mut out.arsn, &mut out.acode, &mut out.atime, &mut out.ainv);
            match (&sign, &sv) {
                (Some(s), Some(v)) => {
                    out.skid.append_value(self.kids.get(s.kid.id as usize).map_or("", String::as_str));
                    buf.clear();
                    let _ = write!(buf, "{}", s.serial.to_serial());
                    out.sser.append_value(&buf);
                    push_verdict(v, &mut out.sst, &mut out.srsn, &mut out.scode, &mut out.stime, &mut out.sinv);
                }
                _ => {
                    out.skid.append_null();
                    out.sser.append_null();
                    out.sst.append_null();
                    out.srsn.append_null();
                    out.scode.append_null();
                    out.stime.append_null();
                    out.sinv.append_null();
                }
            }
            out.b4c.append_option(b4c.flatten());
            out.new.append_value(is_new);
            let mut detail = String::new();
            if let Some(w) = av.why {
                detail = format!(
                    "auth: {}",
                    why_text(self.issuers, w, self.kids.get(auth.kid.id as usize).map_or("", String::as_str))
                );
            }
            if let (Some(s), Some(Verdict { why: Some(w), .. })) = (&sign, &sv) {
                if !detail.is_empty() {
                    detail.push_str("; ");
                }
                detail.push_str("sign: ");
                detail.push_str(&why_text(
                    self.issuers,
                    *w,
                    self.kids.get(s.kid.id as usize).map_or("", String::as_str),
                ));
            }
            out.detail.append_option((!detail.is_empty()).then_some(detail));
            out.run.append_value(&self.run_id);
        }
        let arrow_err = |e: arrow_schema::ArrowError| CheckError::Decode {
            path: file.name.clone(),
            row_group: 0,
            message: e.to_string(),
        };
        if out.rows > 0 {
            self.out.rows_emitted += out.rows as u64;
            let b = out.finish(&self.results_schema).map_err(arrow_err)?;
            self.results.write(&b)?;
        }
        if rej.rows > 0 {
            self.out.rows_rejected += rej.rows as u64;
            let b = rej.finish(&self.rejects_schema).map_err(arrow_err)?;
            self.rejects.write(&b)?;
        }
        Ok(())
    }

    fn process_unit(&mut self, file: &RecordsFile, rg: usize) -> Result<(), CheckError> {
        let p = file.path.display().to_string();
        let f =
            File::open(&file.path).map_err(|e| CheckError::Unreadable { path: p.clone(), message: e.to_string() })?;
        let md = file.metadata.metadata();
        let row_base: u64 = md.row_groups().iter().take(rg).map(|g| u64::try_from(g.num_rows()).unwrap_or(0)).sum();
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(f, file.metadata.clone())
            .with_projection(file.projection.clone())
            .with_row_groups(vec![rg])
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| CheckError::Decode { path: p.clone(), row_group: rg, message: e.to_string() })?;
        let mut base = row_base;
        for batch in reader {
            let batch =
                batch.map_err(|e| CheckError::Decode { path: p.clone(), row_group: rg, message: e.to_string() })?;
            self.process_batch(&batch, file, base)?;
            base += batch.num_rows() as u64;
        }
        Ok(())
    }
}

fn push_verdict(
    v: &Verdict,
    st: &mut StringBuilder,
    rsn: &mut StringBuilder,
    code: &mut Int32Builder,
    time: &mut TimestampMicrosecondBuilder,
    inv: &mut TimestampMicrosecondBuilder,
) {
    st.append_value(v.status.name());
    let reason = v.reason();
    rsn.append_option(reason.map(Reason::name));
    code.append_option(reason.map(|r| i32::from(r.code())));
    time.append_option(v.revocation.map(|r| secs_to_micros(r.revocation_time)));
    inv.append_option(v.revocation.and_then(|r| r.invalidity_time).map(secs_to_micros));
}

/// A per-batch kid decoder.
struct KidLookup {
    dict: Vec<Option<KidHandle>>,
    cache: HashMap<String, KidHandle>,
}

/// Check every record of `files`; write results and rejects part files into
/// `results_dir` and `rejects_dir`.
pub fn check(
    cfg: &CheckConfig,
    files: &[RecordsFile],
    issuers: &Issuers,
    previous: &KeySet,
    results_dir: &Path,
    rejects_dir: &Path,
) -> Result<CheckOutput, CheckError> {
    let results_spec = TableSchema::results()?;
    let rejects_spec = TableSchema::rejects()?;
    let results_schema = results_spec.arrow()?;
    let rejects_schema = rejects_spec.arrow()?;
    let units: Vec<(usize, usize)> =
        files.iter().enumerate().flat_map(|(f, rf)| (0..rf.row_groups).map(move |g| (f, g))).collect();
    let threads =
        if cfg.threads == 0 { std::thread::available_parallelism().map_or(2, |n| n.get()) } else { cfg.threads };
    let workers = threads.min(units.len()).max(1);
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let at_micros = secs_to_micros(cfg.at);

    let outcomes: Vec<Result<Worker<'_>, CheckError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (next, abort) = (&next, &abort);
                let (units, results_schema, rejects_schema) = (&units, &results_schema, &rejects_schema);
                let (results_spec, rejects_spec) = (&results_spec, &rejects_spec);
                s.spawn(move || -> Result<Worker<'_>, CheckError> {
                    let prefix = if workers == 1 { "part".to_owned() } else { format!("part-w{w}") };
                    let mut worker = Worker {
                        issuers,
                        previous,
                        at_micros,
                        emit: cfg.emit,
                        run_id: cfg.run_id.clone(),
                        results: DatasetWriter::new(
                            results_dir,
                            results_schema.clone(),
                            results_spec.schema_version,
                            &cfg.run_id,
                            &prefix,
                        )?,
                        rejects: DatasetWriter::new(
                            rejects_dir,
                            rejects_schema.clone(),
                            rejects_spec.schema_version,
                            &cfg.run_id,
                            &prefix,
                        )?,
                        results_schema: results_schema.clone(),
                        rejects_schema: rejects_schema.clone(),
                        kids: Vec::new(),
                        kid_ids: HashMap::new(),
                        summary: HashMap::new(),
                        flagged: Vec::new(),
                        out: CheckOutput::default(),
                    };
                    loop {
                        if abort.load(Ordering::Relaxed) {
                            break;
                        }
                        let u = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(f, g)) = units.get(u) else { break };
                        let Some(file) = files.get(f) else { break };
                        if let Err(e) = worker.process_unit(file, g) {
                            abort.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                    }
                    Ok(worker)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(CheckError::Decode { path: "worker".into(), row_group: 0, message: "worker panicked".into() })
                })
            })
            .collect()
    });

    let mut total = CheckOutput {
        inputs: files
            .iter()
            .map(|f| InputFile { file: f.name.clone(), rows: f.rows, row_groups: f.row_groups })
            .collect(),
        ..Default::default()
    };
    let mut summary: HashMap<SummaryKey, (u64, u64)> = HashMap::new();
    // Report the first error, after every worker stopped.
    let mut workers_ok = Vec::new();
    for o in outcomes {
        workers_ok.push(o?);
    }
    for w in workers_ok {
        total.results.extend(w.results.finish()?);
        total.rejects.extend(w.rejects.finish()?);
        for ((role, kid, status, reason), (n, b)) in w.summary {
            let kid_hex = w.kids.get(kid as usize).cloned().unwrap_or_default();
            let e = summary.entry((if role == 0 { "auth" } else { "sign" }, kid_hex, status, reason)).or_insert((0, 0));
            e.0 += n;
            e.1 += b;
        }
        total.flagged.extend(w.flagged);
        let o = w.out;
        total.rows_checked += o.rows_checked;
        total.rows_emitted += o.rows_emitted;
        total.rows_attention += o.rows_attention;
        total.rows_new += o.rows_new;
        total.rows_rejected += o.rows_rejected;
        total.basic_four_changed += o.basic_four_changed;
    }
    let mut s: Vec<(SummaryKey, u64, u64)> = summary.into_iter().map(|(k, (n, b))| (k, n, b)).collect();
    s.sort_by(|a, b| a.0.cmp(&b.0));
    total.summary = s;
    total.flagged.sort_unstable();
    total.flagged.dedup();
    Ok(total)
}
