//! Parsing the basic four information from generated signing certificates,
//! the digests and snapshots, and every way a certificate can be refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use crlbatch_crl::{Serial, Timestamp};
use crlbatch_four::{parse_signing_cert, BirthDate, CertError, Era, Field, FourError, FourKey, Gender, YearForm};
use crlbatch_gen::four::{signing_cert, SignCertSpec};
use crlbatch_gen::{Ca, CaSpec, Hierarchy, Key, KeyKind};

fn ca() -> &'static (Ca, Key) {
    static CA: OnceLock<(Ca, Key)> = OnceLock::new();
    CA.get_or_init(|| {
        let ca = Ca::generate(&CaSpec::new(Hierarchy::Sign, 2023), 7).unwrap();
        let key = Key::generate(KeyKind::Rsa2048, 7, "subject").unwrap();
        (ca, key)
    })
}

fn fields() -> Vec<(u8, String)> {
    vec![
        (1, "𠮷田\u{3000}花子".into()),
        (2, "00000".into()),
        (3, "2".into()),
        (4, "300600215".into()),
        (5, "東京都千代田区千代田１番１号".into()),
        (6, "00000000000000".into()),
    ]
}

fn cert(fields: Vec<(u8, String)>) -> Vec<u8> {
    let (ca, key) = ca();
    let spec = SignCertSpec {
        serial: Serial::from_u64(0x1234_5678),
        not_before: Timestamp::parse_rfc3339("2025-04-01T00:00:00Z").unwrap(),
        not_after: Timestamp::parse_rfc3339("2030-03-31T23:59:59Z").unwrap(),
        fields,
        cn: "TESTCN".into(),
    };
    signing_cert(ca, key, &spec, 7).unwrap()
}

#[test]
fn reads_every_field_exactly() {
    let c = parse_signing_cert(&cert(fields())).unwrap();
    assert_eq!(c.serial.to_string(), "12345678");
    assert_eq!(c.issuer_kid.as_deref(), Some(ca().0.kid_hex().as_str()));
    assert_eq!(c.not_before, Timestamp::parse_rfc3339("2025-04-01T00:00:00Z").unwrap());
    let f = &c.four;
    // U+20BB7 (4 bytes in UTF-8) and the ideographic space, byte for byte.
    assert_eq!(f.name.as_bytes(), "𠮷田\u{3000}花子".as_bytes());
    assert_eq!(f.name.chars().count(), 5);
    assert_eq!(f.gender, Gender::Female);
    assert_eq!(f.birth_date, BirthDate::Date { era: Era::Showa, date: (1985, 2, 15), form: YearForm::EraYear });
    assert_eq!(f.address, "東京都千代田区千代田１番１号");
    assert_eq!(f.name_flags.as_ref().unwrap().as_str(), "00000");
    assert!(f.name_flags.as_ref().unwrap().positions().is_empty());
    assert_eq!(f.raw(Field::BirthDate), Some("300600215"));
    // Debug output never shows a value.
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("花子") && !dbg.contains("千代田") && !dbg.contains("300600215"), "{dbg}");
}

#[test]
fn substitute_flags_and_absent_flags() {
    let mut f = fields();
    f[0].1 = "吉田\u{3000}花子".into();
    f[1].1 = "10000".into();
    f[5].1 = "00000001000000".into();
    let c = parse_signing_cert(&cert(f)).unwrap();
    assert_eq!(c.four.name_flags.as_ref().unwrap().positions(), vec![0]);
    assert_eq!(c.four.address_flags.as_ref().unwrap().positions(), vec![7]);
    // Without the flags fields: absent, not an error.
    let c = parse_signing_cert(&cert(fields().into_iter().filter(|(n, _)| *n != 2 && *n != 6).collect())).unwrap();
    assert_eq!(c.four.name_flags, None);
    assert_eq!(c.four.address_flags, None);
    assert_eq!(c.four.raw(Field::NameFlags), None);
}

#[test]
fn refusals_name_the_field_never_the_value() {
    let without = |n: u8| fields().into_iter().filter(|(k, _)| *k != n).collect::<Vec<_>>();
    type Case = (Vec<(u8, String)>, CertError, &'static str);
    let cases: Vec<Case> = vec![
        (Vec::new(), CertError::NotSigning, "no basic four information (no subjectAltName otherName 1.2.392.200149.8.5.5.*): not a JPKI signing certificate"),
        (without(1), CertError::Missing(Field::Name), "name (1.2.392.200149.8.5.5.1) missing"),
        (without(3), CertError::Missing(Field::Gender), "gender (1.2.392.200149.8.5.5.3) missing"),
        (without(4), CertError::Missing(Field::BirthDate), "birth_date (1.2.392.200149.8.5.5.4) missing"),
        (without(5), CertError::Missing(Field::Address), "address (1.2.392.200149.8.5.5.5) missing"),
        (
            [fields(), vec![(5, "大阪府大阪市北区".into())]].concat(),
            CertError::Duplicate(Field::Address),
            "address (1.2.392.200149.8.5.5.5) present more than once",
        ),
        (
            fields().into_iter().map(|(k, v)| if k == 3 { (k, "4".into()) } else { (k, v) }).collect(),
            CertError::Invalid(Field::Gender, "not 1, 2 or 3"),
            "gender (1.2.392.200149.8.5.5.3): not 1, 2 or 3",
        ),
        (
            fields().into_iter().map(|(k, v)| if k == 4 { (k, "300640108".into()) } else { (k, v) }).collect(),
            CertError::BirthDate(crlbatch_four::BirthDateError::OutsideEra),
            "birth_date (1.2.392.200149.8.5.5.4): outside the era's span",
        ),
        (
            fields().into_iter().map(|(k, v)| if k == 2 { (k, "0x000".into()) } else { (k, v) }).collect(),
            CertError::Invalid(Field::NameFlags, "not a string of 0/1 flags"),
            "name_flags (1.2.392.200149.8.5.5.2): not a string of 0/1 flags",
        ),
    ];
    for (f, err, text) in cases {
        let e = parse_signing_cert(&cert(f)).unwrap_err();
        assert_eq!(e, err);
        assert_eq!(e.to_string(), text);
        assert!(!text.contains("花子") && !text.contains("大阪"));
    }
    // Only unrelated otherNames (another OID arc): not a signing certificate.
    let other = fields().into_iter().map(|(_, v)| (7u8, v)).collect();
    assert_eq!(parse_signing_cert(&cert(other)).unwrap_err(), CertError::NotSigning);
    // A PrintableString instead of a UTF8String: the gender `1` (0c 01 31 -> 13 01 31).
    let mut f = fields();
    f[2].1 = "1".into();
    let mut der = cert(f);
    let pos = der.windows(5).position(|w| w == [0xa0, 0x03, 0x0c, 0x01, 0x31]).unwrap();
    der[pos + 2] = 0x13;
    assert_eq!(parse_signing_cert(&der).unwrap_err(), CertError::NotUtf8String(Field::Gender));
    // Not DER at all, truncated, trailing bytes.
    assert!(matches!(parse_signing_cert(b"\x30\x03\x02\x01"), Err(CertError::Der(_))));
    let good = cert(fields());
    assert!(matches!(parse_signing_cert(&good[..good.len() - 1]), Err(CertError::Der(_))));
    assert!(matches!(parse_signing_cert(&[good.clone(), vec![0]].concat()), Err(CertError::Der(_))));
    assert!(matches!(parse_signing_cert(&vec![0x30; 70_000]), Err(CertError::Der(m)) if m.contains("over the limit")));
}

#[test]
fn era_zero_is_kept_as_unknown() {
    let f = fields().into_iter().map(|(k, v)| if k == 4 { (k, "000000000".into()) } else { (k, v) }).collect();
    assert_eq!(parse_signing_cert(&cert(f)).unwrap().four.birth_date, BirthDate::Unknown);
}

#[test]
fn digests_see_every_change_and_only_changes() {
    let key = FourKey::parse(&"42".repeat(32), "K").unwrap();
    let base = key.digests(&parse_signing_cert(&cert(fields())).unwrap().four);
    let with = |n: u8, v: &str| {
        let f = fields().into_iter().map(|(k, x)| if k == n { (k, v.to_owned()) } else { (k, x) }).collect();
        key.digests(&parse_signing_cert(&cert(f)).unwrap().four)
    };
    assert_eq!(crlbatch_four::changed(&base, &base), [false; 4]);
    // 吉 for 𠮷: a different name even though it "looks" the same.
    assert_eq!(crlbatch_four::changed(&base, &with(1, "吉田\u{3000}花子")), [true, false, false, false]);
    assert_eq!(crlbatch_four::changed(&base, &with(2, "10000")), [true, false, false, false]);
    assert_eq!(crlbatch_four::changed(&base, &with(5, "東京都千代田区千代田１番２号")), [false, true, false, false]);
    assert_eq!(crlbatch_four::changed(&base, &with(6, "10000000000000")), [false, true, false, false]);
    // The same date in the other year reading is another byte string: reported as changed.
    assert_eq!(crlbatch_four::changed(&base, &with(4, "319850215")), [false, false, true, false]);
    assert_eq!(crlbatch_four::changed(&base, &with(3, "1")), [false, false, false, true]);
}

#[test]
fn a_snapshot_with_another_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs.parquet");
    {
        use arrow_array::{ArrayRef, BinaryArray, RecordBatch, StringArray};
        use std::sync::Arc;
        let der = cert(fields());
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["p1", "p2"])),
            Arc::new(BinaryArray::from(vec![der.as_slice(), b"junk".as_slice()])),
        ];
        let batch =
            RecordBatch::try_from_iter(vec![("ppid", cols[0].clone()), ("sign_cert_der", cols[1].clone())]).unwrap();
        let mut w =
            parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&certs).unwrap(), batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    let key = FourKey::parse(&"42".repeat(32), "K").unwrap();
    let r = crlbatch_four::snapshot(&certs, &key, &dir.path().join("snap"), &dir.path().join("rej"), "run").unwrap();
    assert_eq!((r.rows, r.ppids, r.rejected), (2, 1, 1));
    let snap = crlbatch_four::read_snapshot(&dir.path().join("snap"), &key).unwrap();
    assert_eq!(snap.keys().collect::<Vec<_>>(), vec!["p1"]);
    assert_eq!(snap["p1"].serial, "12345678");
    let other = FourKey::parse(&"43".repeat(32), "K").unwrap();
    match crlbatch_four::read_snapshot(&dir.path().join("snap"), &other) {
        Err(FourError::WrongKey { snapshot, given, .. }) => {
            assert_eq!(snapshot, key.id());
            assert_eq!(given, other.id());
        }
        other => panic!("{other:?}"),
    }
}
