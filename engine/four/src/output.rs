//! Writing the tables: the schemas come from `schemas/*.json` (embedded),
//! rows are written through `crlbatch-write`'s [`DatasetWriter`] (zstd,
//! microsecond UTC timestamps, key-value metadata, mode 0640), and a
//! command's `--out FILE` is put in place atomically.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};

use crlbatch_write::{atomic, DatasetWriter, PartFile, TableSchema};

use crate::error::FourError;
use crate::input::Reject;

pub const CERTS_JSON: &str = include_str!("../../../schemas/four-certs.schema.json");
pub const SNAPSHOT_JSON: &str = include_str!("../../../schemas/four-snapshot.schema.json");
pub const DIFF_JSON: &str = include_str!("../../../schemas/four-diff.schema.json");

/// Rows per written batch.
pub(crate) const BATCH: usize = 64 * 1024;

pub fn snapshot_schema() -> Result<TableSchema, FourError> {
    Ok(TableSchema::parse(SNAPSHOT_JSON)?)
}

pub fn diff_schema() -> Result<TableSchema, FourError> {
    Ok(TableSchema::parse(DIFF_JSON)?)
}

/// A writer of one table into `dir`.
pub fn dataset(dir: &Path, spec: &TableSchema, run_id: &str, prefix: &str) -> Result<DatasetWriter, FourError> {
    Ok(DatasetWriter::new(dir, spec.arrow()?, spec.schema_version, run_id, prefix)?.with_unique_columns(&["ppid"]))
}

/// Rejected rows, in the job's rejects table (`schemas/rejects.schema.json`).
pub fn write_rejects(w: &mut DatasetWriter, rejects: &[Reject], run_id: &str) -> Result<(), FourError> {
    let spec = TableSchema::rejects()?;
    let schema = spec.arrow()?;
    for chunk in rejects.chunks(BATCH) {
        let mut file = StringBuilder::new();
        let mut row = Int64Builder::new();
        let mut col = StringBuilder::new();
        let mut err = StringBuilder::new();
        let mut run = StringBuilder::new();
        for r in chunk {
            file.append_value(&r.file);
            row.append_value(i64::try_from(r.row).unwrap_or(i64::MAX));
            col.append_value(r.column);
            err.append_value(&r.error);
            run.append_value(run_id);
        }
        let cols: Vec<ArrayRef> = vec![
            Arc::new(file.finish()),
            Arc::new(row.finish()),
            Arc::new(col.finish()),
            Arc::new(err.finish()),
            Arc::new(run.finish()),
        ];
        let batch = RecordBatch::try_new(schema.clone(), cols).map_err(|e| FourError::Internal(e.to_string()))?;
        w.write(&batch)?;
    }
    Ok(())
}

/// Put a finished single-table staging folder at `out`: one part file
/// becomes the file `out`; several (over `MAX_ROWS_PER_FILE` rows) make `out`
/// a folder of part files. Atomic either way (a rename in `out`'s folder).
pub fn publish_file(staging: &Path, parts: &[PartFile], out: &Path) -> Result<(), FourError> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let werr = |e: std::io::Error| FourError::Write(crlbatch_write::WriteError::io(out, &e));
    match parts {
        [one] => std::fs::rename(staging.join(&one.file), out).map_err(werr)?,
        _ => {
            if out.is_dir() {
                atomic::replace_dir(staging, out)?;
                return Ok(());
            }
            std::fs::rename(staging, out).map_err(werr)?;
            return Ok(atomic::sync_dir(parent)?);
        }
    }
    atomic::sync_dir(parent)?;
    let _ = std::fs::remove_dir_all(staging);
    Ok(())
}

/// A staging folder beside `out` (hidden from dataset readers by its dot).
pub fn staging_for(out: &Path, what: &str) -> std::path::PathBuf {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    parent.join(format!(".{name}.{what}-{}", std::process::id()))
}
