//! Fetching remote sources over HTTP(S) (and LDAP, see [`crate::ldap`],
//! through the same attempts, verification and store): concurrent with a bound on sources
//! in flight, conditional GET, timeouts, a deadline per source, retries with
//! exponential back-off and jitter on transient faults only, a body size
//! limit, the body streamed to a temporary file while hashed (on a blocking
//! thread, off the async workers), synced, verified by the caller (also off
//! the async workers), checked against rollback, and only then renamed into
//! the store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sha2::Digest;

use crate::outcome::{FetchRecord, Outcome, Refusal, Serving, Verified};
use crate::store::{compare_crl_numbers, SourceStore, StoredMeta};
use crate::{FetchError, FetchPolicy};
use crlbatch_crl::Timestamp;

/// The caller's verification of a received CRL: `(tag, url, file, sha256
/// hex)` to what it found, or a one-line reason for refusing it. Runs on a
/// blocking thread.
pub type Verifier<T> = Arc<dyn Fn(usize, &str, &Path, &str) -> Result<Verified<T>, Refusal> + Send + Sync>;

/// Redirects followed per request.
const MAX_REDIRECTS: usize = 5;
/// Body pieces queued between the network and the file writer.
const WRITE_QUEUE: usize = 16;

/// One source to fetch. `tag` is the caller's (for example the CA).
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub tag: usize,
    pub url: String,
    pub store: SourceStore,
}

/// The result for one request.
#[derive(Debug)]
pub struct Fetched<T> {
    pub tag: usize,
    pub record: FetchRecord,
    /// The verification product of a CRL accepted in this run.
    pub fresh: Option<T>,
}

/// Fetch every request (results in request order); `on_done` is called as
/// each source finishes (for progress display).
pub fn fetch_all<T: Send + 'static>(
    requests: Vec<FetchRequest>,
    policy: &FetchPolicy,
    verify: Verifier<T>,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<Fetched<T>>, FetchError> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // One body writer per source in flight, plus verifications.
        .max_blocking_threads(policy.max_in_flight.max(1) + cores + 4)
        .enable_all()
        .thread_name("crl-fetch")
        .build()
        .map_err(|e| FetchError::Client(e.to_string()))?;
    rt.block_on(async {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .read_timeout(policy.read_timeout)
            .user_agent(policy.user_agent.clone())
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS));
        if let Some(pem) = &policy.extra_roots_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| FetchError::Client(one_line(&e)))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(|e| FetchError::Client(one_line(&e)))?;
        // Verification parses whole CRLs: no more at once than cores.
        let slots = Arc::new(tokio::sync::Semaphore::new(cores));
        // Unordered: a slow source must not hold back the others (ordered
        // buffering counts finished fetches waiting behind it as in flight).
        let mut out = futures_util::stream::iter(requests.into_iter().enumerate())
            .map(|(i, r)| {
                let fut = fetch_one(&client, r, policy, verify.clone(), slots.clone());
                async move {
                    let r = fut.await;
                    on_done();
                    (i, r)
                }
            })
            .buffer_unordered(policy.max_in_flight.max(1))
            .collect::<Vec<_>>()
            .await;
        out.sort_by_key(|(i, _)| *i);
        Ok(out.into_iter().map(|(_, f)| f).collect())
    })
}

/// Why one attempt failed.
#[derive(Debug)]
pub(crate) struct AttemptError {
    pub(crate) message: String,
    status: Option<u16>,
    /// Worth another attempt.
    pub(crate) transient: bool,
    /// The body was received and refused (not a network failure).
    rejected: bool,
    retry_after: Option<Duration>,
    bytes: Option<u64>,
}

impl AttemptError {
    pub(crate) fn transient(message: String, status: Option<u16>) -> Self {
        Self { message, status, transient: true, rejected: false, retry_after: None, bytes: None }
    }
    pub(crate) fn permanent(message: String, status: Option<u16>) -> Self {
        Self { message, status, transient: false, rejected: false, retry_after: None, bytes: None }
    }
    pub(crate) fn rejected(message: String, status: Option<u16>, bytes: Option<u64>) -> Self {
        Self { message, status, transient: false, rejected: true, retry_after: None, bytes }
    }
}

/// What one successful attempt produced.
#[derive(Debug)]
pub(crate) enum Download {
    NotModified {
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// A body (HTTP, `status` 200) or an attribute value (LDAP, no status).
    Body {
        temp: PathBuf,
        sha256: String,
        bytes: u64,
        etag: Option<String>,
        last_modified: Option<String>,
        status: Option<u16>,
    },
}

/// An error and its causes on one line.
pub(crate) fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s.replace('\n', " ")
}

fn classify(e: &reqwest::Error, status: Option<u16>) -> AttemptError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "body not received in full"
    } else if e.is_redirect() {
        return AttemptError::permanent(format!("redirects: {}", one_line(e)), status);
    } else {
        "request failed"
    };
    AttemptError::transient(format!("{what}: {}", one_line(e)), status)
}

fn header(resp: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Retry-After: delay-seconds or an HTTP-date.
fn retry_after(resp: &reqwest::Response) -> Option<Duration> {
    let v = header(resp, reqwest::header::RETRY_AFTER)?;
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(std::time::SystemTime::now()).unwrap_or(Duration::ZERO))
}

/// A piece of the body for the writer thread.
enum Piece {
    Data(bytes::Bytes),
    /// The body ended normally.
    End,
}

/// Write and hash the body on a blocking thread; the temporary file is
/// removed unless the body ended normally and was synced.
fn spawn_writer(
    temp: PathBuf,
    mut rx: tokio::sync::mpsc::Receiver<Piece>,
) -> tokio::task::JoinHandle<Result<(PathBuf, String, u64), String>> {
    tokio::task::spawn_blocking(move || {
        let run = |rx: &mut tokio::sync::mpsc::Receiver<Piece>| -> Result<(String, u64), String> {
            let mut f = std::fs::File::create_new(&temp).map_err(|e| format!("{}: {e}", temp.display()))?;
            let mut h = sha2::Sha256::new();
            let mut n = 0u64;
            loop {
                match rx.blocking_recv() {
                    Some(Piece::Data(b)) => {
                        f.write_all(&b).map_err(|e| format!("{}: {e}", temp.display()))?;
                        h.update(&b);
                        n += b.len() as u64;
                    }
                    Some(Piece::End) => break,
                    None => return Err("body abandoned".into()),
                }
            }
            f.sync_all().map_err(|e| format!("{}: {e}", temp.display()))?;
            Ok((h.finalize().iter().map(|b| format!("{b:02x}")).collect(), n))
        };
        match run(&mut rx) {
            Ok((sha, n)) => Ok((temp, sha, n)),
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    })
}

/// One attempt: a (conditional) GET, the body streamed to a temporary file.
async fn download(
    client: &reqwest::Client,
    req: &FetchRequest,
    stored: Option<&StoredMeta>,
    policy: &FetchPolicy,
) -> Result<Download, AttemptError> {
    let mut rq = client.get(&req.url);
    if let Some(m) = stored {
        if let Some(e) = &m.etag {
            rq = rq.header(reqwest::header::IF_NONE_MATCH, e);
        }
        if let Some(l) = &m.last_modified {
            rq = rq.header(reqwest::header::IF_MODIFIED_SINCE, l);
        }
    }
    let mut resp = rq.send().await.map_err(|e| classify(&e, None))?;
    let status = resp.status();
    let code = Some(status.as_u16());
    let etag = header(&resp, reqwest::header::ETAG);
    let last_modified = header(&resp, reqwest::header::LAST_MODIFIED);
    if status == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Download::NotModified { etag, last_modified });
    }
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let mut e = AttemptError::transient(format!("HTTP {status}"), code);
        e.retry_after = retry_after(&resp);
        return Err(e);
    }
    if status != reqwest::StatusCode::OK {
        return Err(AttemptError::permanent(format!("HTTP {status}"), code));
    }
    let max = policy.max_body_bytes;
    if let Some(n) = resp.content_length() {
        if n > max {
            return Err(AttemptError::rejected(
                format!("response declares {n} bytes, over the limit of {max} (limits.max_crl_bytes)"),
                code,
                Some(0),
            ));
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(WRITE_QUEUE);
    let writer = spawn_writer(req.store.temp_path(), rx);
    let mut received = 0u64;
    let failure = loop {
        match resp.chunk().await {
            Ok(Some(b)) => {
                received += b.len() as u64;
                if received > max {
                    break Some(AttemptError::rejected(
                        format!("body exceeds the limit of {max} bytes (limits.max_crl_bytes)"),
                        code,
                        Some(received),
                    ));
                }
                if tx.send(Piece::Data(b)).await.is_err() {
                    break Some(AttemptError::permanent("cannot write the body to the store".into(), code));
                }
            }
            Ok(None) => break None,
            Err(e) => {
                let mut a = classify(&e, code);
                a.bytes = Some(received);
                break Some(a);
            }
        }
    };
    if failure.is_none() {
        let _ = tx.send(Piece::End).await;
    }
    drop(tx);
    let written = writer.await.map_err(|e| AttemptError::permanent(format!("body writer failed: {e}"), code))?;
    if let Some(f) = failure {
        return Err(f);
    }
    let (temp, sha256, bytes) =
        written.map_err(|e| AttemptError::permanent(format!("cannot store the body: {e}"), code))?;
    Ok(Download::Body { temp, sha256, bytes, etag, last_modified, status: Some(200) })
}

/// One attempt at any source: HTTP(S), or LDAP on its own task (a panic
/// inside the LDAP client on a malformed answer becomes a failed attempt).
async fn attempt(
    client: &reqwest::Client,
    req: &FetchRequest,
    ldap: Option<&crate::ldap::LdapTarget>,
    stored: Option<&StoredMeta>,
    policy: &FetchPolicy,
) -> Result<Download, AttemptError> {
    match ldap {
        None => download(client, req, stored, policy).await,
        Some(t) => {
            let (t, temp, p) = (t.clone(), req.store.temp_path(), policy.clone());
            // Its own task (a panic in the client is a failed attempt),
            // aborted when this attempt is dropped at the deadline: it must
            // not go on holding a connection and buffers unbounded by
            // max_in_flight.
            let mut task = AbortOnDrop(tokio::spawn(async move { crate::ldap::download(&t, temp, &p).await }));
            match (&mut task.0).await {
                Ok(r) => r,
                Err(e) => Err(AttemptError::permanent(format!("LDAP client failed: {e}"), None)),
            }
        }
    }
}

/// A task aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fetch one source: attempts with back-off within the deadline, then
/// verification and the rollback check, then the store.
async fn fetch_one<T: Send + 'static>(
    client: &reqwest::Client,
    req: FetchRequest,
    policy: &FetchPolicy,
    verify: Verifier<T>,
    slots: Arc<tokio::sync::Semaphore>,
) -> Fetched<T> {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + policy.deadline;
    let stored = {
        let store = req.store.clone();
        on_blocking(move || store.meta()).await.flatten()
    };
    let ldap = if is_ldap(&req.url) { crate::ldap::LdapTarget::parse(&req.url).ok() } else { None };
    let mut attempts = 0u32;
    let result = loop {
        attempts += 1;
        let r = match tokio::time::timeout_at(deadline, attempt(client, &req, ldap.as_ref(), stored.as_ref(), policy))
            .await
        {
            Ok(r) => r,
            Err(_) => {
                break Err(AttemptError::transient(
                    format!("no complete response within the deadline of {} s", policy.deadline.as_secs_f64()),
                    None,
                ));
            }
        };
        match r {
            Err(e) if e.transient && attempts < policy.attempts.max(1) => {
                let delay = policy.backoff(attempts + 1, e.retry_after, rand::random::<f64>());
                if tokio::time::Instant::now() + delay >= deadline {
                    break Err(e);
                }
                tokio::time::sleep(delay).await;
            }
            other => break other,
        }
    };
    let mut record = FetchRecord {
        source: req.url.clone(),
        outcome: Outcome::Failed,
        transient: false,
        http_status: None,
        attempts,
        bytes: None,
        seconds: 0.0,
        etag: None,
        last_modified: None,
        serving: if stored.is_some() { Serving::Stored } else { Serving::None },
        crl_number: None,
        this_update: None,
        next_update: None,
        sha256: None,
        error: None,
    };
    let serve_stored = |r: &mut FetchRecord, m: &StoredMeta| {
        r.crl_number = m.crl_number.clone();
        r.this_update = Some(m.this_update);
        r.next_update = m.next_update;
        r.sha256 = Some(m.sha256.clone());
        r.etag = m.etag.clone();
        r.last_modified = m.last_modified.clone();
    };
    if let Some(m) = &stored {
        serve_stored(&mut record, m);
    }
    let mut fresh = None;
    match result {
        Err(e) => {
            record.outcome = if e.rejected { Outcome::Rejected } else { Outcome::Failed };
            record.transient = e.transient;
            record.http_status = e.status;
            record.bytes = e.bytes;
            record.error = Some(e.message);
        }
        Ok(Download::NotModified { etag, last_modified }) => {
            record.http_status = Some(304);
            match &stored {
                Some(m) => {
                    record.outcome = Outcome::NotModified;
                    let updated = StoredMeta {
                        etag: etag.or_else(|| m.etag.clone()),
                        last_modified: last_modified.or_else(|| m.last_modified.clone()),
                        ..m.clone()
                    };
                    if &updated != m {
                        let (store, meta) = (req.store.clone(), updated.clone());
                        if let Some(Err(e)) = on_blocking(move || store.write_meta(&meta)).await {
                            record.error = Some(e.to_string());
                        }
                        serve_stored(&mut record, &updated);
                    }
                }
                None => {
                    record.error = Some("HTTP 304 Not Modified but no CRL is stored for this source".into());
                }
            }
        }
        Ok(Download::Body { temp, sha256, bytes, etag, last_modified, status }) => {
            record.http_status = status;
            record.bytes = Some(bytes);
            let (outcome, error, f, served) =
                accept_body(&req, stored.as_ref(), &temp, &sha256, bytes, etag, last_modified, &verify, &slots).await;
            // Gone already when it was accepted (renamed into the store).
            on_blocking(move || std::fs::remove_file(&temp)).await;
            record.outcome = outcome;
            record.error = error;
            // A body that arrived but cannot be used yet (or stored): worth a retry.
            record.transient = outcome == Outcome::Failed;
            if let Some(m) = &served {
                serve_stored(&mut record, m);
            }
            if let Some(f) = f {
                record.serving = Serving::New;
                fresh = Some(f);
            }
        }
    }
    record.seconds = started.elapsed().as_secs_f64();
    Fetched { tag: req.tag, record, fresh }
}

/// Whether a request's URL is an LDAP one.
fn is_ldap(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("ldap://") || lower.starts_with("ldaps://")
}

/// Run blocking file work (store reads, writes, fsync, renames) off the
/// async workers; `None` if the blocking task failed.
async fn on_blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    tokio::task::spawn_blocking(f).await.ok()
}

/// Keep the stored CRL with the validators of the latest response; the
/// description now in force.
async fn keep_validators(
    store: &SourceStore,
    m: &StoredMeta,
    etag: Option<String>,
    last_modified: Option<String>,
) -> StoredMeta {
    let updated = StoredMeta { etag, last_modified, ..m.clone() };
    if &updated != m {
        let (store, meta) = (store.clone(), updated.clone());
        // A failed write only costs a conditional GET next time.
        let _ = on_blocking(move || store.write_meta(&meta)).await;
    }
    updated
}

/// What [`accept_body`] decided: the outcome, why (when refused), the
/// verification product of a new CRL, and the description now served.
type Decision<T> = (Outcome, Option<String>, Option<T>, Option<StoredMeta>);

/// Decide on a received body: identical to the stored CRL, refused by
/// verification, a rollback, the same CRL again, or a new one (stored).
#[allow(clippy::too_many_arguments)]
async fn accept_body<T: Send + 'static>(
    req: &FetchRequest,
    stored: Option<&StoredMeta>,
    temp: &Path,
    sha256: &str,
    bytes: u64,
    etag: Option<String>,
    last_modified: Option<String>,
    verify: &Verifier<T>,
    slots: &Arc<tokio::sync::Semaphore>,
) -> Decision<T> {
    if let Some(m) = stored.filter(|m| m.sha256 == sha256) {
        // Byte-identical to the stored CRL (the server ignored the
        // validators): nothing to parse.
        let served = keep_validators(&req.store, m, etag, last_modified).await;
        return (Outcome::NotUpdatedYet, None, None, Some(served));
    }
    let verified = {
        let _permit = slots.acquire().await;
        let (verify, tag, path, sha) = (verify.clone(), req.tag, temp.to_owned(), sha256.to_owned());
        let url = req.url.clone();
        match tokio::task::spawn_blocking(move || verify(tag, &url, &path, &sha)).await {
            Ok(v) => v,
            Err(e) => Err(Refusal::from(format!("verification failed: {e}"))),
        }
    };
    let v = match verified {
        Ok(v) => v,
        // Not refused data: the last good CRL keeps serving; retry later.
        Err(r) if r.retry_later => return (Outcome::Failed, Some(r.message), None, stored.cloned()),
        Err(r) => return (Outcome::Rejected, Some(r.message), None, stored.cloned()),
    };
    if let Some(m) = stored {
        if let (Some(new), Some(old)) = (&v.crl_number, &m.crl_number) {
            if compare_crl_numbers(new, old) == std::cmp::Ordering::Less {
                return (
                    Outcome::Rejected,
                    Some(format!("rollback refused: cRLNumber {new} is lower than {old}, the last accepted")),
                    None,
                    Some(m.clone()),
                );
            }
        }
        if v.this_update < m.this_update {
            return (
                Outcome::Rejected,
                Some(format!(
                    "rollback refused: thisUpdate {} is older than {}, the last accepted",
                    v.this_update, m.this_update
                )),
                None,
                Some(m.clone()),
            );
        }
        let same_number = match (&v.crl_number, &m.crl_number) {
            (Some(a), Some(b)) => compare_crl_numbers(a, b) == std::cmp::Ordering::Equal,
            (None, None) => true,
            _ => false,
        };
        if v.this_update == m.this_update && same_number {
            let served = keep_validators(&req.store, m, etag, last_modified).await;
            return (Outcome::NotUpdatedYet, None, None, Some(served));
        }
    }
    let meta = StoredMeta {
        source: req.url.clone(),
        etag,
        last_modified,
        sha256: sha256.to_owned(),
        bytes,
        crl_number: v.crl_number.clone(),
        this_update: v.this_update,
        next_update: v.next_update,
        accepted_at: Timestamp::now(),
    };
    let (store, temp, new) = (req.store.clone(), temp.to_owned(), meta.clone());
    match on_blocking(move || store.accept(&temp, &new)).await {
        Some(Ok(())) => (Outcome::Updated, None, Some(v.payload), Some(meta)),
        Some(Err(e)) => (Outcome::Failed, Some(format!("cannot store the CRL: {e}")), None, stored.cloned()),
        None => (Outcome::Failed, Some("cannot store the CRL: the store task failed".into()), None, stored.cloned()),
    }
}
