//! `crlbatch index`

use std::path::Path;
use std::time::Instant;

use serde_json::json;

use crlbatch_crl::FileDigest;
use crlbatch_index::{index_crl_streamed, index_crls, index_file_name, IndexError, TimeStream};

use crate::args::{FileDigestArg, IndexArgs};
use crate::cmd;
use crate::exit::{CliError, CliResult};

pub fn run(a: IndexArgs) -> CliResult {
    let started = Instant::now();
    let at = cmd::at(&a.at)?;
    let ca = cmd::load_ca(&a.ca)?;
    let digest = match a.file_digest {
        FileDigestArg::Sha256 => FileDigest::Sha256,
        FileDigestArg::Skip => FileDigest::Skip,
    };
    let opts = cmd::parse_options(&a.limits, digest);
    let names: Vec<(String, &Path)> = a.crl.iter().map(|p| (p.display().to_string(), p.as_path())).collect();
    let path = a.out.join(index_file_name(&ca.kid_hex()));
    let cantcreat = |e: IndexError| {
        let mut err = CliError::from(e);
        err.code = crate::exit::CANTCREAT;
        err
    };
    // One CRL: its revocation times are written to the index file while it
    // is parsed (crlbatch_index::TimeStream); several (partitions) are
    // merged first. The index is not needed once written: its memory is
    // freed while the file goes to disk.
    let (built, m) = match names.as_slice() {
        [(name, crl)] => {
            // The folder is made before the parse (for the stream's file):
            // removed again, if new, when nothing is written to it.
            let made = !a.out.exists();
            let run = || -> Result<_, CliError> {
                let stream = TimeStream::create(&path).map_err(cantcreat)?;
                let index = index_crl_streamed(&ca, (name, crl), at, &opts, stream)?;
                Ok((started.elapsed(), index.save_and_free(&path).map_err(cantcreat)?))
            };
            run().inspect_err(|_| {
                if made {
                    let _ = std::fs::remove_dir(&a.out);
                }
            })?
        }
        _ => {
            let index = index_crls(&ca, &names, at, &opts)?;
            (started.elapsed(), index.save_and_free(&path).map_err(cantcreat)?)
        }
    };
    let total = started.elapsed();
    let size = std::fs::metadata(&path).map(|md| md.len()).unwrap_or(0);
    if a.json {
        cmd::print_json(&json!({
            "issuer_kid": m.issuer_kid,
            "issuer": m.issuer,
            "path": path.display().to_string(),
            "entries": m.entries,
            "duplicates": m.duplicates,
            "long_serials": m.long_serials,
            "index_bytes": size,
            "crls": m.crls,
            "seconds_build": built.as_secs_f64(),
            "seconds_total": total.as_secs_f64(),
        }))?;
    } else {
        tracing::info!(
            "indexed {} entries ({} duplicates, {} long serials) from {} CRL(s) for issuer {} into {} ({size} bytes) in {:.3} s",
            m.entries,
            m.duplicates,
            m.long_serials,
            m.crls.len(),
            m.issuer_kid,
            path.display(),
            total.as_secs_f64()
        );
    }
    Ok(())
}
