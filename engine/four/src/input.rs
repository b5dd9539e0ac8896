//! The certificates input (`schemas/four-certs.schema.json`): Parquet rows
//! `(ppid, sign_cert_der)`, one file or a folder of them. Every row either
//! yields a parsed certificate or a rejected row naming the file, row and
//! column, never the value.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::{
    Array, BinaryArray, BinaryViewArray, LargeBinaryArray, LargeStringArray, StringArray, StringViewArray,
};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use crate::cert::{parse_signing_cert, SigningCert};
use crate::error::FourError;

/// Longest PPID accepted, in bytes (as for the job's records).
pub const MAX_PPID_BYTES: usize = 1024;
/// Rows decoded per batch.
const BATCH_ROWS: usize = 8192;

/// A rejected input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// File, relative to the input root.
    pub file: String,
    pub row: u64,
    pub column: &'static str,
    /// What is wrong, never the value.
    pub error: String,
}

/// List the Parquet files of a path (a file, or a folder searched
/// recursively, skipping names that start with `.` or `_`), sorted: the
/// records input's rule (`crlbatch_check::list_files`).
pub fn list_files(root: &Path) -> Result<Vec<PathBuf>, FourError> {
    crlbatch_check::list_files(root).map_err(|e| match e {
        crlbatch_check::CheckError::Unreadable { path, message } => FourError::Input { path, message },
        crlbatch_check::CheckError::NoInput { path } => {
            FourError::Input { path, message: "no Parquet files (*.parquet)".into() }
        }
        other => FourError::Input { path: root.display().to_string(), message: other.to_string() },
    })
}

fn rel_name(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).ok().filter(|r| !r.as_os_str().is_empty()).map_or_else(
        || path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        |r| r.display().to_string(),
    )
}

/// A string column of any Arrow string type.
pub(crate) enum Strings<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
}

impl<'a> Strings<'a> {
    pub(crate) fn of(a: &'a dyn Array) -> Option<Self> {
        let any = a.as_any();
        any.downcast_ref::<StringArray>()
            .map(Strings::Utf8)
            .or_else(|| any.downcast_ref::<LargeStringArray>().map(Strings::Large))
            .or_else(|| any.downcast_ref::<StringViewArray>().map(Strings::View))
    }

    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strings::Utf8(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Strings::Large(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Strings::View(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
        }
    }
}

enum Bytes<'a> {
    Binary(&'a BinaryArray),
    Large(&'a LargeBinaryArray),
    View(&'a BinaryViewArray),
}

impl<'a> Bytes<'a> {
    fn of(a: &'a dyn Array) -> Option<Self> {
        let any = a.as_any();
        any.downcast_ref::<BinaryArray>()
            .map(Bytes::Binary)
            .or_else(|| any.downcast_ref::<LargeBinaryArray>().map(Bytes::Large))
            .or_else(|| any.downcast_ref::<BinaryViewArray>().map(Bytes::View))
    }

    fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            Bytes::Binary(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Bytes::Large(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Bytes::View(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
        }
    }
}

/// A wanted column: name, type check, the expected type for errors.
pub(crate) type WantedColumn<'a> = (&'a str, fn(&DataType) -> bool, &'a str);

/// Open a Parquet file for reading the named columns (all required, of the
/// given kinds); returns a reader builder projected to them, in that order's
/// file positions, and the file's row count.
pub(crate) fn open_columns(
    path: &Path,
    columns: &[WantedColumn<'_>],
) -> Result<(ParquetRecordBatchReaderBuilder<File>, Vec<usize>), FourError> {
    let p = path.display().to_string();
    let file = File::open(path).map_err(|e| FourError::Input { path: p.clone(), message: e.to_string() })?;
    let not_parquet =
        |message: String| FourError::Input { path: p.clone(), message: format!("not a Parquet file: {message}") };
    let builder = crlbatch_check::guard::decode(|| ParquetRecordBatchReaderBuilder::try_new(file))
        .map_err(not_parquet)?
        .map_err(|e| not_parquet(e.to_string()))?;
    let schema = builder.schema().clone();
    let mut roots = Vec::new();
    for (name, ok, expected) in columns {
        let Some(i) = schema.fields().iter().position(|f| f.name() == name) else {
            return Err(FourError::Input { path: p, message: format!("missing required column {name:?}") });
        };
        let t = schema.field(i).data_type();
        if !ok(t) {
            return Err(FourError::Input {
                path: p,
                message: format!("column {name:?} has type {t}, expected {expected}"),
            });
        }
        roots.push(i);
    }
    let mut sorted = roots.clone();
    sorted.sort_unstable();
    // Position of each wanted column among the projected ones.
    let positions = roots.iter().map(|r| sorted.iter().position(|s| s == r).unwrap_or(0)).collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), sorted);
    Ok((builder.with_projection(mask).with_batch_size(BATCH_ROWS), positions))
}

pub(crate) fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

fn is_binary(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView)
}

/// One input row that parsed.
#[derive(Debug, Clone)]
pub struct CertRow {
    pub ppid: String,
    pub cert: SigningCert,
    /// Position in the input (file order, then row), for "later row wins".
    pub order: u64,
}

/// Read every row of the certificates input, calling `row` for each parsed
/// certificate and `reject` for each row that is not usable.
pub fn read_certs(
    root: &Path,
    mut row: impl FnMut(CertRow) -> Result<(), FourError>,
    mut reject: impl FnMut(Reject) -> Result<(), FourError>,
) -> Result<u64, FourError> {
    let files = list_files(root)?;
    let mut order = 0u64;
    for path in &files {
        let name = rel_name(path, root);
        let (builder, pos) =
            open_columns(path, &[("ppid", is_string, "a string"), ("sign_cert_der", is_binary, "binary")])?;
        let p = path.display().to_string();
        let reader = builder.build().map_err(|e| FourError::Input { path: p.clone(), message: e.to_string() })?;
        let mut file_row = 0u64;
        let mut batches = reader.into_iter();
        loop {
            let next = crlbatch_check::guard::decode(|| batches.next())
                .map_err(|m| FourError::Input { path: p.clone(), message: m })?;
            let Some(batch) = next else { break };
            let batch = batch.map_err(|e| FourError::Input { path: p.clone(), message: e.to_string() })?;
            let col = |k: usize| pos.get(k).and_then(|&i| batch.columns().get(i));
            let (Some(ppids), Some(ders)) =
                (col(0).and_then(|c| Strings::of(c.as_ref())), col(1).and_then(|c| Bytes::of(c.as_ref())))
            else {
                return Err(FourError::Input { path: p, message: "unexpected column types".into() });
            };
            for i in 0..batch.num_rows() {
                let r = file_row;
                file_row += 1;
                order += 1;
                let rej = |column: &'static str, error: String| Reject { file: name.clone(), row: r, column, error };
                let Some(ppid) = ppids.get(i).filter(|s| !s.is_empty()) else {
                    reject(rej("ppid", "missing value".into()))?;
                    continue;
                };
                if ppid.len() > MAX_PPID_BYTES {
                    reject(rej("ppid", format!("longer than {MAX_PPID_BYTES} bytes")))?;
                    continue;
                }
                let Some(der) = ders.get(i).filter(|d| !d.is_empty()) else {
                    reject(rej("sign_cert_der", "missing value".into()))?;
                    continue;
                };
                match parse_signing_cert(der) {
                    Ok(cert) => row(CertRow { ppid: ppid.to_owned(), cert, order })?,
                    Err(e) => reject(rej("sign_cert_der", e.to_string()))?,
                }
            }
        }
    }
    Ok(order)
}
