//! `crlbatch`: the thin binary. Parses arguments, runs a command from the
//! library crates, maps errors to one line on stderr and a sysexits-style
//! exit code (see `exit.rs` and the README).

mod args;
mod cmd;
mod exit;
mod logging;
mod malloc;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::logging::Logging;

fn main() -> ExitCode {
    // A panic is a bug: one line, then exit 101. Inside the Parquet decoder
    // fence a panic is a malformed input, reported as an error by the caller.
    let cli = Cli::parse();
    // The job's check allocates and frees Parquet buffers all night long:
    // keep them in the heap (see malloc.rs). Not for `index`, whose few
    // large buffers are better returned.
    if matches!(cli.command, Command::Run(_) | Command::Commit(_) | Command::Schedule(_)) {
        malloc::tune();
    }
    let logging = Logging::init(cli.log_format, cli.progress);
    let json = logging.json;
    std::panic::set_hook(Box::new(move |info| {
        if !crlbatch_check::guard::decoding() {
            let m = format!("internal error (a bug, please report): {}", info.to_string().replace('\n', " "));
            if json {
                eprintln!("{}", serde_json::json!({"level": "ERROR", "message": m, "exit_code": 101}));
            } else {
                eprintln!("crlbatch: {m}");
            }
        }
    }));
    let result = match cli.command {
        Command::Gen(a) => cmd::gen::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Index(a) => cmd::index::run(a),
        Command::Status(a) => cmd::status::run(a),
        Command::Diff(a) => cmd::diff::run(a),
        Command::Run(a) => cmd::run::run(a, &logging),
        Command::Commit(a) => cmd::run::commit(a),
        Command::Validate(a) => cmd::run::validate(a),
        Command::Schedule(a) => cmd::schedule::run(a),
        Command::Completions(a) => {
            use clap::CommandFactory;
            clap_complete::generate(a.shell, &mut Cli::command(), "crlbatch", &mut std::io::stdout());
            Ok(())
        }
        Command::Export(a) => cmd::export::run(a),
        Command::Four(c) => cmd::four::run(c),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            // One line, no personal data: messages name files, offsets and
            // serial positions, never record contents.
            logging.error(e.code, &e.message);
            ExitCode::from(e.code)
        }
    }
}
