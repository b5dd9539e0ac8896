//! Signature algorithms (RFC 5280 §4.1.1.2, RFC 4055, RFC 5758) and
//! verification over a digest computed while the CRL streamed by.
//!
//! Supported: sha256/384/512WithRSAEncryption (JPKI uses sha256 with
//! RSA-2048), RSASSA-PSS with SHA-2 and MGF1 of the same hash, ECDSA with
//! P-256/P-384 and SHA-256/384. SHA-1 is refused.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs8::DecodePublicKey;
use sha2::Digest;

use crate::der::{self, tag, Reader};
use crate::error::VerifyError;
use crate::oid;

/// A SHA-2 hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    fn from_oid(v: &[u8]) -> Option<Self> {
        match v {
            x if x == oid::SHA256 => Some(Self::Sha256),
            x if x == oid::SHA384 => Some(Self::Sha384),
            x if x == oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

/// A signature algorithm we can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaPkcs1(HashAlg),
    RsaPss { hash: HashAlg, salt_len: usize },
    Ecdsa(HashAlg),
}

impl SignatureAlgorithm {
    /// Parse an AlgorithmIdentifier (complete DER TLV).
    ///
    /// ```text
    /// AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER,
    ///                                    parameters ANY DEFINED BY algorithm OPTIONAL }
    /// ```
    pub fn from_der(alg: &[u8]) -> Result<Self, VerifyError> {
        let unsupported = |oid: &[u8]| VerifyError::UnsupportedSignatureAlgorithm { oid: der::oid_to_string(oid) };
        let malformed = || VerifyError::UnsupportedSignatureAlgorithm { oid: "malformed AlgorithmIdentifier".into() };
        let mut outer = Reader::new(alg, 0);
        let seq = outer.read(tag::SEQUENCE).map_err(|_| malformed())?;
        let mut r = seq.reader();
        let id = r.read(tag::OID).map_err(|_| malformed())?;
        let params = if r.is_empty() { None } else { Some(r.read_any().map_err(|_| malformed())?) };
        r.finish().map_err(|_| malformed())?;
        let null_or_absent = params.is_none_or(|p| p.tag == tag::NULL && p.value.is_empty());
        let rsa = |h| {
            if null_or_absent {
                Ok(Self::RsaPkcs1(h))
            } else {
                Err(malformed())
            }
        };
        let ecdsa = |h| {
            if params.is_none() {
                Ok(Self::Ecdsa(h))
            } else {
                Err(malformed())
            }
        };
        match id.value {
            x if x == oid::SHA256_WITH_RSA => rsa(HashAlg::Sha256),
            x if x == oid::SHA384_WITH_RSA => rsa(HashAlg::Sha384),
            x if x == oid::SHA512_WITH_RSA => rsa(HashAlg::Sha512),
            x if x == oid::ECDSA_WITH_SHA256 => ecdsa(HashAlg::Sha256),
            x if x == oid::ECDSA_WITH_SHA384 => ecdsa(HashAlg::Sha384),
            x if x == oid::RSASSA_PSS => {
                let p = params.ok_or_else(|| unsupported(id.value))?;
                Self::pss_params(&p).ok_or_else(|| VerifyError::UnsupportedSignatureAlgorithm {
                    oid: "RSASSA-PSS with parameters other than SHA-2/MGF1(same hash)".into(),
                })
            }
            other => Err(unsupported(other)),
        }
    }

    /// RFC 4055 §3.1:
    /// ```text
    /// RSASSA-PSS-params ::= SEQUENCE {
    ///     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
    ///     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
    ///     saltLength         [2] INTEGER DEFAULT 20,
    ///     trailerField       [3] INTEGER DEFAULT 1 }
    /// ```
    /// SHA-1 defaults are refused, so hashAlgorithm and maskGenAlgorithm must
    /// be present.
    fn pss_params(p: &der::Tlv<'_>) -> Option<Self> {
        if p.tag != tag::SEQUENCE {
            return None;
        }
        let mut r = p.reader();
        let hash_alg = |tlv: der::Tlv<'_>| -> Option<HashAlg> {
            let mut ai = tlv.reader();
            let seq = ai.read(tag::SEQUENCE).ok()?;
            let mut s = seq.reader();
            let id = s.read(tag::OID).ok()?;
            // parameters: NULL or absent
            if let Some(t) = s.peek_tag() {
                if t != tag::NULL {
                    return None;
                }
                s.read(tag::NULL).ok()?;
            }
            HashAlg::from_oid(id.value)
        };
        let hash = hash_alg(r.read(tag::CTX_0).ok()?)?;
        let mgf = r.read(tag::CTX_1).ok()?;
        let mut m = mgf.reader();
        let mseq = m.read(tag::SEQUENCE).ok()?;
        let mut ms = mseq.reader();
        if ms.read(tag::OID).ok()?.value != oid::MGF1 {
            return None;
        }
        let inner = ms.read(tag::SEQUENCE).ok()?;
        let mgf_hash = {
            let mut i = inner.reader();
            let id = i.read(tag::OID).ok()?;
            HashAlg::from_oid(id.value)?
        };
        if mgf_hash != hash {
            return None;
        }
        let mut salt_len = 20usize;
        if let Some(s) = r.read_optional(tag::CTX_2).ok()? {
            let int = s.reader().read(tag::INTEGER).ok()?;
            salt_len = usize::try_from(der::read_small_uint(&int).ok()??).ok()?;
        }
        if let Some(t) = r.read_optional(tag::CTX_3).ok()? {
            let int = t.reader().read(tag::INTEGER).ok()?;
            if der::read_small_uint(&int).ok()?? != 1 {
                return None;
            }
        }
        r.finish().ok()?;
        Some(Self::RsaPss { hash, salt_len })
    }

    pub fn hash(self) -> HashAlg {
        match self {
            Self::RsaPkcs1(h) | Self::Ecdsa(h) | Self::RsaPss { hash: h, .. } => h,
        }
    }

    /// A short name: `sha256WithRSAEncryption`, `rsassaPss-sha256`, `ecdsa-with-SHA256`.
    pub fn name(self) -> String {
        match self {
            Self::RsaPkcs1(h) => format!("{}WithRSAEncryption", h.name()),
            Self::RsaPss { hash, .. } => format!("rsassaPss-{}", hash.name()),
            Self::Ecdsa(h) => format!("ecdsa-with-{}", h.name().to_uppercase()),
        }
    }
}

/// A running digest of one of the SHA-2 hashes.
#[derive(Debug, Clone)]
pub enum Digester {
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Digester {
    pub fn new(h: HashAlg) -> Self {
        match h {
            HashAlg::Sha256 => Self::Sha256(sha2::Sha256::new()),
            HashAlg::Sha384 => Self::Sha384(sha2::Sha384::new()),
            HashAlg::Sha512 => Self::Sha512(sha2::Sha512::new()),
        }
    }

    #[inline]
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(d) => d.update(data),
            Self::Sha384(d) => d.update(data),
            Self::Sha512(d) => d.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Self::Sha256(d) => d.finalize().to_vec(),
            Self::Sha384(d) => d.finalize().to_vec(),
            Self::Sha512(d) => d.finalize().to_vec(),
        }
    }
}

/// (algorithm OID, curve OID parameter, subjectPublicKey payload)
type KeyParts = (Vec<u8>, Option<Vec<u8>>, Vec<u8>);

fn key_algorithm(spki: &[u8]) -> Result<KeyParts, VerifyError> {
    let bad = || VerifyError::UnsupportedPublicKey("malformed SubjectPublicKeyInfo".into());
    let mut outer = Reader::new(spki, 0);
    let seq = outer.read(tag::SEQUENCE).map_err(|_| bad())?;
    let mut r = seq.reader();
    let alg = r.read(tag::SEQUENCE).map_err(|_| bad())?;
    let key = r.read(tag::BIT_STRING).map_err(|_| bad())?;
    let mut a = alg.reader();
    let id = a.read(tag::OID).map_err(|_| bad())?;
    let param = a.read_optional(tag::OID).map_err(|_| bad())?.map(|p| p.value.to_vec());
    let bits = der::bit_string_octets(&key).map_err(|_| bad())?;
    Ok((id.value.to_vec(), param, bits.to_vec()))
}

/// Verify `signature` (BIT STRING payload) over a precomputed `digest` of
/// the signed bytes, with the key in `spki` (complete SubjectPublicKeyInfo).
pub fn verify_prehashed(
    alg: SignatureAlgorithm,
    spki: &[u8],
    digest: &[u8],
    signature: &[u8],
    kid_hex: &str,
) -> Result<(), VerifyError> {
    let invalid = || VerifyError::SignatureInvalid { kid: kid_hex.to_owned() };
    let (key_oid, key_param, key_bits) = key_algorithm(spki)?;
    let mismatch = || VerifyError::KeyAlgorithmMismatch { algorithm: alg.name() };
    match alg {
        SignatureAlgorithm::RsaPkcs1(h) | SignatureAlgorithm::RsaPss { hash: h, .. } => {
            if key_oid != oid::RSA_ENCRYPTION {
                return Err(mismatch());
            }
            let pk = rsa::RsaPublicKey::from_public_key_der(spki)
                .map_err(|e| VerifyError::UnsupportedPublicKey(e.to_string()))?;
            let ok = match alg {
                SignatureAlgorithm::RsaPss { salt_len, .. } => {
                    let sig = rsa::pss::Signature::try_from(signature).map_err(|_| invalid())?;
                    match h {
                        HashAlg::Sha256 => rsa::pss::VerifyingKey::<sha2::Sha256>::new_with_salt_len(pk, salt_len)
                            .verify_prehash(digest, &sig),
                        HashAlg::Sha384 => rsa::pss::VerifyingKey::<sha2::Sha384>::new_with_salt_len(pk, salt_len)
                            .verify_prehash(digest, &sig),
                        HashAlg::Sha512 => rsa::pss::VerifyingKey::<sha2::Sha512>::new_with_salt_len(pk, salt_len)
                            .verify_prehash(digest, &sig),
                    }
                }
                _ => {
                    let sig = rsa::pkcs1v15::Signature::try_from(signature).map_err(|_| invalid())?;
                    match h {
                        HashAlg::Sha256 => {
                            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(pk).verify_prehash(digest, &sig)
                        }
                        HashAlg::Sha384 => {
                            rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(pk).verify_prehash(digest, &sig)
                        }
                        HashAlg::Sha512 => {
                            rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(pk).verify_prehash(digest, &sig)
                        }
                    }
                }
            };
            ok.map_err(|_| invalid())
        }
        SignatureAlgorithm::Ecdsa(_) => {
            if key_oid != oid::EC_PUBLIC_KEY {
                return Err(mismatch());
            }
            match key_param.as_deref() {
                Some(c) if c == oid::SECP256R1 => {
                    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key_bits)
                        .map_err(|e| VerifyError::UnsupportedPublicKey(e.to_string()))?;
                    let sig = p256::ecdsa::Signature::from_der(signature).map_err(|_| invalid())?;
                    vk.verify_prehash(digest, &sig).map_err(|_| invalid())
                }
                Some(c) if c == oid::SECP384R1 => {
                    let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&key_bits)
                        .map_err(|e| VerifyError::UnsupportedPublicKey(e.to_string()))?;
                    let sig = p384::ecdsa::Signature::from_der(signature).map_err(|_| invalid())?;
                    vk.verify_prehash(digest, &sig).map_err(|_| invalid())
                }
                _ => Err(VerifyError::UnsupportedPublicKey("EC curve other than P-256/P-384".into())),
            }
        }
    }
}
