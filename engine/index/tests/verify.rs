//! Verification against CA certificates: the JPKI generations share one DN,
//! so the key decides; every supported algorithm; freshness and completeness.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

mod common;

use common::*;
use crlbatch_crl::{parse_path, verify_crl, CaCert, Freshness, ParseOptions, Reason, VerifyError};
use crlbatch_gen::{Ca, CaCertOptions, CaSpec, CrlParams, Hierarchy, KeyKind, SigAlg};
use crlbatch_index::{admit, index_crls, Rejection, Status};

fn entries() -> Vec<crlbatch_gen::GenEntry> {
    vec![
        entry("1000", "2025-01-01T00:00:00Z", Some(Reason::AffiliationChanged)),
        entry("1005", "2025-02-01T00:00:00Z", Some(Reason::CertificateHold)),
        entry("100a", "2025-03-01T00:00:00Z", None),
    ]
}

#[test]
fn right_generation_verifies_and_other_generation_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let new = ca(Hierarchy::Sign, 2023);
    let old = ca(Hierarchy::Sign, 2019);
    let path = write(dir.path(), "s.crl", new, &daily(), &entries());
    let crl = parse_path(&path, &ParseOptions::default()).unwrap();
    assert_eq!(verify_crl(&crl.info, &ca_cert(new)), Ok(()));
    // Same DN, other key: the authorityKeyIdentifier tells them apart.
    assert_eq!(
        verify_crl(&crl.info, &ca_cert(old)),
        Err(VerifyError::AuthorityKeyIdMismatch { crl_aki: new.kid_hex(), ca_kid: old.kid_hex() })
    );
    // Without an authorityKeyIdentifier, the signature tells them apart.
    let mut p = daily();
    p.authority_key_id = false;
    let path = write(dir.path(), "noaki.crl", new, &p, &entries());
    let crl = parse_path(&path, &ParseOptions::default()).unwrap();
    assert_eq!(verify_crl(&crl.info, &ca_cert(new)), Ok(()));
    assert_eq!(verify_crl(&crl.info, &ca_cert(old)), Err(VerifyError::SignatureInvalid { kid: old.kid_hex() }));
}

#[test]
fn other_hierarchy_is_an_issuer_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.crl", ca(Hierarchy::Sign, 2023), &daily(), &entries());
    let crl = parse_path(&path, &ParseOptions::default()).unwrap();
    let err = verify_crl(&crl.info, &ca_cert(ca(Hierarchy::Auth, 2023))).unwrap_err();
    assert!(matches!(err, VerifyError::IssuerMismatch { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "CRL issuer \"C=JP, O=JPKI, OU=JPKI for digital signature, OU=Japan Agency for Local Authority Information Systems\" \
is not the CA subject \"C=JP, O=JPKI, OU=JPKI for user authentication, OU=Japan Agency for Local Authority Information Systems\""
    );
}

#[test]
fn a_flipped_bit_in_an_entry_breaks_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let path = write(dir.path(), "s.crl", c, &daily(), &entries());
    let mut bytes = std::fs::read(&path).unwrap();
    // Change the last serial 0x100a to 0x100b (still valid DER).
    let pos = bytes.windows(4).position(|w| w == [0x02, 0x02, 0x10, 0x0a]).unwrap();
    bytes[pos + 3] = 0x0b;
    let crl = crlbatch_crl::parse_bytes(&bytes, &ParseOptions::default()).unwrap();
    assert_eq!(verify_crl(&crl.info, &ca_cert(c)), Err(VerifyError::SignatureInvalid { kid: c.kid_hex() }));
}

#[test]
fn ca_without_crl_sign_is_refused() {
    let spec = CaSpec::new(Hierarchy::Sign, 2027);
    // keyCertSign only.
    let c = Ca::generate_with(&spec, SEED, &CaCertOptions { with_ski: true, key_usage: Some(0x04) }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.crl", &c, &daily(), &entries());
    let crl = parse_path(&path, &ParseOptions::default()).unwrap();
    assert_eq!(verify_crl(&crl.info, &ca_cert(&c)), Err(VerifyError::CaKeyUsage));
}

#[test]
fn kid_without_ski_is_sha1_of_the_public_key() {
    let spec = CaSpec::new(Hierarchy::Auth, 2027);
    let c = Ca::generate_with(&spec, SEED, &CaCertOptions { with_ski: false, key_usage: None }).unwrap();
    let cert = ca_cert(&c);
    assert_eq!(cert.kid_source, crlbatch_crl::KidSource::Sha1OfPublicKey);
    assert_eq!(cert.kid_hex(), c.kid_hex());
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.crl", &c, &daily(), &entries());
    let crl = parse_path(&path, &ParseOptions::default()).unwrap();
    assert_eq!(verify_crl(&crl.info, &cert), Ok(()));
}

#[test]
fn every_supported_algorithm_verifies_and_rejects_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (KeyKind::Rsa2048, SigAlg::RsaSha256, "sha256WithRSAEncryption"),
        (KeyKind::Rsa2048, SigAlg::RsaSha384, "sha384WithRSAEncryption"),
        (KeyKind::Rsa2048, SigAlg::RsaSha512, "sha512WithRSAEncryption"),
        (KeyKind::Rsa2048, SigAlg::RsaPssSha256, "rsassaPss-sha256"),
        (KeyKind::P256, SigAlg::EcdsaSha256, "ecdsa-with-SHA256"),
        (KeyKind::P384, SigAlg::EcdsaSha384, "ecdsa-with-SHA384"),
    ];
    let rsa = ca(Hierarchy::Auth, 2023);
    for (i, (kind, alg, name)) in cases.into_iter().enumerate() {
        let c = if kind == KeyKind::Rsa2048 {
            rsa.clone()
        } else {
            let mut spec = CaSpec::new(Hierarchy::Auth, 2030 + i as u16);
            spec.key = kind;
            Ca::generate(&spec, SEED).unwrap()
        };
        let mut p = daily();
        p.alg = Some(alg);
        let path = write(dir.path(), &format!("{i}.crl"), &c, &p, &entries());
        let crl = parse_path(&path, &ParseOptions::default()).unwrap();
        assert_eq!(crl.info.signature_algorithm.as_ref().unwrap().name(), name);
        assert_eq!(verify_crl(&crl.info, &ca_cert(&c)), Ok(()), "{name}");
        let mut bytes = std::fs::read(&path).unwrap();
        let pos = bytes.windows(2).position(|w| w == [0x10, 0x05]).unwrap();
        bytes[pos + 1] = 0x06;
        let bad = crlbatch_crl::parse_bytes(&bytes, &ParseOptions::default()).unwrap();
        assert_eq!(
            verify_crl(&bad.info, &ca_cert(&c)),
            Err(VerifyError::SignatureInvalid { kid: c.kid_hex() }),
            "{name}"
        );
    }
}

#[test]
fn freshness_window_and_missing_next_update() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let path = write(dir.path(), "s.crl", c, &daily(), &entries());
    let crl = parse_path(&path, &ParseOptions::default()).unwrap();
    let cert = ca_cert(c);
    assert_eq!(admit("s.crl", &crl.info, &cert, t("2026-11-25T15:00:00Z")), Ok(()));
    assert_eq!(admit("s.crl", &crl.info, &cert, t("2026-11-26T14:59:59Z")), Ok(()));
    assert_eq!(
        admit("s.crl", &crl.info, &cert, t("2026-11-26T15:00:00Z")),
        Err(Rejection::NotFresh {
            source_name: "s.crl".into(),
            freshness: Freshness::Stale { next_update: t("2026-11-26T15:00:00Z") }
        })
    );
    assert_eq!(
        admit("s.crl", &crl.info, &cert, t("2026-11-25T14:59:59Z")).unwrap_err().detail(),
        "CRL not yet valid (thisUpdate 2026-11-25T15:00:00Z)"
    );
    let mut p = daily();
    p.next_update = None;
    let path = write(dir.path(), "nonext.crl", c, &p, &entries());
    let crl = parse_path(&path, &ParseOptions::default()).unwrap();
    assert_eq!(admit("x", &crl.info, &cert, at()).unwrap_err().detail(), "CRL has no nextUpdate");
}

#[test]
fn stale_delta_and_bad_signature_make_every_serial_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let cert = ca_cert(c);
    let listed = crlbatch_crl::Serial::parse_hex("1000").unwrap();
    let unlisted = crlbatch_crl::Serial::parse_hex("1001").unwrap();
    let good = write(dir.path(), "good.crl", c, &daily(), &entries());
    let idx = index_crls(&cert, &[("good.crl".into(), good.as_path())], at(), &ParseOptions::default()).unwrap();
    assert!(matches!(idx.status(&listed, at()), Status::Revoked(_)));
    assert_eq!(idx.status(&unlisted, at()), Status::Good);
    // The same index, asked after nextUpdate: unknown for every serial.
    let late = t("2026-11-27T00:00:00Z");
    assert_eq!(idx.status(&listed, late), Status::Unknown("stale CRL (nextUpdate 2026-11-26T15:00:00Z)".into()));
    assert_eq!(idx.status(&unlisted, late), Status::Unknown("stale CRL (nextUpdate 2026-11-26T15:00:00Z)".into()));

    let mut p = CrlParams::daily(this_update(), 2);
    p.delta_base = Some(1);
    let delta = write(dir.path(), "delta.crl", c, &p, &entries());
    let err = index_crls(&cert, &[("delta.crl".into(), delta.as_path())], at(), &ParseOptions::default()).unwrap_err();
    assert_eq!(err.detail(), "delta CRL only (base CRL number 1); a delta is never a complete CRL");

    let other = ca(Hierarchy::Sign, 2019);
    let err = index_crls(&ca_cert(other), &[("good.crl".into(), good.as_path())], at(), &ParseOptions::default())
        .unwrap_err();
    assert!(err.detail().starts_with("CRL does not verify: CRL authorityKeyIdentifier"), "{}", err.detail());
}

#[test]
fn pem_and_der_parse_alike() {
    let dir = tempfile::tempdir().unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let path = write(dir.path(), "s.crl", c, &daily(), &entries());
    let der = std::fs::read(&path).unwrap();
    let pem = format!(
        "-----BEGIN X509 CRL-----\n{}\n-----END X509 CRL-----\n",
        base64(&der).as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect::<Vec<_>>().join("\n")
    );
    let pem_path = dir.path().join("s.pem");
    std::fs::write(&pem_path, pem).unwrap();
    let a = parse_path(&path, &ParseOptions::default()).unwrap();
    let b = parse_path(&pem_path, &ParseOptions::default()).unwrap();
    assert_eq!(a.entries.serials, b.entries.serials);
    assert_eq!(a.info.tbs_digest, b.info.tbs_digest);
    assert_eq!(verify_crl(&b.info, &ca_cert(c)), Ok(()));
    let cert_pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64(&c.cert_der)
            .as_bytes()
            .chunks(64)
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(CaCert::from_bytes(cert_pem.as_bytes()).unwrap().kid, c.kid);
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}
