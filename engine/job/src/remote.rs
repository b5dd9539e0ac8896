//! CAs whose CRLs come over HTTP(S).
//!
//! Every remote source of every such CA is fetched in one pass (bounded in
//! flight, see `crlbatch_fetch::http`). A received CRL is verified on its own
//! (parse, signature, issuer key, freshness, completeness) into its own index
//! before it replaces the stored one; the index is kept beside the CRL in the
//! source's store (`_state/sources/<key>/`). A source that fails keeps serving
//! its last good CRL and index; freshness is judged at use, so once that CRL
//! is stale the CA's certificates are `unknown`, never `good`. A CA with
//! several sources (partitions) is usable only when every partition has a
//! CRL: their indexes are merged.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crlbatch_crl::{CaCert, FileDigest, ParseOptions, Timestamp};
use crlbatch_fetch::{FetchPolicy, FetchRecord, FetchRequest, Outcome, Serving, Source, SourceStore, Verified};
use crlbatch_index::{index_crls_with, merge, FreshnessPolicy, IndexMeta, RevocationIndex};

use crate::config::JobCa;
use crate::error::JobError;
use crate::manifest::IndexSource;
use crate::progress::Progress;

/// Sources named in one `detail` (a CA may have ~1,700).
const MAX_LISTED: usize = 5;

/// What one remote CA got: its index (if every source has a CRL), how, why
/// it is degraded, and the fetch record of each source.
#[derive(Debug)]
pub struct RemoteCa {
    pub index: Option<RevocationIndex>,
    pub source: IndexSource,
    pub detail: Option<String>,
    pub fetch: Vec<FetchRecord>,
}

/// Verify one CRL file of `ca` into an index; `sha256` is the file's.
fn verify_file(
    ca: &CaCert,
    name: &str,
    path: &Path,
    sha256: &str,
    at: Timestamp,
    limits: crlbatch_crl::Limits,
    freshness: FreshnessPolicy,
) -> Result<RevocationIndex, String> {
    // The body was hashed while it was written: no second file hash.
    let opts = ParseOptions { limits, file_digest: FileDigest::Skip };
    let mut index = index_crls_with(ca, &[(name.to_owned(), path)], at, &opts, freshness).map_err(|r| r.to_string())?;
    for c in &mut index.meta_mut().crls {
        c.sha256 = Some(sha256.to_owned());
    }
    Ok(index)
}

/// The stored index of a source, checked against the stored CRL; rebuilt
/// from the stored CRL when missing, corrupt or not of that CRL.
fn stored_index(
    store: &SourceStore,
    ca: &CaCert,
    url: &str,
    at: Timestamp,
    limits: crlbatch_crl::Limits,
) -> Option<RevocationIndex> {
    let meta = store.meta()?;
    let ca_sha = crlbatch_crl::hex(&ca.sha256);
    if let Ok(index) = RevocationIndex::load(&store.index_path()) {
        let same_crl = index.meta().crls.len() == 1
            && index.meta().crls.first().and_then(|c| c.sha256.as_deref()) == Some(meta.sha256.as_str());
        if same_crl && index.meta().ca_cert_sha256 == ca_sha {
            return Some(index);
        }
    }
    let crl = store.crl_path(&meta);
    if crlbatch_fetch::sha256_file(&crl).ok().as_deref() != Some(meta.sha256.as_str()) {
        // Damaged on disk: forget it, so that the next fetch is unconditional.
        tracing::warn!(source = url, "stored CRL does not match its description; forgotten");
        store.forget();
        return None;
    }
    // Accepted earlier: freshness is judged at use, not here.
    match verify_file(ca, url, &crl, &meta.sha256, at, limits, FreshnessPolicy::Defer) {
        Ok(index) => {
            if let Err(e) = index.save(&store.index_path()) {
                tracing::warn!(source = url, error = %e, "cannot store the index of a source");
            }
            Some(index)
        }
        Err(e) => {
            tracing::warn!(source = url, error = %e, "stored CRL no longer verifies");
            None
        }
    }
}

/// Fetch the sources of the remote CAs `cas` (indexes into `all`).
pub fn obtain_remote(
    all: &[JobCa],
    cas: &[usize],
    state_dir: &Path,
    policy: &FetchPolicy,
    at: Timestamp,
    limits: crlbatch_crl::Limits,
    progress: &Progress,
) -> Result<Vec<(usize, RemoteCa)>, JobError> {
    let root = state_dir.join("sources");
    let mut requests = Vec::new();
    for &i in cas {
        let Some(ca) = all.get(i) else { continue };
        for s in &ca.sources {
            if let Source::Http(url) = s {
                let store = SourceStore::open(&root, s).map_err(|e| JobError::Fetch(e.to_string()))?;
                requests.push(FetchRequest { tag: i, url: url.clone(), store });
            }
        }
    }
    let certs: Arc<Vec<CaCert>> = Arc::new(all.iter().map(|c| c.cert.clone()).collect());
    let verifier: crlbatch_fetch::Verifier<RevocationIndex> = Arc::new(move |tag, url, path, sha| {
        let ca = certs.get(tag).ok_or_else(|| "no CA for this source".to_owned())?;
        let index = verify_file(ca, url, path, sha, at, limits, FreshnessPolicy::Require)?;
        let c = index.meta().crls.first().ok_or_else(|| "no CRL in the index".to_owned())?;
        Ok(Verified {
            crl_number: c.crl_number.clone(),
            this_update: c.this_update,
            next_update: c.next_update,
            payload: index,
        })
    });
    let stores: Vec<SourceStore> = requests.iter().map(|r| r.store.clone()).collect();
    progress.sources_total.store(requests.len() as u64, Ordering::Relaxed);
    let done = &progress.sources_done;
    let fetched = crlbatch_fetch::fetch_all(requests, policy, verifier, &|| {
        done.fetch_add(1, Ordering::Relaxed);
    })
    .map_err(|e| JobError::Fetch(e.to_string()))?;

    let mut per_ca: Vec<(usize, RemoteCa)> = Vec::new();
    let mut parts: Vec<(usize, Option<RevocationIndex>, FetchRecord)> = Vec::new();
    for (f, store) in fetched.into_iter().zip(&stores) {
        log_fetch(&f.record);
        let Some(ca) = all.get(f.tag) else { continue };
        let index = match f.fresh {
            Some(index) => {
                if let Err(e) = index.save(&store.index_path()) {
                    tracing::warn!(source = f.record.source, error = %e, "cannot store the index of a source");
                }
                Some(index)
            }
            None if f.record.serving == Serving::None => None,
            None => stored_index(store, &ca.cert, &f.record.source, at, limits),
        };
        parts.push((f.tag, index, f.record));
    }
    for &i in cas {
        let Some(ca) = all.get(i) else { continue };
        let mine: Vec<(Option<RevocationIndex>, FetchRecord)> =
            parts.iter_mut().filter(|(t, _, _)| *t == i).map(|(_, x, r)| (x.take(), r.clone())).collect();
        per_ca.push((i, combine(ca, mine)));
    }
    Ok(per_ca)
}

/// One structured event per source (fields as in the manifest's `fetch`).
fn log_fetch(r: &FetchRecord) {
    let serving = serde_json::to_value(r.serving).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let this_update = r.this_update.map(|t| t.to_string());
    let fields = |level: tracing::Level| {
        // One macro per level: tracing needs the level at compile time.
        macro_rules! ev {
            ($lvl:ident) => {
                tracing::$lvl!(
                    source = r.source.as_str(),
                    outcome = r.outcome.name(),
                    attempts = r.attempts,
                    seconds = r.seconds,
                    status = r.http_status,
                    bytes = r.bytes,
                    crl_number = r.crl_number.as_deref(),
                    this_update = this_update.as_deref(),
                    serving = serving.as_str(),
                    etag = r.etag.as_deref(),
                    transient = r.error.as_ref().map(|_| r.transient),
                    error = r.error.as_deref(),
                    "fetch"
                )
            };
        }
        if level == tracing::Level::WARN {
            ev!(warn)
        } else {
            ev!(info)
        }
    };
    fields(if r.error.is_some() { tracing::Level::WARN } else { tracing::Level::INFO });
}

/// One CA from its sources' indexes and fetch records.
fn combine(ca: &JobCa, sources: Vec<(Option<RevocationIndex>, FetchRecord)>) -> RemoteCa {
    let mut problems = Vec::new();
    let mut missing = Vec::new();
    let mut updated = false;
    let mut indexes = Vec::new();
    let mut records = Vec::new();
    for (index, record) in sources {
        match record.outcome {
            Outcome::Updated => updated = true,
            Outcome::Failed | Outcome::Rejected => problems.push(format!(
                "{} {}: {}",
                record.source,
                record.outcome.name(),
                record.error.as_deref().unwrap_or("")
            )),
            Outcome::NotModified | Outcome::NotUpdatedYet => {}
        }
        match index {
            Some(x) => indexes.push(x),
            None => missing.push(record.source.clone()),
        }
        records.push(record);
    }
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(MAX_LISTED).map(String::as_str).collect();
        let more = if missing.len() > MAX_LISTED {
            format!(" and {} more", missing.len() - MAX_LISTED)
        } else {
            String::new()
        };
        let mut detail =
            format!("no CRL for {} of {} source(s): {}{more}", missing.len(), records.len(), shown.join(", "));
        if !problems.is_empty() {
            detail.push_str(&format!(" ({})", problems.join("; ")));
        }
        return RemoteCa { index: None, source: IndexSource::Unusable, detail: Some(detail), fetch: records };
    }
    if indexes.len() > 1 {
        // Several sources are partitions: each CRL must carry an
        // issuingDistributionPoint, all different (as for local files). A
        // partition served at another's URL would otherwise hide the
        // revocations of the partition it replaced.
        let mut seen = std::collections::HashSet::new();
        for (x, r) in indexes.iter().zip(&records) {
            let idp = x.meta().crls.first().and_then(|c| c.idp.as_ref()).map(|i| i.der.clone());
            let why = match idp {
                None => Some("has no issuingDistributionPoint (only partitions can be combined)"),
                Some(d) => (!seen.insert(d)).then_some("has the same distribution point as another source"),
            };
            if let Some(why) = why {
                let detail = format!("{}: the CRL it serves {why}; CA not usable", r.source);
                return RemoteCa { index: None, source: IndexSource::Unusable, detail: Some(detail), fetch: records };
            }
        }
    }
    let mut index = if indexes.len() == 1 {
        indexes.pop()
    } else {
        let metas = indexes.iter().flat_map(|x| x.meta().crls.clone()).collect();
        let refs: Vec<&RevocationIndex> = indexes.iter().collect();
        Some(merge(IndexMeta::new(&ca.cert, metas, Timestamp::now()), &refs))
    };
    if let Some(x) = index.as_mut() {
        x.compact();
    }
    let (source, detail) = if !problems.is_empty() {
        (IndexSource::LastGood, Some(format!("{}; last good CRL kept", problems.join("; "))))
    } else if updated {
        (IndexSource::Built, None)
    } else {
        (IndexSource::Reused, None)
    };
    RemoteCa { index, source, detail, fetch: records }
}
