//! The issuers a job knows: key identifier → index (or the reason there is
//! none), judged once at the evaluation time.

use std::sync::Arc;

use crlbatch_crl::Timestamp;
use crlbatch_index::RevocationIndex;

/// What the job has for one issuer key.
#[derive(Debug, Clone)]
pub enum IssuerState {
    /// A verified index; `usable` is `Err(detail)` when a CRL of it is not
    /// fresh at the evaluation time.
    Ready { index: Arc<RevocationIndex>, usable: Result<(), String> },
    /// No usable index (CRL rejected, unreadable, ...): every certificate
    /// of this issuer is `unknown` with this detail.
    Unusable(String),
}

/// One configured issuer.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub kid: Vec<u8>,
    pub kid_hex: String,
    pub state: IssuerState,
}

/// The configured issuers.
#[derive(Debug, Clone, Default)]
pub struct Issuers {
    pub list: Vec<Issuer>,
}

/// Decode a key identifier as written in records: hex in either case, with
/// or without colons. `None` when it is not hex.
pub fn parse_kid(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|&b| b != b':').collect();
    if digits.is_empty() || !digits.len().is_multiple_of(2) || s.starts_with(':') || s.ends_with(':') {
        return None;
    }
    let val = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    digits.chunks(2).map(|p| Some(val(*p.first()?)? << 4 | val(*p.get(1)?)?)).collect()
}

impl Issuers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add an issuer with an index, judging freshness at `at`.
    pub fn add_index(&mut self, index: Arc<RevocationIndex>, at: Timestamp) {
        let kid_hex = index.meta().issuer_kid.clone();
        let kid = parse_kid(&kid_hex).unwrap_or_default();
        let usable = index.meta().usable_at(at);
        self.list.push(Issuer { kid, kid_hex, state: IssuerState::Ready { index, usable } });
    }

    /// Add an issuer with no usable index.
    pub fn add_unusable(&mut self, kid: Vec<u8>, detail: String) {
        let kid_hex = crlbatch_crl::hex(&kid);
        self.list.push(Issuer { kid, kid_hex, state: IssuerState::Unusable(detail) });
    }

    /// The slot of a key identifier.
    pub fn slot(&self, kid: &[u8]) -> Option<usize> {
        self.list.iter().position(|i| i.kid == kid)
    }

    pub fn get(&self, slot: usize) -> Option<&Issuer> {
        self.list.get(slot)
    }

    /// Per slot: the index when it is usable (fresh) at the evaluation time.
    pub fn usable_indexes(&self) -> Vec<Option<&RevocationIndex>> {
        self.list
            .iter()
            .map(|i| match &i.state {
                IssuerState::Ready { index, usable: Ok(()) } => Some(index.as_ref()),
                _ => None,
            })
            .collect()
    }
}
