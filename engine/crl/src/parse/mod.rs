//! Parsing RFC 5280 CRLs: a streaming header/trailer reader around a parallel
//! entry decoder.
//!
//! ```text
//! CertificateList  ::=  SEQUENCE  {
//!      tbsCertList          TBSCertList,
//!      signatureAlgorithm   AlgorithmIdentifier,
//!      signatureValue       BIT STRING  }
//!
//! TBSCertList  ::=  SEQUENCE  {
//!      version                 Version OPTIONAL, -- if present, MUST be v2
//!      signature               AlgorithmIdentifier,
//!      issuer                  Name,
//!      thisUpdate              Time,
//!      nextUpdate              Time OPTIONAL,
//!      revokedCertificates     SEQUENCE OF SEQUENCE { ... } OPTIONAL,
//!      crlExtensions           [0]  EXPLICIT Extensions OPTIONAL }
//! ```
//! The input is read once, in blocks, by a reader thread; a hashing thread
//! computes the signature digest over tbsCertList (and, on request, the
//! SHA-256 of the whole file: see `stream.rs`). The entries are split at
//! entry boundaries and decoded in parallel with rayon while the hashing goes
//! on. Memory is bounded by about twenty 1 MiB blocks plus what the sink keeps
//! of the decoded columns (at most about 13 bytes/entry).

pub(crate) mod entry;
pub(crate) mod ext;
mod stream;

use std::path::Path;

pub use entry::{
    decode_entries, decode_entries_general, scan_entries, time_code, time_from_code, EntryColumns, EntrySink,
    LongEntry, TIME_BASE, TIME_OVERFLOW,
};
pub use ext::{CrlExtensions, CrlNumber, IssuingDistributionPoint};

use crate::error::CrlError;
use crate::time::Timestamp;
use crate::verify::signature::SignatureAlgorithm;

/// Default largest CRL accepted: 4 GiB.
pub const DEFAULT_MAX_CRL_BYTES: u64 = 4 << 30;
/// Default most entries accepted in one CRL.
pub const DEFAULT_MAX_ENTRIES: u64 = 200_000_000;
/// Largest single revokedCertificates entry (an entry is ~40 bytes; even with
/// every extension a sane one is far below this).
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024;
/// Largest span from the start of the file to the first entry (version,
/// signature algorithm, issuer, thisUpdate, nextUpdate).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest span after the last entry (crlExtensions, signatureAlgorithm,
/// signatureValue).
pub const MAX_TRAILER_BYTES: u64 = 1 << 20;

/// Named limits on untrusted input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_crl_bytes: u64,
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_crl_bytes: DEFAULT_MAX_CRL_BYTES, max_entries: DEFAULT_MAX_ENTRIES }
    }
}

/// Whether to compute the SHA-256 of the whole file (in addition to the
/// signature digest over tbsCertList). It costs a second hash pass, run on
/// its own thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileDigest {
    #[default]
    Skip,
    Sha256,
}

/// Parse options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    pub limits: Limits,
    pub file_digest: FileDigest,
}

/// Everything about a CRL except its entries.
#[derive(Debug, Clone)]
pub struct CrlInfo {
    /// 1 (no version field) or 2.
    pub version: u8,
    /// tbsCertList.signature, complete DER.
    pub signature_algorithm_der: Vec<u8>,
    /// The algorithm, when we support it (else verification fails with the OID).
    pub signature_algorithm: Result<SignatureAlgorithm, crate::error::VerifyError>,
    /// The issuer Name, complete DER.
    pub issuer_der: Vec<u8>,
    /// The issuer for display.
    pub issuer: String,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub extensions: CrlExtensions,
    /// signatureValue payload.
    pub signature: Vec<u8>,
    /// Digest of tbsCertList with the signature algorithm's hash (when supported).
    pub tbs_digest: Option<Vec<u8>>,
    /// SHA-256 of the whole file, when requested.
    pub file_sha256: Option<[u8; 32]>,
    /// Size of the DER in bytes.
    pub size: u64,
    /// Number of entries.
    pub entries: u64,
}

impl CrlInfo {
    /// A delta CRL (deltaCRLIndicator present) is never a complete CRL.
    pub fn is_delta(&self) -> bool {
        self.extensions.delta_base.is_some()
    }
}

/// A parsed CRL.
#[derive(Debug, Clone)]
pub struct Crl {
    pub info: CrlInfo,
    pub entries: EntryColumns,
}

/// Parse a CRL file, DER or PEM (`-----BEGIN X509 CRL-----`), collecting
/// its entries.
pub fn parse_path(path: &Path, opts: &ParseOptions) -> Result<Crl, CrlError> {
    let mut entries = EntryColumns::default();
    let info = stream::parse_path(path, opts, &mut entries)?;
    Ok(Crl { info, entries })
}

/// Parse a CRL file, handing its entries to `sink` batch by batch.
pub fn parse_path_into<S: EntrySink>(path: &Path, opts: &ParseOptions, sink: &mut S) -> Result<CrlInfo, CrlError> {
    stream::parse_path(path, opts, sink)
}

/// Parse CRL bytes held in memory, DER or PEM.
pub fn parse_bytes(bytes: &[u8], opts: &ParseOptions) -> Result<Crl, CrlError> {
    let mut entries = EntryColumns::default();
    let info = stream::parse_bytes(bytes, opts, &mut entries)?;
    Ok(Crl { info, entries })
}

/// Parse CRL bytes held in memory, handing entries to `sink`.
pub fn parse_bytes_into<S: EntrySink>(bytes: &[u8], opts: &ParseOptions, sink: &mut S) -> Result<CrlInfo, CrlError> {
    stream::parse_bytes(bytes, opts, sink)
}

/// Parse DER from any reader. `size`, when known, lets truncation and
/// trailing data be reported before any work.
pub fn parse_reader<R: std::io::Read + Send>(
    reader: R,
    size: Option<u64>,
    opts: &ParseOptions,
) -> Result<Crl, CrlError> {
    let mut entries = EntryColumns::default();
    let info = stream::parse_reader(reader, size, opts, &mut entries)?;
    Ok(Crl { info, entries })
}
