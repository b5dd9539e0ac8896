//! One module per subcommand: each turns its arguments into real objects and
//! runs the library crates.

pub mod diff;
pub mod export;
pub mod four;
pub mod gen;
pub mod index;
pub mod inspect;
pub mod run;
pub mod schedule;
pub mod status;

use crlbatch_crl::{CaCert, Limits, ParseOptions, Timestamp};

use crate::args::{AtArg, LimitArgs};
use crate::exit::{self, CliError, CliResult};

/// The evaluation time: `--at` or now.
pub fn at(a: &AtArg) -> CliResult<Timestamp> {
    match &a.at {
        None => Ok(Timestamp::now()),
        Some(s) => Timestamp::parse_rfc3339(s).map_err(|e| CliError::new(2, format!("--at: {e}"))),
    }
}

pub fn parse_options(l: &LimitArgs, file_digest: crlbatch_crl::FileDigest) -> ParseOptions {
    ParseOptions { limits: Limits { max_crl_bytes: l.max_crl_size, max_entries: l.max_entries }, file_digest }
}

pub fn load_ca(path: &std::path::Path) -> CliResult<CaCert> {
    CaCert::from_file(path).map_err(|e| {
        let code = CliError::from(e.clone()).code;
        CliError::new(code, format!("{}: {e}", path.display()))
    })
}

/// `serde_json` to stdout, one line.
pub fn print_json(v: &serde_json::Value) -> CliResult {
    let s = serde_json::to_string(v).map_err(|e| CliError::new(exit::SOFTWARE, e.to_string()))?;
    println!("{s}");
    Ok(())
}
