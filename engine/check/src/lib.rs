//! `crlbatch-check`: the check stage. Reads PPID-linked certificate records
//! (Parquet, schema `schemas/records.schema.json`), judges both certificate
//! roles against the revocation indexes of their issuer keys, and writes the
//! records needing attention (schema `schemas/results.schema.json`) and the
//! rows it could not check (`schemas/rejects.schema.json`).

mod columns;
mod engine;
mod error;
pub mod guard;
mod issuers;
mod keyhash;
pub mod keys;
pub mod partition;
mod records;
mod shard;
mod verdict;

pub use engine::{
    check, open_inputs, open_inputs_with, rows_to_read, CheckConfig, CheckOutput, CheckOutputs, Emit, InputFile,
    SummaryKey, BATCH_ROWS, MAX_ID_BYTES,
};
pub use error::CheckError;
pub use issuers::{parse_kid, Issuer, IssuerState, Issuers, MissingPartition, Partition, Partitions};
pub use keyhash::KeyHasher;
pub use keys::{KeyFile, KeyView};
pub use records::{list_files, RecordsFile, COLUMNS, DEFAULT_MAX_ROW_GROUP_BYTES};
pub use shard::{Shard, MAX_SHARDS};
pub use verdict::{judge_part, judge_with, CertStatus, PartRes, SerialKey, Verdict};
