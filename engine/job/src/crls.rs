//! Step 1 of a run: each CA's CRLs → its revocation index (reused, built,
//! fetched, or the last good one kept), and the run's exit class so far.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crlbatch_check::{Issuers, MissingPartition};
use crlbatch_crl::{FileDigest, ParseOptions, Timestamp};
use crlbatch_fetch::{FetchRecord, Fingerprint, Outcome, Source};
use crlbatch_index::{index_crls_with, FreshnessPolicy, RevocationIndex};

use crate::config::{Job, JobCa};
use crate::error::JobError;
use crate::manifest::{IndexSource, IssuerReport};
use crate::progress::Progress;
use crate::remote::{self, RemoteCa};
use crate::run::{EXIT_DATAERR, EXIT_OK, EXIT_TEMPFAIL, EXPECTED_UPDATE_INTERVAL_SECS};
use crate::state::{Built, State};

/// What step 1 produced.
#[derive(Debug)]
pub(crate) struct CrlStep {
    pub issuers: Issuers,
    pub reports: Vec<IssuerReport>,
    /// The worst exit class so far (0, 65 or 75).
    pub worst: u8,
}

/// Obtain every CA's index at evaluation time `at`.
pub(crate) fn obtain_all(job: &Job, state: &State, at: Timestamp, progress: &Progress) -> Result<CrlStep, JobError> {
    progress.cas_total.store(job.cas.len() as u64, Ordering::Relaxed);
    let parse_opts = ParseOptions { limits: job.limits, file_digest: FileDigest::Sha256 };
    let mut issuers = Issuers::new();
    let mut reports = Vec::new();
    let mut worst = EXIT_OK;
    // CAs are independent: obtain their indexes concurrently (hashing or
    // parsing one CRL does not wait for another). Remote CAs are fetched in
    // one pass on their own thread meanwhile.
    let remote_cas: Vec<usize> = job.cas.iter().enumerate().filter(|(_, c)| c.is_remote()).map(|(i, _)| i).collect();
    let (obtained_local_results, remote) = std::thread::scope(|s| {
        let remote = (!remote_cas.is_empty()).then(|| {
            s.spawn(|| remote::obtain_remote(&job.cas, &remote_cas, state.dir(), &job.fetch, at, job.limits, progress))
        });
        let handles: Vec<_> = job
            .cas
            .iter()
            .enumerate()
            .filter(|(i, _)| !remote_cas.contains(i))
            .map(|(i, ca)| {
                (
                    i,
                    s.spawn(|| {
                        let r = obtain_index(ca, state, at, &parse_opts);
                        // The lookup structures are built here, each CA on
                        // its own thread, rather than by the first worker
                        // to look a serial up (the others would wait).
                        if let Ok((Some(index), _, _)) = &r {
                            index.prepare();
                        }
                        progress.cas_done.fetch_add(1, Ordering::Relaxed);
                        r
                    }),
                )
            })
            .collect();
        let local: Vec<(usize, Result<Obtained, JobError>)> = handles
            .into_iter()
            .map(|(i, h)| {
                let r = h.join().unwrap_or_else(|_| {
                    Err(JobError::State { path: "ca".into(), message: "indexing thread panicked".into() })
                });
                (i, r)
            })
            .collect();
        let remote = remote.map(|h| h.join().unwrap_or_else(|_| Err(JobError::Fetch("fetch thread panicked".into()))));
        (local, remote)
    });
    let mut fetched: Vec<(usize, RemoteCa)> = match remote {
        Some(r) => r?,
        None => Vec::new(),
    };
    progress.cas_done.fetch_add(fetched.len() as u64, Ordering::Relaxed);
    let mut missing_parts: Vec<Vec<MissingPartition>> = vec![Vec::new(); job.cas.len()];
    let mut obtained: Vec<(Result<Obtained, JobError>, Vec<FetchRecord>)> = (0..job.cas.len())
        .map(|i| {
            if let Some(p) = fetched.iter().position(|(j, _)| *j == i) {
                let (_, r) = fetched.swap_remove(p);
                if let Some(m) = missing_parts.get_mut(i) {
                    *m = r.missing;
                }
                (Ok((r.index, r.source, r.detail)), r.fetch)
            } else {
                (Err(JobError::State { path: "ca".into(), message: "CA not processed".into() }), Vec::new())
            }
        })
        .collect();
    for (i, r) in obtained_local_results {
        if let Some(slot) = obtained.get_mut(i) {
            slot.0 = r;
        }
    }
    for ((ca, (got, fetch)), missing) in job.cas.iter().zip(obtained).zip(missing_parts) {
        let (index, source, mut detail) = got?;
        // Fetch outcomes: refused data is fixed at the source (65); network
        // faults and a CRL not yet re-issued are worth a retry later (75).
        for f in &fetch {
            // The CRL served is the same as before (304, or the same CRL
            // again): fine while it is recent; once a newer one is due (JPKI
            // publishes daily), the publisher is late: retry later.
            let due = f.this_update.is_some_and(|t| t.0.saturating_add(EXPECTED_UPDATE_INTERVAL_SECS) <= at.0);
            match f.outcome {
                Outcome::Rejected => worst = worst.max(EXIT_DATAERR),
                Outcome::Failed if worst == EXIT_OK => worst = EXIT_TEMPFAIL,
                Outcome::NotModified | Outcome::NotUpdatedYet if due && worst == EXIT_OK => worst = EXIT_TEMPFAIL,
                _ => {}
            }
        }
        let kid = ca.cert.kid_hex();
        let mut report = IssuerReport {
            name: ca.name.clone(),
            kid: kid.clone(),
            ca_cert: ca.cert_path.display().to_string(),
            ca_cert_sha256: crlbatch_crl::hex(&ca.cert.sha256),
            index: source,
            usable: false,
            detail: None,
            entries: 0,
            crls: Vec::new(),
            fetch,
        };
        if matches!(source, IndexSource::LastGood | IndexSource::Unusable) && report.fetch.is_empty() {
            worst = worst.max(EXIT_DATAERR);
        } else if source == IndexSource::Unusable && worst == EXIT_OK {
            // Every source answered but the set is not usable (e.g. two
            // sources serve the same partition): the data needs fixing.
            worst = EXIT_DATAERR;
        }
        match index {
            Some(index) => {
                let usable = match index.meta().usable_at(at) {
                    // The detail already names the partitions without a CRL.
                    Ok(()) if !missing.is_empty() => {
                        report.usable = false;
                        report.entries = index.len();
                        report.crls = index.meta().crls.clone();
                        issuers.add_index_with(Arc::new(index), at, missing);
                        report.detail = detail;
                        reports.push(report);
                        continue;
                    }
                    u => u,
                };
                if let Err(why) = &usable {
                    tracing::warn!(ca = ca.name.as_str(), kid = kid.as_str(), at = %at, why = why.as_str(), "CA not usable");
                    if worst == EXIT_OK {
                        worst = EXIT_TEMPFAIL;
                    }
                    detail = Some(match detail {
                        Some(d) => format!("{d}; {why}"),
                        None => why.clone(),
                    });
                }
                report.usable = usable.is_ok();
                report.entries = index.len();
                report.crls = index.meta().crls.clone();
                issuers.add_index_with(Arc::new(index), at, missing);
            }
            None => issuers.add_unusable(ca.cert.kid.clone(), detail.clone().unwrap_or_default()),
        }
        report.detail = detail;
        reports.push(report);
    }
    Ok(CrlStep { issuers, reports, worst })
}

/// A CA's index (if any), how it was obtained, and why it is degraded.
type Obtained = (Option<RevocationIndex>, IndexSource, Option<String>);

/// Obtain the index of one CA: reuse, build, or keep the last good one.
fn obtain_index(ca: &JobCa, state: &State, at: Timestamp, opts: &ParseOptions) -> Result<Obtained, JobError> {
    let kid = ca.cert.kid_hex();
    let ca_sha = crlbatch_crl::hex(&ca.cert.sha256);
    // What the stored index was built from (a small file); the index itself
    // is read only when it is reused or kept as the last good one.
    let built = state.built(&kid).filter(|b| b.ca_cert_sha256 == ca_sha);
    // Cheap fingerprints first; hash only when they match the stored ones.
    let mut prints: Vec<(String, Fingerprint)> = Vec::new();
    let mut io_problem: Option<String> = None;
    let paths: Vec<&Path> = ca.sources.iter().filter_map(Source::local_path).collect();
    for p in &paths {
        match crlbatch_fetch::stat(p) {
            Ok(f) => prints.push((p.display().to_string(), f)),
            Err(e) => io_problem = Some(e.to_string()),
        }
    }
    if let (Some(built), None) = (&built, &io_problem) {
        if let Some(current) = unchanged(built, &prints) {
            if let Some(index) = state.index(&kid) {
                if current != built.sources {
                    // Same bytes, new stat (copied, touched): remember the new
                    // stat so the next run need not hash again.
                    state.save_built(&kid, &Built { ca_cert_sha256: ca_sha.clone(), sources: current })?;
                }
                tracing::info!(ca = ca.name.as_str(), kid = kid.as_str(), "CRL unchanged, index reused");
                return Ok((Some(index), IndexSource::Reused, None));
            }
        }
    }
    let rejected = match io_problem {
        Some(p) => p,
        None => {
            let names: Vec<(String, &Path)> = paths.iter().map(|p| (p.display().to_string(), *p)).collect();
            match index_crls_with(&ca.cert, &names, at, opts, FreshnessPolicy::Defer) {
                Ok(mut index) => {
                    let sources = prints
                        .into_iter()
                        .zip(&index.meta().crls)
                        .map(|((p, mut f), meta)| {
                            f.sha256 = meta.sha256.clone();
                            (p, f)
                        })
                        .collect();
                    state.save(&kid, &index, &Built { ca_cert_sha256: ca_sha, sources })?;
                    index.compact();
                    tracing::info!(
                        ca = ca.name.as_str(),
                        kid = kid.as_str(),
                        entries = index.len(),
                        crls = names.len(),
                        "CRLs verified and indexed"
                    );
                    return Ok((Some(index), IndexSource::Built, None));
                }
                Err(r) => r.to_string(),
            }
        }
    };
    tracing::warn!(ca = ca.name.as_str(), kid = kid.as_str(), error = rejected.as_str(), "CRL rejected");
    match built.and_then(|_| state.index(&kid)) {
        Some(index) => Ok((
            Some(index),
            IndexSource::LastGood,
            Some(format!("current CRL rejected ({rejected}); last good CRL kept")),
        )),
        None => Ok((None, IndexSource::Unusable, Some(format!("CRL rejected: {rejected}")))),
    }
}

/// When the CRL files are the ones the stored index was built from (same
/// paths and sizes, and either an unchanged stat, ctime included, or the same
/// SHA-256), their fingerprints as of now; `None` when anything changed.
fn unchanged(built: &Built, prints: &[(String, Fingerprint)]) -> Option<Vec<(String, Fingerprint)>> {
    let same_shape = built.sources.len() == prints.len()
        && built.sources.iter().zip(prints).all(|((p1, f1), (p2, f2))| p1 == p2 && f1.size == f2.size);
    if !same_shape {
        return None;
    }
    let mut current = Vec::with_capacity(prints.len());
    for ((_, old), (path, now)) in built.sources.iter().zip(prints) {
        if old.same_stat(now) {
            current.push((path.clone(), old.clone()));
            continue;
        }
        let sha = crlbatch_fetch::sha256_file(Path::new(path)).ok();
        if sha.is_none() || sha != old.sha256 {
            return None;
        }
        current.push((path.clone(), Fingerprint { sha256: sha, ..now.clone() }));
    }
    Some(current)
}
