//! Snapshots: per PPID, the keyed digests of the basic four information of
//! its latest signing certificate (`schemas/four-snapshot.schema.json`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};

use crlbatch_crl::{Serial, Timestamp};
use crlbatch_write::{DatasetWriter, PartFile};

use crate::cert::Field;
use crate::error::FourError;
use crate::input::{self, read_certs, Reject, Strings};
use crate::key::{FieldDigests, FourKey};
use crate::output::{self, BATCH};

/// Most input rows read (certificates input or snapshot): bounds memory, as
/// each PPID's digests are held until the table is written (about 300 bytes
/// a PPID).
pub const MAX_ROWS: u64 = 50_000_000;

/// The latest certificate of one PPID, reduced to what is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub issuer_kid: Option<String>,
    pub serial: Serial,
    pub not_before: Timestamp,
    pub digests: FieldDigests,
    order: u64,
}

/// The certificates input, one entry per PPID.
#[derive(Debug, Default)]
pub struct Latest {
    pub by_ppid: BTreeMap<String, Entry>,
    pub rejects: Vec<Reject>,
    /// Input rows read.
    pub rows: u64,
    /// Rows that were not the latest certificate of their PPID.
    pub superseded_rows: u64,
}

/// Read the certificates input; per PPID keep the certificate with the
/// latest notBefore (a tie: the later row).
pub fn latest_certs(root: &Path, key: &FourKey) -> Result<Latest, FourError> {
    let mut latest = Latest::default();
    let mut rejects = Vec::new();
    let mut superseded = 0u64;
    let rows = {
        let by_ppid = &mut latest.by_ppid;
        let seen = std::cell::Cell::new(0u64);
        let too_many = || FourError::TooLarge { what: format!("{}: rows", root.display()), limit: MAX_ROWS };
        read_certs(
            root,
            |r| {
                seen.set(seen.get() + 1);
                if seen.get() > MAX_ROWS {
                    return Err(too_many());
                }
                let e = Entry {
                    issuer_kid: r.cert.issuer_kid.clone(),
                    serial: r.cert.serial,
                    not_before: r.cert.not_before,
                    digests: key.digests(&r.cert.four),
                    order: r.order,
                };
                match by_ppid.get_mut(&r.ppid) {
                    Some(old) => {
                        superseded += 1;
                        if (e.not_before, e.order) > (old.not_before, old.order) {
                            *old = e;
                        }
                    }
                    None => {
                        by_ppid.insert(r.ppid, e);
                    }
                }
                Ok(())
            },
            |rej| {
                seen.set(seen.get() + 1);
                if seen.get() > MAX_ROWS {
                    return Err(too_many());
                }
                rejects.push(rej);
                Ok(())
            },
        )?
    };
    latest.rows = rows;
    latest.rejects = rejects;
    latest.superseded_rows = superseded;
    Ok(latest)
}

fn micros(t: Timestamp) -> i64 {
    t.0.saturating_mul(1_000_000)
}

/// Write the snapshot table.
pub fn write_snapshot(w: &mut DatasetWriter, latest: &Latest, key: &FourKey, run_id: &str) -> Result<(), FourError> {
    let schema = output::snapshot_schema()?.arrow()?;
    let entries: Vec<(&String, &Entry)> = latest.by_ppid.iter().collect();
    for chunk in entries.chunks(BATCH) {
        let mut ppid = StringBuilder::new();
        let mut kid = StringBuilder::new();
        let mut serial = StringBuilder::new();
        let mut nb = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        let mut key_id = StringBuilder::new();
        let mut digests: Vec<StringBuilder> = Field::ALL.iter().map(|_| StringBuilder::new()).collect();
        let mut run = StringBuilder::new();
        for (p, e) in chunk {
            ppid.append_value(p);
            kid.append_option(e.issuer_kid.as_deref());
            serial.append_value(e.serial.to_string());
            nb.append_value(micros(e.not_before));
            key_id.append_value(key.id());
            for (b, d) in digests.iter_mut().zip(e.digests.0.iter()) {
                b.append_value(crlbatch_crl::hex(d));
            }
            run.append_value(run_id);
        }
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(ppid.finish()),
            Arc::new(kid.finish()),
            Arc::new(serial.finish()),
            Arc::new(nb.finish()),
            Arc::new(key_id.finish()),
        ];
        cols.extend(digests.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.push(Arc::new(run.finish()));
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| FourError::Internal(e.to_string()))?;
        w.write(&batch)?;
    }
    Ok(())
}

/// What a snapshot run did.
#[derive(Debug, Clone)]
pub struct SnapshotReport {
    pub rows: u64,
    pub ppids: u64,
    pub rejected: u64,
    pub superseded_rows: u64,
    pub key_id: String,
    pub parts: Vec<PartFile>,
    pub reject_parts: Vec<PartFile>,
}

/// Read `certs`, write the snapshot table into `dir` and the rejected rows
/// into `rejects_dir`.
pub fn snapshot(
    certs: &Path,
    key: &FourKey,
    dir: &Path,
    rejects_dir: &Path,
    run_id: &str,
) -> Result<SnapshotReport, FourError> {
    let latest = latest_certs(certs, key)?;
    let mut w = output::dataset(dir, &output::snapshot_schema()?, run_id, "part")?;
    write_snapshot(&mut w, &latest, key, run_id)?;
    let parts = w.finish()?;
    let mut rw = output::dataset(rejects_dir, &crlbatch_write::TableSchema::rejects()?, run_id, "part")?;
    output::write_rejects(&mut rw, &latest.rejects, run_id)?;
    let reject_parts = rw.finish()?;
    Ok(SnapshotReport {
        rows: latest.rows,
        ppids: latest.by_ppid.len() as u64,
        rejected: latest.rejects.len() as u64,
        superseded_rows: latest.superseded_rows,
        key_id: key.id().to_owned(),
        parts,
        reject_parts,
    })
}

/// One PPID of a snapshot, as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapEntry {
    pub issuer_kid: Option<String>,
    /// Canonical hex.
    pub serial: String,
    pub digests: FieldDigests,
}

fn unhex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
        let t = std::str::from_utf8(pair).ok()?;
        *o = u8::from_str_radix(t, 16).ok()?;
    }
    Some(out)
}

const SNAPSHOT_COLUMNS: [&str; 10] = [
    "ppid",
    "issuer_kid",
    "serial",
    "key_id",
    "name_digest",
    "name_flags_digest",
    "gender_digest",
    "birth_date_digest",
    "address_digest",
    "address_flags_digest",
];

/// Check, before a run does any other work, that the certificates path has
/// files and that the snapshot is one made with `key` (its first row's key
/// id; [`read_snapshot`] checks every row later).
pub fn preflight(certs: &Path, snapshot: &Path, key: &FourKey) -> Result<(), FourError> {
    input::list_files(certs)?;
    let files = input::list_files(snapshot)?;
    let Some(f) = files.first() else { return Ok(()) };
    let p = f.display().to_string();
    let bad = |message: String| FourError::Snapshot { path: p.clone(), message };
    let cols: [input::WantedColumn<'_>; 1] = [("key_id", input::is_string as fn(&_) -> bool, "a string")];
    let (builder, pos) = input::open_columns(f, &cols).map_err(|e| match e {
        FourError::Input { message, .. } => bad(message),
        other => other,
    })?;
    let mut reader = builder.with_batch_size(1).build().map_err(|e| bad(e.to_string()))?;
    let first = crlbatch_check::guard::decode(|| reader.next()).map_err(&bad)?;
    let Some(batch) = first else { return Ok(()) };
    let batch = batch.map_err(|e| bad(e.to_string()))?;
    let id = pos.first().and_then(|&i| batch.columns().get(i)).and_then(|a| Strings::of(a.as_ref()));
    match id.and_then(|s| s.get(0)) {
        Some(k) if k == key.id() => Ok(()),
        Some(k) => Err(FourError::WrongKey { path: p.clone(), snapshot: k.to_owned(), given: key.id().to_owned() }),
        None => Err(bad("row 0: key_id missing".into())),
    }
}

/// Read a snapshot (a file or a folder of part files), refusing one made
/// with another key.
pub fn read_snapshot(path: &Path, key: &FourKey) -> Result<BTreeMap<String, SnapEntry>, FourError> {
    let files = input::list_files(path)?;
    let mut out = BTreeMap::new();
    let mut rows = 0u64;
    for f in &files {
        let p = f.display().to_string();
        let bad = |message: String| FourError::Snapshot { path: p.clone(), message };
        let cols: Vec<input::WantedColumn<'_>> =
            SNAPSHOT_COLUMNS.iter().map(|c| (*c, input::is_string as fn(&_) -> bool, "a string")).collect();
        let (builder, pos) = input::open_columns(f, &cols).map_err(|e| match e {
            FourError::Input { message, .. } => bad(message),
            other => other,
        })?;
        let reader = builder.build().map_err(|e| bad(e.to_string()))?;
        let mut next_row = 0u64;
        let mut batches = reader.into_iter();
        loop {
            let next = crlbatch_check::guard::decode(|| batches.next()).map_err(&bad)?;
            let Some(batch) = next else { break };
            let batch = batch.map_err(|e| bad(e.to_string()))?;
            let c: Vec<Strings<'_>> = pos
                .iter()
                .map(|&i| batch.columns().get(i).and_then(|a| Strings::of(a.as_ref())))
                .collect::<Option<_>>()
                .ok_or_else(|| bad("unexpected column types".into()))?;
            for i in 0..batch.num_rows() {
                let file_row = next_row;
                next_row += 1;
                rows += 1;
                if rows > MAX_ROWS {
                    return Err(FourError::TooLarge { what: format!("{p}: rows"), limit: MAX_ROWS });
                }
                let get = |k: usize| c.get(k).and_then(|s| s.get(i));
                let row_err = |what: &str| bad(format!("row {file_row}: {what}"));
                let key_id = get(3).ok_or_else(|| row_err("key_id missing"))?;
                if key_id != key.id() {
                    return Err(FourError::WrongKey {
                        path: p,
                        snapshot: key_id.to_owned(),
                        given: key.id().to_owned(),
                    });
                }
                let ppid = get(0).ok_or_else(|| row_err("ppid missing"))?;
                let serial = get(2).ok_or_else(|| row_err("serial missing"))?;
                let mut digests = [[0u8; 32]; 6];
                for (k, d) in digests.iter_mut().enumerate() {
                    *d = get(4 + k).and_then(unhex32).ok_or_else(|| row_err("a digest is not 64 hex digits"))?;
                }
                let e = SnapEntry {
                    issuer_kid: get(1).map(str::to_owned),
                    serial: serial.to_owned(),
                    digests: FieldDigests(digests),
                };
                if out.insert(ppid.to_owned(), e).is_some() {
                    return Err(row_err("a PPID appears twice"));
                }
            }
        }
    }
    Ok(out)
}
