//! `crlbatch-crl`: the parse/verify stage of crlbatch.
//!
//! Strict DER parsing of RFC 5280 CRLs at JPKI scale (millions of entries,
//! hundreds of MB), streamed in blocks, with the signature digest computed on
//! one thread while the entries are decoded in parallel on the others; and
//! verification against a configured CA certificate (issuer, key identifier,
//! keyUsage, signature) plus freshness at an evaluation time.
//!
//! No function here panics on input bytes; every error names what is wrong
//! and, for malformed DER, the byte offset.

mod cert;
pub mod der;
mod error;
mod name;
mod oid;
mod parse;
mod pem;
mod reason;
mod serial;
pub mod sha256x2;
mod time;
mod verify;

pub use cert::{subject_public_key_bits, CaCert, KidSource, MAX_CERT_BYTES};
pub use der::{hex, DerError, DerErrorKind};
pub use error::{CertError, CrlError, VerifyError};
pub use name::render_der as render_name;
pub use parse::{
    decode_entries, decode_entries_general, parse_bytes, parse_bytes_into, parse_path, parse_path_into, parse_reader,
    scan_entries, time_code, time_from_code, Crl, CrlExtensions, CrlInfo, CrlNumber, EntryColumns, EntrySink,
    FileDigest, IssuingDistributionPoint, Limits, LongEntry, ParseOptions, DEFAULT_MAX_CRL_BYTES, DEFAULT_MAX_ENTRIES,
    MAX_ENTRY_BYTES, MAX_HEADER_BYTES, MAX_TRAILER_BYTES, TIME_BASE, TIME_OVERFLOW,
};
pub use reason::{reason_from_u8, reason_to_u8, Reason, NO_REASON};
pub use serial::{Serial, SerialError, MAX_SERIAL_OCTETS};
pub use time::{parse_generalized_time, parse_utc_time, TimeErrorKind, Timestamp};
pub use verify::signature::{verify_prehashed, Digester, HashAlg, SignatureAlgorithm};
pub use verify::{freshness, verify_crl, Freshness};
