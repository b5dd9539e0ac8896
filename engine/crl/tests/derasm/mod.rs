//! A tiny assembler for hand-written DER fixtures.
//!
//! Syntax: whitespace-separated tokens.
//! - `30`, `0a01ff`: hex octets, emitted verbatim (any even number of digits);
//! - `30{ ... }`: the tag octet(s) before `{`, then the definite length of the
//!   content (computed), then the content;
//! - `"text"`: the ASCII bytes of the text;
//! - `$NAME`: a macro from [`MACROS`] (expanded as source);
//! - `#` to the end of the line: a comment.
//!
//! Broken lengths are written as raw hex without braces.

#![allow(dead_code, clippy::cast_possible_truncation, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

/// Reusable pieces of a CRL.
pub const MACROS: &[(&str, &str)] = &[
    // sha256WithRSAEncryption AlgorithmIdentifier
    ("ALG", "30{ 06 09 2a864886f70d01010b 05 00 }"),
    // sha384WithRSAEncryption AlgorithmIdentifier
    ("ALG384", "30{ 06 09 2a864886f70d01010c 05 00 }"),
    // Name: CN=Test
    ("ISSUER", "30{ 31{ 30{ 06 03 550403 0c{ \"Test\" } } } }"),
    ("THIS", "17{ \"261125150000Z\" }"),
    ("NEXT", "17{ \"261126150000Z\" }"),
    // A well-formed entry: serial 0x2a, revoked 2025-01-01, no extensions.
    ("ENTRY", "30{ 02 01 2a 17{ \"250101000000Z\" } }"),
    // signatureAlgorithm + a dummy signatureValue (parsing does not verify).
    ("SIG", "$ALG 03{ 00 abcdef }"),
];

fn expand(src: &str, depth: usize) -> String {
    let mut out = String::new();
    for line in src.lines() {
        let code = line.split('#').next().unwrap_or("");
        for tok in code.split_whitespace() {
            if let Some(name) = tok.strip_prefix('$') {
                let body = MACROS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, b)| *b)
                    .unwrap_or_else(|| panic!("unknown macro ${name}"));
                assert!(depth < 8, "macro recursion");
                out.push_str(&expand(body, depth + 1));
            } else {
                out.push_str(tok);
            }
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let b = (len as u64).to_be_bytes();
        let first = b.iter().position(|&x| x != 0).unwrap();
        out.push(0x80 | (8 - first) as u8);
        out.extend_from_slice(&b[first..]);
    }
}

fn hex(tok: &str) -> Vec<u8> {
    assert!(tok.len().is_multiple_of(2), "odd hex token {tok:?}");
    (0..tok.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&tok[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex {tok:?}")))
        .collect()
}

/// Assemble fixture source into bytes.
pub fn assemble(src: &str) -> Vec<u8> {
    let text = expand(src, 0);
    // Tokenise, keeping quoted strings whole.
    let mut tokens: Vec<String> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut s = String::from("\"");
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                s.push(c);
            }
            tokens.push(s);
        } else if c == '}' {
            chars.next();
            tokens.push("}".into());
        } else {
            let mut s = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '}' || c == '"' {
                    break;
                }
                s.push(c);
                chars.next();
                if c == '{' {
                    break;
                }
            }
            tokens.push(s);
        }
    }
    // Stack of (tag bytes, content so far).
    let mut stack: Vec<(Vec<u8>, Vec<u8>)> = vec![(Vec::new(), Vec::new())];
    for t in tokens {
        if let Some(text) = t.strip_prefix('"') {
            stack.last_mut().unwrap().1.extend_from_slice(text.as_bytes());
        } else if let Some(tag) = t.strip_suffix('{') {
            stack.push((hex(tag), Vec::new()));
        } else if t == "}" {
            let (tag, content) = stack.pop().unwrap();
            assert!(!stack.is_empty(), "unbalanced }}");
            let parent = &mut stack.last_mut().unwrap().1;
            parent.extend_from_slice(&tag);
            push_len(parent, content.len());
            parent.extend_from_slice(&content);
        } else {
            stack.last_mut().unwrap().1.extend_from_slice(&hex(&t));
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced {{");
    stack.pop().unwrap().1
}

#[test]
fn assembles_lengths() {
    assert_eq!(assemble("30{ 02 01 05 }"), vec![0x30, 0x03, 0x02, 0x01, 0x05]);
    assert_eq!(assemble("04{ \"ab\" } # comment"), vec![0x04, 0x02, b'a', b'b']);
    assert_eq!(assemble("04{ 00 }").len(), 3);
    let big = format!("04{{ {} }}", "00".repeat(200));
    assert_eq!(&assemble(&big)[..3], &[0x04, 0x81, 200]);
}
