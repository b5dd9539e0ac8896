//! `crlbatch-four`: which of the basic four information (基本4情報: name,
//! address, date of birth, gender) changed between a PPID's signing
//! certificates, in bulk, without exposing the values.
//!
//! ```text
//! certs (ppid, sign_cert_der) ─▶ parse (cert, era) ─▶ HMAC per field (key) ─▶ snapshot
//! snapshot + latest certs + revocation indexes ─────▶ diff (which field changed, old cert revoked?)
//! ```
//!
//! Privacy: values exist only in memory while a certificate is parsed; they
//! are digested with a secret key at once and never written, logged or
//! printed (`Debug` of the value types is redacted, errors name the field
//! and row, never the value). Outputs hold PPIDs, serials, key ids, keyed
//! digests and booleans.

mod cert;
mod diff;
mod era;
mod error;
mod input;
mod key;
mod output;
mod snapshot;

pub use cert::{
    parse_signing_cert, BasicFour, CertError, Field, Gender, SigningCert, SubstituteFlags, MAX_CERT_BYTES,
    MAX_FIELD_BYTES,
};
pub use diff::{changed, diff, write_diff, DiffCounts, DiffReport, Revocations};
pub use era::{parse_birth_date, BirthDate, BirthDateError, Era, YearForm, Ymd, FIRST_GREGORIAN_YEAR};
pub use error::FourError;
pub use input::{list_files, read_certs, CertRow, Reject, MAX_PPID_BYTES};
pub use key::{FieldDigests, FourKey, KeyError, DEFAULT_KEY_ENV, MAX_KEY_BYTES, MIN_KEY_BYTES};
pub use output::{
    dataset, diff_schema, publish_file, snapshot_schema, staging_for, write_rejects, CERTS_JSON, DIFF_JSON,
    SNAPSHOT_JSON,
};
pub use snapshot::{
    latest_certs, preflight, read_snapshot, snapshot, write_snapshot, Entry, Latest, SnapEntry, SnapshotReport,
    MAX_ROWS,
};
