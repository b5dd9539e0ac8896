//! `crlbatch export`

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};

use crlbatch_index::RevocationIndex;
use crlbatch_write::{atomic, DatasetWriter, TableSchema};

use crate::args::ExportArgs;
use crate::exit::{self, CliError, CliResult};

/// Rows per written batch.
const BATCH: usize = 64 * 1024;

fn werr(e: crlbatch_write::WriteError) -> CliError {
    CliError::new(exit::CANTCREAT, e.to_string())
}

pub fn run(a: ExportArgs) -> CliResult {
    let files = crlbatch_index::index_files(&a.index)
        .map_err(|e| CliError::new(exit::NOINPUT, format!("{}: {e}", a.index.display())))?;
    if files.is_empty() {
        return Err(CliError::new(exit::NOINPUT, format!("{}: no index (*.crlidx) in this folder", a.index.display())));
    }
    let spec = TableSchema::revoked().map_err(werr)?;
    let schema = spec.arrow().map_err(werr)?;
    let parent = a.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let staging = parent.join(format!(".export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let mut w = DatasetWriter::new(&staging, schema.clone(), spec.schema_version, "export", "part").map_err(werr)?;
    let mut total = 0u64;
    for f in &files {
        let index = RevocationIndex::load(f)?;
        let kid = index.meta().issuer_kid.clone();
        let mut iter = index.iter().peekable();
        while iter.peek().is_some() {
            let mut k = StringBuilder::new();
            let mut s = StringBuilder::new();
            let mut r = StringBuilder::new();
            let mut c = Int32Builder::new();
            let mut t = TimestampMicrosecondBuilder::new().with_timezone("UTC");
            let mut v = TimestampMicrosecondBuilder::new().with_timezone("UTC");
            for (serial, rev) in iter.by_ref().take(BATCH) {
                k.append_value(&kid);
                s.append_value(serial.to_string());
                r.append_option(rev.reason.map(|x| x.name()));
                c.append_option(rev.reason.map(|x| i32::from(x.code())));
                t.append_value(rev.revocation_time.0.saturating_mul(1_000_000));
                v.append_option(rev.invalidity_time.map(|x| x.0.saturating_mul(1_000_000)));
                total += 1;
            }
            let cols: Vec<ArrayRef> = vec![
                Arc::new(k.finish()),
                Arc::new(s.finish()),
                Arc::new(r.finish()),
                Arc::new(c.finish()),
                Arc::new(t.finish()),
                Arc::new(v.finish()),
            ];
            let batch =
                RecordBatch::try_new(schema.clone(), cols).map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
            w.write(&batch).map_err(werr)?;
        }
    }
    let parts = w.finish().map_err(werr)?;
    let written =
        parts.first().map(|p| staging.join(&p.file)).ok_or_else(|| CliError::new(exit::SOFTWARE, "nothing written"))?;
    std::fs::rename(&written, &a.out)
        .map_err(|e| CliError::new(exit::CANTCREAT, format!("{}: {e}", a.out.display())))?;
    atomic::sync_dir(parent).map_err(werr)?;
    let _ = std::fs::remove_dir_all(&staging);
    tracing::info!("exported {total} revoked serials from {} index(es) to {}", files.len(), a.out.display());
    Ok(())
}
