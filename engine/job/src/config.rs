//! Job files (`jobs/*.toml`): parsed strictly (unknown keys are errors, with
//! the line), then validated into a [`Job`] that owns resolved paths and
//! loaded CA certificates.
//!
//! Relative paths resolve against **the folder of the job file**, so a job
//! runs the same from cron, systemd or a shell anywhere.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crlbatch_check::Emit;
use crlbatch_crl::{CaCert, Limits};
use std::time::Duration;

use crlbatch_fetch::{FetchPolicy, LdapTarget, Source};

use crate::error::JobError;

/// Largest job file accepted (a job with thousands of partition sources is
/// still far below this).
pub const MAX_JOB_FILE_BYTES: u64 = 16 << 20;

/// Longest back-off setting accepted, in milliseconds (one hour).
pub const MAX_BACKOFF_MS: u64 = 3_600_000;

/// Largest `[fetch] tls_ca_file` accepted (a bundle of a few hundred roots).
pub const MAX_TLS_CA_FILE_BYTES: u64 = 4 << 20;

/// Read a small file whole, refusing one over `limit` bytes.
fn read_small(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > limit {
        return Err(format!("{size} bytes, over the limit of {limit}"));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// `input.records` from the environment.
pub const ENV_RECORDS: &str = "CRLBATCH_RECORDS";
/// `output.dir` from the environment.
pub const ENV_OUTPUT_DIR: &str = "CRLBATCH_OUTPUT_DIR";
/// `output.metrics` from the environment.
pub const ENV_METRICS: &str = "CRLBATCH_METRICS";
/// `[fetch] tls_ca_file` from the environment.
pub const ENV_TLS_CA_FILE: &str = "CRLBATCH_TLS_CA_FILE";
/// Stands for a variable whose value is not UTF-8 (refused).
const NOT_UTF8: &str = "\u{0}not-utf-8";
/// Every job setting the environment can override, in the order applied.
pub const ENV_OVERRIDES: [&str; 4] = [ENV_RECORDS, ENV_OUTPUT_DIR, ENV_METRICS, ENV_TLS_CA_FILE];

/// The default time zone of `run_date` and schedules.
pub const DEFAULT_TIMEZONE: &str = "Asia/Tokyo";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    name: String,
    schedule: Option<String>,
    timezone: Option<String>,
    #[serde(default)]
    ca: Vec<RawCa>,
    input: RawInput,
    output: RawOutput,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    check: RawCheck,
    #[serde(default)]
    fetch: RawFetch,
    four: Option<RawFour>,
}

/// `[four]`: the basic four information diff after the check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFour {
    certs: String,
    snapshot: String,
    key_env: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    max_in_flight: Option<usize>,
    connect_timeout_secs: Option<f64>,
    read_timeout_secs: Option<f64>,
    deadline_secs: Option<f64>,
    attempts: Option<u32>,
    backoff_base_ms: Option<u64>,
    backoff_max_ms: Option<u64>,
    tls_ca_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCa {
    name: Option<String>,
    cert: String,
    #[serde(default)]
    crl: Vec<String>,
    ldap: Option<RawLdap>,
}

/// `[ca.ldap]`: the CA's CRLs in a directory (distribution points by name).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdap {
    /// `ldap://host[:port]` or `ldaps://host[:port]`.
    server: String,
    /// The DN under which the distribution point entries are (or, alone,
    /// the one entry that holds the CRL).
    base: String,
    /// Entries holding the partitions: DNs relative to `base` (or whole).
    #[serde(default)]
    entries: Vec<String>,
    /// Enumerate the `CN=* CRLDP` entries under `base` at each run.
    #[serde(default)]
    discover: bool,
    attribute: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    records: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    dir: String,
    #[serde(default)]
    emit: Emit,
    metrics: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_crl_bytes: Option<u64>,
    max_entries: Option<u64>,
    max_row_group_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    threads: Option<usize>,
    key_buffer_keys: Option<usize>,
}

/// Smallest `[check] key_buffer_keys` (8 KiB of keys per worker: fewer
/// would spill a run file for every batch).
pub const MIN_KEY_BUFFER_KEYS: usize = 1 << 10;
/// Largest `[check] key_buffer_keys` (2 GiB of keys per worker).
pub const MAX_KEY_BUFFER_KEYS: usize = 1 << 28;

/// One configured CA.
#[derive(Debug, Clone)]
pub struct JobCa {
    /// A label for logs and the manifest (default: the kid).
    pub name: String,
    pub cert_path: PathBuf,
    pub cert: CaCert,
    pub sources: Vec<Source>,
    /// `[ca.ldap] discover = true`: the sources are the entries found
    /// under a base at each run (`sources` is then empty).
    pub discover: Option<LdapDiscover>,
}

/// Where a CA's partitions are discovered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapDiscover {
    /// `ldap[s]://host:port`.
    pub server: String,
    pub base: String,
    pub attribute: String,
}

impl JobCa {
    /// Whether its CRLs are fetched (http(s) or LDAP).
    pub fn is_remote(&self) -> bool {
        self.discover.is_some() || self.sources.iter().any(Source::is_remote)
    }
}

/// The sources of a `[ca.ldap]` (none when discovered at run time).
fn ldap_sources(l: &RawLdap, base_dir: &Path) -> Result<(Vec<Source>, Option<LdapDiscover>), String> {
    let attribute = l.attribute.clone().unwrap_or_else(|| crlbatch_fetch::ldap::DEFAULT_ATTRIBUTE.to_owned());
    let server = l.server.trim_end_matches('/');
    let lower = server.to_ascii_lowercase();
    if !(lower.starts_with("ldap://") || lower.starts_with("ldaps://")) || server.splitn(4, '/').count() > 3 {
        return Err(format!("[ca.ldap] server {:?}: use ldap://host[:port] or ldaps://host[:port]", l.server));
    }
    let check = |dn: &str| -> Result<Source, String> {
        let url = LdapTarget::url(server, dn, &attribute);
        Source::parse(&url, base_dir).map_err(|e| format!("[ca.ldap]: {e}"))
    };
    let base = check(&l.base)?;
    if l.discover && !l.entries.is_empty() {
        return Err("[ca.ldap]: give entries or discover = true, not both".into());
    }
    if l.discover {
        let t = LdapTarget::parse(&base.display()).map_err(|e| e.to_string())?;
        return Ok((Vec::new(), Some(LdapDiscover { server: t.server(), base: l.base.clone(), attribute })));
    }
    if l.entries.is_empty() {
        return Ok((vec![base], None));
    }
    let nbase = crlbatch_fetch::normalize_dn(&l.base);
    let sources = l
        .entries
        .iter()
        .map(|e| {
            let n = crlbatch_fetch::normalize_dn(e);
            // Relative to base unless it already ends with it.
            if n == nbase || n.ends_with(&format!(",{nbase}")) {
                check(e)
            } else {
                check(&format!("{e},{}", l.base))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((sources, None))
}

/// A validated job.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub file: PathBuf,
    pub schedule: Option<String>,
    pub timezone: chrono_tz::Tz,
    pub cas: Vec<JobCa>,
    pub records: PathBuf,
    pub out_dir: PathBuf,
    pub emit: Emit,
    /// Prometheus textfile written after each run (`output.metrics`).
    pub metrics: Option<PathBuf>,
    pub limits: Limits,
    /// Largest uncompressed records row group (`limits.max_row_group_bytes`).
    pub max_row_group_bytes: u64,
    pub threads: usize,
    /// Record keys a check worker holds before it spills a sorted run
    /// (`[check] key_buffer_keys`).
    pub key_buffer_keys: usize,
    /// How remote sources are fetched (`[fetch]`; body limit from `limits`).
    pub fetch: FetchPolicy,
    /// Environment variables that overrode settings of the file.
    pub overridden: Vec<&'static str>,
    /// `[four]`: compare the latest signing certificates with a snapshot.
    pub four: Option<crate::four::FourStep>,
}

/// Seconds from the job file: positive and finite, at most a day.
fn seconds(key: &str, v: Option<f64>, default: Duration) -> Result<Duration, String> {
    match v {
        None => Ok(default),
        Some(x) if x.is_finite() && x > 0.0 && x <= 86_400.0 => Ok(Duration::from_secs_f64(x)),
        Some(x) => Err(format!("[fetch] {key} = {x}: use a number of seconds above 0 and at most 86400")),
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty() && n.len() <= 64 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl Job {
    /// Read, parse and validate a job file.
    pub fn load(path: &Path) -> Result<Job, JobError> {
        let cfg = |message: String| JobError::Config { path: path.display().to_string(), message };
        let size = std::fs::metadata(path).map_err(|e| cfg(format!("cannot read job file: {e}")))?.len();
        if size > MAX_JOB_FILE_BYTES {
            return Err(cfg(format!("job file is {size} bytes, over the limit of {MAX_JOB_FILE_BYTES}")));
        }
        let text = std::fs::read_to_string(path).map_err(|e| cfg(format!("cannot read job file: {e}")))?;
        let mut job = Self::from_toml(&text, path)?;
        job.apply_env(&|k| std::env::var_os(k).map(|v| v.into_string().unwrap_or_else(|_| NOT_UTF8.to_owned())))?;
        Ok(job)
    }

    /// Environment-variable overrides (see [`ENV_OVERRIDES`]), for paths that
    /// differ per deployment (a container's volumes) and for secrets kept out
    /// of job files. A relative path in a variable resolves against the
    /// current directory. An empty variable counts as unset.
    pub fn apply_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), JobError> {
        let path = self.file.display().to_string();
        let cfg = |message: String| JobError::Config { path: path.clone(), message };
        let var = |k: &str| get(k).filter(|v| !v.is_empty());
        if let Some(k) = ENV_OVERRIDES.iter().find(|k| var(k).as_deref() == Some(NOT_UTF8)) {
            return Err(cfg(format!("{k} is not valid UTF-8")));
        }
        if let Some(v) = var(ENV_RECORDS) {
            self.records = PathBuf::from(v);
            self.overridden.push(ENV_RECORDS);
        }
        if let Some(v) = var(ENV_OUTPUT_DIR) {
            self.out_dir = PathBuf::from(v);
            self.overridden.push(ENV_OUTPUT_DIR);
        }
        if let Some(v) = var(ENV_METRICS) {
            self.metrics = Some(PathBuf::from(v));
            self.overridden.push(ENV_METRICS);
        }
        if let Some(v) = var(ENV_TLS_CA_FILE) {
            let pem = read_small(Path::new(&v), MAX_TLS_CA_FILE_BYTES)
                .map_err(|e| cfg(format!("{ENV_TLS_CA_FILE}={v}: {e}")))?;
            FetchPolicy::check_roots(&pem).map_err(|e| cfg(format!("{ENV_TLS_CA_FILE}={v}: {e}")))?;
            self.fetch.extra_roots_pem = Some(pem);
            self.overridden.push(ENV_TLS_CA_FILE);
        }
        Ok(())
    }

    /// Parse and validate job text; `path` locates relative paths and errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Job, JobError> {
        let p = path.display().to_string();
        let cfg = |message: String| JobError::Config { path: p.clone(), message };
        let raw: RawJob = toml::from_str(text).map_err(|e| cfg(e.to_string().trim().replace('\n', " ")))?;
        let base = path.parent().filter(|b| !b.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let resolve = |s: &str| if Path::new(s).is_absolute() { PathBuf::from(s) } else { base.join(s) };
        if !valid_name(&raw.name) {
            return Err(cfg(format!("name {:?}: use 1 to 64 of A-Z a-z 0-9 . _ -", raw.name)));
        }
        let tz_name = raw.timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE);
        let timezone: chrono_tz::Tz =
            tz_name.parse().map_err(|_| cfg(format!("timezone {tz_name:?} is not an IANA time zone")))?;
        if raw.ca.is_empty() {
            return Err(cfg("at least one [[ca]] is required".into()));
        }
        let mut cas: Vec<JobCa> = Vec::new();
        // Every source once in the whole job: two CAs (or two partitions)
        // reading one source would share its store and count it twice.
        let mut seen_sources: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (i, c) in raw.ca.iter().enumerate() {
            let cert_path = resolve(&c.cert);
            let cert = CaCert::from_file(&cert_path)
                .map_err(|e| cfg(format!("[[ca]] #{}: cert {}: {e}", i + 1, cert_path.display())))?;
            let (sources, discover) = match &c.ldap {
                Some(_) if !c.crl.is_empty() => {
                    return Err(cfg(format!("[[ca]] #{}: give crl or [ca.ldap], not both", i + 1)))
                }
                Some(l) => ldap_sources(l, base).map_err(|e| cfg(format!("[[ca]] #{}: {e}", i + 1)))?,
                None if c.crl.is_empty() => {
                    return Err(cfg(format!("[[ca]] #{}: crl must list at least one source", i + 1)));
                }
                None => (
                    c.crl
                        .iter()
                        .map(|s| Source::parse(s, base).map_err(|e| cfg(format!("[[ca]] #{}: {e}", i + 1))))
                        .collect::<Result<Vec<Source>, JobError>>()?,
                    None,
                ),
            };
            if let Some(other) = cas.iter().find(|o| o.cert.kid == cert.kid) {
                return Err(cfg(format!(
                    "[[ca]] #{}: same CA key ({}) as [[ca]] {:?}",
                    i + 1,
                    cert.kid_hex(),
                    other.name
                )));
            }
            for src in &sources {
                if let Some(first) = seen_sources.insert(src.normalized(), i + 1) {
                    return Err(cfg(format!(
                        "[[ca]] #{}: CRL source {} is listed twice (also in [[ca]] #{first})",
                        i + 1,
                        src.display()
                    )));
                }
            }
            if sources.iter().any(Source::is_remote) && !sources.iter().all(Source::is_remote) {
                return Err(cfg(format!(
                    "[[ca]] #{}: crl mixes local and http(s) sources; give a CA's partitions all one way",
                    i + 1
                )));
            }
            let name = c.name.clone().unwrap_or_else(|| cert.kid_hex());
            cas.push(JobCa { name, cert_path, cert, sources, discover });
        }
        let mut limits = Limits::default();
        if let Some(v) = raw.limits.max_crl_bytes {
            limits.max_crl_bytes = v;
        }
        if let Some(v) = raw.limits.max_entries {
            limits.max_entries = v;
        }
        let f = &raw.fetch;
        let d = FetchPolicy::default();
        let fetch = FetchPolicy {
            max_in_flight: match f.max_in_flight {
                Some(n) if !(1..=1024).contains(&n) => {
                    return Err(cfg(format!("[fetch] max_in_flight = {n}: use 1 to 1024")))
                }
                Some(n) => n,
                None => d.max_in_flight,
            },
            connect_timeout: seconds("connect_timeout_secs", f.connect_timeout_secs, d.connect_timeout)
                .map_err(&cfg)?,
            read_timeout: seconds("read_timeout_secs", f.read_timeout_secs, d.read_timeout).map_err(&cfg)?,
            deadline: seconds("deadline_secs", f.deadline_secs, d.deadline).map_err(&cfg)?,
            attempts: match f.attempts {
                Some(n) if !(1..=20).contains(&n) => return Err(cfg(format!("[fetch] attempts = {n}: use 1 to 20"))),
                Some(n) => n,
                None => d.attempts,
            },
            backoff_base: match f.backoff_base_ms {
                Some(ms) if ms > MAX_BACKOFF_MS => {
                    return Err(cfg(format!("[fetch] backoff_base_ms = {ms}: use at most {MAX_BACKOFF_MS}")))
                }
                Some(ms) => Duration::from_millis(ms),
                None => d.backoff_base,
            },
            backoff_max: match f.backoff_max_ms {
                Some(ms) if ms > MAX_BACKOFF_MS => {
                    return Err(cfg(format!("[fetch] backoff_max_ms = {ms}: use at most {MAX_BACKOFF_MS}")))
                }
                Some(ms) => Duration::from_millis(ms),
                None => d.backoff_max,
            },
            max_body_bytes: limits.max_crl_bytes,
            user_agent: d.user_agent,
            extra_roots_pem: match &f.tls_ca_file {
                None => None,
                Some(file) => {
                    let p = resolve(file);
                    let pem = read_small(&p, MAX_TLS_CA_FILE_BYTES)
                        .map_err(|e| cfg(format!("[fetch] tls_ca_file {}: {e}", p.display())))?;
                    FetchPolicy::check_roots(&pem)
                        .map_err(|e| cfg(format!("[fetch] tls_ca_file {}: {e}", p.display())))?;
                    Some(pem)
                }
            },
        };
        Ok(Job {
            fetch,
            name: raw.name,
            file: path.to_owned(),
            schedule: raw.schedule,
            timezone,
            cas,
            records: resolve(&raw.input.records),
            out_dir: resolve(&raw.output.dir),
            emit: raw.output.emit,
            metrics: raw.output.metrics.as_deref().map(resolve),
            max_row_group_bytes: raw.limits.max_row_group_bytes.unwrap_or(crlbatch_check::DEFAULT_MAX_ROW_GROUP_BYTES),
            limits,
            threads: raw.check.threads.unwrap_or(0),
            key_buffer_keys: match raw.check.key_buffer_keys {
                None => crlbatch_check::keys::KEY_BUFFER_KEYS,
                Some(n) if (MIN_KEY_BUFFER_KEYS..=MAX_KEY_BUFFER_KEYS).contains(&n) => n,
                Some(n) => {
                    return Err(cfg(format!(
                    "[check] key_buffer_keys = {n}: use {MIN_KEY_BUFFER_KEYS} to {MAX_KEY_BUFFER_KEYS} (default {})",
                    crlbatch_check::keys::KEY_BUFFER_KEYS
                )))
                }
            },
            overridden: Vec::new(),
            four: match &raw.four {
                None => None,
                Some(f) => {
                    let key_env = f.key_env.clone().unwrap_or_else(|| crlbatch_four::DEFAULT_KEY_ENV.to_owned());
                    if key_env.is_empty() || !key_env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        return Err(cfg(format!("[four] key_env {key_env:?}: use an environment variable name")));
                    }
                    Some(crate::four::FourStep { certs: resolve(&f.certs), snapshot: resolve(&f.snapshot), key_env })
                }
            },
        })
    }
}
