//! Property tests (proptest): serial numbers of every length from 1 to 20
//! octets, negative ones included, round-trip exactly between DER, the
//! canonical hex text and every accepted input form.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crlbatch_crl::{Serial, MAX_SERIAL_OCTETS};
use proptest::prelude::*;

/// A magnitude of 1 to 20 octets without leading zeros, and a sign.
fn serial_parts() -> impl Strategy<Value = (bool, Vec<u8>)> {
    (any::<bool>(), prop::collection::vec(any::<u8>(), 1..=MAX_SERIAL_OCTETS)).prop_map(|(neg, mut mag)| {
        if mag[0] == 0 {
            mag[0] = 1;
        }
        (neg, mag)
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn der_integer_round_trips((neg, mag) in serial_parts()) {
        let s = Serial::from_magnitude(neg, &mag).unwrap();
        prop_assert_eq!(s.magnitude(), &mag[..]);
        prop_assert_eq!(s.is_negative(), neg);
        let der = s.to_der_integer();
        prop_assert_eq!(Serial::from_der_integer(&der).unwrap(), s);
        // Minimal two's complement: no redundant leading octet.
        if der.len() > 1 {
            let redundant = (der[0] == 0 && der[1] & 0x80 == 0) || (der[0] == 0xff && der[1] & 0x80 != 0);
            prop_assert!(!redundant, "not minimal: {}", hex(&der));
        }
    }

    #[test]
    fn canonical_hex_round_trips((neg, mag) in serial_parts()) {
        let s = Serial::from_magnitude(neg, &mag).unwrap();
        let text = s.to_string();
        let digits = hex(&mag);
        let want = format!("{}{}", if neg { "-" } else { "" }, digits.trim_start_matches('0'));
        prop_assert_eq!(&text, &want);
        prop_assert_eq!(Serial::parse_hex(&text).unwrap(), s);
    }

    #[test]
    fn every_accepted_input_form_parses_to_the_same_serial(
        (neg, mag) in serial_parts(),
        zeros in 0usize..4,
        upper in any::<bool>(),
    ) {
        let s = Serial::from_magnitude(neg, &mag).unwrap();
        let mut digits = format!("{}{}", "0".repeat(zeros), hex(&mag));
        if upper {
            digits = digits.to_uppercase();
        }
        let colons: String = digits
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(":");
        let sign = if neg { "-" } else { "" };
        prop_assert_eq!(Serial::parse_hex(&format!("{sign}{digits}")).unwrap(), s);
        prop_assert_eq!(Serial::parse_hex(&format!("{sign}{colons}")).unwrap(), s);
    }

    #[test]
    fn u64_serials_take_the_fast_path_exactly(v in 1u64..) {
        let s = Serial::from_u64(v);
        prop_assert_eq!(s.to_u64(), Some(v));
        prop_assert_eq!(Serial::parse_hex(&format!("{v:x}")).unwrap(), s);
        let mag = v.to_be_bytes();
        let first = mag.iter().position(|&b| b != 0).unwrap();
        prop_assert_eq!(Serial::from_magnitude(false, &mag[first..]).unwrap(), s);
        prop_assert_eq!(Serial::from_magnitude(true, &mag[first..]).unwrap().to_u64(), None);
    }

    #[test]
    fn over_twenty_octets_is_refused(extra in 1usize..4, b in 1u8..) {
        let mag = vec![b; MAX_SERIAL_OCTETS + extra];
        prop_assert!(Serial::from_magnitude(false, &mag).is_err());
        prop_assert!(Serial::parse_hex(&hex(&mag)).is_err());
    }
}
