//! `crlbatch-index`: the index stage of crlbatch.
//!
//! An exact revocation index per issuer key, built from verified CRLs:
//! serials that fit in 64 bits live in a `roaring::RoaringTreemap`, longer or
//! negative serials in an exact sorted set; each entry's reason, revocation
//! time and invalidity time are addressed by rank. Persisted in a documented,
//! versioned, checksummed format (`schemas/index-format.md`) and loaded
//! without re-parsing the CRL.

mod admit;
mod ascending;
mod builder;
mod diff;
mod error;
mod format;
mod index;
mod merge;
mod meta;
mod prefetch;
mod rank;
mod status;
mod stream;

pub use admit::{
    admit, completeness, index_crl_streamed, index_crls, index_crls_with, FreshnessPolicy, Rejection,
    StreamedIndexError,
};
pub use builder::IndexBuilder;
pub use diff::{diff, IndexDiff};
pub use error::IndexError;
pub use format::{index_file_name, index_files, MAGIC, MAX_INDEX_BYTES};
pub use index::{LongRecord, Revocation, RevocationIndex};
pub use merge::merge;
pub use meta::{CrlMeta, IdpMeta, IndexMeta, FORMAT_NAME, FORMAT_VERSION};
pub use prefetch::prefetch;
pub use status::{count_duplicates, Status};
pub use stream::{Built, StreamedIndex, TimeStream};
