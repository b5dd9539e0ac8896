//! `crlbatch gen`

use crlbatch_crl::Timestamp;
use crlbatch_gen::{generate, GenOptions};

use crate::args::GenArgs;
use crate::exit::{CliError, CliResult};

pub fn run(a: GenArgs) -> CliResult {
    let this_update =
        Timestamp::parse_rfc3339(&a.this_update).map_err(|e| CliError::new(2, format!("--this-update: {e}")))?;
    let known: Vec<String> = crlbatch_gen::default_cas().iter().map(|c| c.name()).collect();
    if let Some(bad) = a.only.iter().find(|o| !known.contains(o)) {
        return Err(CliError::new(2, format!("--only {bad}: unknown CA (one of {})", known.join(", "))));
    }
    let opts = GenOptions {
        out: a.out.clone(),
        seed: a.seed,
        entries: a.entries,
        partitions: a.partitions,
        this_update,
        crl_number: a.crl_number,
        only: a.only,
        long_serials: a.long_serials,
        records: a.records,
        record_files: a.record_files,
        four: a.four,
    };
    let started = std::time::Instant::now();
    let m = generate(&opts)?;
    let crls: usize = m.cas.iter().map(|c| c.crls.len()).sum();
    let bytes: u64 = m.cas.iter().flat_map(|c| &c.crls).map(|c| c.bytes).sum();
    tracing::info!(
        "generated {} CAs and {crls} CRLs ({bytes} bytes) in {} in {:.2} s",
        m.cas.len(),
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
