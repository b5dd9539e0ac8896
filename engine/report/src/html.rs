//! Escaping and number formats. Every text that reaches the page (job and
//! issuer names, details, paths: all from configuration or files) goes
//! through [`esc`].

use serde_json::Value;

/// Escape text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// An integer with `,` every three digits (`10,000`).
pub(crate) fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut o = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// Hours with one decimal (`12.0 h`).
pub(crate) fn hours(h: f64) -> String {
    format!("{h:.1} h")
}

/// Bytes in decimal megabytes (`0.38 MB`).
pub(crate) fn mb(bytes: u64) -> String {
    format!("{:.2} MB", bytes as f64 / 1e6)
}

/// A duration: milliseconds under a second, else seconds.
pub(crate) fn duration(secs: f64) -> String {
    if secs < 1.0 {
        format!("{:.1} ms", secs * 1000.0)
    } else {
        format!("{secs:.2} s")
    }
}

/// The string at `key`, if it is one.
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The unsigned integer at `key`, if it is one.
pub(crate) fn u(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// The number at `key`, if it is one.
pub(crate) fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

/// Escaped text at `key`, or an em dash when missing.
pub(crate) fn text(v: &Value, key: &str) -> String {
    s(v, key).map_or_else(|| DASH.to_owned(), esc)
}

/// Shown for a missing value.
pub(crate) const DASH: &str = "\u{2014}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(esc("sign-2023 日本"), "sign-2023 日本");
    }

    #[test]
    fn groups_digits() {
        assert_eq!(int(0), "0");
        assert_eq!(int(999), "999");
        assert_eq!(int(1000), "1,000");
        assert_eq!(int(376_216), "376,216");
        assert_eq!(int(10_000_000), "10,000,000");
    }

    #[test]
    fn formats_units() {
        assert_eq!(duration(0.002_349), "2.3 ms");
        assert_eq!(duration(1.5), "1.50 s");
        assert_eq!(mb(376_216), "0.38 MB");
        assert_eq!(hours(-12.0), "-12.0 h");
    }
}
