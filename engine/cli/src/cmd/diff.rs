//! `crlbatch diff`

use std::io::Write;

use serde_json::json;

use crlbatch_index::{diff, Revocation, RevocationIndex};

use crate::args::DiffArgs;
use crate::exit::{self, CliError, CliResult};

fn entry(change: &str, serial: &crlbatch_crl::Serial, r: &Revocation) -> serde_json::Value {
    json!({
        "change": change,
        "serial": serial.to_string(),
        "reason": r.reason.map(|x| x.name()),
        "reason_code": r.reason.map(|x| x.code()),
        "revocation_time": r.revocation_time,
        "invalidity_time": r.invalidity_time,
    })
}

pub fn run(a: DiffArgs) -> CliResult {
    let old = RevocationIndex::load(&a.old)?;
    let new = RevocationIndex::load(&a.new)?;
    let d = diff(&old, &new)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| CliError::new(exit::IOERR, format!("stdout: {e}"));
    for (s, r) in &d.added {
        if a.json {
            writeln!(out, "{}", entry("added", s, r)).map_err(io)?;
        } else {
            writeln!(out, "+ {s}\t{}\t{}", r.reason.map_or("-", |x| x.name()), r.revocation_time).map_err(io)?;
        }
    }
    for (s, r) in &d.removed {
        if a.json {
            writeln!(out, "{}", entry("removed", s, r)).map_err(io)?;
        } else {
            writeln!(out, "- {s}\t{}\t{}", r.reason.map_or("-", |x| x.name()), r.revocation_time).map_err(io)?;
        }
    }
    for (s, _, r) in &d.changed {
        if a.json {
            writeln!(out, "{}", entry("changed", s, r)).map_err(io)?;
        } else {
            writeln!(out, "~ {s}\t{}\t{}", r.reason.map_or("-", |x| x.name()), r.revocation_time).map_err(io)?;
        }
    }
    if a.json {
        writeln!(
            out,
            "{}",
            json!({"summary": {"issuer_kid": new.meta().issuer_kid, "added": d.added.len(), "removed": d.removed.len(), "changed": d.changed.len()}})
        )
        .map_err(io)?;
    } else {
        tracing::info!("{} added, {} removed, {} changed", d.added.len(), d.removed.len(), d.changed.len());
    }
    out.flush().map_err(io)?;
    Ok(())
}
