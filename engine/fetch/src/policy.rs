//! How hard the fetcher tries, and how much it accepts.

use std::time::Duration;

/// Sources fetched at once (JPKI may publish ~1,700 partitions per CA).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 16;
/// Time to establish a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the next bytes of a response.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Total time for one source, all attempts and back-off included.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(600);
/// Attempts per source (the first one included).
pub const DEFAULT_ATTEMPTS: u32 = 4;
/// First back-off delay; doubled per attempt, with full jitter.
pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest back-off delay (and longest Retry-After honoured).
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Fetching policy (job file `[fetch]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    pub max_in_flight: usize,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub deadline: Duration,
    pub attempts: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// Largest body accepted (the job's `limits.max_crl_bytes`).
    pub max_body_bytes: u64,
    pub user_agent: String,
    /// Extra trust anchors for https sources (PEM), added to Mozilla's
    /// roots: for a publisher or mirror under a private PKI.
    pub extra_roots_pem: Option<Vec<u8>>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            deadline: DEFAULT_DEADLINE,
            attempts: DEFAULT_ATTEMPTS,
            backoff_base: DEFAULT_BACKOFF_BASE,
            backoff_max: DEFAULT_BACKOFF_MAX,
            max_body_bytes: 4 << 30,
            user_agent: format!("crlbatch/{}", env!("CARGO_PKG_VERSION")),
            extra_roots_pem: None,
        }
    }
}

impl FetchPolicy {
    /// Check a PEM bundle of trust anchors: at least one certificate.
    pub fn check_roots(pem: &[u8]) -> Result<usize, String> {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| e.to_string())?;
        if certs.is_empty() {
            return Err("no PEM certificate found".into());
        }
        Ok(certs.len())
    }

    /// The delay before attempt `next` (2, 3, ...): full jitter over an
    /// exponentially growing window, at least `retry_after` when the server
    /// asked for it, never over `backoff_max`.
    pub fn backoff(&self, next: u32, retry_after: Option<Duration>, unit_random: f64) -> Duration {
        let exp = self.backoff_base.saturating_mul(1u32 << next.saturating_sub(2).min(20));
        let window = exp.min(self.backoff_max);
        let jittered = window.mul_f64(unit_random.clamp(0.0, 1.0));
        match retry_after {
            Some(r) => r.min(self.backoff_max).max(jittered),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = FetchPolicy {
            backoff_base: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            ..Default::default()
        };
        assert_eq!(p.backoff(2, None, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(3, None, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(4, None, 0.5), Duration::from_millis(200));
        assert_eq!(p.backoff(30, None, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(2, None, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(2, Some(Duration::from_millis(700)), 0.1), Duration::from_millis(700));
        assert_eq!(p.backoff(2, Some(Duration::from_secs(3600)), 0.1), Duration::from_secs(1));
    }
}
