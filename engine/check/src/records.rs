//! The records input: Parquet files, validated against
//! `schemas/records.schema.json` before any row is read.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_schema::{DataType, Schema};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::ProjectionMask;

use crlbatch_write::TableSchema;

use crate::error::CheckError;

/// The input columns, in projection order.
pub const COLUMNS: [&str; 10] = [
    "ppid",
    "local_user_id",
    "auth_issuer_kid",
    "auth_serial",
    "auth_not_after",
    "sign_issuer_kid",
    "sign_serial",
    "sign_not_after",
    "auth_crl_dp",
    "sign_crl_dp",
];

/// One input file, opened and validated.
#[derive(Debug, Clone)]
pub struct RecordsFile {
    pub path: PathBuf,
    /// Path relative to the records root, for rejects and the manifest.
    pub name: String,
    pub metadata: ArrowReaderMetadata,
    pub projection: ProjectionMask,
    /// For each of [`COLUMNS`], its index in the projected batches, if present.
    pub positions: [Option<usize>; 10],
    pub rows: u64,
    pub row_groups: usize,
    /// Size of the file when opened.
    pub bytes: u64,
}

/// List the Parquet files of a records path (a file, or a folder searched
/// recursively, skipping names that start with `.` or `_`), sorted.
pub fn list_files(root: &Path) -> Result<Vec<PathBuf>, CheckError> {
    let unreadable =
        |e: std::io::Error| CheckError::Unreadable { path: root.display().to_string(), message: e.to_string() };
    let meta = std::fs::metadata(root).map_err(unreadable)?;
    if meta.is_file() {
        return Ok(vec![root.to_owned()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| CheckError::Unreadable { path: dir.display().to_string(), message: e.to_string() })?;
        for entry in entries {
            let entry = entry
                .map_err(|e| CheckError::Unreadable { path: dir.display().to_string(), message: e.to_string() })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".parquet") {
                out.push(p);
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(CheckError::NoInput { path: root.display().to_string() });
    }
    Ok(out)
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => matches!(v.as_ref(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View),
        _ => false,
    }
}

/// Largest uncompressed row group accepted by default (its pages are
/// decoded in memory, a batch at a time, but a row group bounds the reader's
/// buffers).
pub const DEFAULT_MAX_ROW_GROUP_BYTES: u64 = 1 << 30;

/// Open and validate one file against the records schema; refuse a row
/// group over `max_row_group_bytes` uncompressed.
pub fn open(path: &Path, root: &Path, spec: &TableSchema, max_row_group_bytes: u64) -> Result<RecordsFile, CheckError> {
    let p = path.display().to_string();
    let file = File::open(path).map_err(|e| CheckError::Unreadable { path: p.clone(), message: e.to_string() })?;
    let file_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let not_parquet = |message: String| CheckError::NotParquet { path: p.clone(), message };
    let metadata = crate::guard::decode(|| ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()))
        .map_err(not_parquet)?
        .map_err(|e| not_parquet(e.to_string()))?;
    for (i, rg) in metadata.metadata().row_groups().iter().enumerate() {
        let bytes = u64::try_from(rg.total_byte_size()).unwrap_or(u64::MAX);
        if bytes > max_row_group_bytes {
            return Err(CheckError::TooLarge {
                path: p,
                what: format!(
                    "row group {i} declares {bytes} bytes uncompressed, over the limit of {max_row_group_bytes} (limits.max_row_group_bytes)"
                ),
            });
        }
    }
    let schema: Arc<Schema> = metadata.schema().clone();
    let mut roots = Vec::new();
    for col in &spec.columns {
        let found = schema.fields().iter().position(|f| f.name() == &col.name);
        match found {
            None if col.required => return Err(CheckError::MissingColumn { path: p, column: col.name.clone() }),
            None => {}
            Some(i) => {
                let t = schema.field(i).data_type();
                let ok = match col.kind.as_str() {
                    "string" => is_string(t),
                    "timestamp" => matches!(t, DataType::Timestamp(_, _)),
                    _ => false,
                };
                if !ok {
                    let expected = if col.kind == "timestamp" { "a timestamp" } else { "a string" };
                    return Err(CheckError::WrongType {
                        path: p,
                        column: col.name.clone(),
                        found: t.to_string(),
                        expected: expected.into(),
                    });
                }
                roots.push(i);
            }
        }
    }
    // A projection keeps the file's column order: find each wanted column's
    // position among the selected ones.
    let mut selected = roots.clone();
    selected.sort_unstable();
    let mut positions = [None; 10];
    for (k, name) in COLUMNS.iter().enumerate() {
        if let Some(i) = schema.fields().iter().position(|f| f.name() == name) {
            if let Some(slot) = positions.get_mut(k) {
                *slot = selected.iter().position(|&s| s == i);
            }
        }
    }
    // Read the key identifier columns as dictionaries: a handful of distinct
    // values, decoded once per batch instead of once per row.
    let hinted: Vec<arrow_schema::Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let kid = f.name() == "auth_issuer_kid" || f.name() == "sign_issuer_kid";
            if kid && matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8) {
                f.as_ref()
                    .clone()
                    .with_data_type(DataType::Dictionary(Box::new(DataType::Int32), Box::new(f.data_type().clone())))
            } else if matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8) {
                // Other strings as views: short serials inline, long values
                // pointing into the decoded page instead of being copied.
                f.as_ref().clone().with_data_type(DataType::Utf8View)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let hint = Arc::new(Schema::new_with_metadata(hinted, schema.metadata().clone()));
    let metadata =
        ArrowReaderMetadata::try_new(metadata.metadata().clone(), ArrowReaderOptions::new().with_schema(hint))
            .map_err(|e| CheckError::NotParquet { path: p.clone(), message: e.to_string() })?;
    let projection = ProjectionMask::roots(metadata.parquet_schema(), selected);
    let md = metadata.metadata();
    let rows = u64::try_from(md.file_metadata().num_rows()).unwrap_or(0);
    let row_groups = md.num_row_groups();
    let name = path.strip_prefix(root).ok().filter(|r| !r.as_os_str().is_empty()).map_or_else(
        || path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        |r| r.display().to_string(),
    );
    Ok(RecordsFile {
        path: path.to_owned(),
        name,
        metadata,
        projection,
        positions,
        rows,
        row_groups,
        bytes: file_bytes,
    })
}
