//! `crlbatch-write`: the write stage. Parquet outputs under the conventions
//! analysts' tools expect, table schemas shared with `schemas/`, and atomic
//! publication (staging folder, then one atomic exchange per date
//! partition, manifest last).

pub mod atomic;
mod error;
mod parquet_out;
mod schema;

pub use error::WriteError;
pub use parquet_out::{
    DatasetWriter, NoDeferred, PartFile, Resolve, MAX_ROWS_PER_FILE, MAX_ROW_GROUP_BYTES, MAX_ROW_GROUP_ROWS,
};
pub use schema::{output_type, ColumnSpec, TableSchema};
