//! The secret key of the snapshots and its identifier.
//!
//! Each field is kept as HMAC-SHA-256(key, oid ‖ 0x00 ‖ value) (absent:
//! oid ‖ 0x01): keyed, so the snapshot reveals nothing and a dictionary of
//! names, addresses or the ~40,000 possible birth dates cannot be tried
//! against it without the key; domain-separated per field, so equal values
//! in two fields give unrelated digests; over the exact UTF-8 bytes, so any
//! change is seen. The key comes from the environment (never a flag, so it
//! is not in `ps` or shell history), is at least 32 bytes, and is never
//! printed: a snapshot records only the key's identifier (the first 8 bytes
//! of HMAC(key, "crlbatch four key id v1")), so a diff with another key is
//! refused instead of reporting every field as changed.

use std::fmt;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::cert::{BasicFour, Field};

/// The environment variable the key is read from by default.
pub const DEFAULT_KEY_ENV: &str = "CRLBATCH_FOUR_KEY";
/// Shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// Longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Why a key was refused. Never carries the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("environment variable {0} is not set (the snapshot key: at least 32 bytes, hex, or base64 with a \"base64:\" prefix)")]
    NotSet(String),
    #[error("environment variable {0}: not hex (or base64 after a \"base64:\" prefix)")]
    Encoding(String),
    #[error("environment variable {var}: the key is {bytes} bytes; at least {MIN_KEY_BYTES} are needed")]
    TooShort { var: String, bytes: usize },
    #[error("environment variable {var}: the key is {bytes} bytes; at most {MAX_KEY_BYTES} are accepted")]
    TooLong { var: String, bytes: usize },
}

/// The HMAC key.
#[derive(Clone)]
pub struct FourKey {
    key: Vec<u8>,
    id: String,
}

impl fmt::Debug for FourKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FourKey").field("id", &self.id).finish_non_exhaustive()
    }
}

type HmacSha256 = Hmac<Sha256>;

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let val = |c: u8| (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    s.as_bytes().chunks(2).map(|p| Some(val(*p.first()?)? << 4 | val(*p.get(1)?)?)).collect()
}

impl FourKey {
    /// A key from its bytes (at least [`MIN_KEY_BYTES`]); `source` names it in errors.
    pub fn from_bytes(key: Vec<u8>, source: &str) -> Result<FourKey, KeyError> {
        if key.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort { var: source.to_owned(), bytes: key.len() });
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong { var: source.to_owned(), bytes: key.len() });
        }
        let mut k = FourKey { key, id: String::new() };
        let tag = k.mac(&[b"crlbatch four key id v1"]);
        k.id = crlbatch_crl::hex(tag.get(..8).unwrap_or_default());
        Ok(k)
    }

    /// A key from its text: hex, or base64 after a `base64:` prefix.
    pub fn parse(text: &str, source: &str) -> Result<FourKey, KeyError> {
        let t = text.trim();
        let bytes = match t.strip_prefix("base64:") {
            Some(b) => base64::engine::general_purpose::STANDARD.decode(b.trim()).ok(),
            None => decode_hex(t),
        };
        let bytes = bytes.ok_or_else(|| KeyError::Encoding(source.to_owned()))?;
        FourKey::from_bytes(bytes, source)
    }

    /// The key from the environment variable `var`.
    pub fn from_env(var: &str) -> Result<FourKey, KeyError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => FourKey::parse(&v, var),
            Ok(_) | Err(std::env::VarError::NotPresent) => Err(KeyError::NotSet(var.to_owned())),
            Err(std::env::VarError::NotUnicode(_)) => Err(KeyError::Encoding(var.to_owned())),
        }
    }

    /// The key identifier (16 hex digits), safe to store and print.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        // HMAC accepts keys of any length: this cannot fail.
        let Ok(mut m) = HmacSha256::new_from_slice(&self.key) else { return [0; 32] };
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The keyed digest of one field value (`None`: absent).
    pub fn field_digest(&self, field: Field, value: Option<&str>) -> [u8; 32] {
        match value {
            Some(v) => self.mac(&[field.oid().as_bytes(), &[0x00], v.as_bytes()]),
            None => self.mac(&[field.oid().as_bytes(), &[0x01]]),
        }
    }

    /// The digests of all six fields, in [`Field::ALL`] order.
    pub fn digests(&self, four: &BasicFour) -> FieldDigests {
        FieldDigests(Field::ALL.map(|f| self.field_digest(f, four.raw(f))))
    }
}

/// The six keyed digests of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDigests(pub [[u8; 32]; 6]);

impl FieldDigests {
    pub fn get(&self, f: Field) -> &[u8; 32] {
        // Field discriminants are 0..6, the array's indexes.
        self.0.get(f as usize).unwrap_or(&[0; 32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_forms_and_limits() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let a = FourKey::parse(hex, "K").unwrap();
        let b = FourKey::parse(
            &format!("base64:{}", base64::engine::general_purpose::STANDARD.encode(decode_hex(hex).unwrap())),
            "K",
        )
        .unwrap();
        assert_eq!(a.id(), b.id());
        assert_eq!(a.id().len(), 16);
        assert_eq!(FourKey::parse(&hex[..62], "K").unwrap_err(), KeyError::TooShort { var: "K".into(), bytes: 31 });
        assert_eq!(FourKey::parse("zz", "K").unwrap_err(), KeyError::Encoding("K".into()));
        assert_eq!(FourKey::parse("abc", "K").unwrap_err(), KeyError::Encoding("K".into()));
        let other = FourKey::parse(&hex.replace("ff", "fe"), "K").unwrap();
        assert_ne!(a.id(), other.id());
        // Debug shows the id, never the key.
        let dbg = format!("{a:?}");
        assert!(dbg.contains(a.id()) && !dbg.contains("00112233"), "{dbg}");
    }

    #[test]
    fn digests_are_keyed_domain_separated_and_exact() {
        let k = FourKey::parse(&"ab".repeat(32), "K").unwrap();
        let k2 = FourKey::parse(&"cd".repeat(32), "K").unwrap();
        let v = Some("山田　太郎");
        assert_eq!(k.field_digest(Field::Name, v), k.field_digest(Field::Name, v));
        assert_ne!(k.field_digest(Field::Name, v), k2.field_digest(Field::Name, v));
        assert_ne!(k.field_digest(Field::Name, v), k.field_digest(Field::Address, v));
        assert_ne!(k.field_digest(Field::NameFlags, None), k.field_digest(Field::NameFlags, Some("")));
        // 髙 (U+9AD9) and 高 (U+9AD8) are different names.
        assert_ne!(k.field_digest(Field::Name, Some("髙橋　一郎")), k.field_digest(Field::Name, Some("高橋　一郎")));
        // Full-width and half-width spaces differ too: nothing is normalised.
        assert_ne!(k.field_digest(Field::Name, Some("山田　太郎")), k.field_digest(Field::Name, Some("山田 太郎")));
        // RFC 4231 test case 2 checks the HMAC itself.
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        assert_eq!(
            crlbatch_crl::hex(&m.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
