//! `crlbatch four snapshot` and `crlbatch four diff`: thin wrappers over
//! `crlbatch-four`. Logs carry counts, paths and the key id only.

use std::path::{Path, PathBuf};

use crlbatch_crl::Timestamp;
use crlbatch_four::{publish_file, staging_for, FourKey, Revocations};

use crate::args::{FourCommand, FourDiffArgs, FourSnapshotArgs};
use crate::cmd;
use crate::exit::CliResult;

pub fn run(c: FourCommand) -> CliResult {
    match c {
        FourCommand::Snapshot(a) => snapshot(a),
        FourCommand::Diff(a) => diff(a),
    }
}

/// `OUT` with `.rejects.parquet` in place of its extension.
fn rejects_path(out: &Path, given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| out.with_extension("rejects.parquet"))
}

/// A run id: UTC time plus the process id.
fn run_id() -> String {
    let (y, mo, d, h, mi, s) = Timestamp::now().fields();
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z-four-{:x}", std::process::id())
}

/// Run `f` into staging folders beside `out` and `rejects`, then put both in place.
fn with_staging<T>(
    out: &Path,
    rejects: &Path,
    f: impl FnOnce(
        &Path,
        &Path,
    )
        -> Result<(T, Vec<crlbatch_write::PartFile>, Vec<crlbatch_write::PartFile>), crlbatch_four::FourError>,
) -> CliResult<T> {
    let so = staging_for(out, "out");
    let sr = staging_for(rejects, "rejects");
    let _ = std::fs::remove_dir_all(&so);
    let _ = std::fs::remove_dir_all(&sr);
    let result = f(&so, &sr).and_then(|(t, parts, rparts)| {
        publish_file(&sr, &rparts, rejects)?;
        publish_file(&so, &parts, out)?;
        Ok(t)
    });
    let _ = std::fs::remove_dir_all(&so);
    let _ = std::fs::remove_dir_all(&sr);
    Ok(result?)
}

fn snapshot(a: FourSnapshotArgs) -> CliResult {
    let key = FourKey::from_env(&a.key.key_env).map_err(crlbatch_four::FourError::from)?;
    let rejects = rejects_path(&a.out, a.rejects);
    let id = run_id();
    let started = std::time::Instant::now();
    let r = with_staging(&a.out, &rejects, |dir, rdir| {
        let r = crlbatch_four::snapshot(&a.certs, &key, dir, rdir, &id)?;
        let (p, rp) = (r.parts.clone(), r.reject_parts.clone());
        Ok((r, p, rp))
    })?;
    tracing::info!(
        rows = r.rows,
        ppids = r.ppids,
        rejected = r.rejected,
        superseded_rows = r.superseded_rows,
        key_id = r.key_id.as_str(),
        out = %a.out.display(),
        rejects = %rejects.display(),
        seconds = started.elapsed().as_secs_f64(),
        "four snapshot written"
    );
    if r.rejected > 0 {
        tracing::warn!(rejected = r.rejected, rejects = %rejects.display(), "rows without a readable signing certificate");
    }
    Ok(())
}

fn diff(a: FourDiffArgs) -> CliResult {
    let key = FourKey::from_env(&a.key.key_env).map_err(crlbatch_four::FourError::from)?;
    let at = cmd::at(&a.at)?;
    let revs = Revocations::load_dir(&a.index)?;
    let rejects = rejects_path(&a.out, a.rejects);
    let id = run_id();
    let started = std::time::Instant::now();
    let r = with_staging(&a.out, &rejects, |dir, rdir| {
        let r = crlbatch_four::diff(&a.certs, &a.snapshot, &key, &revs, at, dir, rdir, &id)?;
        let (p, rp) = (r.parts.clone(), r.reject_parts.clone());
        Ok((r, p, rp))
    })?;
    let c = &r.counts;
    tracing::info!(
        rows = c.rows,
        compared = c.compared,
        no_snapshot = c.no_snapshot,
        no_certificate = c.no_certificate,
        name_changed = c.name_changed,
        address_changed = c.address_changed,
        birth_date_changed = c.birth_date_changed,
        gender_changed = c.gender_changed,
        any_changed = c.any_changed,
        old_revoked_affiliation_changed = c.old_revoked_affiliation_changed,
        changed_not_revoked = c.changed_not_revoked,
        old_unknown = c.old_unknown,
        rejected = c.rejected,
        indexes = revs.len(),
        at = %at,
        out = %a.out.display(),
        seconds = started.elapsed().as_secs_f64(),
        "four diff written"
    );
    if c.rejected > 0 {
        tracing::warn!(rejected = c.rejected, rejects = %rejects.display(), "rows without a readable signing certificate");
    }
    if c.old_unknown > 0 {
        tracing::warn!(
            old_unknown = c.old_unknown,
            "old certificates whose revocation status is unknown (see old_status_detail)"
        );
    }
    Ok(())
}
