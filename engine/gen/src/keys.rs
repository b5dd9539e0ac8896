//! Keys and signature algorithms the generator signs with. JPKI uses
//! RSA-2048 with sha256WithRSAEncryption; the others exist so that the
//! verifier's every algorithm is exercised by tests.

use rand_chacha::rand_core::SeedableRng;
use rsa::pkcs8::EncodePublicKey;
use rsa::signature::hazmat::{PrehashSigner, RandomizedPrehashSigner};
use rsa::signature::SignatureEncoding;
use sha2::Digest;

use crate::der_write as w;
use crate::GenError;

/// OIDs (content octets).
mod oid {
    pub const SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    pub const SHA384_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
    pub const SHA512_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
    pub const RSASSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
    pub const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
    pub const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    pub const ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    pub const ECDSA_WITH_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
}

/// A private key.
#[derive(Debug, Clone)]
pub enum Key {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
}

/// Which key to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa2048,
    P256,
    P384,
}

/// A signature algorithm to sign with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigAlg {
    RsaSha256,
    RsaSha384,
    RsaSha512,
    RsaPssSha256,
    EcdsaSha256,
    EcdsaSha384,
}

/// A seeded RNG from a label (deterministic, independent streams).
pub fn rng_for(seed: u64, label: &str) -> rand_chacha::ChaCha20Rng {
    let mut h = sha2::Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(label.as_bytes());
    rand_chacha::ChaCha20Rng::from_seed(h.finalize().into())
}

impl Key {
    /// Generate a key deterministically from `seed` and `label`.
    pub fn generate(kind: KeyKind, seed: u64, label: &str) -> Result<Key, GenError> {
        let mut rng = rng_for(seed, label);
        Ok(match kind {
            KeyKind::Rsa2048 => Key::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| GenError::Crypto(e.to_string()))?,
            )),
            KeyKind::P256 => Key::P256(p256::ecdsa::SigningKey::random(&mut rng)),
            KeyKind::P384 => Key::P384(p384::ecdsa::SigningKey::random(&mut rng)),
        })
    }

    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Result<Vec<u8>, GenError> {
        let doc = match self {
            Key::Rsa(k) => k.to_public_key().to_public_key_der(),
            Key::P256(k) => k.verifying_key().to_public_key_der(),
            Key::P384(k) => k.verifying_key().to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec()).map_err(|e| GenError::Crypto(e.to_string()))
    }

    /// The natural algorithm for this key.
    pub fn default_alg(&self) -> SigAlg {
        match self {
            Key::Rsa(_) => SigAlg::RsaSha256,
            Key::P256(_) => SigAlg::EcdsaSha256,
            Key::P384(_) => SigAlg::EcdsaSha384,
        }
    }

    /// Sign the message whose digest (with `alg`'s hash) is `digest`.
    pub fn sign_digest(&self, alg: SigAlg, digest: &[u8], seed: u64) -> Result<Vec<u8>, GenError> {
        let err = |e: rsa::signature::Error| GenError::Crypto(e.to_string());
        match (self, alg) {
            (Key::Rsa(k), SigAlg::RsaSha256) => rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**k).clone())
                .sign_prehash(digest)
                .map(|s| s.to_vec())
                .map_err(err),
            (Key::Rsa(k), SigAlg::RsaSha384) => rsa::pkcs1v15::SigningKey::<sha2::Sha384>::new((**k).clone())
                .sign_prehash(digest)
                .map(|s| s.to_vec())
                .map_err(err),
            (Key::Rsa(k), SigAlg::RsaSha512) => rsa::pkcs1v15::SigningKey::<sha2::Sha512>::new((**k).clone())
                .sign_prehash(digest)
                .map(|s| s.to_vec())
                .map_err(err),
            (Key::Rsa(k), SigAlg::RsaPssSha256) => {
                let mut rng = rng_for(seed, "pss-salt");
                rsa::pss::SigningKey::<sha2::Sha256>::new((**k).clone())
                    .sign_prehash_with_rng(&mut rng, digest)
                    .map(|s| s.to_vec())
                    .map_err(err)
            }
            (Key::P256(k), SigAlg::EcdsaSha256 | SigAlg::EcdsaSha384) => {
                let s: p256::ecdsa::Signature = k.sign_prehash(digest).map_err(err)?;
                Ok(s.to_der().as_bytes().to_vec())
            }
            (Key::P384(k), SigAlg::EcdsaSha256 | SigAlg::EcdsaSha384) => {
                let s: p384::ecdsa::Signature = k.sign_prehash(digest).map_err(err)?;
                Ok(s.to_der().as_bytes().to_vec())
            }
            _ => Err(GenError::Crypto(format!("{alg:?} does not fit this key"))),
        }
    }
}

impl SigAlg {
    /// AlgorithmIdentifier DER.
    pub fn alg_id(self) -> Vec<u8> {
        match self {
            SigAlg::RsaSha256 => w::seq(&[&w::oid(oid::SHA256_WITH_RSA), &w::null()]),
            SigAlg::RsaSha384 => w::seq(&[&w::oid(oid::SHA384_WITH_RSA), &w::null()]),
            SigAlg::RsaSha512 => w::seq(&[&w::oid(oid::SHA512_WITH_RSA), &w::null()]),
            SigAlg::RsaPssSha256 => {
                let sha256 = w::seq(&[&w::oid(oid::SHA256), &w::null()]);
                let hash = w::cons(0xa0, &[&sha256]);
                let mgf = w::cons(0xa1, &[&w::seq(&[&w::oid(oid::MGF1), &sha256])]);
                let salt = w::cons(0xa2, &[&w::uint(32)]);
                w::seq(&[&w::oid(oid::RSASSA_PSS), &w::seq(&[&hash, &mgf, &salt])])
            }
            SigAlg::EcdsaSha256 => w::seq(&[&w::oid(oid::ECDSA_WITH_SHA256)]),
            SigAlg::EcdsaSha384 => w::seq(&[&w::oid(oid::ECDSA_WITH_SHA384)]),
        }
    }

    /// Digest of a message with this algorithm's hash.
    pub fn new_digest(self) -> crlbatch_crl::Digester {
        crlbatch_crl::Digester::new(match self {
            SigAlg::RsaSha384 | SigAlg::EcdsaSha384 => crlbatch_crl::HashAlg::Sha384,
            SigAlg::RsaSha512 => crlbatch_crl::HashAlg::Sha512,
            _ => crlbatch_crl::HashAlg::Sha256,
        })
    }

    /// Sign a whole message.
    pub fn sign(self, key: &Key, msg: &[u8], seed: u64) -> Result<Vec<u8>, GenError> {
        let mut d = self.new_digest();
        d.update(msg);
        key.sign_digest(self, &d.finish(), seed)
    }
}
