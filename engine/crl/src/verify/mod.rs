//! Verifying a parsed CRL against a CA certificate, and judging freshness.
//!
//! RFC 5280 §6.3.3 (CRL processing), the parts this engine enforces:
//! - (f) "Obtain and validate the certification path for the issuer of the
//!   complete CRL": here the CA certificate is configured, not discovered; the
//!   CRL issuer must equal its subject, and when the CRL carries an
//!   authorityKeyIdentifier it must equal the CA's key identifier, because
//!   JPKI CA generations share one DN with different keys.
//! - "If a key usage extension is present in the CRL issuer's certificate,
//!   verify that the cRLSign bit is set."
//! - (g) "Validate the signature on the complete CRL using the public key
//!   validated in step (f)."
//! - Freshness: a CRL is usable at time t when thisUpdate <= t < nextUpdate.

pub mod signature;

use crate::cert::CaCert;
use crate::der;
use crate::error::VerifyError;
use crate::parse::CrlInfo;
use crate::time::Timestamp;

/// Verify issuer, key identifier, keyUsage and signature.
pub fn verify_crl(info: &CrlInfo, ca: &CaCert) -> Result<(), VerifyError> {
    if info.issuer_der != ca.subject_der {
        return Err(VerifyError::IssuerMismatch { crl_issuer: info.issuer.clone(), ca_subject: ca.subject.clone() });
    }
    if let Some(aki) = &info.extensions.authority_key_id {
        if aki != &ca.kid {
            return Err(VerifyError::AuthorityKeyIdMismatch { crl_aki: der::hex(aki), ca_kid: ca.kid_hex() });
        }
    }
    if !ca.allows_crl_sign() {
        return Err(VerifyError::CaKeyUsage);
    }
    let alg = info.signature_algorithm.clone()?;
    let digest = info.tbs_digest.as_deref().ok_or_else(|| VerifyError::DigestMissing { algorithm: alg.name() })?;
    signature::verify_prehashed(alg, &ca.spki_der, digest, &info.signature, &ca.kid_hex())
}

/// Whether a CRL may be used at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// thisUpdate <= t < nextUpdate.
    Fresh,
    /// t < thisUpdate: issued in the future relative to t.
    NotYetValid { this_update: Timestamp },
    /// t >= nextUpdate: a newer CRL should exist.
    Stale { next_update: Timestamp },
    /// No nextUpdate (RFC 5280 §5.1.2.5 says conforming issuers MUST include
    /// it): freshness cannot be established.
    NoNextUpdate,
}

impl Freshness {
    pub fn is_fresh(self) -> bool {
        self == Freshness::Fresh
    }

    /// Why a CRL is not fresh, for a `detail` field.
    pub fn detail(self) -> Option<String> {
        match self {
            Freshness::Fresh => None,
            Freshness::NotYetValid { this_update } => Some(format!("CRL not yet valid (thisUpdate {this_update})")),
            Freshness::Stale { next_update } => Some(format!("stale CRL (nextUpdate {next_update})")),
            Freshness::NoNextUpdate => Some("CRL has no nextUpdate".to_owned()),
        }
    }
}

/// Judge freshness at `at`.
pub fn freshness(this_update: Timestamp, next_update: Option<Timestamp>, at: Timestamp) -> Freshness {
    if at < this_update {
        return Freshness::NotYetValid { this_update };
    }
    match next_update {
        None => Freshness::NoNextUpdate,
        Some(n) if at >= n => Freshness::Stale { next_update: n },
        Some(_) => Freshness::Fresh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness_bounds() {
        let t = Timestamp(1000);
        let n = Some(Timestamp(2000));
        assert_eq!(freshness(t, n, Timestamp(1000)), Freshness::Fresh);
        assert_eq!(freshness(t, n, Timestamp(1999)), Freshness::Fresh);
        assert_eq!(freshness(t, n, Timestamp(2000)), Freshness::Stale { next_update: Timestamp(2000) });
        assert_eq!(freshness(t, n, Timestamp(999)), Freshness::NotYetValid { this_update: t });
        assert_eq!(freshness(t, None, Timestamp(1500)), Freshness::NoNextUpdate);
    }
}
