//! A small DER writer: enough to build certificates and CRLs.

/// Append a definite-length header.
pub fn push_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    push_len(out, len);
}

/// Append a DER length.
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap_or(0));
        return;
    }
    let bytes = (len as u64).to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(7);
    let octets = bytes.get(first..).unwrap_or_default();
    out.push(0x80 | u8::try_from(octets.len()).unwrap_or(0));
    out.extend_from_slice(octets);
}

/// Length of a header for content of `len` bytes.
pub fn header_len(len: usize) -> usize {
    let mut v = Vec::with_capacity(10);
    push_header(&mut v, 0, len);
    v.len()
}

/// A complete TLV.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    push_header(&mut out, tag, content.len());
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded elements.
pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    cons(0x30, parts)
}

/// A constructed element of already-encoded parts.
pub fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 6);
    push_header(&mut out, tag, len);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

pub fn oid(content: &[u8]) -> Vec<u8> {
    tlv(0x06, content)
}

/// INTEGER from a non-negative u64.
pub fn uint(v: u64) -> Vec<u8> {
    let b = v.to_be_bytes();
    let first = b.iter().position(|&x| x != 0).unwrap_or(7);
    let mut content = Vec::with_capacity(9);
    if b.get(first).is_some_and(|x| x & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(b.get(first..).unwrap_or_default());
    tlv(0x02, &content)
}

pub fn octets(v: &[u8]) -> Vec<u8> {
    tlv(0x04, v)
}

/// BIT STRING with no unused bits.
pub fn bits(v: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(v.len() + 1);
    content.push(0);
    content.extend_from_slice(v);
    tlv(0x03, &content)
}

pub fn boolean_true() -> Vec<u8> {
    vec![0x01, 0x01, 0xff]
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

/// An Extension with an already-encoded value.
pub fn extension(id: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let o = oid(id);
    let v = octets(value);
    if critical {
        seq(&[&o, &boolean_true(), &v])
    } else {
        seq(&[&o, &v])
    }
}

/// A Name from (attribute OID, value) pairs in DER order, one attribute per
/// RDN; values as PrintableString when they fit it, else UTF8String.
pub fn name(attrs: &[(&[u8], &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attrs
        .iter()
        .map(|(id, value)| {
            let printable = value.bytes().all(|c| c.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&c));
            let v = tlv(if printable { 0x13 } else { 0x0c }, value.as_bytes());
            let atv = seq(&[&oid(id), &v]);
            cons(0x31, &[&atv])
        })
        .collect();
    let refs: Vec<&[u8]> = rdns.iter().map(Vec::as_slice).collect();
    seq(&refs)
}

/// Attribute type OIDs.
pub mod attr {
    pub const C: &[u8] = &[0x55, 0x04, 0x06];
    pub const O: &[u8] = &[0x55, 0x04, 0x0a];
    pub const OU: &[u8] = &[0x55, 0x04, 0x0b];
    pub const CN: &[u8] = &[0x55, 0x04, 0x03];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 0x02, 1, 2]);
        let big = tlv(0x04, &[0; 300]);
        assert_eq!(big.get(..4).unwrap(), &[0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(header_len(300), 4);
        assert_eq!(uint(0x80), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(0), vec![0x02, 0x01, 0x00]);
    }
}
