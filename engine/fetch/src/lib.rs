//! `crlbatch-fetch`: the fetch stage. Where a job's CRLs come from: local
//! paths and `file://` URLs (read in place, with change detection by
//! fingerprint), and `http://` / `https://` and `ldap://` / `ldaps://` URLs
//! fetched into a per-source store that keeps the last good CRL (see [`http`] and [`store`]).

mod error;
mod fingerprint;
pub mod http;
pub mod ldap;
mod outcome;
mod policy;
mod source;
pub mod store;

pub use error::FetchError;
pub use fingerprint::{sha256_file, stat, Fingerprint};
pub use http::{fetch_all, FetchRequest, Fetched, Verifier};
pub use ldap::{discover, normalize_dn, LdapTarget};
pub use outcome::{FetchRecord, Outcome, Refusal, Serving, Verified};
pub use policy::*;
pub use source::Source;
pub use store::{SourceStore, StoredMeta};
