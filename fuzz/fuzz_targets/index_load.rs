//! The index loader on arbitrary bytes: a corrupt, truncated or hostile
//! index file is refused with an error; one that loads answers lookups.
#![no_main]

use crlbatch_crl::Serial;
use crlbatch_index::RevocationIndex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut idx) = RevocationIndex::from_bytes(data, "fuzz.crlidx") {
        let n = idx.iter().take(1000).count();
        let _ = n;
        idx.compact();
        for v in [0u64, 1, 1_000, u64::MAX] {
            let _ = idx.lookup_u64(v);
            let _ = idx.lookup(&Serial::from_u64(v));
        }
        let _ = idx.meta().usable_at(crlbatch_crl::Timestamp(1_795_000_000));
    }
});
