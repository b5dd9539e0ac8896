//! The records reader on arbitrary bytes as a Parquet file: schema checks,
//! then the check itself (no CA configured: every certificate `unknown`),
//! writing results and rejects. Errors are fine; panics are not.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use crlbatch_check::{check, open_inputs, CheckConfig, CheckOutputs, Emit, Issuers, KeyView};
use libfuzzer_sys::fuzz_target;

static N: AtomicU64 = AtomicU64::new(0);

static HOOK: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    // libFuzzer's hook aborts on any panic; the binary's own hook lets the
    // Parquet decoder fence turn decoder panics into errors, so do the same:
    // only a panic outside the fence is a finding.
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !crlbatch_check::guard::decoding() {
                abort(info);
            }
        }));
    });
    let base = std::env::temp_dir().join(format!("crlbatch-fuzz-records-{}", std::process::id()));
    let dir = base.join(N.fetch_add(1, Ordering::Relaxed).to_string());
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let file = dir.join("records.parquet");
    if std::fs::write(&file, data).is_ok() {
        if let Ok(files) = open_inputs(&file) {
            let cfg = CheckConfig {
                records: file.clone(),
                at: crlbatch_crl::Timestamp(1_795_000_000),
                emit: Emit::All,
                run_id: "fuzz".into(),
                threads: 1,
                key_buffer_keys: 0,
                shard: None,
                progress: None,
            };
            let outputs = CheckOutputs {
                results_dir: dir.join("results"),
                rejects_dir: dir.join("rejects"),
                keys: dir.join("flagged.keys"),
            };
            let _ = check(&cfg, &files, &Issuers::new(), KeyView::EMPTY, &outputs);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
});
