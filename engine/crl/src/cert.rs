//! The CA certificate a CRL is verified against: only what verification needs
//! (subject, public key, subjectKeyIdentifier, keyUsage, validity).
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate TBSCertificate,
//!      signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
//! TBSCertificate ::= SEQUENCE {
//!      version         [0]  EXPLICIT Version DEFAULT v1,
//!      serialNumber         CertificateSerialNumber,
//!      signature            AlgorithmIdentifier,
//!      issuer               Name,
//!      validity             Validity,
//!      subject              Name,
//!      subjectPublicKeyInfo SubjectPublicKeyInfo,
//!      issuerUniqueID  [1]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      subjectUniqueID [2]  IMPLICIT UniqueIdentifier OPTIONAL,
//!      extensions      [3]  EXPLICIT Extensions OPTIONAL }
//! ```
//! The key identifier (`kid`) of a CA is its subjectKeyIdentifier; when the
//! certificate has none, it is the SHA-1 of the subjectPublicKey BIT STRING
//! payload (RFC 5280 §4.2.1.2, method (1)), and [`CaCert::kid_source`] says so.

use std::path::Path;

use sha1::Digest;

use crate::der::{self, tag, DerError, Reader};
use crate::error::CertError;
use crate::name;
use crate::oid;
use crate::pem;
use crate::serial::Serial;
use crate::time::{self, Timestamp};

/// Largest CA certificate file we read.
pub const MAX_CERT_BYTES: u64 = 1 << 20;

/// How a CA's key identifier was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KidSource {
    /// From the subjectKeyIdentifier extension.
    SubjectKeyIdentifier,
    /// SHA-1 of the subjectPublicKey (RFC 5280 §4.2.1.2 method 1).
    Sha1OfPublicKey,
}

/// A parsed CA certificate.
#[derive(Debug, Clone)]
pub struct CaCert {
    /// The subject Name, complete DER TLV.
    pub subject_der: Vec<u8>,
    /// The subject for display.
    pub subject: String,
    /// The SubjectPublicKeyInfo, complete DER TLV.
    pub spki_der: Vec<u8>,
    /// The key identifier bytes.
    pub kid: Vec<u8>,
    pub kid_source: KidSource,
    /// The keyUsage bits (first two octets, MSB first), if present.
    pub key_usage: Option<u16>,
    pub is_ca: bool,
    pub serial: Serial,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// SHA-256 of the certificate DER (for manifests).
    pub sha256: [u8; 32],
}

/// keyUsage cRLSign is bit 6 (RFC 5280 §4.2.1.3).
const KU_CRL_SIGN: u16 = 0x0200;

/// The subjectPublicKey BIT STRING payload of a SubjectPublicKeyInfo (the
/// input of the RFC 5280 §4.2.1.2 method (1) key identifier).
pub fn subject_public_key_bits(spki: &[u8]) -> Result<Vec<u8>, DerError> {
    let mut outer = Reader::new(spki, 0);
    let seq = outer.read(tag::SEQUENCE)?;
    let mut s = seq.reader();
    let _alg = s.read(tag::SEQUENCE)?;
    let spk = s.read(tag::BIT_STRING)?;
    s.finish()?;
    Ok(der::bit_string_octets(&spk)?.to_vec())
}

impl CaCert {
    /// The kid as lowercase hex (shared/conventions.md).
    pub fn kid_hex(&self) -> String {
        der::hex(&self.kid)
    }

    /// Whether keyUsage (when present) allows cRLSign.
    pub fn allows_crl_sign(&self) -> bool {
        self.key_usage.is_none_or(|ku| ku & KU_CRL_SIGN != 0)
    }

    /// Read a DER or PEM certificate file.
    pub fn from_file(path: &Path) -> Result<Self, CertError> {
        let meta = std::fs::metadata(path).map_err(|e| CertError::Io(e.to_string()))?;
        if meta.len() > MAX_CERT_BYTES {
            return Err(CertError::TooLarge { size: meta.len(), limit: MAX_CERT_BYTES });
        }
        let bytes = std::fs::read(path).map_err(|e| CertError::Io(e.to_string()))?;
        Self::from_bytes(&bytes)
    }

    /// Parse DER, or PEM (`-----BEGIN CERTIFICATE-----`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CertError> {
        if pem::looks_like_pem(bytes) {
            let der = pem::decode(bytes, "CERTIFICATE").map_err(CertError::Pem)?;
            return Self::from_der(&der);
        }
        Self::from_der(bytes)
    }

    /// Parse a DER certificate.
    pub fn from_der(bytes: &[u8]) -> Result<Self, CertError> {
        Self::parse(bytes)
    }

    fn parse(bytes: &[u8]) -> Result<Self, CertError> {
        let mut outer = Reader::new(bytes, 0);
        let cert = outer.read(tag::SEQUENCE)?;
        outer.finish()?;
        let mut c = cert.reader();
        let tbs = c.read(tag::SEQUENCE)?;
        let _sig_alg = c.read(tag::SEQUENCE)?;
        let _sig = c.read(tag::BIT_STRING)?;
        c.finish()?;

        let mut t = tbs.reader();
        t.read_optional(tag::CTX_0)?;
        let serial_tlv = t.read(tag::INTEGER)?;
        der::check_integer(&serial_tlv)?;
        let serial = Serial::from_der_integer(serial_tlv.value).unwrap_or(Serial::ZERO);
        let _sig = t.read(tag::SEQUENCE)?;
        let _issuer = t.read(tag::SEQUENCE)?;
        let validity = t.read(tag::SEQUENCE)?;
        let subject = t.read(tag::SEQUENCE)?;
        let spki = t.read(tag::SEQUENCE)?;
        t.read_optional(0x81)?;
        t.read_optional(0x82)?;
        let exts = t.read_optional(tag::CTX_3)?;
        t.finish()?;

        let mut v = validity.reader();
        let read_time = |r: &mut Reader<'_>| -> Result<Timestamp, CertError> {
            let tlv = r.read_any()?;
            let parsed = match tlv.tag {
                tag::UTC_TIME => time::parse_utc_time(tlv.value),
                tag::GENERALIZED_TIME => time::parse_generalized_time(tlv.value),
                found => {
                    return Err(tlv.error(der::DerErrorKind::UnexpectedTag { expected: tag::UTC_TIME, found }).into())
                }
            };
            parsed.map_err(|kind| CertError::InvalidTime { offset: tlv.offset, kind })
        };
        let not_before = read_time(&mut v)?;
        let not_after = read_time(&mut v)?;
        v.finish()?;

        // subjectPublicKey payload, for the SHA-1 kid fallback.
        let mut s = spki.reader();
        let _alg = s.read(tag::SEQUENCE)?;
        let spk = s.read(tag::BIT_STRING)?;
        s.finish()?;

        let mut ski = None;
        let mut key_usage = None;
        let mut is_ca = false;
        if let Some(exts) = exts {
            let mut outer = exts.reader();
            let list = outer.read(tag::SEQUENCE)?;
            outer.finish()?;
            let mut l = list.reader();
            while !l.is_empty() {
                let ext = l.read(tag::SEQUENCE)?;
                let mut e = ext.reader();
                let id = e.read(tag::OID)?;
                e.read_optional(tag::BOOLEAN)?;
                let val = e.read(tag::OCTET_STRING)?;
                e.finish()?;
                let mut inner = val.reader();
                match id.value {
                    x if x == oid::SUBJECT_KEY_IDENTIFIER => {
                        ski = Some(inner.read(tag::OCTET_STRING)?.value.to_vec());
                    }
                    x if x == oid::KEY_USAGE => {
                        let bits = inner.read(tag::BIT_STRING)?;
                        let b = bits.value.get(1..).unwrap_or_default();
                        let hi = u16::from(b.first().copied().unwrap_or(0));
                        let lo = u16::from(b.get(1).copied().unwrap_or(0));
                        key_usage = Some((hi << 8) | lo);
                    }
                    x if x == oid::BASIC_CONSTRAINTS => {
                        let bc = inner.read(tag::SEQUENCE)?;
                        let mut b = bc.reader();
                        if let Some(flag) = b.read_optional(tag::BOOLEAN)? {
                            is_ca = der::read_bool(&flag)?;
                        }
                    }
                    _ => {}
                }
            }
        }
        let (kid, kid_source) = match ski {
            Some(k) => (k, KidSource::SubjectKeyIdentifier),
            None => {
                let payload = der::bit_string_octets(&spk)?;
                (sha1::Sha1::digest(payload).to_vec(), KidSource::Sha1OfPublicKey)
            }
        };
        Ok(CaCert {
            subject_der: subject.raw.to_vec(),
            subject: name::render(&subject)?,
            spki_der: spki.raw.to_vec(),
            kid,
            kid_source,
            key_usage,
            is_ca,
            serial,
            not_before,
            not_after,
            sha256: sha2::Sha256::digest(bytes).into(),
        })
    }
}
