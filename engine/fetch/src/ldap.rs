//! CRLs read from an LDAP directory (RFC 4516 URLs, RFC 4523 attributes),
//! with the `ldap3` client on the fetcher's tokio runtime.
//!
//! A source is one entry and one attribute:
//! `ldap://host[:port]/<DN>?certificateRevocationList;binary` (`ldaps://`
//! for LDAP over TLS, rustls with Mozilla's roots plus `[fetch]
//! tls_ca_file`). The read is an anonymous search of scope `base` on the DN
//! for that one attribute; the value is written to a temporary file beside
//! the store while hashed, synced, and from there follows the same path as
//! an HTTP body (verification, rollback refusal, store; see [`crate::http`]).
//!
//! Departures from HTTP sources, and why:
//! - LDAP has no conditional read: every run reads the value; a value equal
//!   to the stored CRL is `not_updated_yet` without parsing (its SHA-256).
//! - The client receives an LDAP message whole, so the connection runs
//!   through a byte counter on loopback ([`capped`]): past
//!   `limits.max_crl_bytes` plus [`LDAP_OVERHEAD_BYTES`] received, it is cut
//!   and the source refused, before the client buffers anything larger (a
//!   hostile server cannot make us hold a message it declares huge).
//!   `read_timeout` bounds each LDAP operation whole.
//! - Referrals are not chased (they would lead to servers the job does not
//!   name): a referral is a permanent failure naming its target.
//! - Faults worth a retry: connection errors, timeouts, a dropped
//!   connection, and the result codes busy (51), unavailable (52),
//!   unwillingToPerform (53), timeLimitExceeded (3), adminLimitExceeded (11)
//!   and other (80). noSuchObject (32), a missing attribute, access denied
//!   and the rest are permanent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ldap3::asn1::{StructureTag, PL};
use ldap3::{LdapConnAsync, LdapConnSettings, Scope};

use crate::http::{one_line, AttemptError, Download};
use crate::{FetchError, FetchPolicy};

/// The attribute read when a URL names none (RFC 4523 §2.2: CRLs are
/// transferred with the `;binary` option).
pub const DEFAULT_ATTRIBUTE: &str = "certificateRevocationList;binary";

/// The entries a discovery may return (JPKI: ~1,700 per hierarchy).
pub const MAX_DISCOVERED: usize = 10_000;

/// Entries per page of a discovery search (RFC 2696 paged results): below
/// slapd's default size limit of 500.
const DISCOVERY_PAGE: i32 = 400;

/// Bytes an exchange may receive beyond the CRL itself: the DN, the
/// attribute name, the LDAP framing and the result message.
pub const LDAP_OVERHEAD_BYTES: u64 = 1 << 20;

/// Most bytes a discovery may receive (10,000 entries' DNs fit many times).
pub const MAX_DISCOVERY_BYTES: u64 = 64 << 20;

/// Relay buffer of the byte counter.
const RELAY_BUFFER: usize = 64 * 1024;

/// An LDAP source, parsed from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapTarget {
    /// `ldaps` rather than `ldap`.
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// The entry's DN (RFC 4514 string form), percent-decoded.
    pub dn: String,
    /// The attribute description read.
    pub attribute: String,
}

fn bad(url: &str, why: &str) -> FetchError {
    FetchError::BadUrl(url.to_owned(), why.to_owned())
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let v = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or(())?;
            out.push(v);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// Percent-encode what RFC 4516 does not allow raw in a DN or attribute.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"=,;-._~+ ".contains(&b) {
            if b == b' ' {
                out.push_str("%20");
            } else {
                out.push(char::from(b));
            }
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn valid_attribute(a: &str) -> bool {
    !a.is_empty()
        && a.len() <= 128
        && a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b';' || b == b'-' || b == b'.')
        && a.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
}

impl LdapTarget {
    /// Parse `ldap[s]://host[:port]/DN[?attr[?scope[?filter[?extensions]]]]`
    /// (RFC 4516). One attribute (default [`DEFAULT_ATTRIBUTE`]); scope, if
    /// given, `base`; filter, if given, `(objectClass=*)`; no extensions
    /// (a bind name would put credentials in the job file).
    pub fn parse(url: &str) -> Result<LdapTarget, FetchError> {
        let (tls, rest) = match url.split_once("://") {
            Some((s, r)) if s.eq_ignore_ascii_case("ldap") => (false, r),
            Some((s, r)) if s.eq_ignore_ascii_case("ldaps") => (true, r),
            _ => return Err(FetchError::Unsupported(url.to_owned())),
        };
        let (hostport, path) = rest.split_once('/').unwrap_or((rest, ""));
        if hostport.contains('@') {
            return Err(bad(url, "credentials in URLs are not accepted"));
        }
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port: u16 = p.parse().map_err(|_| bad(url, "bad port"))?;
                (h, port)
            }
            _ => (hostport, if tls { 636 } else { 389 }),
        };
        if host.is_empty() {
            return Err(bad(url, "no host (a job must name its directory server)"));
        }
        if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b)) {
            return Err(bad(url, "bad host"));
        }
        let mut parts = path.split('?');
        let dn = percent_decode(parts.next().unwrap_or("")).map_err(|_| bad(url, "bad percent-encoding in the DN"))?;
        if dn.trim().is_empty() {
            return Err(bad(url, "no DN: name the entry that holds the CRL"));
        }
        let attrs = percent_decode(parts.next().unwrap_or("")).map_err(|_| bad(url, "bad percent-encoding"))?;
        let attribute = if attrs.is_empty() { DEFAULT_ATTRIBUTE.to_owned() } else { attrs };
        if attribute.contains(',') {
            return Err(bad(url, "one attribute only (the CRL's)"));
        }
        if !valid_attribute(&attribute) {
            return Err(bad(url, "bad attribute description"));
        }
        if let Some(scope) = parts.next() {
            if !scope.is_empty() && !scope.eq_ignore_ascii_case("base") {
                return Err(bad(url, "scope must be base (one entry per source)"));
            }
        }
        if let Some(filter) = parts.next() {
            let f = percent_decode(filter).map_err(|_| bad(url, "bad percent-encoding"))?;
            if !f.is_empty() && !f.eq_ignore_ascii_case("(objectClass=*)") {
                return Err(bad(url, "filters are not supported (one entry per source)"));
            }
        }
        if parts.next().is_some_and(|e| !e.is_empty()) {
            return Err(bad(url, "extensions are not supported"));
        }
        Ok(LdapTarget { tls, host: host.to_ascii_lowercase(), port, dn, attribute })
    }

    /// The server part, `ldap://host:port`.
    pub fn server(&self) -> String {
        format!("{}://{}:{}", if self.tls { "ldaps" } else { "ldap" }, self.host, self.port)
    }

    /// The URL of an entry of a server (`server` as `ldap[s]://host[:port]`).
    pub fn url(server: &str, dn: &str, attribute: &str) -> String {
        format!("{}/{}?{}", server.trim_end_matches('/'), percent_encode(dn), percent_encode(attribute))
    }

    /// A normal form: scheme, host and attribute in lower case, explicit
    /// port, DN normalized by [`normalize_dn`].
    pub fn normalized(&self) -> String {
        format!("{}/{}?{}", self.server(), percent_encode(&normalize_dn(&self.dn)), self.attribute.to_ascii_lowercase())
    }
}

/// Split an RFC 4514 DN string into its RDNs at unescaped commas.
pub fn split_dn(dn: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in dn.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            cur.push(c);
            escaped = true;
        } else if c == ',' || c == ';' {
            out.push(cur.trim().to_owned());
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    if !cur.trim().is_empty() || !out.is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// A DN in a form for comparison: RDNs in the order written, each
/// `type=value` with the type in lower case, spaces around `=` and `,`
/// removed, inner runs of spaces squeezed, and the value in lower case
/// (the naming attributes of CRL distribution points, `cn`, `ou`, `o`, `c`,
/// compare with caseIgnoreMatch).
pub fn normalize_dn(dn: &str) -> String {
    split_dn(dn)
        .iter()
        .map(|rdn| match rdn.split_once('=') {
            Some((t, v)) => {
                let v: Vec<&str> = v.split_whitespace().collect();
                format!("{}={}", t.trim().to_ascii_lowercase(), v.join(" ").to_lowercase())
            }
            None => rdn.to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The TLS client configuration of `ldaps://`: Mozilla's roots plus the
/// job's extra roots.
fn tls_config(policy: &FetchPolicy) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(pem) = &policy.extra_roots_pem {
        for cert in rustls_pki_types::CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| format!("tls_ca_file: {e}"))?;
            roots.add(cert).map_err(|e| format!("tls_ca_file: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Open an anonymous connection through [`capped`]; its driver runs as
/// its own task. The flag tells whether the counter cut the connection.
async fn connect(
    target: &LdapTarget,
    cap: u64,
    policy: &FetchPolicy,
) -> Result<(ldap3::Ldap, Arc<AtomicBool>), AttemptError> {
    let (stream, cut) = capped(target, cap, policy.connect_timeout).await?;
    let mut settings =
        LdapConnSettings::new().set_conn_timeout(policy.connect_timeout).set_std_stream(ldap3::StdStream::Tcp(stream));
    if target.tls {
        settings = settings.set_config(tls_config(policy).map_err(|e| AttemptError::permanent(e, None))?);
    }
    let server = target.server();
    let (conn, ldap) = LdapConnAsync::with_settings(settings, &server)
        .await
        .map_err(|e| AttemptError::transient(format!("cannot connect to {server}: {}", one_line(&e)), None))?;
    tokio::spawn(async move {
        let _ = conn.drive().await;
    });
    Ok((ldap, cut))
}

/// A connection to the server through a byte counter: the client gets one
/// end of a loopback TCP pair (TLS, for `ldaps://`, runs over it end to
/// end), a relay task copies between the other end and the server, and cuts
/// both once more than `cap` bytes came from the server (the flag is then
/// set).
async fn capped(
    target: &LdapTarget,
    cap: u64,
    timeout: Duration,
) -> Result<(std::net::TcpStream, Arc<AtomicBool>), AttemptError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    let host = target.host.trim_start_matches('[').trim_end_matches(']');
    let what = format!("cannot connect to {}", target.server());
    let server = match tokio::time::timeout(timeout, TcpStream::connect((host, target.port))).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(AttemptError::transient(format!("{what}: {e}"), None)),
        Err(_) => return Err(AttemptError::transient(format!("{what}: connect timed out"), None)),
    };
    let local = |e: std::io::Error| AttemptError::permanent(format!("loopback relay: {e}"), None);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(local)?;
    let addr = listener.local_addr().map_err(local)?;
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, (inner, peer)) = (client.map_err(local)?, accepted.map_err(local)?);
    // Another local process could have connected first: only our own end.
    if client.local_addr().ok() != Some(peer) {
        return Err(AttemptError::transient("loopback relay: an unexpected local connection".into(), None));
    }
    let cut = Arc::new(AtomicBool::new(false));
    let flag = cut.clone();
    tokio::spawn(async move {
        let (mut from_server, mut to_server) = server.into_split();
        let (mut from_client, mut to_client) = inner.into_split();
        let up = tokio::io::copy(&mut from_client, &mut to_server);
        let down = async {
            let mut buf = vec![0u8; RELAY_BUFFER];
            let mut total = 0u64;
            loop {
                let n = from_server.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                total = total.saturating_add(n as u64);
                if total > cap {
                    flag.store(true, Ordering::Relaxed);
                    break;
                }
                to_client.write_all(buf.get(..n).unwrap_or_default()).await?;
            }
            to_client.shutdown().await
        };
        // Either direction ending ends the exchange; dropping the halves
        // closes both connections.
        tokio::select! {
            _ = up => {}
            _ = down => {}
        }
    });
    let client = client.into_std().map_err(local)?;
    Ok((client, cut))
}

/// An `ldap3` failure of an operation: all of them are network faults
/// (timeouts, a dropped connection, I/O), worth a retry.
fn op_error(what: &str, e: &ldap3::LdapError) -> AttemptError {
    let text = match e {
        ldap3::LdapError::Timeout { .. } => "timed out: no complete answer within read_timeout_secs".to_owned(),
        other => one_line(other),
    };
    AttemptError::transient(format!("{what}: {text}"), None)
}

/// Whether an LDAP result code is worth another attempt.
fn transient_rc(rc: u32) -> bool {
    matches!(rc, 3 | 11 | 51 | 52 | 53 | 80)
}

/// The text of an LDAP result that is not success.
fn result_error(dn: &str, r: &ldap3::LdapResult) -> AttemptError {
    let name = match r.rc {
        3 => "timeLimitExceeded",
        10 => "referral",
        11 => "adminLimitExceeded",
        32 => "noSuchObject",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        80 => "other",
        _ => "error",
    };
    let mut msg = match r.rc {
        32 => format!("no such entry {dn:?} in the directory (LDAP result 32 noSuchObject)"),
        10 => format!("referral not followed (LDAP result 10): {}", r.refs.join(" ")),
        rc => format!("LDAP result {rc} {name} reading {dn:?}"),
    };
    if !r.text.is_empty() {
        msg.push_str(&format!(": {}", r.text.replace('\n', " ")));
    }
    if transient_rc(r.rc) {
        AttemptError::transient(msg, None)
    } else {
        AttemptError::permanent(msg, None)
    }
}

fn primitive(t: &StructureTag) -> Option<&[u8]> {
    match &t.payload {
        PL::P(v) => Some(v),
        PL::C(_) => None,
    }
}

fn constructed(t: &StructureTag) -> Option<&[StructureTag]> {
    match &t.payload {
        PL::C(v) => Some(v),
        PL::P(_) => None,
    }
}

/// The values of `attribute` in a SearchResultEntry (RFC 4511 §4.5.2),
/// parsed without panicking on a malformed answer:
/// `[APPLICATION 4] SEQUENCE { objectName, attributes SEQUENCE OF
/// PartialAttribute { type, vals SET OF value } }`. `None` when malformed.
fn attribute_values(entry: &StructureTag, attribute: &str) -> Option<Vec<Vec<u8>>> {
    let parts = constructed(entry)?;
    let attrs = constructed(parts.get(1)?)?;
    let wanted = attribute.to_ascii_lowercase();
    let bare = wanted.split(';').next().unwrap_or_default().to_owned();
    let mut out = Vec::new();
    for a in attrs {
        let pa = constructed(a)?;
        let name = String::from_utf8_lossy(primitive(pa.first()?)?).to_ascii_lowercase();
        // A server may answer `certificateRevocationList;binary` or the bare type.
        if name != wanted && name != bare {
            continue;
        }
        for v in constructed(pa.get(1)?)? {
            out.push(primitive(v)?.to_vec());
        }
    }
    Some(out)
}

/// One attempt: the value of the attribute, written to a temporary file.
pub(crate) async fn download(
    target: &LdapTarget,
    temp: std::path::PathBuf,
    policy: &FetchPolicy,
) -> Result<Download, AttemptError> {
    let max = policy.max_body_bytes;
    // Over TLS the records' framing counts too (well under 1/256 of it).
    let tls_framing = if target.tls { max / 256 } else { 0 };
    let cap = max.saturating_add(LDAP_OVERHEAD_BYTES).saturating_add(tls_framing);
    let (mut ldap, cut) = connect(target, cap, policy).await?;
    let search = ldap
        .with_timeout(policy.read_timeout)
        .search(&target.dn, Scope::Base, "(objectClass=*)", vec![target.attribute.as_str()])
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), ldap.unbind()).await;
    if cut.load(Ordering::Relaxed) {
        return Err(AttemptError::rejected(
            format!(
                "the server sent more than {cap} bytes: over the limit of {max} bytes (limits.max_crl_bytes) \
                 plus {} for the LDAP message",
                cap - max
            ),
            None,
            None,
        ));
    }
    let ldap3::SearchResult(entries, result) = search.map_err(|e| op_error("search", &e))?;
    if result.rc != 0 {
        return Err(result_error(&target.dn, &result));
    }
    if let Some(r) = entries.iter().find(|e| e.is_ref()) {
        let refs = ldap3::parse_refs(r.0.clone()).join(" ");
        return Err(AttemptError::permanent(format!("referral not followed: {refs}"), None));
    }
    let entry = entries
        .iter()
        .find(|e| !e.is_ref() && !e.is_intermediate())
        .ok_or_else(|| AttemptError::permanent(format!("no entry {:?} returned", target.dn), None))?;
    let mut values = attribute_values(&entry.0, &target.attribute)
        .ok_or_else(|| AttemptError::permanent("malformed search result entry".into(), None))?;
    let value = match values.len() {
        1 => values.pop().unwrap_or_default(),
        0 => {
            return Err(AttemptError::permanent(
                format!("entry {:?} has no attribute {}", target.dn, target.attribute),
                None,
            ))
        }
        n => {
            return Err(AttemptError::rejected(
                format!("entry {:?} holds {n} values of {}: one CRL expected", target.dn, target.attribute),
                None,
                None,
            ))
        }
    };
    let bytes = value.len() as u64;
    if bytes > max {
        return Err(AttemptError::rejected(
            format!("value of {bytes} bytes exceeds the limit of {max} bytes (limits.max_crl_bytes)"),
            None,
            Some(bytes),
        ));
    }
    let written = tokio::task::spawn_blocking(move || write_value(&temp, &value).map(|sha| (temp, sha)))
        .await
        .map_err(|e| AttemptError::permanent(format!("value writer failed: {e}"), None))?;
    let (temp, sha256) = written.map_err(|e| AttemptError::permanent(format!("cannot store the value: {e}"), None))?;
    Ok(Download::Body { temp, sha256, bytes, etag: None, last_modified: None, status: None })
}

/// Write, sync and hash a value; the file is removed on failure.
fn write_value(temp: &std::path::Path, value: &[u8]) -> Result<String, String> {
    use sha2::Digest;
    use std::io::Write;
    let run = || -> std::io::Result<()> {
        let mut f = std::fs::File::create_new(temp)?;
        f.write_all(value)?;
        f.sync_all()
    };
    if let Err(e) = run() {
        let _ = std::fs::remove_file(temp);
        return Err(format!("{}: {e}", temp.display()));
    }
    Ok(sha2::Sha256::digest(value).iter().map(|b| format!("{b:02x}")).collect())
}

/// Enumerate the entries under `base` whose `cn` ends in ` CRLDP` (the JPKI
/// per-municipality distribution points), one subtree search with paged
/// results; their DNs as the server wrote them, sorted. Retried on
/// transient faults like a fetch.
pub fn discover(server: &str, base: &str, policy: &FetchPolicy) -> Result<Vec<String>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the LDAP client: {e}"))?;
    let target = LdapTarget::parse(&LdapTarget::url(server, base, DEFAULT_ATTRIBUTE)).map_err(|e| e.to_string())?;
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + policy.deadline;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let t = target.clone();
            let p = policy.clone();
            // Its own task: a panic inside the client becomes an error.
            let one = tokio::spawn(async move { discover_once(&t, &p).await });
            let r = match tokio::time::timeout_at(deadline, one).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => Err(AttemptError::permanent(format!("LDAP client failed: {e}"), None)),
                Err(_) => Err(AttemptError::permanent(
                    format!("no complete answer within the deadline of {} s", policy.deadline.as_secs_f64()),
                    None,
                )),
            };
            match r {
                Err(e) if e.transient && attempt < policy.attempts.max(1) => {
                    let delay = policy.backoff(attempt + 1, None, rand::random::<f64>());
                    if tokio::time::Instant::now() + delay >= deadline {
                        return Err(e.message);
                    }
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return Err(format!("{} (after {attempt} attempt(s))", e.message)),
                Ok(v) => return Ok(v),
            }
        }
    })
}

async fn discover_once(target: &LdapTarget, policy: &FetchPolicy) -> Result<Vec<String>, AttemptError> {
    use ldap3::adapters::{Adapter, EntriesOnly, PagedResults};
    let (mut ldap, cut) = connect(target, MAX_DISCOVERY_BYTES, policy).await?;
    // A connection cut by the byte counter surfaces as a client error.
    let fail = |e: &ldap3::LdapError| {
        if cut.load(Ordering::Relaxed) {
            AttemptError::permanent(format!("discovery answer over {MAX_DISCOVERY_BYTES} bytes"), None)
        } else {
            op_error("discovery", e)
        }
    };
    let adapters: Vec<Box<dyn Adapter<_, _>>> =
        vec![Box::new(EntriesOnly::new()), Box::new(PagedResults::new(DISCOVERY_PAGE))];
    let mut stream = ldap
        .with_timeout(policy.read_timeout)
        .streaming_search_with(adapters, &target.dn, Scope::Subtree, "(cn=*CRLDP)", vec!["1.1"])
        .await
        .map_err(|e| fail(&e))?;
    let mut dns = Vec::new();
    loop {
        let next = tokio::time::timeout(policy.read_timeout, stream.next()).await;
        match next {
            Err(_) => return Err(AttemptError::transient("discovery timed out".into(), None)),
            Ok(Err(e)) => return Err(fail(&e)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(e))) => {
                let dn = constructed(&e.0)
                    .and_then(|p| p.first())
                    .and_then(primitive)
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .ok_or_else(|| AttemptError::permanent("malformed search result entry".into(), None))?;
                if dns.len() >= MAX_DISCOVERED {
                    return Err(AttemptError::permanent(
                        format!("discovery found over {MAX_DISCOVERED} entries under {:?}", target.dn),
                        None,
                    ));
                }
                dns.push(dn.to_owned());
            }
        }
    }
    let result = stream.finish().await;
    let _ = tokio::time::timeout(Duration::from_secs(1), ldap.unbind()).await;
    if result.rc != 0 {
        return Err(result_error(&target.dn, &result));
    }
    dns.sort();
    dns.dedup();
    Ok(dns)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = LdapTarget::parse(
            "ldap://Dir.Example:3389/cn=City0001%20CRLDP,ou=Tokyo,o=JPKI,c=JP?certificateRevocationList;binary",
        )
        .unwrap();
        assert_eq!(
            t,
            LdapTarget {
                tls: false,
                host: "dir.example".into(),
                port: 3389,
                dn: "cn=City0001 CRLDP,ou=Tokyo,o=JPKI,c=JP".into(),
                attribute: "certificateRevocationList;binary".into()
            }
        );
        let d = LdapTarget::parse("ldaps://dir/o=JPKI,c=JP").unwrap();
        assert_eq!((d.tls, d.port, d.attribute.as_str()), (true, 636, DEFAULT_ATTRIBUTE));
        assert!(LdapTarget::parse("ldap://dir/o=JPKI?certificateRevocationList;binary?base?(objectClass=*)").is_ok());
        let err = |u: &str| LdapTarget::parse(u).unwrap_err().to_string();
        assert_eq!(
            err("ldap:///o=JPKI"),
            "bad CRL source URL \"ldap:///o=JPKI\": no host (a job must name its directory server)"
        );
        assert_eq!(err("ldap://dir/"), "bad CRL source URL \"ldap://dir/\": no DN: name the entry that holds the CRL");
        assert!(err("ldap://dir/o=JPKI?a,b").contains("one attribute only"));
        assert!(err("ldap://dir/o=JPKI??sub").contains("scope must be base"));
        assert!(err("ldap://dir/o=JPKI???(cn=x)").contains("filters are not supported"));
        assert!(err("ldap://dir/o=JPKI????!bindname=cn=x").contains("extensions are not supported"));
        assert!(err("ldap://u:p@dir/o=JPKI").contains("credentials"));
        // The URL an entry gets, and its normal form.
        let u = LdapTarget::url("ldap://dir:3389", "CN=City0001 CRLDP, OU=Tokyo,O=JPKI,C=JP", DEFAULT_ATTRIBUTE);
        assert_eq!(u, "ldap://dir:3389/CN=City0001%20CRLDP,%20OU=Tokyo,O=JPKI,C=JP?certificateRevocationList;binary");
        let a = LdapTarget::parse(&u).unwrap();
        let b = LdapTarget::parse(
            "LDAP://DIR:3389/cn=city0001  crldp,ou=tokyo,o=jpki,c=jp?CertificateRevocationList;Binary",
        )
        .unwrap();
        assert_eq!(a.normalized(), b.normalized());
        assert_eq!(
            a.normalized(),
            "ldap://dir:3389/cn=city0001%20crldp,ou=tokyo,o=jpki,c=jp?certificaterevocationlist;binary"
        );
    }

    #[test]
    fn dns() {
        assert_eq!(split_dn(r"cn=a\,b , ou=x"), vec![r"cn=a\,b", "ou=x"]);
        assert_eq!(normalize_dn("CN=City0001  CRLDP , OU = Tokyo"), "cn=city0001 crldp,ou=tokyo");
    }
}
