//! Hostile input is refused within bounded memory and time, with a clear
//! one-line error: CRLs that declare huge lengths, nest deeply, use
//! overlong tags or claim a billion entries; more entries than the limit;
//! records with a huge string or a row group over the limit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{crlbatch, stderr};

const AT: &str = "2026-11-26T03:00:00Z";
/// Memory any refusal must stay under (the binary alone takes ~10 MB).
const BOUND_KB: u64 = 64 * 1024;

/// Run crlbatch; its peak RSS (KiB, from getrusage of the child), exit code,
/// stderr, and wall time.
fn measured(args: &[&str]) -> (u64, i32, String, Duration) {
    let script = "import resource, subprocess, sys\n\
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n\
sys.stderr.buffer.write(p.stderr)\n\
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n";
    let t = Instant::now();
    let o = Command::new("python3")
        .env("CRLBATCH_LOG_FORMAT", "text")
        .args(["-c", script, env!("CARGO_BIN_EXE_crlbatch")])
        .args(args)
        .output()
        .unwrap();
    let took = t.elapsed();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut it = out.split_whitespace();
    let rss: u64 = it.next().unwrap().parse().unwrap();
    let code: i32 = it.next().unwrap().parse().unwrap();
    (rss, code, stderr(&o), took)
}

fn refused(file: &Path, extra: &[&str], want: &str) {
    let mut args = vec!["inspect", file.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (rss, code, err, took) = measured(&args);
    assert_eq!(code, 65, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(want), "want {want:?}: {err}");
    assert!(rss < BOUND_KB, "{} KiB for {file:?}", rss);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// A DER header: tag, then `len` in the long form with `octets` octets.
fn header(tag: u8, len: u64, octets: usize) -> Vec<u8> {
    let mut h = vec![tag, 0x80 | u8::try_from(octets).unwrap()];
    h.extend_from_slice(&len.to_be_bytes()[8 - octets..]);
    h
}

#[test]
fn hostile_crls_are_refused_in_bounded_memory_and_time() {
    let d = tempfile::tempdir().unwrap();
    let w = |name: &str, bytes: &[u8]| {
        let p = d.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    // A CRL declaring 2^40 bytes (1 TiB) in a 1 KiB file.
    let mut huge = header(0x30, 1 << 40, 6);
    huge.extend(std::iter::repeat_n(0u8, 1024));
    refused(&w("huge.der", &huge), &[], "CRL is 1099511627784 bytes, over the limit of 4294967296 bytes");
    // A claim of a billion entries: tbsCertList and revokedCertificates
    // declaring ~38 GB, the bytes absent.
    let mut claim = header(0x30, 38_000_000_100, 5);
    claim.extend(header(0x30, 38_000_000_050, 5));
    claim.extend([0x02, 0x01, 0x01]);
    refused(&w("billion.der", &claim), &[], "CRL is 38000000107 bytes, over the limit of 4294967296 bytes");
    // 100,000 nested SEQUENCEs, minimal DER lengths (a 480 KB file).
    let seq = |n: usize| -> Vec<u8> {
        if n < 128 {
            vec![0x30, u8::try_from(n).unwrap()]
        } else {
            let k = (usize::BITS - n.leading_zeros()).div_ceil(8) as usize;
            header(0x30, n as u64, k)
        }
    };
    let depth = 100_000usize;
    let mut sizes = Vec::with_capacity(depth);
    let mut inner = 0usize;
    for _ in 0..depth {
        sizes.push(inner);
        inner += seq(inner).len();
    }
    let nested: Vec<u8> = sizes.iter().rev().flat_map(|&n| seq(n)).collect();
    refused(&w("nested.der", &nested), &[], "CRL header (version to nextUpdate) is over the limit of 65536 bytes");
    // An overlong (high-number form) tag of 64 KiB continuation octets.
    let mut content = vec![0x1f];
    content.extend(std::iter::repeat_n(0x81u8, 65_536));
    content.extend([0x01, 0x00]);
    let mut tag = header(0x30, content.len() as u64, 3);
    tag.extend(content);
    refused(&w("tag.der", &tag), &[], "malformed DER: high tag number form not supported at byte 5");
}

#[test]
fn more_entries_than_the_limit_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let o = crlbatch(&["gen", "--out", d.path().to_str().unwrap(), "--entries", "5000", "--only", "sign-2023"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let crl = d.path().join("crl/sign-2023.crl");
    refused(&crl, &["--max-entries", "1000"], "1000");
    refused(&crl, &["--max-crl-size", "10000"], "10000");
}

#[test]
fn huge_strings_and_row_groups_in_records_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let o = crlbatch(&["gen", "--out", root.to_str().unwrap(), "--entries", "1000", "--records", "2000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // One record whose ppid is a 20 MB string.
    let script = "import pyarrow as pa, pyarrow.parquet as pq, sys\n\
t = pq.read_table(sys.argv[1])\n\
ppid = t.column('ppid').to_pylist(); ppid[5] = 'x' * 20_000_000\n\
t = t.set_column(t.schema.get_field_index('ppid'), 'ppid', pa.array(ppid, pa.string()))\n\
pq.write_table(t, sys.argv[1])\n";
    let file = std::fs::read_dir(root.join("records")).unwrap().next().unwrap().unwrap().path();
    let o = Command::new("python3").args(["-c", script]).arg(&file).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let cas: String = ["sign-2023", "sign-2019", "auth-2023", "auth-2019"]
        .iter()
        .map(|n| format!("[[ca]]\ncert = \"ca/{n}.der\"\ncrl = [\"crl/{n}.crl\"]\n"))
        .collect();
    let job = root.join("job.toml");
    std::fs::write(&job, format!("name = \"hostile\"\n{cas}[input]\nrecords = \"records\"\n[output]\ndir = \"out\"\n"))
        .unwrap();
    let (rss, code, err, _) = measured(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(code, 0, "{err}");
    assert!(rss < 512 * 1024, "{rss} KiB");
    let rejects = root.join("out/rejects/run_date=2026-11-26");
    let sql = format!(
        "select count(*) from read_parquet('{}/*.parquet') where column_name = 'ppid' and error = 'longer than 1024 bytes' and row = 5",
        rejects.display()
    );
    let o = Command::new("python3")
        .args(["-c", &format!("import duckdb; print(duckdb.sql(\"\"\"{sql}\"\"\").fetchall()[0][0])")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "1", "{}", stderr(&o));
    // A row group over the limit is refused before anything is read.
    std::fs::write(
        &job,
        format!("name = \"hostile\"\n{cas}[input]\nrecords = \"records\"\n[output]\ndir = \"out\"\n[limits]\nmax_row_group_bytes = 1000000\n"),
    )
    .unwrap();
    let (_, code, err, _) = measured(&["run", job.to_str().unwrap(), "--at", AT]);
    assert_eq!(code, 65, "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("crlbatch: error: {}: row group 0 declares ", file.display()))
            && last.ends_with("bytes uncompressed, over the limit of 1000000 (limits.max_row_group_bytes)"),
        "{last}"
    );
}
