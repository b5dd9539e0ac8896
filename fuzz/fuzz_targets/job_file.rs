//! The job file parser on arbitrary text: syntax, unknown keys, values,
//! paths. Errors are fine; panics are not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crlbatch_job::Job::from_toml(text, std::path::Path::new("/nonexistent/jobs/fuzz.toml"));
    }
});
