//! The field-level diff: the latest signing certificates against a
//! snapshot, by keyed digest, with the revocation status of the snapshot's
//! certificate on the current CRLs (`schemas/four-diff.schema.json`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int32Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};

use crlbatch_crl::{Reason, Serial, Timestamp};
use crlbatch_index::{RevocationIndex, Status};
use crlbatch_write::{DatasetWriter, PartFile};

use crate::cert::Field;
use crate::error::FourError;
use crate::key::FourKey;
use crate::output::{self, BATCH};
use crate::snapshot::{latest_certs, read_snapshot, Entry, SnapEntry};

/// The revocation indexes the old certificates are judged against, by
/// issuer key.
#[derive(Debug, Clone, Default)]
pub struct Revocations {
    by_kid: HashMap<String, Result<Arc<RevocationIndex>, String>>,
}

impl Revocations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_index(&mut self, index: Arc<RevocationIndex>) {
        self.by_kid.insert(index.meta().issuer_kid.clone(), Ok(index));
    }

    /// An issuer key whose CRLs are unusable (the detail says why).
    pub fn add_unusable(&mut self, kid: &str, detail: String) {
        self.by_kid.insert(kid.to_ascii_lowercase(), Err(detail));
    }

    /// Load every `*.crlidx` of a folder (a job's `_state/`, or `crlbatch index` output).
    pub fn load_dir(dir: &Path) -> Result<Self, FourError> {
        let mut r = Self::new();
        let files = crlbatch_index::index_files(dir)
            .map_err(|e| FourError::Missing { path: dir.display().to_string(), message: e.to_string() })?;
        if files.is_empty() {
            return Err(FourError::Missing {
                path: dir.display().to_string(),
                message: "no index (*.crlidx) in this folder".into(),
            });
        }
        for f in files {
            let index = RevocationIndex::load(&f)
                .map_err(|e| FourError::Input { path: f.display().to_string(), message: e.to_string() })?;
            r.add_index(Arc::new(index));
        }
        Ok(r)
    }

    pub fn len(&self) -> usize {
        self.by_kid.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_kid.is_empty()
    }

    /// The status of a certificate (issuer key, canonical serial) at `at`.
    pub fn status(&self, kid: Option<&str>, serial: &str, at: Timestamp) -> Status {
        let Some(kid) = kid else {
            return Status::Unknown("certificate has no authorityKeyIdentifier".into());
        };
        let Ok(serial) = Serial::parse_hex(serial) else {
            return Status::Unknown("serial is not hex".into());
        };
        match self.by_kid.get(kid) {
            None => Status::Unknown(format!("no CRL of issuer key {kid}")),
            Some(Err(detail)) => Status::Unknown(detail.clone()),
            Some(Ok(index)) => index.status(&serial, at),
        }
    }
}

/// Counts of a diff (no values, no PPIDs).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DiffCounts {
    pub rows: u64,
    pub rejected: u64,
    pub superseded_rows: u64,
    pub compared: u64,
    pub no_snapshot: u64,
    pub no_certificate: u64,
    pub name_changed: u64,
    pub address_changed: u64,
    pub birth_date_changed: u64,
    pub gender_changed: u64,
    pub any_changed: u64,
    pub old_revoked_affiliation_changed: u64,
    /// Compared PPIDs with a change whose old certificate is not (yet) revoked for affiliationChanged.
    pub changed_not_revoked: u64,
    pub old_unknown: u64,
}

/// Which of the four changed between two digest sets.
pub fn changed(old: &crate::key::FieldDigests, new: &crate::key::FieldDigests) -> [bool; 4] {
    let d = |f: Field| old.get(f) != new.get(f);
    [
        d(Field::Name) || d(Field::NameFlags),
        d(Field::Address) || d(Field::AddressFlags),
        d(Field::BirthDate),
        d(Field::Gender),
    ]
}

struct Rows {
    ppid: StringBuilder,
    comparison: StringBuilder,
    flags: [BooleanBuilder; 5],
    old_kid: StringBuilder,
    old_serial: StringBuilder,
    new_kid: StringBuilder,
    new_serial: StringBuilder,
    status: StringBuilder,
    reason: StringBuilder,
    code: Int32Builder,
    time: TimestampMicrosecondBuilder,
    detail: StringBuilder,
    aff: BooleanBuilder,
    run: StringBuilder,
    n: usize,
}

impl Rows {
    fn new() -> Self {
        Rows {
            ppid: StringBuilder::new(),
            comparison: StringBuilder::new(),
            flags: std::array::from_fn(|_| BooleanBuilder::new()),
            old_kid: StringBuilder::new(),
            old_serial: StringBuilder::new(),
            new_kid: StringBuilder::new(),
            new_serial: StringBuilder::new(),
            status: StringBuilder::new(),
            reason: StringBuilder::new(),
            code: Int32Builder::new(),
            time: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            detail: StringBuilder::new(),
            aff: BooleanBuilder::new(),
            run: StringBuilder::new(),
            n: 0,
        }
    }

    fn finish(&mut self, schema: &arrow_schema::SchemaRef) -> Result<RecordBatch, FourError> {
        let mut cols: Vec<ArrayRef> = vec![Arc::new(self.ppid.finish()), Arc::new(self.comparison.finish())];
        cols.extend(self.flags.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        cols.extend([
            Arc::new(self.old_kid.finish()) as ArrayRef,
            Arc::new(self.old_serial.finish()),
            Arc::new(self.new_kid.finish()),
            Arc::new(self.new_serial.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.code.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.detail.finish()),
            Arc::new(self.aff.finish()),
            Arc::new(self.run.finish()),
        ]);
        self.n = 0;
        RecordBatch::try_new(schema.clone(), cols).map_err(|e| FourError::Internal(e.to_string()))
    }
}

/// Compare and write one row per PPID of either side, sorted by PPID.
pub fn write_diff(
    w: &mut DatasetWriter,
    snap: &BTreeMap<String, SnapEntry>,
    latest: &BTreeMap<String, Entry>,
    revs: &Revocations,
    at: Timestamp,
    run_id: &str,
) -> Result<DiffCounts, FourError> {
    let schema = output::diff_schema()?.arrow()?;
    let mut c = DiffCounts::default();
    let mut rows = Rows::new();
    let mut keys: Vec<&String> = snap.keys().chain(latest.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    for ppid in keys {
        let old = snap.get(ppid);
        let new = latest.get(ppid);
        let (word, flags) = match (old, new) {
            (Some(o), Some(n)) => ("compared", Some(changed(&o.digests, &n.digests))),
            (None, Some(_)) => ("no_snapshot", None),
            (Some(_), None) => ("no_certificate", None),
            (None, None) => continue,
        };
        match word {
            "compared" => c.compared += 1,
            "no_snapshot" => c.no_snapshot += 1,
            _ => c.no_certificate += 1,
        }
        rows.ppid.append_value(ppid);
        rows.comparison.append_value(word);
        let any = flags.map(|f| f.iter().any(|&x| x));
        for (k, b) in rows.flags.iter_mut().enumerate() {
            b.append_option(if k < 4 { flags.and_then(|f| f.get(k).copied()) } else { any });
        }
        if let Some(f) = flags {
            let counters =
                [&mut c.name_changed, &mut c.address_changed, &mut c.birth_date_changed, &mut c.gender_changed];
            for (hit, counter) in f.iter().zip(counters) {
                *counter += u64::from(*hit);
            }
        }
        c.any_changed += u64::from(any == Some(true));
        rows.old_kid.append_option(old.and_then(|o| o.issuer_kid.as_deref()));
        rows.old_serial.append_option(old.map(|o| o.serial.as_str()));
        rows.new_kid.append_option(new.and_then(|n| n.issuer_kid.as_deref()));
        rows.new_serial.append_option(new.map(|n| n.serial.to_string()));
        let status = old.map(|o| revs.status(o.issuer_kid.as_deref(), &o.serial, at));
        let (reason, rtime, detail) = match &status {
            Some(Status::Revoked(r)) => (r.reason, Some(r.revocation_time), None),
            Some(Status::Unknown(d)) => (None, None, Some(d.as_str())),
            _ => (None, None, None),
        };
        let aff = match &status {
            Some(Status::Revoked(r)) => Some(r.reason == Some(Reason::AffiliationChanged)),
            Some(Status::Good) => Some(false),
            Some(Status::Unknown(_)) => {
                c.old_unknown += 1;
                None
            }
            None => None,
        };
        c.old_revoked_affiliation_changed += u64::from(aff == Some(true));
        c.changed_not_revoked += u64::from(any == Some(true) && aff != Some(true));
        rows.status.append_option(status.as_ref().map(Status::name));
        rows.reason.append_option(reason.map(|r| r.name()));
        rows.code.append_option(reason.map(|r| i32::from(r.code())));
        rows.time.append_option(rtime.map(|t| t.0.saturating_mul(1_000_000)));
        rows.detail.append_option(detail);
        rows.aff.append_option(aff);
        rows.run.append_value(run_id);
        rows.n += 1;
        if rows.n >= BATCH {
            w.write(&rows.finish(&schema)?)?;
        }
    }
    if rows.n > 0 {
        w.write(&rows.finish(&schema)?)?;
    }
    Ok(c)
}

/// What a diff run did.
#[derive(Debug, Clone)]
pub struct DiffReport {
    pub counts: DiffCounts,
    pub parts: Vec<PartFile>,
    pub reject_parts: Vec<PartFile>,
}

/// Read the snapshot and the latest certificates, compare, and write the
/// diff table into `dir` and the rejected rows into `rejects_dir`.
#[allow(clippy::too_many_arguments)]
pub fn diff(
    certs: &Path,
    snapshot: &Path,
    key: &FourKey,
    revs: &Revocations,
    at: Timestamp,
    dir: &Path,
    rejects_dir: &Path,
    run_id: &str,
) -> Result<DiffReport, FourError> {
    // The snapshot first: a wrong key is refused before any certificate is read.
    let snap = read_snapshot(snapshot, key)?;
    let latest = latest_certs(certs, key)?;
    let mut w = output::dataset(dir, &output::diff_schema()?, run_id, "part")?;
    let mut counts = write_diff(&mut w, &snap, &latest.by_ppid, revs, at, run_id)?;
    let parts = w.finish()?;
    let mut rw = output::dataset(rejects_dir, &crlbatch_write::TableSchema::rejects()?, run_id, "part")?;
    output::write_rejects(&mut rw, &latest.rejects, run_id)?;
    let reject_parts = rw.finish()?;
    counts.rows = latest.rows;
    counts.rejected = latest.rejects.len() as u64;
    counts.superseded_rows = latest.superseded_rows;
    Ok(DiffReport { counts, parts, reject_parts })
}
