//! Distinguished names: kept as their exact DER bytes (comparisons are
//! byte-exact, as in rustls-webpki), rendered for people in the OpenSSL
//! "oneline" order: `C=JP, O=JPKI, OU=JPKI for digital signature, ...`.
//!
//! ```text
//! Name ::= CHOICE { rdnSequence RDNSequence }
//! RDNSequence ::= SEQUENCE OF RelativeDistinguishedName
//! RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
//! AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
//! ```
//! Departure from RFC 5280 §7.1: names are matched by their encoding, not by
//! the case-insensitive comparison rules; a CA that re-encodes its own name
//! differently in CRLs and certificates is refused, never guessed at.

use crate::der::{self, tag, DerResult, Reader, Tlv};

/// Short names for attribute types seen in JPKI and common PKIs.
fn short_name(oid: &[u8]) -> Option<&'static str> {
    Some(match oid {
        [0x55, 0x04, 0x06] => "C",
        [0x55, 0x04, 0x0a] => "O",
        [0x55, 0x04, 0x0b] => "OU",
        [0x55, 0x04, 0x03] => "CN",
        [0x55, 0x04, 0x07] => "L",
        [0x55, 0x04, 0x08] => "ST",
        [0x55, 0x04, 0x05] => "serialNumber",
        [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
        _ => return None,
    })
}

fn value_text(v: &Tlv<'_>) -> String {
    match v.tag {
        // UTF8String, PrintableString, IA5String, TeletexString (as Latin-1 best effort),
        // VisibleString
        0x0c | 0x13 | 0x16 | 0x1a => String::from_utf8_lossy(v.value).into_owned(),
        0x14 => v.value.iter().map(|&b| char::from(b)).collect(),
        // BMPString: UTF-16BE
        0x1e => {
            let units: Vec<u16> = v
                .value
                .chunks(2)
                .map(|c| u16::from_be_bytes([c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        _ => format!("#{}", der::hex(v.raw)),
    }
}

/// Render a Name (the whole SEQUENCE TLV content) for display.
pub(crate) fn render(name: &Tlv<'_>) -> DerResult<String> {
    let mut parts = Vec::new();
    let mut rdns = name.reader();
    while !rdns.is_empty() {
        let set = rdns.read(tag::SET)?;
        let mut atvs = set.reader();
        let mut rdn_parts = Vec::new();
        while !atvs.is_empty() {
            let atv = atvs.read(tag::SEQUENCE)?;
            let mut r = atv.reader();
            let oid = r.read(tag::OID)?;
            der::check_oid(&oid)?;
            let value = r.read_any()?;
            r.finish()?;
            let key = short_name(oid.value).map_or_else(|| der::oid_to_string(oid.value), str::to_owned);
            rdn_parts.push(format!("{key}={}", value_text(&value)));
        }
        parts.push(rdn_parts.join(" + "));
    }
    Ok(parts.join(", "))
}

/// Render a Name given as complete DER bytes (for callers outside the parser).
pub fn render_der(bytes: &[u8]) -> Option<String> {
    let mut r = Reader::new(bytes, 0);
    let tlv = r.read(tag::SEQUENCE).ok()?;
    render(&tlv).ok()
}
