//! Minimal PEM (RFC 7468) decoding: one block of a given label.

/// Whether the bytes start (after whitespace) with a PEM boundary.
pub(crate) fn looks_like_pem(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default().starts_with(b"-----BEGIN ")
}

fn b64_value(c: u8) -> Option<u8> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// Decode the first `-----BEGIN {label}-----` block.
pub(crate) fn decode(bytes: &[u8], label: &str) -> Result<Vec<u8>, String> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let text = std::str::from_utf8(bytes).map_err(|_| "PEM input is not ASCII".to_owned())?;
    let start = text.find(&begin).ok_or_else(|| format!("no {begin} line"))? + begin.len();
    let body_len = text.get(start..).and_then(|t| t.find(&end)).ok_or_else(|| format!("no {end} line"))?;
    let body = text.get(start..start + body_len).unwrap_or_default();
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut padding = 0usize;
    for c in body.bytes() {
        if c.is_ascii_whitespace() {
            continue;
        }
        if c == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return Err("PEM base64 has data after padding".to_owned());
        }
        let v = b64_value(c).ok_or_else(|| "PEM body is not base64".to_owned())?;
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff).to_be_bytes()[3]);
        }
    }
    if padding > 2 {
        return Err("PEM base64 has too much padding".to_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        let pem = b"-----BEGIN X509 CRL-----\naGVsbG8g\nd29ybGQ=\n-----END X509 CRL-----\n";
        assert!(looks_like_pem(pem));
        assert_eq!(decode(pem, "X509 CRL").unwrap(), b"hello world");
        assert!(decode(pem, "CERTIFICATE").is_err());
        assert!(decode(b"-----BEGIN X509 CRL-----\n@@@\n-----END X509 CRL-----", "X509 CRL").is_err());
    }
}
