//! The entry decoder's fast path against its general decoder, on arbitrary
//! bytes taken as a revokedCertificates body: both must give the same
//! columns (serials, times, reasons, invalidity dates, long serials) and
//! the same error. The fast path reads the common layouts straight from the
//! bytes; any disagreement is a wrong answer, not just a crash.
#![no_main]

use crlbatch_crl::{decode_entries, decode_entries_general, EntryColumns};
use libfuzzer_sys::fuzz_target;

fn columns(c: &EntryColumns) -> impl PartialEq + std::fmt::Debug + '_ {
    (&c.serials, &c.times, &c.reasons, &c.time_overflow, &c.invalidity, &c.long)
}

fuzz_target!(|data: &[u8]| {
    let mut fast = EntryColumns::default();
    let mut general = EntryColumns::default();
    let a = decode_entries(data, &mut fast);
    let b = decode_entries_general(data, &mut general);
    assert_eq!(a, b);
    assert_eq!(columns(&fast), columns(&general));
});
