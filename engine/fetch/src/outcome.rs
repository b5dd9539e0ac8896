//! What happened to each source in a run: recorded in the run manifest and
//! logged as one structured event per source.

use serde::{Deserialize, Serialize};

use crlbatch_crl::Timestamp;

/// The outcome of fetching one source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new CRL was received, verified and stored.
    Updated,
    /// The server answered 304: the stored CRL is current.
    NotModified,
    /// A CRL was received but it is the one already stored (same thisUpdate
    /// and cRLNumber): the publisher has not issued the next one yet.
    NotUpdatedYet,
    /// Nothing usable was received (network, timeout, HTTP error), after
    /// the retries the policy allows.
    Failed,
    /// A body was received and refused: not a CRL, bad signature, another
    /// CA, stale, delta, older than the stored one (rollback), too large.
    Rejected,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Updated => "updated",
            Outcome::NotModified => "not_modified",
            Outcome::NotUpdatedYet => "not_updated_yet",
            Outcome::Failed => "failed",
            Outcome::Rejected => "rejected",
        }
    }
}

/// Which CRL a source serves after the fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Serving {
    /// The CRL just received.
    New,
    /// The CRL stored by an earlier run (its freshness is judged at use).
    Stored,
    /// None: the source has never delivered a good CRL.
    None,
}

impl Serving {
    /// Its name in the manifest and the logs.
    pub fn name(self) -> &'static str {
        match self {
            Serving::New => "new",
            Serving::Stored => "stored",
            Serving::None => "none",
        }
    }
}

/// One source's fetch, as recorded in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchRecord {
    pub source: String,
    pub outcome: Outcome,
    /// Whether a later retry may succeed (network faults, 5xx, 429).
    pub transient: bool,
    pub http_status: Option<u16>,
    pub attempts: u32,
    /// Body bytes received (last attempt).
    pub bytes: Option<u64>,
    pub seconds: f64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub serving: Serving,
    /// The CRL now served for this source.
    pub crl_number: Option<String>,
    pub this_update: Option<Timestamp>,
    pub next_update: Option<Timestamp>,
    pub sha256: Option<String>,
    /// Why it failed or was refused (one line).
    pub error: Option<String>,
}

/// Why the caller's verification refused a received CRL. `retry_later`: a
/// CRL that may be fine later (issued after the evaluation time: clock
/// skew, or an evaluation time fixed earlier) — a failed fetch worth a
/// retry, not refused data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub retry_later: bool,
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Refusal { message, retry_later: false }
    }
}

/// What the caller's verification found in a received CRL.
#[derive(Debug)]
pub struct Verified<T> {
    pub crl_number: Option<String>,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    /// The caller's product of verification (for example its index).
    pub payload: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_manifest_names() {
        for o in [Outcome::Updated, Outcome::NotModified, Outcome::NotUpdatedYet, Outcome::Failed, Outcome::Rejected] {
            assert_eq!(serde_json::to_value(o).ok(), Some(serde_json::Value::from(o.name())));
        }
        for v in [Serving::New, Serving::Stored, Serving::None] {
            assert_eq!(serde_json::to_value(v).ok(), Some(serde_json::Value::from(v.name())));
        }
    }
}
