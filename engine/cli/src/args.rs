//! Command-line arguments (the "low" form, mirroring the flags). Each
//! command turns them into real objects in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::exit;

#[derive(Debug, Parser)]
#[command(
    name = "crlbatch",
    version,
    about = "Batch CRL revocation processing for JPKI (My Number Card PKI)",
    long_about = "Batch CRL revocation processing for JPKI (My Number Card PKI): verify and index daily CRLs, \
answer revocation status exactly, generate a synthetic JPKI PKI for tests and benchmarks.",
    after_help = exit::TABLE
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log format on stderr: text (one line per event), json (JSON lines), or auto: text on a
    /// terminal, json otherwise (cron, systemd, Kubernetes). Filter with RUST_LOG (default: info).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto, env = "CRLBATCH_LOG_FORMAT")]
    pub log_format: LogFormat,
    /// Progress bars on stderr: auto shows them only on an interactive terminal with text logs.
    #[arg(long, global = true, value_enum, default_value_t = ProgressArg::Auto, env = "CRLBATCH_PROGRESS")]
    pub progress: ProgressArg,
}

/// How log events are written.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

/// Whether progress bars are drawn.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ProgressArg {
    Auto,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a deterministic synthetic JPKI PKI: CA generations and signed CRLs.
    Gen(GenArgs),
    /// Parse a CRL (and, with --ca, verify it and judge freshness); print a summary.
    Inspect(InspectArgs),
    /// Verify CRLs of one CA, build the revocation index and persist it.
    Index(IndexArgs),
    /// Revocation status of serial numbers, from an index or from CRLs.
    Status(StatusArgs),
    /// Differences between two index snapshots of one issuer.
    Diff(DiffArgs),
    /// Run a job once: verify and index its CRLs, check its records, write Parquet results.
    Run(RunArgs),
    /// Merge the outputs of `run --shard I/N` into the run's partitions and manifest (the last
    /// shard to finish does this itself; use this to retry).
    Commit(CommitArgs),
    /// Check a job file (syntax, unknown keys, CA certificates, paths) without running it.
    Validate(ValidateArgs),
    /// Run jobs at their `schedule` in their time zone, as a long-lived process (or --dry-run).
    Schedule(ScheduleArgs),
    /// Print a shell completion script (e.g. `crlbatch completions bash > /etc/bash_completion.d/crlbatch`).
    Completions(CompletionsArgs),
    /// Write every revoked serial of the indexes in a folder to Parquet (schemas/revoked.schema.json).
    Export(ExportArgs),
    /// Basic four information: keyed snapshots of signing certificates and field-level diffs that
    /// never expose the values.
    #[command(subcommand)]
    Four(FourCommand),
}

/// `crlbatch four ...`
#[derive(Debug, Subcommand)]
pub enum FourCommand {
    /// Read (ppid, sign_cert_der) rows and write, per PPID, a keyed digest (HMAC-SHA-256) of each
    /// basic four information field, plus the certificate's issuer key and serial.
    Snapshot(FourSnapshotArgs),
    /// Compare the latest signing certificates with a snapshot: which of name, address, date of
    /// birth and gender changed, and whether the old certificate is revoked for affiliationChanged.
    Diff(FourDiffArgs),
}

/// The key and inputs shared by both `four` commands.
#[derive(Debug, Args)]
pub struct FourKeyArg {
    /// The environment variable holding the secret key (at least 32 bytes: hex, or base64 after a
    /// "base64:" prefix). Never a flag, never logged; the snapshot records only the key's id.
    #[arg(long, value_name = "NAME", default_value = crlbatch_four::DEFAULT_KEY_ENV)]
    pub key_env: String,
}

#[derive(Debug, Args)]
#[command(after_help = exit::FOUR_TABLE)]
pub struct FourSnapshotArgs {
    /// Certificates: a Parquet file or folder with columns ppid (string) and sign_cert_der (binary)
    /// (schemas/four-certs.schema.json). Several rows of one PPID: the latest notBefore is used.
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub certs: PathBuf,
    /// The snapshot to write (Parquet, schemas/four-snapshot.schema.json; replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Where the rejected rows go (schemas/rejects.schema.json). Default: OUT with .rejects.parquet.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    #[command(flatten)]
    pub key: FourKeyArg,
}

#[derive(Debug, Args)]
#[command(after_help = exit::FOUR_TABLE)]
pub struct FourDiffArgs {
    /// The latest certificates (as for `four snapshot`).
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub certs: PathBuf,
    /// The snapshot to compare with (written by `four snapshot` with the same key).
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub snapshot: PathBuf,
    /// Revocation indexes of the signing CAs (a job's _state/, or `crlbatch index` output): whether
    /// the snapshot's certificate is revoked for affiliationChanged.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    #[command(flatten)]
    pub at: AtArg,
    /// The diff to write (Parquet, schemas/four-diff.schema.json; replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Where the rejected rows go (schemas/rejects.schema.json). Default: OUT with .rejects.parquet.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    #[command(flatten)]
    pub key: FourKeyArg,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct ExportArgs {
    /// Index folder (written by `crlbatch index`, or a job's `_state/`).
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// The Parquet file to write (replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Which records go to results.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum EmitArg {
    /// Records with any certificate not `good`.
    Attention,
    /// Every record.
    All,
}

#[derive(Debug, Args)]
#[command(after_help = exit::RUN_TABLE)]
pub struct RunArgs {
    /// The job file (TOML). Relative paths in it resolve against its folder.
    pub job: PathBuf,
    #[command(flatten)]
    pub at: AtArg,
    /// Override the job's output.emit.
    #[arg(long, value_enum)]
    pub emit: Option<EmitArg>,
    /// Print the run manifest (JSON) on stdout.
    #[arg(long)]
    pub json: bool,
    /// Check only shard I of N (0-based) of the input's row groups and write a shard output;
    /// the last shard to finish commits the run. Without it, JOB_COMPLETION_INDEX (Kubernetes
    /// Indexed Job) with --shards or CRLBATCH_SHARDS gives the shard.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The shard count N when the index comes from JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "N", env = "CRLBATCH_SHARDS")]
    pub shards: Option<u32>,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct CommitArgs {
    /// The job file (TOML).
    pub job: PathBuf,
    /// The shard count N of the run to commit.
    #[arg(long, value_name = "N", env = "CRLBATCH_SHARDS")]
    pub shards: u32,
    /// The run to commit (YYYY-MM-DD in the job's time zone; default: the latest with shards).
    #[arg(long, value_name = "DATE")]
    pub run_date: Option<String>,
    /// Print the run manifest (JSON) on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct ValidateArgs {
    /// Job files to check.
    #[arg(required = true)]
    pub jobs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
#[command(after_help = exit::SCHEDULE_TABLE)]
pub struct ScheduleArgs {
    /// Job files, each with a `schedule` (5-field crontab, or 6/7 fields with seconds and year) and
    /// optionally a `timezone` (default Asia/Tokyo).
    #[arg(required = true)]
    pub jobs: Vec<PathBuf>,
    /// Print each job's next fire times, in its time zone and in UTC, and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: fire times per job.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub count: usize,
    /// With --dry-run: list fire times after this instant (RFC 3339). Default: now.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Catch-up window: at start, a slot missed while the scheduler was down runs once if it is at most
    /// this old (e.g. 6h, 90m, 3600s, 1d; 0 disables catch-up). Older missed slots are skipped and logged.
    #[arg(long, default_value = "6h", value_name = "DURATION")]
    pub grace: String,
    /// The scheduler's state file (the last slot fired per job). Default: <first job's output
    /// dir>/_state/scheduler.json.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// An evaluation time: RFC 3339, default now.
#[derive(Debug, Args, Clone)]
pub struct AtArg {
    /// Evaluation time for freshness (RFC 3339, e.g. 2026-11-26T03:00:00Z). Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct GenArgs {
    /// Output folder (created). Layout: gen.json, ca/<name>.der, crl/<name>.crl or crl/<name>/pNNNN.crl.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed: the same seed gives the same keys, certificates and CRLs.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Entries per CA CRL (spread over its partitions).
    #[arg(long, default_value_t = 10_000)]
    pub entries: u64,
    /// Partitions per CA: each a CRL with an issuingDistributionPoint (1 = one full CRL).
    #[arg(long, default_value_t = 1)]
    pub partitions: u32,
    /// thisUpdate of the CRLs (nextUpdate is one day later).
    #[arg(long, value_name = "TIME", default_value = crlbatch_gen::DEFAULT_THIS_UPDATE)]
    pub this_update: String,
    /// cRLNumber of the CRLs.
    #[arg(long, default_value_t = 1)]
    pub crl_number: u64,
    /// Only write CRLs of these CAs (sign-2019, sign-2023, auth-2019, auth-2023); repeatable.
    #[arg(long, value_name = "CA")]
    pub only: Vec<String>,
    /// Entries per CA with 16..=20-octet serials (default: entries/5000, at least 1).
    #[arg(long)]
    pub long_serials: Option<u64>,
    /// Also write M PPID-linked certificate records (records/*.parquet) with their
    /// expected verdicts (expected/expected.parquet) at --record-at.
    #[arg(long, value_name = "M", default_value_t = 0)]
    pub records: u64,
    /// Number of records files.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub record_files: usize,
    /// Also write JPKI-shaped signing certificates with the basic four information for N PPIDs:
    /// four/before/certs.parquet (at snapshot time), four/after/certs.parquet (the latest: changes
    /// of address, name, ...; old certificates revoked for affiliationChanged on the generated CRL)
    /// and four/expected.parquet (what `crlbatch four diff` must find).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub four: u64,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct InspectArgs {
    /// The CRL file (DER or PEM).
    pub crl: PathBuf,
    /// CA certificate to verify against (DER or PEM).
    #[arg(long, value_name = "CERT")]
    pub ca: Option<PathBuf>,
    #[command(flatten)]
    pub at: AtArg,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args, Clone)]
pub struct LimitArgs {
    /// Largest CRL accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = crlbatch_crl::DEFAULT_MAX_CRL_BYTES)]
    pub max_crl_size: u64,
    /// Most entries accepted in one CRL.
    #[arg(long, value_name = "N", default_value_t = crlbatch_crl::DEFAULT_MAX_ENTRIES)]
    pub max_entries: u64,
}

/// Whether to record the SHA-256 of each CRL file in the index metadata.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FileDigestArg {
    /// Also hash the whole file (a second SHA-256 pass beside the signature digest).
    Sha256,
    /// Record only the signature digest over tbsCertList, which identifies the signed content.
    Skip,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct IndexArgs {
    /// CA certificate the CRLs must verify against.
    #[arg(long, value_name = "CERT")]
    pub ca: PathBuf,
    /// CRL files of this CA: one full CRL, or several partitions (each with an issuingDistributionPoint).
    #[arg(long, value_name = "CRL", num_args = 1.., required = true)]
    pub crl: Vec<PathBuf>,
    /// Index folder; the index is written to DIR/<issuer kid>.crlidx atomically: to a temporary file
    /// in DIR (with one CRL, mostly while the CRL is parsed), renamed into place once complete and
    /// synced, removed if the CRL is rejected.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub at: AtArg,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
    /// The index metadata always records the signature digest over tbsCertList (the CRL's signed
    /// content); `sha256` also records the SHA-256 of each file's bytes, at the cost of a second hash
    /// pass (jobs always record it: they use it to notice changed files).
    #[arg(long, value_enum, default_value_t = FileDigestArg::Skip)]
    pub file_digest: FileDigestArg,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct StatusArgs {
    /// Index folder written by `crlbatch index`.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["ca", "crl"])]
    pub index: Option<PathBuf>,
    /// Issuer key identifier (hex) to select in an index folder holding several.
    #[arg(long, value_name = "KID", requires = "index")]
    pub issuer: Option<String>,
    /// CA certificate (with --crl): verify and index the CRLs in memory.
    #[arg(long, value_name = "CERT", requires = "crl")]
    pub ca: Option<PathBuf>,
    /// CRL files of the CA (with --ca).
    #[arg(long, value_name = "CRL", num_args = 1.., requires = "ca")]
    pub crl: Vec<PathBuf>,
    #[command(flatten)]
    pub at: AtArg,
    /// Serial numbers, hex (either case, leading zeros and colons allowed, leading - for negative).
    #[arg(long, value_name = "HEX", num_args = 1.., required_unless_present = "serials_from")]
    pub serial: Vec<String>,
    /// A file with one serial per line ("-" for standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "serial")]
    pub serials_from: Option<PathBuf>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
#[command(after_help = exit::TABLE)]
pub struct DiffArgs {
    /// The older index file (.crlidx).
    pub old: PathBuf,
    /// The newer index file (.crlidx) of the same issuer.
    pub new: PathBuf,
    /// One JSON object per line, then a summary object.
    #[arg(long)]
    pub json: bool,
}
