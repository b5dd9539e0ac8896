//! Errors of the parse/verify layer. Each variant says what is wrong and,
//! where the input is at fault, at which byte.

use crate::der::DerError;
use crate::time::TimeErrorKind;

/// Why a CRL could not be parsed (or is refused by policy while parsing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// The file could not be read.
    #[error("cannot read CRL: {0}")]
    Io(String),
    /// PEM armour could not be decoded.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// The DER structure is malformed.
    #[error("malformed DER: {0}")]
    Der(#[from] DerError),
    /// The CRL is larger than the configured limit.
    #[error("CRL is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// The CRL declares more entries than the configured limit.
    #[error("CRL has more than {limit} entries (the configured limit)")]
    TooManyEntries { limit: u64 },
    /// One revokedCertificates entry is larger than any sane entry.
    #[error("revoked certificate entry at byte {offset} is {len} bytes, over the limit of {limit}")]
    EntryTooLarge { offset: u64, len: u64, limit: u64 },
    /// The fields before revokedCertificates do not fit the header limit.
    #[error("CRL header (version to nextUpdate) is over the limit of {limit} bytes")]
    HeaderTooLarge { limit: u64 },
    /// crlExtensions + signature are over the trailer limit.
    #[error("CRL extensions and signature are {len} bytes, over the limit of {limit}")]
    TrailerTooLarge { len: u64, limit: u64 },
    /// The outer structure ends before the file does.
    #[error("unexpected data after the CertificateList at byte {offset}")]
    TrailingData { offset: u64 },
    /// The file ends before the structure does.
    #[error("CRL is truncated: the structure needs {expected} bytes, the input has {actual}")]
    Truncated { expected: u64, actual: u64 },
    /// RFC 5280 §5.1.2.1: version, if present, MUST be v2 (1).
    #[error("unsupported CRL version {version} at byte {offset} (only v2 is defined)")]
    BadVersion { offset: u64, version: String },
    /// Extensions in a v1 CRL (RFC 5280 §5.1.2.1).
    #[error("extensions at byte {offset} in a CRL without version v2")]
    ExtensionsInV1 { offset: u64 },
    /// A Time that is not a valid DER UTCTime/GeneralizedTime.
    #[error("invalid time at byte {offset}: {kind}")]
    InvalidTime { offset: u64, kind: TimeErrorKind },
    /// A serial number with more than 20 octets of magnitude.
    #[error("serial number at byte {offset} has {octets} octets (RFC 5280 allows at most 20)")]
    SerialTooLong { offset: u64, octets: usize },
    /// A reasonCode value RFC 5280 does not define (7, or above 10).
    #[error("invalid reasonCode {code} at byte {offset}")]
    InvalidReasonCode { offset: u64, code: String },
    /// An extension marked critical that this engine does not process.
    #[error("unknown critical extension {oid} at byte {offset}")]
    UnknownCriticalExtension { offset: u64, oid: String },
    /// The same extension twice in one extensions list (RFC 5280 §4.2).
    #[error("duplicate extension {oid} at byte {offset}")]
    DuplicateExtension { offset: u64, oid: String },
    /// An indirect CRL (certificateIssuer entries or IDP indirectCRL): not supported.
    #[error("indirect CRL at byte {offset} is not supported (entries may belong to another issuer)")]
    IndirectCrl { offset: u64 },
    /// RFC 5280 §5.1.1.2: signatureAlgorithm MUST equal tbsCertList.signature.
    #[error("signatureAlgorithm at byte {offset} differs from tbsCertList.signature")]
    SignatureAlgorithmMismatch { offset: u64 },
    /// RFC 5280 §5.1.2.6: an empty revokedCertificates list MUST be absent.
    #[error("empty revokedCertificates list at byte {offset} (must be absent when empty)")]
    EmptyRevokedList { offset: u64 },
    /// An extension value that does not match its ASN.1 definition.
    #[error("invalid {what} extension at byte {offset}")]
    InvalidExtension { offset: u64, what: &'static str },
    /// Not a CRL at all (for example an HTML page).
    #[error("not a DER CRL: the first byte is 0x{first:02x}, expected 0x30 (SEQUENCE)")]
    NotDer { first: u8 },
    /// An empty input.
    #[error("empty input: no CRL bytes")]
    Empty,
}

/// Why a CA certificate could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("cannot read CA certificate: {0}")]
    Io(String),
    #[error("CA certificate is {size} bytes, over the limit of {limit}")]
    TooLarge { size: u64, limit: u64 },
    #[error("invalid PEM in CA certificate: {0}")]
    Pem(String),
    #[error("malformed CA certificate: {0}")]
    Der(#[from] DerError),
    #[error("invalid validity time in CA certificate at byte {offset}: {kind}")]
    InvalidTime { offset: u64, kind: TimeErrorKind },
}

/// Why a parsed CRL does not verify against a CA certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A signature algorithm this engine does not implement.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm { oid: String },
    /// The CA key type is not one we implement, or is malformed.
    #[error("unsupported or invalid CA public key: {0}")]
    UnsupportedPublicKey(String),
    /// The CA key does not fit the CRL's signature algorithm.
    #[error("CA key type does not match signature algorithm {algorithm}")]
    KeyAlgorithmMismatch { algorithm: String },
    /// The signature does not verify.
    #[error("signature does not verify with the CA key {kid}")]
    SignatureInvalid { kid: String },
    /// The CRL issuer is not the CA subject.
    #[error("CRL issuer \"{crl_issuer}\" is not the CA subject \"{ca_subject}\"")]
    IssuerMismatch { crl_issuer: String, ca_subject: String },
    /// The CRL's authorityKeyIdentifier names another key (another CA
    /// generation with the same DN).
    #[error("CRL authorityKeyIdentifier {crl_aki} does not match the CA key identifier {ca_kid}")]
    AuthorityKeyIdMismatch { crl_aki: String, ca_kid: String },
    /// keyUsage of the CA certificate lacks cRLSign.
    #[error("CA certificate keyUsage does not allow cRLSign")]
    CaKeyUsage,
    /// The signature digest was not computed (internal misuse).
    #[error("CRL digest not computed for {algorithm}")]
    DigestMissing { algorithm: String },
}
