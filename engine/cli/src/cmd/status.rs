//! `crlbatch status`

use std::io::BufRead;
use std::path::Path;

use serde_json::json;

use crlbatch_crl::{FileDigest, Serial};
use crlbatch_index::{index_crls, RevocationIndex, Status};

use crate::args::StatusArgs;
use crate::cmd;
use crate::exit::{self, CliError, CliResult};

/// Longest line of a --serials-from file (a serial is at most 41 characters
/// plus separators).
const MAX_LINE_BYTES: u64 = 4096;

/// Most serials read from one --serials-from file.
const MAX_SERIALS: usize = 50_000_000;

fn read_serials(a: &StatusArgs) -> CliResult<Vec<Serial>> {
    let mut out = Vec::new();
    let parse = |out: &mut Vec<Serial>, text: &str, place: String| -> CliResult {
        let s = Serial::parse_hex(text.trim()).map_err(|e| CliError::new(exit::DATAERR, format!("{place}: {e}")))?;
        out.push(s);
        Ok(())
    };
    match &a.serials_from {
        None => {
            for (i, s) in a.serial.iter().enumerate() {
                parse(&mut out, s, format!("--serial #{}", i + 1))?;
            }
        }
        Some(path) => {
            let mut reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                let f = std::fs::File::open(path)
                    .map_err(|e| CliError::new(exit::NOINPUT, format!("{}: {e}", path.display())))?;
                Box::new(std::io::BufReader::new(f))
            };
            let mut i = 0usize;
            let mut buf = Vec::new();
            loop {
                buf.clear();
                i += 1;
                // A serial line is short: read at most MAX_LINE_BYTES + 1 of it.
                let n = std::io::Read::take(&mut reader, MAX_LINE_BYTES + 1)
                    .read_until(b'\n', &mut buf)
                    .map_err(|e| CliError::new(exit::IOERR, format!("{}: {e}", path.display())))?;
                if n == 0 {
                    break;
                }
                if n as u64 > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                    return Err(CliError::new(exit::DATAERR, format!("{} line {i}: line too long", path.display())));
                }
                let Ok(line) = std::str::from_utf8(&buf) else {
                    return Err(CliError::new(exit::DATAERR, format!("{} line {i}: not UTF-8", path.display())));
                };
                if line.trim().is_empty() || line.trim_start().starts_with('#') {
                    continue;
                }
                if out.len() >= MAX_SERIALS {
                    return Err(CliError::new(
                        exit::DATAERR,
                        format!("{}: more than {MAX_SERIALS} serials", path.display()),
                    ));
                }
                parse(&mut out, line, format!("{} line {i}", path.display()))?;
            }
        }
    }
    Ok(out)
}

fn load_from_dir(dir: &Path, issuer: Option<&str>) -> CliResult<RevocationIndex> {
    if let Some(kid) = issuer {
        let kid = kid.to_ascii_lowercase().replace(':', "");
        return Ok(RevocationIndex::load(&dir.join(crlbatch_index::index_file_name(&kid)))?);
    }
    let files = crlbatch_index::index_files(dir)
        .map_err(|e| CliError::new(exit::NOINPUT, format!("{}: {e}", dir.display())))?;
    match files.as_slice() {
        [] => Err(CliError::new(exit::NOINPUT, format!("{}: no index (*.crlidx) in this folder", dir.display()))),
        [one] => Ok(RevocationIndex::load(one)?),
        many => {
            let kids: Vec<String> =
                many.iter().filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned())).collect();
            Err(CliError::new(
                2,
                format!(
                    "{} holds {} indexes; pass --issuer KID (one of {})",
                    dir.display(),
                    many.len(),
                    kids.join(", ")
                ),
            ))
        }
    }
}

pub fn run(a: StatusArgs) -> CliResult {
    let at = cmd::at(&a.at)?;
    let serials = read_serials(&a)?;
    // Either an index, or the reason every answer is unknown.
    let (index, unusable): (Option<RevocationIndex>, Option<String>) = match (&a.index, &a.ca) {
        (Some(dir), _) => (Some(load_from_dir(dir, a.issuer.as_deref())?), None),
        (None, Some(ca_path)) => {
            let ca = cmd::load_ca(ca_path)?;
            let opts = cmd::parse_options(&a.limits, FileDigest::Skip);
            let names: Vec<(String, &Path)> = a.crl.iter().map(|p| (p.display().to_string(), p.as_path())).collect();
            match index_crls(&ca, &names, at, &opts) {
                Ok(i) => (Some(i), None),
                Err(crlbatch_index::Rejection::Parse { error: crlbatch_crl::CrlError::Io(m), source_name }) => {
                    return Err(CliError::new(exit::NOINPUT, format!("{source_name}: {m}")))
                }
                Err(r) => (None, Some(r.detail())),
            }
        }
        (None, None) => return Err(CliError::new(2, "give --index DIR, or --ca CERT with --crl CRL...")),
    };
    let issuer_kid = index.as_ref().map(|i| i.meta().issuer_kid.clone());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    use std::io::Write;
    for s in &serials {
        let status = match (&index, &unusable) {
            (Some(i), _) => i.status(s, at),
            (None, Some(why)) => Status::Unknown(why.clone()),
            (None, None) => Status::Unknown("no index".to_owned()),
        };
        let (reason, rt, it, detail) = match &status {
            Status::Revoked(r) => (r.reason, Some(r.revocation_time), r.invalidity_time, None),
            Status::Unknown(why) => (None, None, None, Some(why.clone())),
            Status::Good => (None, None, None, None),
        };
        let line = if a.json {
            json!({
                "serial": s.to_string(),
                "status": status.name(),
                "reason": reason.map(|r| r.name()),
                "reason_code": reason.map(|r| r.code()),
                "revocation_time": rt,
                "invalidity_time": it,
                "detail": detail,
                "issuer_kid": issuer_kid,
            })
            .to_string()
        } else {
            format!(
                "{}\t{}\t{}\t{}\t{}",
                s,
                status.name(),
                reason.map_or("-", |r| r.name()),
                rt.map_or("-".to_owned(), |t| t.to_string()),
                detail.unwrap_or_else(|| "-".to_owned())
            )
        };
        writeln!(out, "{line}").map_err(|e| CliError::new(exit::IOERR, format!("stdout: {e}")))?;
    }
    out.flush().map_err(|e| CliError::new(exit::IOERR, format!("stdout: {e}")))?;
    Ok(())
}
