//! The basic four information (基本4情報) of a JPKI signing certificate,
//! read with `x509-cert` from subjectAltName otherNames (`shared/jpki.md`):
//!
//! ```text
//! SubjectAltName ::= GeneralNames
//! GeneralName ::= CHOICE { otherName [0] OtherName, ... }
//! OtherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY DEFINED BY type-id }
//!
//! 1.2.392.200149.8.5.5.1  name                       UTF8String
//! 1.2.392.200149.8.5.5.2  name substitute flags      UTF8String of 0/1
//! 1.2.392.200149.8.5.5.3  gender                     UTF8String 1 male, 2 female, 3 unknown
//! 1.2.392.200149.8.5.5.4  date of birth              UTF8String EYYYYMMDD (see era.rs)
//! 1.2.392.200149.8.5.5.5  address                    UTF8String
//! 1.2.392.200149.8.5.5.6  address substitute flags   UTF8String of 0/1
//! ```
//!
//! Values are kept exactly as the certificate holds them (the UTF-8 bytes,
//! no normalisation: NFKC would merge a variant kanji with its common form,
//! which are different registered names). The name, gender, date of birth
//! and address are required; a missing flags field means "no substitute
//! characters" and is kept as absent, distinct from an empty one. Nothing
//! here prints a value: [`BasicFour`]'s `Debug` is redacted and errors name
//! the field, never its content.

use std::fmt;

use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode, Tag, Tagged};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectAltName};
use x509_cert::Certificate;

use crate::era::{parse_birth_date, BirthDate, BirthDateError};
use crlbatch_crl::{Serial, Timestamp};

/// The six fields, in OID order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Name,
    NameFlags,
    Gender,
    BirthDate,
    Address,
    AddressFlags,
}

impl Field {
    pub const ALL: [Field; 6] =
        [Field::Name, Field::NameFlags, Field::Gender, Field::BirthDate, Field::Address, Field::AddressFlags];

    /// The otherName type-id, dotted.
    pub fn oid(self) -> &'static str {
        match self {
            Field::Name => "1.2.392.200149.8.5.5.1",
            Field::NameFlags => "1.2.392.200149.8.5.5.2",
            Field::Gender => "1.2.392.200149.8.5.5.3",
            Field::BirthDate => "1.2.392.200149.8.5.5.4",
            Field::Address => "1.2.392.200149.8.5.5.5",
            Field::AddressFlags => "1.2.392.200149.8.5.5.6",
        }
    }

    /// The column-style name (`name`, `name_flags`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::NameFlags => "name_flags",
            Field::Gender => "gender",
            Field::BirthDate => "birth_date",
            Field::Address => "address",
            Field::AddressFlags => "address_flags",
        }
    }

    fn from_oid(oid: &ObjectIdentifier) -> Option<Field> {
        let arcs: Vec<u32> = oid.arcs().collect();
        match arcs.as_slice() {
            [1, 2, 392, 200149, 8, 5, 5, n] => Field::ALL.get(usize::try_from(n.checked_sub(1)?).ok()?).copied(),
            _ => None,
        }
    }
}

/// Gender code (`1.2.392.200149.8.5.5.3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
    Unknown,
}

/// Substitute-character flags: one `0`/`1` per character of the field, `1`
/// where the registered character could not be encoded and a substitute
/// stands in its place.
#[derive(Clone, PartialEq, Eq)]
pub struct SubstituteFlags(String);

impl SubstituteFlags {
    /// The flags as written (`0`/`1`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 0-based positions flagged `1`.
    pub fn positions(&self) -> Vec<usize> {
        self.0.bytes().enumerate().filter(|(_, b)| *b == b'1').map(|(i, _)| i).collect()
    }
}

impl fmt::Debug for SubstituteFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubstituteFlags(..)")
    }
}

/// The basic four information, exactly as the certificate holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicFour {
    pub name: String,
    pub name_flags: Option<SubstituteFlags>,
    pub gender: Gender,
    pub birth_date: BirthDate,
    pub address: String,
    pub address_flags: Option<SubstituteFlags>,
    /// The raw UTF8String content of each field present, in [`Field::ALL`] order.
    raw: [Option<String>; 6],
}

impl BasicFour {
    /// The exact UTF-8 value of a field (`None`: absent), for digests.
    pub fn raw(&self, field: Field) -> Option<&str> {
        self.raw.get(field as usize).and_then(Option::as_deref)
    }
}

// Personal data: never printed, not even by `{:?}`.
impl fmt::Debug for BasicFour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BasicFour(..)")
    }
}

/// A signing certificate: where it comes from and what it says.
#[derive(Debug, Clone)]
pub struct SigningCert {
    pub serial: Serial,
    /// authorityKeyIdentifier keyIdentifier, lowercase hex (the issuing CA's kid).
    pub issuer_kid: Option<String>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub four: BasicFour,
}

/// Why a certificate gives no basic four information. Never carries a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    #[error("not a DER X.509 certificate: {0}")]
    Der(String),
    #[error("serial number: {0}")]
    Serial(String),
    #[error("{0} extension malformed")]
    Extension(&'static str),
    #[error("no basic four information (no subjectAltName otherName 1.2.392.200149.8.5.5.*): not a JPKI signing certificate")]
    NotSigning,
    #[error("{} ({}) missing", .0.name(), .0.oid())]
    Missing(Field),
    #[error("{} ({}) present more than once", .0.name(), .0.oid())]
    Duplicate(Field),
    #[error("{} ({}) is not a UTF8String", .0.name(), .0.oid())]
    NotUtf8String(Field),
    #[error("{} ({}): {}", .0.name(), .0.oid(), .1)]
    Invalid(Field, &'static str),
    #[error("birth_date (1.2.392.200149.8.5.5.4): {0}")]
    BirthDate(BirthDateError),
}

/// RFC 5280 §4.2.1.6 subjectAltName.
const SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// RFC 5280 §4.2.1.1 authorityKeyIdentifier.
const AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");

/// Largest certificate accepted.
pub const MAX_CERT_BYTES: usize = 64 * 1024;
/// Longest field value accepted, in bytes (the address is up to 200
/// characters, at most 4 bytes each in UTF-8).
pub const MAX_FIELD_BYTES: usize = 1024;

fn flags(field: Field, v: &str) -> Result<SubstituteFlags, CertError> {
    if v.bytes().all(|b| b == b'0' || b == b'1') {
        Ok(SubstituteFlags(v.to_owned()))
    } else {
        Err(CertError::Invalid(field, "not a string of 0/1 flags"))
    }
}

/// Read the basic four information of a DER signing certificate.
pub fn parse_signing_cert(der: &[u8]) -> Result<SigningCert, CertError> {
    if der.len() > MAX_CERT_BYTES {
        return Err(CertError::Der(format!("{} bytes, over the limit of {MAX_CERT_BYTES}", der.len())));
    }
    let cert = Certificate::from_der(der).map_err(|e| CertError::Der(e.to_string()))?;
    let tbs = &cert.tbs_certificate;
    let serial =
        Serial::from_der_integer(tbs.serial_number.as_bytes()).map_err(|e| CertError::Serial(e.to_string()))?;
    let secs = |t: &x509_cert::time::Time| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    let not_before = Timestamp(secs(&tbs.validity.not_before));
    let not_after = Timestamp(secs(&tbs.validity.not_after));
    let mut raw: [Option<String>; 6] = Default::default();
    let mut issuer_kid = None;
    let mut any = false;
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id == AKI {
            let aki = AuthorityKeyIdentifier::from_der(ext.extn_value.as_bytes())
                .map_err(|_| CertError::Extension("authorityKeyIdentifier"))?;
            issuer_kid = aki.key_identifier.map(|k| crlbatch_crl::hex(k.as_bytes()));
        } else if ext.extn_id == SAN {
            let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
                .map_err(|_| CertError::Extension("subjectAltName"))?;
            for gn in &san.0 {
                let GeneralName::OtherName(on) = gn else { continue };
                let Some(field) = Field::from_oid(&on.type_id) else { continue };
                any = true;
                if on.value.tag() != Tag::Utf8String {
                    return Err(CertError::NotUtf8String(field));
                }
                let s = Utf8StringRef::try_from(&on.value).map_err(|_| CertError::NotUtf8String(field))?;
                if s.as_str().len() > MAX_FIELD_BYTES {
                    return Err(CertError::Invalid(field, "longer than 1024 bytes"));
                }
                let slot = raw.get_mut(field as usize).ok_or(CertError::NotSigning)?;
                if slot.is_some() {
                    return Err(CertError::Duplicate(field));
                }
                *slot = Some(s.as_str().to_owned());
            }
        }
    }
    if !any {
        return Err(CertError::NotSigning);
    }
    let get = |f: Field| raw.get(f as usize).and_then(Option::as_deref);
    let need = |f: Field| get(f).ok_or(CertError::Missing(f));
    let name = need(Field::Name)?;
    if name.is_empty() {
        return Err(CertError::Invalid(Field::Name, "empty"));
    }
    let gender = match need(Field::Gender)? {
        "1" => Gender::Male,
        "2" => Gender::Female,
        "3" => Gender::Unknown,
        _ => return Err(CertError::Invalid(Field::Gender, "not 1, 2 or 3")),
    };
    let birth_date = parse_birth_date(need(Field::BirthDate)?.as_bytes()).map_err(CertError::BirthDate)?;
    let address = need(Field::Address)?;
    if address.is_empty() {
        return Err(CertError::Invalid(Field::Address, "empty"));
    }
    let name_flags = get(Field::NameFlags).map(|v| flags(Field::NameFlags, v)).transpose()?;
    let address_flags = get(Field::AddressFlags).map(|v| flags(Field::AddressFlags, v)).transpose()?;
    let four = BasicFour {
        name: name.to_owned(),
        name_flags,
        gender,
        birth_date,
        address: address.to_owned(),
        address_flags,
        raw: raw.clone(),
    };
    Ok(SigningCert { serial, issuer_kid, not_before, not_after, four })
}
