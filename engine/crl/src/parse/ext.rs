//! CRL extensions (RFC 5280 §5.2).
//!
//! ```text
//! crlExtensions           [0]  EXPLICIT Extensions OPTIONAL
//! Extension  ::=  SEQUENCE  {
//!      extnID      OBJECT IDENTIFIER,
//!      critical    BOOLEAN DEFAULT FALSE,
//!      extnValue   OCTET STRING }
//! ```
//! Processed: cRLNumber, authorityKeyIdentifier, issuingDistributionPoint,
//! deltaCRLIndicator, freshestCRL (kept, not followed), authorityInfoAccess
//! (ignored). Any other critical extension rejects the CRL (§5.2: "If a CRL
//! contains a critical extension that the application cannot process, then
//! the application MUST NOT use that CRL to determine the status of
//! certificates").

use crate::der::{self, tag, DerErrorKind, Reader, Tlv};
use crate::error::CrlError;
use crate::name;
use crate::oid;
use crate::reason::Reason;

/// A CRL number (cRLNumber or a delta CRL's BaseCRLNumber): a non-negative
/// INTEGER of at most 20 octets, kept exactly as its magnitude.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CrlNumber(Vec<u8>);

impl CrlNumber {
    fn from_der(tlv: &Tlv<'_>) -> Result<Self, CrlError> {
        der::check_integer(tlv)?;
        let v = tlv.value;
        if v.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(CrlError::InvalidExtension { offset: tlv.offset, what: "cRLNumber (negative)" });
        }
        let first = v.iter().position(|&b| b != 0).unwrap_or(v.len());
        let mag = v.get(first..).unwrap_or_default();
        if mag.len() > 20 {
            return Err(CrlError::InvalidExtension { offset: tlv.offset, what: "cRLNumber (longer than 20 octets)" });
        }
        Ok(CrlNumber(mag.to_vec()))
    }

    pub fn from_u64(v: u64) -> Self {
        let b = v.to_be_bytes();
        let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
        CrlNumber(b.get(first..).unwrap_or_default().to_vec())
    }

    /// The value when it fits in a `u64`.
    pub fn to_u64(&self) -> Option<u64> {
        (self.0.len() <= 8).then(|| self.0.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b)))
    }

    /// Big-endian magnitude without leading zeros.
    pub fn magnitude(&self) -> &[u8] {
        &self.0
    }

    /// Decimal text (exact for all 20 octets).
    pub fn to_decimal(&self) -> String {
        let mut digits: Vec<u8> = Vec::new();
        let mut num = self.0.clone();
        while num.iter().any(|&b| b != 0) {
            let mut rem = 0u32;
            for b in num.iter_mut() {
                let cur = (rem << 8) | u32::from(*b);
                *b = u8::try_from(cur / 10).unwrap_or(0);
                rem = cur % 10;
            }
            digits.push(u8::try_from(rem).unwrap_or(0) + b'0');
        }
        if digits.is_empty() {
            return "0".to_owned();
        }
        digits.reverse();
        String::from_utf8(digits).unwrap_or_default()
    }
}

impl PartialOrd for CrlNumber {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CrlNumber {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.cmp(&other.0))
    }
}

impl std::fmt::Display for CrlNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

/// issuingDistributionPoint (RFC 5280 §5.2.5):
/// ```text
/// IssuingDistributionPoint ::= SEQUENCE {
///      distributionPoint          [0] DistributionPointName OPTIONAL,
///      onlyContainsUserCerts      [1] BOOLEAN DEFAULT FALSE,
///      onlyContainsCACerts        [2] BOOLEAN DEFAULT FALSE,
///      onlySomeReasons            [3] ReasonFlags OPTIONAL,
///      indirectCRL                [4] BOOLEAN DEFAULT FALSE,
///      onlyContainsAttributeCerts [5] BOOLEAN DEFAULT FALSE }
/// DistributionPointName ::= CHOICE {
///      fullName                [0]     GeneralNames,
///      nameRelativeToCRLIssuer [1]     RelativeDistinguishedName }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct IssuingDistributionPoint {
    /// fullName entries, rendered (`URI:...`, `DirName:C=JP, ...`).
    pub distribution_point: Vec<String>,
    /// nameRelativeToCRLIssuer, rendered, when used instead of fullName.
    pub relative_name: Option<String>,
    pub only_contains_user_certs: bool,
    pub only_contains_ca_certs: bool,
    /// Reasons covered, when the CRL covers only some.
    pub only_some_reasons: Option<Vec<&'static str>>,
    pub indirect_crl: bool,
    pub only_contains_attribute_certs: bool,
    /// The extension value, complete DER, for exact matching.
    #[serde(skip)]
    pub der: Vec<u8>,
}

/// The CRL-level extensions we act on.
#[derive(Debug, Clone, Default)]
pub struct CrlExtensions {
    pub crl_number: Option<CrlNumber>,
    pub authority_key_id: Option<Vec<u8>>,
    pub idp: Option<IssuingDistributionPoint>,
    /// deltaCRLIndicator's BaseCRLNumber: present on a delta CRL.
    pub delta_base: Option<CrlNumber>,
    /// Whether a freshestCRL (delta CRL pointer) extension is present.
    pub freshest_crl: bool,
}

/// One Extension, read with DER's rules (critical is encoded only when
/// TRUE).
pub(crate) struct Extension<'a> {
    /// The whole Extension element.
    pub tlv: Tlv<'a>,
    /// extnID (checked to be a valid OID).
    pub id: Tlv<'a>,
    pub critical: bool,
    /// extnValue (the OCTET STRING).
    pub value: Tlv<'a>,
}

/// Read the next `Extension` from an `Extensions` list.
pub(crate) fn read_extension<'a>(r: &mut Reader<'a>) -> Result<Extension<'a>, CrlError> {
    let tlv = r.read(tag::SEQUENCE)?;
    let mut e = tlv.reader();
    let id = e.read(tag::OID)?;
    der::check_oid(&id)?;
    let critical = match e.read_optional(tag::BOOLEAN)? {
        Some(b) => {
            if !der::read_bool(&b)? {
                return Err(b.error(DerErrorKind::DefaultValueEncoded).into());
            }
            true
        }
        None => false,
    };
    let value = e.read(tag::OCTET_STRING)?;
    e.finish()?;
    Ok(Extension { tlv, id, critical, value })
}

fn read_implicit_bool(tlv: &Tlv<'_>) -> Result<bool, CrlError> {
    // DER: a DEFAULT FALSE value is encoded only when TRUE.
    match tlv.value {
        [0xff] => Ok(true),
        [0x00] => Err(tlv.error(DerErrorKind::DefaultValueEncoded).into()),
        _ => Err(tlv.error(DerErrorKind::InvalidBoolean).into()),
    }
}

fn render_general_name(gn: &Tlv<'_>) -> Result<String, CrlError> {
    Ok(match gn.tag {
        0x86 => format!("URI:{}", String::from_utf8_lossy(gn.value)),
        0x81 => format!("email:{}", String::from_utf8_lossy(gn.value)),
        0x82 => format!("DNS:{}", String::from_utf8_lossy(gn.value)),
        0xa4 => {
            let mut r = gn.reader();
            let n = r.read(tag::SEQUENCE)?;
            r.finish()?;
            format!("DirName:{}", name::render(&n)?)
        }
        _ => format!("#{}", der::hex(gn.raw)),
    })
}

fn parse_idp(value: &Tlv<'_>) -> Result<IssuingDistributionPoint, CrlError> {
    let invalid = |offset| CrlError::InvalidExtension { offset, what: "issuingDistributionPoint" };
    let mut outer = value.reader();
    let seq = outer.read(tag::SEQUENCE)?;
    outer.finish()?;
    let mut idp = IssuingDistributionPoint { der: seq.raw.to_vec(), ..Default::default() };
    let mut r = seq.reader();
    if let Some(dp) = r.read_optional(tag::CTX_0)? {
        let mut d = dp.reader();
        let choice = d.read_any()?;
        d.finish()?;
        match choice.tag {
            tag::CTX_0 => {
                let mut names = choice.reader();
                if names.is_empty() {
                    return Err(invalid(choice.offset));
                }
                while !names.is_empty() {
                    let gn = names.read_any()?;
                    idp.distribution_point.push(render_general_name(&gn)?);
                }
            }
            tag::CTX_1 => {
                // A RelativeDistinguishedName with IMPLICIT [1]: render as a
                // one-RDN name by re-wrapping it as a SET.
                let mut wrapped = vec![tag::SEQUENCE];
                let mut set = vec![tag::SET];
                push_len(&mut set, choice.value.len());
                set.extend_from_slice(choice.value);
                push_len(&mut wrapped, set.len());
                wrapped.extend_from_slice(&set);
                idp.relative_name = name::render_der(&wrapped);
            }
            _ => return Err(invalid(choice.offset)),
        }
    }
    if let Some(b) = r.read_optional(0x81)? {
        idp.only_contains_user_certs = read_implicit_bool(&b)?;
    }
    if let Some(b) = r.read_optional(0x82)? {
        idp.only_contains_ca_certs = read_implicit_bool(&b)?;
    }
    if let Some(bits) = r.read_optional(0x83)? {
        // ReasonFlags ::= BIT STRING { unused(0), keyCompromise(1), cACompromise(2),
        //   affiliationChanged(3), superseded(4), cessationOfOperation(5),
        //   certificateHold(6), privilegeWithdrawn(7), aACompromise(8) }
        let v = bits.value.get(1..).ok_or_else(|| invalid(bits.offset))?;
        let flag = |i: usize| v.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0);
        let names = [
            (1, Reason::KeyCompromise),
            (2, Reason::CaCompromise),
            (3, Reason::AffiliationChanged),
            (4, Reason::Superseded),
            (5, Reason::CessationOfOperation),
            (6, Reason::CertificateHold),
            (7, Reason::PrivilegeWithdrawn),
            (8, Reason::AaCompromise),
        ];
        idp.only_some_reasons = Some(names.iter().filter(|(i, _)| flag(*i)).map(|(_, r)| r.name()).collect());
    }
    if let Some(b) = r.read_optional(0x84)? {
        idp.indirect_crl = read_implicit_bool(&b)?;
    }
    if let Some(b) = r.read_optional(0x85)? {
        idp.only_contains_attribute_certs = read_implicit_bool(&b)?;
    }
    r.finish()?;
    if idp.indirect_crl {
        return Err(CrlError::IndirectCrl { offset: value.offset });
    }
    Ok(idp)
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else {
        let bytes = (len as u64).to_be_bytes();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
        let n = bytes.len() - first;
        out.push(0x80 | u8::try_from(n).unwrap_or(0));
        out.extend_from_slice(bytes.get(first..).unwrap_or_default());
    }
}

/// ```text
/// AuthorityKeyIdentifier ::= SEQUENCE {
///      keyIdentifier             [0] KeyIdentifier           OPTIONAL,
///      authorityCertIssuer       [1] GeneralNames            OPTIONAL,
///      authorityCertSerialNumber [2] CertificateSerialNumber OPTIONAL  }
/// ```
fn parse_aki(value: &Tlv<'_>) -> Result<Option<Vec<u8>>, CrlError> {
    let mut outer = value.reader();
    let seq = outer.read(tag::SEQUENCE)?;
    outer.finish()?;
    let mut r = seq.reader();
    let kid = r.read_optional(tag::CTX_PRIM_0)?.map(|k| k.value.to_vec());
    r.read_optional(tag::CTX_1)?;
    r.read_optional(0x82)?;
    r.finish()?;
    Ok(kid)
}

/// Parse the `[0] EXPLICIT Extensions` element of tbsCertList.
pub(crate) fn parse_crl_extensions(wrapper: &Tlv<'_>) -> Result<CrlExtensions, CrlError> {
    let mut out = CrlExtensions::default();
    let mut w = wrapper.reader();
    let list = w.read(tag::SEQUENCE)?;
    w.finish()?;
    let mut r = list.reader();
    if r.is_empty() {
        return Err(list.error(DerErrorKind::EmptySequence).into());
    }
    let mut seen: Vec<&[u8]> = Vec::new();
    while !r.is_empty() {
        let Extension { tlv: ext, id, critical, value } = read_extension(&mut r)?;
        if seen.contains(&id.value) {
            return Err(CrlError::DuplicateExtension { offset: ext.offset, oid: der::oid_to_string(id.value) });
        }
        seen.push(id.value);
        let mut v = value.reader();
        match id.value {
            x if x == oid::CRL_NUMBER => {
                let n = v.read(tag::INTEGER)?;
                v.finish()?;
                out.crl_number = Some(CrlNumber::from_der(&n)?);
            }
            x if x == oid::DELTA_CRL_INDICATOR => {
                let n = v.read(tag::INTEGER)?;
                v.finish()?;
                out.delta_base = Some(CrlNumber::from_der(&n)?);
            }
            x if x == oid::AUTHORITY_KEY_IDENTIFIER => out.authority_key_id = parse_aki(&value)?,
            x if x == oid::ISSUING_DISTRIBUTION_POINT => out.idp = Some(parse_idp(&value)?),
            x if x == oid::FRESHEST_CRL => out.freshest_crl = true,
            x if x == oid::AUTHORITY_INFO_ACCESS => {}
            _ if critical => {
                return Err(CrlError::UnknownCriticalExtension {
                    offset: ext.offset,
                    oid: der::oid_to_string(id.value),
                })
            }
            _ => {}
        }
    }
    Ok(out)
}
