//! CA certificates: the sample parses, and a broken validity time is named
//! as such (with its byte), not as truncation.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use crlbatch_crl::{CaCert, CertError, KidSource, TimeErrorKind};

fn sample() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample/ca/sign-2023.der")).unwrap()
}

#[test]
fn sample_ca_parses() {
    let ca = CaCert::from_der(&sample()).unwrap();
    assert_eq!(
        ca.subject,
        "C=JP, O=JPKI, OU=JPKI for digital signature, OU=Japan Agency for Local Authority Information Systems"
    );
    assert_eq!(ca.kid_source, KidSource::SubjectKeyIdentifier);
    assert_eq!(ca.kid.len(), 20);
    assert!(ca.allows_crl_sign());
    assert_eq!(ca.not_before.to_string(), "2023-04-01T00:00:00Z");
}

#[test]
fn invalid_validity_time_is_reported_as_such() {
    let mut der = sample();
    // notBefore 230401000000Z: make the month 13.
    let at = der.windows(13).position(|w| w == b"230401000000Z").unwrap();
    der[at + 2] = b'1';
    der[at + 3] = b'3';
    assert_eq!(
        CaCert::from_der(&der).unwrap_err(),
        CertError::InvalidTime { offset: at as u64 - 2, kind: TimeErrorKind::OutOfRange }
    );
}
