//! CAs whose CRLs come over HTTP(S) or LDAP.
//!
//! Every remote source of every such CA is fetched in one pass (bounded in
//! flight, see `crlbatch_fetch::http`). A received CRL is verified on its own
//! (parse, signature, issuer key, freshness, completeness) into its own index
//! before it replaces the stored one; the index is kept beside the CRL in the
//! source's store (`_state/sources/<key>/`). A source that fails keeps serving
//! its last good CRL and index; freshness is judged at use, so once that CRL
//! is stale the CA's certificates are `unknown`, never `good`. A CA with
//! several sources (partitions) is usable as a whole only when every
//! partition has a fresh CRL: their indexes are merged, and the partitions
//! without a CRL are handed on, so that a certificate whose record names
//! its distribution point is judged by its own partition alone.
//!
//! A CA with `[ca.ldap] discover = true` has its sources enumerated first
//! (the `CN=* CRLDP` entries under its base); the list found is kept in
//! `_state/sources/discovered-<kid>.json`, and used again when a later
//! discovery fails.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crlbatch_check::MissingPartition;
use crlbatch_crl::{CaCert, FileDigest, ParseOptions, Timestamp};
use crlbatch_fetch::{
    FetchPolicy, FetchRecord, FetchRequest, LdapTarget, Outcome, Refusal, Serving, Source, SourceStore, Verified,
};
use crlbatch_index::{index_crls_with, merge, FreshnessPolicy, IndexMeta, Rejection, RevocationIndex};

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
    /// Partitions without a CRL (the index holds the others).
    pub missing: Vec<MissingPartition>,
}

/// What a discovery found, kept for the next run.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Discovered {
    server: String,
    base: String,
    entries: Vec<String>,
    at: Timestamp,
}

/// The sources of a discovering CA: found now, or the last list found when
/// the discovery fails (with a fetch record saying so).
fn discover(
    ca: &JobCa,
    d: &crate::config::LdapDiscover,
    root: &Path,
    policy: &FetchPolicy,
) -> (Vec<Source>, Option<FetchRecord>) {
    let file = root.join(format!("discovered-{}.json", ca.cert.kid_hex()));
    let started = std::time::Instant::now();
    let what = format!("{}/{}??sub?(cn=*CRLDP)", d.server, d.base);
    let found = crlbatch_fetch::discover(&d.server, &d.base, policy).and_then(|v| {
        if v.is_empty() {
            Err(format!("no CRLDP entry under {:?}", d.base))
        } else {
            Ok(v)
        }
    });
    let previous = || -> Option<Vec<String>> {
        let p: Discovered = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
        (p.server == d.server && p.base == d.base).then_some(p.entries)
    };
    let (entries, record) = match found {
        Ok(entries) => {
            let keep = Discovered { server: d.server.clone(), base: d.base.clone(), entries, at: Timestamp::now() };
            if let Ok(json) = serde_json::to_vec_pretty(&keep) {
                let _ = crlbatch_write::atomic::write_file(&file, &json);
            }
            tracing::info!(
                ca = ca.name.as_str(),
                base = d.base.as_str(),
                entries = keep.entries.len(),
                "LDAP discovery"
            );
            (keep.entries, None)
        }
        Err(e) => {
            let last = previous();
            let record = FetchRecord {
                source: what,
                outcome: Outcome::Failed,
                transient: true,
                http_status: None,
                attempts: policy.attempts,
                bytes: None,
                seconds: started.elapsed().as_secs_f64(),
                etag: None,
                last_modified: None,
                serving: if last.is_some() { Serving::Stored } else { Serving::None },
                crl_number: None,
                this_update: None,
                next_update: None,
                sha256: None,
                error: Some(match &last {
                    Some(l) => format!("discovery failed: {e}; the {} entries found last time are read", l.len()),
                    None => format!("discovery failed: {e}"),
                }),
            };
            (last.unwrap_or_default(), Some(record))
        }
    };
    let sources = entries
        .iter()
        .filter_map(|dn| Source::parse(&LdapTarget::url(&d.server, dn, &d.attribute), root).ok())
        .collect();
    (sources, record)
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
) -> Result<RevocationIndex, Refusal> {
    // The body was hashed while it was written: no second file hash.
    let opts = ParseOptions { limits, file_digest: FileDigest::Skip };
    let mut index = index_crls_with(ca, &[(name.to_owned(), path)], at, &opts, freshness).map_err(|r| {
        // Issued after the evaluation time (clock skew, or an evaluation
        // time fixed earlier, as by a shard plan): retry later, not bad data.
        let retry_later =
            matches!(r, Rejection::NotFresh { freshness: crlbatch_crl::Freshness::NotYetValid { .. }, .. });
        Refusal { message: r.to_string(), retry_later }
    })?;
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
            tracing::warn!(source = url, error = e.message.as_str(), "stored CRL no longer verifies");
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
    std::fs::create_dir_all(&root)
        .map_err(|e| JobError::State { path: root.display().to_string(), message: e.to_string() })?;
    let mut requests = Vec::new();
    let mut discoveries: Vec<(usize, FetchRecord)> = Vec::new();
    for &i in cas {
        let Some(ca) = all.get(i) else { continue };
        let mut sources = ca.sources.clone();
        if let Some(d) = &ca.discover {
            let (found, record) = discover(ca, d, &root, policy);
            sources = found;
            if let Some(r) = record {
                log_fetch(&r);
                discoveries.push((i, r));
            }
        }
        for s in &sources {
            if let Source::Http(url) | Source::Ldap(url) = s {
                let store = SourceStore::open(&root, s).map_err(|e| JobError::Fetch(e.to_string()))?;
                requests.push(FetchRequest { tag: i, url: url.clone(), store });
            }
        }
    }
    let certs: Arc<Vec<CaCert>> = Arc::new(all.iter().map(|c| c.cert.clone()).collect());
    let verifier: crlbatch_fetch::Verifier<RevocationIndex> = Arc::new(move |tag, url, path, sha| {
        let ca = certs.get(tag).ok_or_else(|| Refusal::from("no CA for this source".to_owned()))?;
        let index = verify_file(ca, url, path, sha, at, limits, FreshnessPolicy::Require)?;
        let c = index.meta().crls.first().ok_or_else(|| Refusal::from("no CRL in the index".to_owned()))?;
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
        let discovery = discoveries.iter().find(|(t, _)| *t == i).map(|(_, r)| r.clone());
        per_ca.push((i, combine(ca, mine, discovery)));
    }
    Ok(per_ca)
}

/// One structured event per source (fields as in the manifest's `fetch`).
fn log_fetch(r: &FetchRecord) {
    let this_update = r.this_update.map(|t| t.to_string());
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
                serving = r.serving.name(),
                etag = r.etag.as_deref(),
                transient = r.error.as_ref().map(|_| r.transient),
                error = r.error.as_deref(),
                "fetch"
            )
        };
    }
    if r.error.is_some() {
        ev!(warn)
    } else {
        ev!(info)
    }
}

/// The distribution point a source without a CRL covers, when its URL
/// tells: an LDAP entry's DN is the name of the distribution point it
/// publishes (README: "CRL sources: LDAP").
fn known_point(source: &str) -> Option<String> {
    LdapTarget::parse(source).ok().map(|t| t.dn)
}

/// One CA from its sources' indexes and fetch records (and the record of a
/// failed discovery).
fn combine(
    ca: &JobCa,
    sources: Vec<(Option<RevocationIndex>, FetchRecord)>,
    discovery: Option<FetchRecord>,
) -> RemoteCa {
    let mut problems = Vec::new();
    if let Some(d) = &discovery {
        problems.push(format!("{} failed: {}", d.source, d.error.as_deref().unwrap_or("")));
    }
    let partitioned = sources.len() > 1;
    let mut missing = Vec::new();
    let mut updated = false;
    let mut indexes = Vec::new();
    // The source of each of `indexes`.
    let mut present: Vec<String> = Vec::new();
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
            Some(x) => {
                indexes.push(x);
                present.push(record.source.clone());
            }
            None => missing.push(record.source.clone()),
        }
        records.push(record);
    }
    let mut fetch = records.clone();
    fetch.extend(discovery);
    let unusable = |detail: String, fetch: Vec<FetchRecord>| RemoteCa {
        index: None,
        source: IndexSource::Unusable,
        detail: Some(detail),
        fetch,
        missing: Vec::new(),
    };
    if records.is_empty() {
        let why = problems.first().cloned().unwrap_or_else(|| "no CRL source".to_owned());
        return unusable(format!("no CRL source ({why})"), fetch);
    }
    let mut missing_detail = None;
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
            let listed: Vec<&str> = problems.iter().take(MAX_LISTED).map(String::as_str).collect();
            detail.push_str(&format!(" ({})", listed.join("; ")));
        }
        if indexes.is_empty() || !partitioned {
            return unusable(detail, fetch);
        }
        // Some partitions have a CRL: their certificates can still be
        // judged, one partition at a time (the others stay `unknown`).
        missing_detail = Some(detail);
    }
    if partitioned {
        // Several sources are partitions: each CRL must carry an
        // issuingDistributionPoint, all different (as for local files). A
        // partition served at another's URL would otherwise hide the
        // revocations of the partition it replaced.
        let mut seen = std::collections::HashSet::new();
        for (x, r) in indexes.iter().zip(&present) {
            let idp = x.meta().crls.first().and_then(|c| c.idp.as_ref()).map(|i| i.der.clone());
            let why = match idp {
                None => Some("has no issuingDistributionPoint (only partitions can be combined)"),
                Some(d) => (!seen.insert(d)).then_some("has the same distribution point as another source"),
            };
            if let Some(why) = why {
                let detail = format!("{r}: the CRL it serves {why}; CA not usable");
                return unusable(detail, fetch);
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
        x.prepare();
    }
    let (source, detail) = if let Some(d) = missing_detail {
        (if updated { IndexSource::Built } else { IndexSource::LastGood }, Some(d))
    } else if !problems.is_empty() {
        let listed: Vec<&str> = problems.iter().take(MAX_LISTED).map(String::as_str).collect();
        let more = if problems.len() > MAX_LISTED {
            format!(" and {} more", problems.len() - MAX_LISTED)
        } else {
            String::new()
        };
        (IndexSource::LastGood, Some(format!("{}{more}; last good CRL kept", listed.join("; "))))
    } else if updated {
        (IndexSource::Built, None)
    } else {
        (IndexSource::Reused, None)
    };
    let missing = missing
        .into_iter()
        .map(|source| MissingPartition { distribution_point: known_point(&source), source })
        .collect();
    RemoteCa { index, source, detail, fetch, missing }
}
