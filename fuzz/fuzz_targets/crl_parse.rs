//! The CRL parser and verifier on arbitrary bytes: parse (DER or PEM) with
//! the file digest, then verify against a JPKI-like CA and check
//! completeness; then index them. Must never panic, whatever the bytes.
#![no_main]

use crlbatch_crl::{parse_bytes, verify_crl, CaCert, FileDigest, Limits, ParseOptions, Timestamp};
use libfuzzer_sys::fuzz_target;

static CA: &[u8] = include_bytes!("../../data/sample/ca/sign-2023.der");

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions {
        limits: Limits { max_crl_bytes: 1 << 20, max_entries: 100_000 },
        file_digest: FileDigest::Sha256,
    };
    let Ok(ca) = CaCert::from_der(CA) else { return };
    if let Ok(crl) = parse_bytes(data, &opts) {
        let _ = verify_crl(&crl.info, &ca);
        let _ = crlbatch_index::completeness(&crl.info);
        let _ = crlbatch_index::admit("fuzz", &crl.info, &ca, Timestamp(1_795_000_000));
        let _ = crlbatch_index::count_duplicates(&crl.entries);
    }
});
