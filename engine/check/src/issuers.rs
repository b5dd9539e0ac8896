//! The issuers a job knows: key identifier → index (or the reason there is
//! none), judged once at the evaluation time.

use std::collections::HashMap;
use std::sync::Arc;

use crlbatch_crl::Timestamp;
use crlbatch_index::RevocationIndex;

use crate::partition::{key_from_idp_name, key_from_record};

/// What the job has for one issuer key.
#[derive(Debug, Clone)]
pub enum IssuerState {
    /// A verified index; `usable` is `Err(detail)` when a CRL of it is not
    /// fresh at the evaluation time (or a partition has no CRL).
    /// `partitions`: when its CRLs are partitions, which distribution point
    /// each covers and whether it is fresh (for records that name their
    /// certificate's distribution point).
    Ready { index: Arc<RevocationIndex>, usable: Result<(), String>, partitions: Option<Arc<Partitions>> },
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
        self.add_index_with(index, at, Vec::new());
    }

    /// Add an issuer with an index of some of its partitions: `missing`
    /// lists the partitions that have no CRL (see [`MissingPartition`]).
    /// Its certificates are judged per partition when records name their
    /// distribution point; otherwise only when every partition is fresh.
    pub fn add_index_with(&mut self, index: Arc<RevocationIndex>, at: Timestamp, missing: Vec<MissingPartition>) {
        let kid_hex = index.meta().issuer_kid.clone();
        let kid = parse_kid(&kid_hex).unwrap_or_default();
        let mut usable = index.meta().usable_at(at);
        if usable.is_ok() && !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(5).map(|m| m.source.as_str()).collect();
            let more = if missing.len() > 5 { format!(" and {} more", missing.len() - 5) } else { String::new() };
            usable = Err(format!("no CRL for {} partition(s): {}{more}", missing.len(), shown.join(", ")));
        }
        let partitions = Partitions::new(&index, at, missing).map(Arc::new);
        self.list.push(Issuer { kid, kid_hex, state: IssuerState::Ready { index, usable, partitions } });
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
                IssuerState::Ready { index, usable: Ok(()), .. } => Some(index.as_ref()),
                _ => None,
            })
            .collect()
    }

    /// Per slot: the index, fresh or not (for certificates whose own
    /// partition is fresh).
    pub fn ready_indexes(&self) -> Vec<Option<&RevocationIndex>> {
        self.list
            .iter()
            .map(|i| match &i.state {
                IssuerState::Ready { index, .. } => Some(index.as_ref()),
                IssuerState::Unusable(_) => None,
            })
            .collect()
    }

    /// Per slot: the partition table, when the issuer's CRLs are partitions.
    pub fn partition_tables(&self) -> Vec<Option<&Partitions>> {
        self.list
            .iter()
            .map(|i| match &i.state {
                IssuerState::Ready { partitions: Some(p), .. } => Some(p.as_ref()),
                _ => None,
            })
            .collect()
    }
}

/// A partition of an issuer that has no CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingPartition {
    /// Where it should have come from (URL), for the `unknown` detail.
    pub source: String,
    /// The distribution point it covers, when known without its CRL (an
    /// LDAP source: the entry's DN is the distribution point's name), in
    /// the form of the records column (see [`crate::partition`]).
    pub distribution_point: Option<String>,
}

/// One partition of an issuer.
#[derive(Debug, Clone)]
pub struct Partition {
    /// Its distribution point, as the CRL (or source) names it.
    pub name: String,
    /// `Ok` when its CRL is fresh at the evaluation time; else why not.
    pub state: Result<(), String>,
}

/// The partitions of one issuer: which distribution point each covers.
#[derive(Debug, Clone, Default)]
pub struct Partitions {
    pub list: Vec<Partition>,
    by_key: HashMap<String, u32>,
    /// Partitions with no CRL whose distribution point is not known: a
    /// certificate matching no known partition may be theirs.
    pub unnamed_missing: Vec<String>,
}

impl Partitions {
    /// The table of an index's CRLs (those with an issuingDistributionPoint)
    /// and its missing partitions; `None` when none is a partition.
    fn new(index: &RevocationIndex, at: Timestamp, missing: Vec<MissingPartition>) -> Option<Partitions> {
        let mut t = Partitions::default();
        for c in &index.meta().crls {
            let Some(idp) = &c.idp else { continue };
            let state = c.freshness(at).detail().map_or(Ok(()), Err);
            for name in &idp.distribution_point {
                t.insert(key_from_idp_name(name), name.clone(), state.clone());
            }
        }
        for m in missing {
            match m.distribution_point {
                Some(dp) => t.insert(key_from_record(&dp), dp, Err(format!("no CRL from {}", m.source))),
                None => t.unnamed_missing.push(m.source),
            }
        }
        (!t.list.is_empty() || !t.unnamed_missing.is_empty()).then_some(t)
    }

    fn insert(&mut self, key: String, name: String, state: Result<(), String>) {
        let n = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.by_key.entry(key).or_insert(n);
        self.list.push(Partition { name, state });
    }

    /// The partition covering a distribution point given in a record.
    pub fn find(&self, record_dp: &str) -> Option<u32> {
        self.by_key.get(&key_from_record(record_dp)).copied()
    }

    pub fn get(&self, p: u32) -> Option<&Partition> {
        self.list.get(p as usize)
    }
}
