//! Shared test helpers: a JSON Schema subset validator for `schemas/*.json`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

pub mod http;
pub mod ldap;

/// Run the crlbatch binary under test.
pub fn crlbatch(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_crlbatch"))
        .env("CRLBATCH_LOG_FORMAT", "text")
        .args(args)
        .output()
        .unwrap()
}

/// A process's stderr as text.
pub fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

use serde_json::Value;

/// The repository root.
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

pub fn schema(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(repo().join("schemas").join(name)).unwrap()).unwrap()
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => false,
    }
}

/// Validate `v` against the subset of JSON Schema our schemas use: type,
/// enum, required, properties, additionalProperties: false, items, and
/// local `$ref` to `#/$defs/...`.
pub fn validate(s: &Value, v: &Value, path: &str) -> Vec<String> {
    validate_in(s, s, v, path)
}

fn validate_in(root: &Value, s: &Value, v: &Value, path: &str) -> Vec<String> {
    if let Some(Value::String(r)) = s.get("$ref") {
        let name = r.strip_prefix("#/$defs/").unwrap();
        return validate_in(root, &root["$defs"][name], v, path);
    }
    let validate = |s: &Value, v: &Value, path: &str| validate_in(root, s, v, path);
    let mut errs = Vec::new();
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
            _ => false,
        };
        if !ok {
            errs.push(format!("{path}: {v} is not of type {t}"));
            return errs;
        }
    }
    if let Some(Value::Array(options)) = s.get("enum") {
        if !options.contains(v) {
            errs.push(format!("{path}: {v} not in {options:?}"));
        }
    }
    if let (Some(obj), Some(Value::Object(props))) = (v.as_object(), s.get("properties")) {
        if let Some(Value::Array(req)) = s.get("required") {
            for r in req {
                if !obj.contains_key(r.as_str().unwrap()) {
                    errs.push(format!("{path}: missing {r}"));
                }
            }
        }
        for (k, val) in obj {
            match props.get(k) {
                Some(ps) => errs.extend(validate(ps, val, &format!("{path}.{k}"))),
                None if s.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errs.push(format!("{path}: unexpected property {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(arr), Some(items)) = (v.as_array(), s.get("items")) {
        for (i, item) in arr.iter().enumerate() {
            errs.extend(validate(items, item, &format!("{path}[{i}]")));
        }
    }
    errs
}

pub fn assert_valid(schema_name: &str, v: &Value) {
    let errs = validate(&schema(schema_name), v, "$");
    assert!(errs.is_empty(), "{schema_name}: {errs:#?}");
}

/// Python's http.server serving `dir` on a free loopback port: the child
/// (kill it when done) and the port.
pub fn python_http_server(dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut server = std::process::Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).unwrap();
    // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
    let port = line.split_whitespace().skip_while(|w| *w != "port").nth(1).unwrap().to_owned();
    (server, port)
}
