//! Exit codes (sysexits-style) and the one error type of the binary's edge.
//!
//! | code | name        | meaning |
//! |------|-------------|---------|
//! | 0    | OK          | success |
//! | 2    | USAGE       | bad command line (from clap) |
//! | 65   | DATAERR     | bad input data: malformed/rejected CRL, bad serial, corrupt index |
//! | 66   | NOINPUT     | an input file cannot be opened |
//! | 70   | SOFTWARE    | internal error (a bug) |
//! | 69   | UNAVAILABLE | another run of the same job holds its lock |
//! | 73   | CANTCREAT   | an output cannot be created |
//! | 74   | IOERR       | I/O error while reading or writing |
//! | 75   | TEMPFAIL    | try again later: CRL stale or not yet valid |
//! | 78   | CONFIG      | bad configuration |

use std::fmt;

pub const OK: u8 = 0;
pub const USAGE: u8 = 2;
pub const DATAERR: u8 = 65;
pub const NOINPUT: u8 = 66;
pub const SOFTWARE: u8 = 70;
pub const CANTCREAT: u8 = 73;
pub const IOERR: u8 = 74;
pub const TEMPFAIL: u8 = 75;
pub const CONFIG: u8 = 78;

/// The exit-code table shown by `--help`.
pub const TABLE: &str = "Exit codes: 0 ok; 2 usage; 65 bad input data (malformed or rejected CRL, bad serial, corrupt index); \
66 input missing; 69 another run of the job in progress; 70 internal error; 73 cannot create output; 74 I/O error; 75 temporary (stale or not-yet-valid CRL: retry later); 78 bad configuration.";

/// An error with its exit code; printed as one line.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<crlbatch_crl::CrlError> for CliError {
    fn from(e: crlbatch_crl::CrlError) -> Self {
        let code = match e {
            crlbatch_crl::CrlError::Io(_) => NOINPUT,
            _ => DATAERR,
        };
        CliError::new(code, e.to_string())
    }
}

impl From<crlbatch_crl::CertError> for CliError {
    fn from(e: crlbatch_crl::CertError) -> Self {
        let code = match e {
            crlbatch_crl::CertError::Io(_) => NOINPUT,
            _ => DATAERR,
        };
        CliError::new(code, e.to_string())
    }
}

impl From<crlbatch_index::IndexError> for CliError {
    fn from(e: crlbatch_index::IndexError) -> Self {
        let code = match e {
            crlbatch_index::IndexError::Io { .. } => NOINPUT,
            _ => DATAERR,
        };
        CliError::new(code, e.to_string())
    }
}

impl From<crlbatch_index::Rejection> for CliError {
    fn from(e: crlbatch_index::Rejection) -> Self {
        let code = match &e {
            crlbatch_index::Rejection::Parse { error: crlbatch_crl::CrlError::Io(_), .. } => NOINPUT,
            r if r.is_temporary() => TEMPFAIL,
            _ => DATAERR,
        };
        CliError::new(code, e.to_string())
    }
}

impl From<crlbatch_index::StreamedIndexError> for CliError {
    fn from(e: crlbatch_index::StreamedIndexError) -> Self {
        match e {
            crlbatch_index::StreamedIndexError::Rejected(r) => r.into(),
            // The index file being written failed.
            crlbatch_index::StreamedIndexError::Output(o) => CliError::new(CANTCREAT, o.to_string()),
        }
    }
}

impl From<crlbatch_gen::GenError> for CliError {
    fn from(e: crlbatch_gen::GenError) -> Self {
        let code = match e {
            crlbatch_gen::GenError::Io(_) => CANTCREAT,
            _ => SOFTWARE,
        };
        CliError::new(code, e.to_string())
    }
}

/// The exit-code table of `crlbatch run`.
pub const RUN_TABLE: &str = "Exit codes of run: 0 all CRLs fresh and verified, outputs written; 65 a CRL was rejected \
(malformed, bad signature, another CA, delta, rollback, over the size limit: its certificates are unknown, or checked against \
the last good CRL), outputs written; 75 retry later, outputs written: a CRL is stale or not yet valid (its certificates are \
unknown), a source could not be fetched (network, timeout, HTTP error), or a source still serves a CRL over a day old \
(the publisher has not issued the next one yet); with --shard (and commit): 75 also when the shards to commit \
saw other CRLs or inputs (run them all again) or, for commit, when some have not finished; \
65 also for unreadable records (no outputs); 66 records path missing; 69 another run of this job is in progress (nothing \
done); 73/74 outputs cannot be written; 78 bad job file (or, with [four], its key missing or wrong).";

/// The exit codes of `crlbatch schedule`.
pub const SCHEDULE_TABLE: &str = "Exit codes of schedule: 0 stopped cleanly by SIGTERM or SIGINT (a run in progress is \
completed first; no partial output), or --dry-run printed; 69 another scheduler uses the same state file; 74 the state file \
cannot be read or written; 78 a job file is invalid or has no schedule. The exit code of each run is logged, not returned.";

/// The exit codes of `crlbatch four`.
pub const FOUR_TABLE: &str = "Exit codes of four: 0 written (rows that could not be read are in the rejects file, counted in \
the log); 65 an input is not Parquet of the expected columns, or the snapshot is damaged; 66 an input or the index folder is \
missing; 73/74 outputs cannot be written; 78 the key is missing, too short, or not the snapshot's key.";

impl From<crlbatch_four::FourError> for CliError {
    fn from(e: crlbatch_four::FourError) -> Self {
        use crlbatch_four::FourError as E;
        let code = match &e {
            E::Missing { .. } => NOINPUT,
            E::Input { .. } | E::Snapshot { .. } | E::TooLarge { .. } => DATAERR,
            E::Key(_) | E::WrongKey { .. } => CONFIG,
            E::Write(_) => CANTCREAT,
            _ => SOFTWARE,
        };
        CliError::new(code, e.to_string())
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
