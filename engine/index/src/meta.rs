//! Index metadata: what the index was built from. Stored as JSON in the
//! index file header and shown by `crlbatch status`/`inspect`.

use crlbatch_crl::{CaCert, CrlInfo, Freshness, IssuingDistributionPoint, Timestamp};
use serde::{Deserialize, Serialize};

/// The format name written in every index file.
pub const FORMAT_NAME: &str = "crlbatch-index";
/// The on-disk format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// issuingDistributionPoint, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpMeta {
    pub distribution_point: Vec<String>,
    pub relative_name: Option<String>,
    pub only_contains_user_certs: bool,
    pub only_contains_ca_certs: bool,
    pub only_some_reasons: Option<Vec<String>>,
    pub only_contains_attribute_certs: bool,
    /// The extension value DER, hex, for exact matching.
    pub der: String,
}

impl From<&IssuingDistributionPoint> for IdpMeta {
    fn from(i: &IssuingDistributionPoint) -> Self {
        Self {
            distribution_point: i.distribution_point.clone(),
            relative_name: i.relative_name.clone(),
            only_contains_user_certs: i.only_contains_user_certs,
            only_contains_ca_certs: i.only_contains_ca_certs,
            only_some_reasons: i.only_some_reasons.as_ref().map(|v| v.iter().map(|s| (*s).to_owned()).collect()),
            only_contains_attribute_certs: i.only_contains_attribute_certs,
            der: crlbatch_crl::hex(&i.der),
        }
    }
}

/// One CRL that went into an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlMeta {
    /// Where it was read from (path or URL as given).
    pub source: String,
    /// SHA-256 of the CRL file bytes, hex (when computed).
    pub sha256: Option<String>,
    /// The signature digest over tbsCertList, hex.
    pub tbs_digest: Option<String>,
    pub signature_algorithm: String,
    /// cRLNumber in decimal.
    pub crl_number: Option<String>,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    pub entries: u64,
    pub bytes: u64,
    pub idp: Option<IdpMeta>,
}

impl CrlMeta {
    /// Describe a parsed CRL from its info.
    pub fn from_info(source: &str, info: &CrlInfo) -> Self {
        Self {
            source: source.to_owned(),
            sha256: info.file_sha256.map(|d| crlbatch_crl::hex(&d)),
            tbs_digest: info.tbs_digest.as_deref().map(crlbatch_crl::hex),
            signature_algorithm: info.signature_algorithm.as_ref().map(|a| a.name()).unwrap_or_else(|e| e.to_string()),
            crl_number: info.extensions.crl_number.as_ref().map(|n| n.to_decimal()),
            this_update: info.this_update,
            next_update: info.next_update,
            entries: info.entries,
            bytes: info.size,
            idp: info.extensions.idp.as_ref().map(IdpMeta::from),
        }
    }

    pub fn freshness(&self, at: Timestamp) -> Freshness {
        crlbatch_crl::freshness(self.this_update, self.next_update, at)
    }
}

/// The header of an index file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMeta {
    pub format: String,
    pub format_version: u32,
    /// subjectKeyIdentifier of the issuing CA, lowercase hex.
    pub issuer_kid: String,
    /// How the kid was obtained (`subjectKeyIdentifier` or `sha1-of-public-key`).
    pub kid_source: String,
    pub issuer: String,
    /// SHA-256 of the CA certificate the CRLs were verified with.
    pub ca_cert_sha256: String,
    /// The CRLs merged into this index (several = partitions).
    pub crls: Vec<CrlMeta>,
    /// Distinct revoked serials.
    pub entries: u64,
    /// Entries whose serial appeared more than once across the CRLs.
    pub duplicates: u64,
    /// Serials kept off the u64 fast path (negative or over 8 octets).
    pub long_serials: u64,
    pub built_at: Timestamp,
    pub engine_version: String,
}

impl IndexMeta {
    pub fn new(ca: &CaCert, crls: Vec<CrlMeta>, built_at: Timestamp) -> Self {
        Self {
            format: FORMAT_NAME.to_owned(),
            format_version: FORMAT_VERSION,
            issuer_kid: ca.kid_hex(),
            kid_source: match ca.kid_source {
                crlbatch_crl::KidSource::SubjectKeyIdentifier => "subjectKeyIdentifier".to_owned(),
                crlbatch_crl::KidSource::Sha1OfPublicKey => "sha1-of-public-key".to_owned(),
            },
            issuer: ca.subject.clone(),
            ca_cert_sha256: crlbatch_crl::hex(&ca.sha256),
            crls,
            entries: 0,
            duplicates: 0,
            long_serials: 0,
            built_at,
            engine_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// Whether every CRL of this index is fresh at `at`; otherwise why not
    /// (the first CRL that is not), for an `unknown` detail.
    pub fn usable_at(&self, at: Timestamp) -> Result<(), String> {
        if self.crls.is_empty() {
            return Err("index holds no CRL".to_owned());
        }
        for c in &self.crls {
            if let Some(why) = c.freshness(at).detail() {
                return Err(if self.crls.len() > 1 { format!("{why} in partition {}", c.source) } else { why });
            }
        }
        Ok(())
    }
}
