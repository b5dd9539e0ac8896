//! Integration tests of crlbatch-schedule (one test binary, one module per area).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

mod catchup;
mod lock;
mod runner;
mod schedule;

use chrono::{DateTime, Utc};

/// An RFC 3339 UTC time.
pub fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// RFC 3339 UTC times.
pub fn ts(texts: &[&str]) -> Vec<DateTime<Utc>> {
    texts.iter().map(|text| t(text)).collect()
}
