//! Index files written while the CRL is parsed (`TimeStream`): the same
//! bytes as a file saved afterwards, whichever way the stream ends — used,
//! abandoned for unsorted input or for metadata too large for its room —
//! and nothing left behind when the CRL is rejected.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use crlbatch_crl::ParseOptions;
use crlbatch_gen::{GenEntry, Hierarchy};
use crlbatch_index::{index_crl_streamed, Built, RevocationIndex, TimeStream};

/// Blocks of 8 KiB: 2,048 times each, so 20,000 entries cross nine block
/// boundaries and end inside a block.
const BLOCK: usize = 8 << 10;

/// Files in `dir`, sorted by name.
fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Index the CRL at `crl` (named `name`) through a stream into
/// `out/x.crlidx`; returns the path and whether the times were still in the
/// stream at the end (not read back).
fn streamed(crl: &Path, name: &str, out: &Path) -> (PathBuf, bool) {
    let c = ca(Hierarchy::Sign, 2023);
    let path = out.join("x.crlidx");
    let stream = TimeStream::create_with(&path, BLOCK).unwrap();
    let built = index_crl_streamed(&ca_cert(c), (name, crl), at(), &ParseOptions::default(), stream).unwrap();
    let used = matches!(built, Built::Streamed(_));
    let expected = built.meta().clone();
    assert_eq!(built.save_and_free(&path).unwrap(), expected);
    (path, used)
}

/// The bytes of the file at `path`, after checking that loading it and
/// saving it again (the usual way, from memory) gives the same bytes.
fn resaved(path: &Path, dir: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let p = dir.join("saved").join("x.crlidx");
    RevocationIndex::load(path).unwrap().save(&p).unwrap();
    assert!(std::fs::read(p).unwrap() == bytes, "saved again, {} differs", path.display());
    bytes
}

fn check_lookups(path: &Path, entries: &[GenEntry]) {
    let loaded = RevocationIndex::load(path).unwrap();
    assert_eq!(loaded.len(), entries.len() as u64);
    for e in entries {
        let r = loaded.lookup(&e.serial).unwrap();
        assert_eq!((r.revocation_time, r.reason, r.invalidity_time), (e.revoked, e.reason, e.invalidity));
    }
}

#[test]
fn streamed_file_has_the_bytes_of_a_saved_one() {
    let dir = tempfile::tempdir().unwrap();
    let entries = generated(20_000, 4, Hierarchy::Sign);
    let crl = write(dir.path(), "s.crl", ca(Hierarchy::Sign, 2023), &daily(), &entries);
    let out = dir.path().join("out");
    let (path, used) = streamed(&crl, "s.crl", &out);
    assert!(used);
    let bytes = resaved(&path, dir.path());
    // The times start at 4096, after the PAD section and the TIME header.
    assert_eq!(&bytes[4084..4088], b"TIME");
    assert_eq!(u64::from_le_bytes(bytes[4088..4096].try_into().unwrap()), 4 * (20_000 - 4));
    check_lookups(&path, &entries);
    // Only the index is left in the folder.
    assert_eq!(files(&out), ["x.crlidx"]);
}

#[test]
fn a_stream_is_abandoned_for_unsorted_input_and_the_file_is_still_right() {
    let dir = tempfile::tempdir().unwrap();
    let mut entries = generated(30_000, 4, Hierarchy::Sign);
    // Out of order after the first stretch: several blocks have been
    // written by then.
    entries[20_000..25_000].reverse();
    let crl = write(dir.path(), "u.crl", ca(Hierarchy::Sign, 2023), &daily(), &entries);
    let out = dir.path().join("out");
    let (path, used) = streamed(&crl, "u.crl", &out);
    assert!(!used);
    resaved(&path, dir.path());
    check_lookups(&path, &entries);
    assert_eq!(files(&out), ["x.crlidx"]);
}

#[test]
fn metadata_too_large_for_its_room_falls_back_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let entries = generated(20_000, 4, Hierarchy::Sign);
    let crl = write(dir.path(), "m.crl", ca(Hierarchy::Sign, 2023), &daily(), &entries);
    let out = dir.path().join("out");
    // The source name is recorded in the metadata: 5,000 characters of it
    // do not fit before offset 4096.
    let name = "n".repeat(5_000);
    let (path, used) = streamed(&crl, &name, &out);
    assert!(used);
    let bytes = resaved(&path, dir.path());
    assert_eq!(&bytes[8180..8184], b"TIME");
    check_lookups(&path, &entries);
    assert_eq!(files(&out), ["x.crlidx"]);
}

#[test]
fn a_rejected_crl_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let entries = generated(20_000, 4, Hierarchy::Sign);
    // Signed by the 2019 generation, verified against 2023: same DN,
    // another key.
    let crl = write(dir.path(), "r.crl", ca(Hierarchy::Sign, 2019), &daily(), &entries);
    let out = dir.path().join("out");
    let path = out.join("x.crlidx");
    let stream = TimeStream::create_with(&path, BLOCK).unwrap();
    let c = ca(Hierarchy::Sign, 2023);
    let err = index_crl_streamed(&ca_cert(c), ("r.crl", &crl), at(), &ParseOptions::default(), stream).unwrap_err();
    assert!(err.to_string().starts_with("r.crl: "), "{err}");
    assert_eq!(files(&out), Vec::<String>::new());
}

#[test]
fn a_stream_needs_a_folder_it_can_write() {
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("plain-file");
    std::fs::write(&blocked, b"x").unwrap();
    let e = TimeStream::create(&blocked.join("sub").join("x.crlidx")).unwrap_err().to_string();
    assert!(e.contains("plain-file/sub"), "{e}");
    assert_eq!(std::fs::read(&blocked).unwrap(), b"x");
}

#[test]
fn streams_work_on_tmpfs() {
    // /dev/shm is tmpfs, which refuses O_DIRECT before Linux 6.6 (the
    // writes are then buffered) and takes it since.
    let shm = Path::new("/dev/shm");
    if !shm.is_dir() {
        return;
    }
    let dir = tempfile::tempdir_in(shm).unwrap();
    let entries = generated(20_000, 4, Hierarchy::Sign);
    let crl = write(dir.path(), "t.crl", ca(Hierarchy::Sign, 2023), &daily(), &entries);
    let out = dir.path().join("out");
    let (path, used) = streamed(&crl, "t.crl", &out);
    assert!(used);
    resaved(&path, dir.path());
    check_lookups(&path, &entries);
}

#[test]
fn a_streaming_builder_finished_as_usual_reads_its_times_back() {
    let dir = tempfile::tempdir().unwrap();
    let entries = generated(20_000, 4, Hierarchy::Sign);
    let c = ca(Hierarchy::Sign, 2023);
    let crl = write(dir.path(), "b.crl", c, &daily(), &entries);
    let out = dir.path().join("out");
    let stream = TimeStream::create_with(&out.join("x.crlidx"), BLOCK).unwrap();
    let mut builder = crlbatch_index::IndexBuilder::streaming(stream);
    crlbatch_crl::parse_path_into(&crl, &ParseOptions::default(), &mut builder).unwrap();
    let meta = crlbatch_index::IndexMeta::new(&ca_cert(c), Vec::new(), at());
    let idx = builder.finish(meta).unwrap();
    assert_eq!(idx.len(), entries.len() as u64);
    for e in &entries {
        let r = idx.lookup(&e.serial).unwrap();
        assert_eq!((r.revocation_time, r.reason, r.invalidity_time), (e.revoked, e.reason, e.invalidity));
    }
    // The stream's temporary file is gone.
    assert_eq!(files(&out), Vec::<String>::new());
}

#[test]
fn a_streamed_index_goes_only_where_its_stream_was_made_for() {
    let dir = tempfile::tempdir().unwrap();
    let entries = generated(20_000, 4, Hierarchy::Sign);
    let c = ca(Hierarchy::Sign, 2023);
    let crl = write(dir.path(), "p.crl", c, &daily(), &entries);
    let out = dir.path().join("out");
    let stream = TimeStream::create_with(&out.join("x.crlidx"), BLOCK).unwrap();
    let built = index_crl_streamed(&ca_cert(c), ("p.crl", &crl), at(), &ParseOptions::default(), stream).unwrap();
    let elsewhere = out.join("y.crlidx");
    let e = built.save_and_free(&elsewhere).unwrap_err().to_string();
    assert!(e.contains("it can be written only there"), "{e}");
    assert_eq!(files(&out), Vec::<String>::new());
}
