//! The streaming pipeline: a reader thread, a hashing thread (the signature
//! digest, and the file's SHA-256 when asked for: both on that thread,
//! interleaved, when the signature hash is SHA-256 and the CPU has SHA-NI,
//! else on a second one), and the entry decoder on the
//! calling thread fanning out to rayon. Blocks are recycled, so memory stays
//! at about twenty 1 MiB blocks whatever the CRL size.

use std::io::Read;
use std::path::Path;
use std::sync::{mpsc, Arc};

use rayon::prelude::*;
use sha2::Digest;

use super::entry::{self, EntryColumns, EntrySink};
use super::ext::{self, CrlExtensions};
use super::{CrlInfo, Limits, ParseOptions, MAX_ENTRY_BYTES, MAX_HEADER_BYTES, MAX_TRAILER_BYTES};
use crate::der::{self, tag, DerError, DerErrorKind, Reader};
use crate::error::CrlError;
use crate::name;
use crate::pem;
use crate::verify::signature::{Digester, HashAlg, SignatureAlgorithm};

/// Bytes read per block. Smaller blocks fill and drain the pipeline sooner
/// (`crlbatch index`, 10M-entry CRL, 10 alternating runs: 4 MiB blocks
/// with 1 MiB tasks 0.321 s median, 1 MiB with 256 KiB 0.302 s, the same
/// CPU time; 256 KiB blocks cost more CPU).
const BLOCK_BYTES: usize = 1 << 20;
/// Blocks in flight between the reader and a hashing thread.
const HASH_QUEUE_DEPTH: usize = 4;
/// Blocks in flight between the reader and the decoder. The reader waits for
/// the slower of its consumers; the decoder may fall this far behind so that
/// the hash, the long pole, is not held up by it (10M-entry CRL, 10
/// alternating runs: 4 blocks 0.285 s median, 16 blocks 0.281 s; with
/// `--file-digest sha256` 0.341 and 0.330 s).
const PARSE_QUEUE_DEPTH: usize = 16;
/// Target bytes of entries per parallel task.
const SPLIT_BYTES: usize = 256 << 10;

type Block = Arc<Vec<u8>>;

fn io_err(e: &std::io::Error) -> CrlError {
    CrlError::Io(e.to_string())
}

/// Read until `buf` holds `want` bytes or the input ends. Returns bytes read.
fn read_fill<R: Read>(reader: &mut R, buf: &mut [u8]) -> Result<usize, CrlError> {
    let mut filled = 0;
    while filled < buf.len() {
        let dst = buf.get_mut(filled..).unwrap_or_default();
        match reader.read(dst) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(&e)),
        }
    }
    Ok(filled)
}

pub(super) fn parse_path<S: EntrySink>(path: &Path, opts: &ParseOptions, sink: &mut S) -> Result<CrlInfo, CrlError> {
    let mut file = std::fs::File::open(path).map_err(|e| io_err(&e))?;
    let size = file.metadata().map_err(|e| io_err(&e))?.len();
    if size > opts.limits.max_crl_bytes {
        return Err(CrlError::TooLarge { size, limit: opts.limits.max_crl_bytes });
    }
    let mut head = [0u8; 64];
    let n = read_fill(&mut file, &mut head)?;
    if pem::looks_like_pem(head.get(..n).unwrap_or_default()) {
        let bytes = std::fs::read(path).map_err(|e| io_err(&e))?;
        return parse_bytes(&bytes, opts, sink);
    }
    let prefix = head.get(..n).unwrap_or_default();
    parse_reader(std::io::Cursor::new(prefix).chain(file), Some(size), opts, sink)
}

pub(super) fn parse_bytes<S: EntrySink>(bytes: &[u8], opts: &ParseOptions, sink: &mut S) -> Result<CrlInfo, CrlError> {
    if pem::looks_like_pem(bytes) {
        let der = pem::decode(bytes, "X509 CRL").map_err(CrlError::Pem)?;
        return parse_reader(der.as_slice(), Some(der.len() as u64), opts, sink);
    }
    parse_reader(bytes, Some(bytes.len() as u64), opts, sink)
}

/// The fields before the first entry, and where everything is.
struct Header {
    total: u64,
    tbs_start: u64,
    tbs_end: u64,
    version: u8,
    sig_alg_der: Vec<u8>,
    issuer_der: Vec<u8>,
    issuer: String,
    this_update: crate::time::Timestamp,
    next_update: Option<crate::time::Timestamp>,
    entries_start: u64,
    entries_end: u64,
}

fn to_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn parse_header(buf: &[u8], eof: bool, size: Option<u64>, limits: &Limits) -> Result<Header, CrlError> {
    let first = *buf.first().ok_or(CrlError::Empty)?;
    if first != tag::SEQUENCE {
        return Err(CrlError::NotDer { first });
    }
    // In the header, running out of buffered bytes before the file ends
    // means the header is over its limit; at EOF it is plain truncation.
    let trunc = |e: DerError| -> CrlError {
        if e.kind == DerErrorKind::Truncated && !eof {
            CrlError::HeaderTooLarge { limit: MAX_HEADER_BYTES as u64 }
        } else {
            e.into()
        }
    };
    let outer = der::read_header(buf, 0).map_err(trunc)?;
    if outer.tag != tag::SEQUENCE {
        return Err(CrlError::NotDer { first: outer.tag });
    }
    let total = (outer.header_len as u64)
        .checked_add(outer.len)
        .ok_or(CrlError::TooLarge { size: u64::MAX, limit: limits.max_crl_bytes })?;
    if total > limits.max_crl_bytes {
        return Err(CrlError::TooLarge { size: total, limit: limits.max_crl_bytes });
    }
    match size {
        Some(size) if size < total => return Err(CrlError::Truncated { expected: total, actual: size }),
        Some(size) if size > total => return Err(CrlError::TrailingData { offset: total }),
        _ => {}
    }
    if eof && (buf.len() as u64) < total {
        return Err(CrlError::Truncated { expected: total, actual: buf.len() as u64 });
    }
    let tbs_start = outer.header_len as u64;
    let tbs_buf = buf.get(outer.header_len..).unwrap_or_default();
    let tbs_h = der::read_header(tbs_buf, tbs_start).map_err(trunc)?;
    if tbs_h.tag != tag::SEQUENCE {
        return Err(DerError {
            offset: tbs_start,
            kind: DerErrorKind::UnexpectedTag { expected: tag::SEQUENCE, found: tbs_h.tag },
        }
        .into());
    }
    let tbs_content = tbs_start + tbs_h.header_len as u64;
    let tbs_end = tbs_content
        .checked_add(tbs_h.len)
        .filter(|&e| e <= total)
        .ok_or(DerError { offset: tbs_start, kind: DerErrorKind::Truncated })?;
    let visible_end = to_usize(tbs_end.min(buf.len() as u64));
    let region = buf.get(to_usize(tbs_content)..visible_end).unwrap_or_default();
    let mut r = Reader::new(region, tbs_content);

    let mut version = 1u8;
    if r.peek_tag() == Some(tag::INTEGER) {
        let v = r.read(tag::INTEGER).map_err(trunc)?;
        der::check_integer(&v)?;
        if v.value != [0x01] {
            return Err(CrlError::BadVersion { offset: v.offset, version: der::hex(v.value) });
        }
        version = 2;
    }
    let sig_alg = r.read(tag::SEQUENCE).map_err(trunc)?;
    let issuer = r.read(tag::SEQUENCE).map_err(trunc)?;
    let issuer_text = name::render(&issuer)?;
    let this_update = read_time_h(&mut r, &trunc)?;
    let next_update = match r.peek_tag() {
        Some(tag::UTC_TIME | tag::GENERALIZED_TIME) => Some(read_time_h(&mut r, &trunc)?),
        _ => None,
    };
    let pos = r.offset();
    let (entries_start, entries_end) = if pos >= tbs_end {
        (pos, pos)
    } else {
        let rest = buf.get(to_usize(pos)..).unwrap_or_default();
        match rest.first() {
            None => return Err(trunc(DerError { offset: pos, kind: DerErrorKind::Truncated })),
            Some(&tag::SEQUENCE) => {
                let h = der::read_header(rest, pos).map_err(trunc)?;
                let start = pos + h.header_len as u64;
                let end = start
                    .checked_add(h.len)
                    .filter(|&e| e <= tbs_end)
                    .ok_or(DerError { offset: pos, kind: DerErrorKind::Truncated })?;
                if h.len == 0 {
                    return Err(CrlError::EmptyRevokedList { offset: pos });
                }
                (start, end)
            }
            Some(&tag::CTX_0) => (pos, pos),
            Some(&found) => {
                return Err(DerError {
                    offset: pos,
                    kind: DerErrorKind::UnexpectedTag { expected: tag::SEQUENCE, found },
                }
                .into())
            }
        }
    };
    let trailer_len = total - entries_end;
    if trailer_len > MAX_TRAILER_BYTES {
        return Err(CrlError::TrailerTooLarge { len: trailer_len, limit: MAX_TRAILER_BYTES });
    }
    Ok(Header {
        total,
        tbs_start,
        tbs_end,
        version,
        sig_alg_der: sig_alg.raw.to_vec(),
        issuer_der: issuer.raw.to_vec(),
        issuer: issuer_text,
        this_update,
        next_update,
        entries_start,
        entries_end,
    })
}

fn read_time_h(r: &mut Reader<'_>, trunc: &dyn Fn(DerError) -> CrlError) -> Result<crate::time::Timestamp, CrlError> {
    // Peek the whole element first so truncation maps to the header limit.
    let mut probe = *r;
    probe.read_any().map_err(trunc)?;
    entry::read_time(r)
}

/// A hashing job run on its own thread over every block read.
enum HashJob {
    /// The signature digest over [start, end).
    Tbs(Digester, u64, u64),
    /// SHA-256 of the whole file.
    File(sha2::Sha256),
    /// SHA-256 signature digest over [start, end) and SHA-256 of the whole
    /// file, interleaved on one thread (see [`crate::sha256x2`]).
    Dual(Box<crate::sha256x2::DualSha256>, u64, u64),
}

/// What hashing produced.
#[derive(Default)]
struct Digests {
    tbs: Option<Vec<u8>>,
    file: Option<[u8; 32]>,
}

impl HashJob {
    /// The jobs for one CRL: one thread hashes both SHA-256 digests where
    /// the CPU allows it; otherwise one thread per digest.
    fn plan(tbs: Option<(HashAlg, u64, u64)>, want_file: bool) -> Vec<Self> {
        match tbs {
            Some((HashAlg::Sha256, s, e)) if want_file && crate::sha256x2::available() => {
                vec![Self::Dual(Box::default(), s, e)]
            }
            _ => {
                let mut jobs: Vec<Self> = tbs.map(|(h, s, e)| Self::Tbs(Digester::new(h), s, e)).into_iter().collect();
                if want_file {
                    jobs.push(Self::File(sha2::Sha256::new()));
                }
                jobs
            }
        }
    }

    /// Hash every block received (in file order) until the reader stops.
    fn run(mut self, blocks: mpsc::Receiver<Block>, recycle: mpsc::Sender<Vec<u8>>) -> Digests {
        let mut offset = 0u64;
        for block in blocks {
            let len = block.len() as u64;
            let part = |s: u64, e: u64| -> &[u8] {
                let lo = offset.max(s);
                let hi = (offset + len).min(e);
                if lo < hi {
                    block.get(to_usize(lo - offset)..to_usize(hi - offset)).unwrap_or_default()
                } else {
                    &[]
                }
            };
            match &mut self {
                Self::Tbs(d, s, e) => d.update(part(*s, *e)),
                Self::File(d) => d.update(block.as_slice()),
                Self::Dual(d, s, e) => d.update(block.as_slice(), part(*s, *e)),
            }
            offset += len;
            if let Some(v) = Arc::into_inner(block) {
                let _ = recycle.send(v);
            }
        }
        match self {
            Self::Tbs(d, _, _) => Digests { tbs: Some(d.finish()), file: None },
            Self::File(d) => Digests { tbs: None, file: Some(d.finalize().into()) },
            Self::Dual(d, _, _) => {
                let (file, tbs) = d.finish();
                Digests { tbs: Some(tbs.to_vec()), file: Some(file) }
            }
        }
    }
}

/// Read the whole input in blocks, handing each to the parser and to every
/// hashing thread. Returns false when a receiver stopped early.
fn reader_loop<R: Read>(
    mut reader: R,
    initial: Vec<u8>,
    total: u64,
    tx: mpsc::SyncSender<Block>,
    hash_tx: Vec<mpsc::SyncSender<Block>>,
    recycle: mpsc::Receiver<Vec<u8>>,
) -> Result<bool, CrlError> {
    let mut offset = 0u64;
    let mut block = initial;
    loop {
        let len = block.len() as u64;
        if offset + len > total {
            return Err(CrlError::TrailingData { offset: total });
        }
        offset += len;
        let shared = Arc::new(block);
        for htx in &hash_tx {
            if htx.send(Arc::clone(&shared)).is_err() {
                return Ok(false);
            }
        }
        if tx.send(shared).is_err() {
            return Ok(false);
        }
        if offset >= total {
            let mut probe = [0u8; 1];
            if read_fill(&mut reader, &mut probe)? > 0 {
                return Err(CrlError::TrailingData { offset: total });
            }
            break;
        }
        let want = to_usize((total - offset).min(BLOCK_BYTES as u64));
        let mut next = recycle.try_recv().unwrap_or_default();
        next.resize(want, 0);
        let n = read_fill(&mut reader, &mut next)?;
        if n == 0 {
            return Err(CrlError::Truncated { expected: total, actual: offset });
        }
        next.truncate(n);
        block = next;
    }
    Ok(true)
}

/// Decodes the revokedCertificates region as blocks arrive.
struct EntryParser<'s, S: EntrySink> {
    carry: Vec<u8>,
    carry_offset: u64,
    sink: &'s mut S,
    /// Recycled batch buffers.
    pool: Vec<EntryColumns>,
    count: u64,
    allow_extensions: bool,
    max_entries: u64,
}

impl<S: EntrySink> EntryParser<'_, S> {
    fn feed(&mut self, mut data: &[u8], mut offset: u64) -> Result<(), CrlError> {
        if !self.carry.is_empty() {
            // Complete the entry that straddles the previous block.
            loop {
                match der::read_header(&self.carry, self.carry_offset) {
                    Ok(h) => {
                        // A declared length near u64::MAX must not wrap (fuzz-found).
                        let total = (h.header_len as u64).saturating_add(h.len);
                        if h.tag != tag::SEQUENCE {
                            return Err(DerError {
                                offset: self.carry_offset,
                                kind: DerErrorKind::UnexpectedTag { expected: tag::SEQUENCE, found: h.tag },
                            }
                            .into());
                        }
                        if total > MAX_ENTRY_BYTES {
                            return Err(CrlError::EntryTooLarge {
                                offset: self.carry_offset,
                                len: total,
                                limit: MAX_ENTRY_BYTES,
                            });
                        }
                        let missing = to_usize(total).saturating_sub(self.carry.len());
                        let take = missing.min(data.len());
                        let (head, rest) = data.split_at(take);
                        self.carry.extend_from_slice(head);
                        data = rest;
                        offset += take as u64;
                        if (self.carry.len() as u64) < total {
                            return Ok(());
                        }
                        let mut one = self.pool.pop().unwrap_or_default();
                        one.clear();
                        entry::parse_entries(
                            &self.carry,
                            self.carry_offset,
                            self.count,
                            self.allow_extensions,
                            &mut one,
                        )?;
                        self.sink.accept(&one)?;
                        self.pool.push(one);
                        self.count += 1;
                        self.carry.clear();
                        break;
                    }
                    Err(e) if e.kind == DerErrorKind::Truncated => match data.split_first() {
                        Some((&b, rest)) => {
                            self.carry.push(b);
                            data = rest;
                            offset += 1;
                        }
                        None => return Ok(()),
                    },
                    Err(e) => return Err(e.into()),
                }
            }
        }
        // Find entry boundaries; cut the run into tasks of ~SPLIT_BYTES.
        let mut pos = 0usize;
        let mut n = 0u64;
        let mut splits: Vec<(usize, u64)> = vec![(0, 0)];
        let mut last_split = 0usize;
        while let Some(rest) = data.get(pos..).filter(|r| !r.is_empty()) {
            let at = offset + pos as u64;
            match der::read_header(rest, at) {
                Ok(h) => {
                    if h.tag != tag::SEQUENCE {
                        return Err(DerError {
                            offset: at,
                            kind: DerErrorKind::UnexpectedTag { expected: tag::SEQUENCE, found: h.tag },
                        }
                        .into());
                    }
                    let total = (h.header_len as u64).saturating_add(h.len);
                    if total > MAX_ENTRY_BYTES {
                        return Err(CrlError::EntryTooLarge { offset: at, len: total, limit: MAX_ENTRY_BYTES });
                    }
                    if total > rest.len() as u64 {
                        break;
                    }
                    pos += to_usize(total);
                    n += 1;
                    if pos - last_split >= SPLIT_BYTES {
                        splits.push((pos, n));
                        last_split = pos;
                    }
                }
                Err(e) if e.kind == DerErrorKind::Truncated => break,
                Err(e) => return Err(e.into()),
            }
        }
        if self.count + n > self.max_entries {
            return Err(CrlError::TooManyEntries { limit: self.max_entries });
        }
        if splits.last().is_some_and(|&(p, _)| p < pos) {
            splits.push((pos, n));
        }
        let base_count = self.count;
        let allow = self.allow_extensions;
        let tasks: Vec<(usize, usize, u64)> = splits
            .windows(2)
            .filter_map(|w| match w {
                [a, b] => Some((a.0, b.0, a.1)),
                _ => None,
            })
            .collect();
        // Column buffers are recycled across blocks: fresh allocations here
        // would cost a page fault and a page clear every 4 KiB.
        let mut bufs: Vec<EntryColumns> = tasks.iter().map(|_| self.pool.pop().unwrap_or_default()).collect();
        let results: Vec<Result<(), CrlError>> = tasks
            .par_iter()
            .zip(bufs.par_iter_mut())
            .map(|(&(s, e, ord), cols)| {
                cols.clear();
                let bytes = data.get(s..e).unwrap_or_default();
                entry::parse_entries(bytes, offset + s as u64, base_count + ord, allow, cols)
            })
            .collect();
        for (r, cols) in results.into_iter().zip(&bufs) {
            r?;
            self.sink.accept(cols)?;
        }
        self.pool.append(&mut bufs);
        self.count += n;
        let rest = data.get(pos..).unwrap_or_default();
        self.carry.extend_from_slice(rest);
        self.carry_offset = offset + pos as u64;
        Ok(())
    }

    fn finish(self) -> Result<u64, CrlError> {
        if !self.carry.is_empty() {
            // An entry runs past the end of revokedCertificates.
            return Err(DerError { offset: self.carry_offset, kind: DerErrorKind::Truncated }.into());
        }
        Ok(self.count)
    }
}

/// crlExtensions (inside tbsCertList) and the signature (after it).
fn parse_trailer(trailer: &[u8], h: &Header) -> Result<(CrlExtensions, Vec<u8>), CrlError> {
    let tbs_rest = to_usize(h.tbs_end - h.entries_end);
    let (in_tbs, after) =
        trailer.split_at_checked(tbs_rest).ok_or(DerError { offset: h.entries_end, kind: DerErrorKind::Truncated })?;
    let mut r = Reader::new(in_tbs, h.entries_end);
    let mut exts = CrlExtensions::default();
    if !r.is_empty() {
        let wrapper = r.read(tag::CTX_0)?;
        if h.version < 2 {
            return Err(CrlError::ExtensionsInV1 { offset: wrapper.offset });
        }
        exts = ext::parse_crl_extensions(&wrapper)?;
    }
    r.finish()?;
    let mut r = Reader::new(after, h.tbs_end);
    let alg = r.read(tag::SEQUENCE)?;
    let sig = r.read(tag::BIT_STRING)?;
    r.finish()?;
    if alg.raw != h.sig_alg_der.as_slice() {
        return Err(CrlError::SignatureAlgorithmMismatch { offset: alg.offset });
    }
    let sig = der::bit_string_octets(&sig)?.to_vec();
    Ok((exts, sig))
}

pub(super) fn parse_reader<R: Read + Send, S: EntrySink>(
    mut reader: R,
    size: Option<u64>,
    opts: &ParseOptions,
    sink: &mut S,
) -> Result<CrlInfo, CrlError> {
    let limits = opts.limits;
    let prefetch = MAX_HEADER_BYTES + 64;
    let mut initial = vec![0u8; prefetch];
    let n = read_fill(&mut reader, &mut initial)?;
    initial.truncate(n);
    let eof = n < prefetch;
    let h = parse_header(&initial, eof, size, &limits)?;

    let sig_alg = SignatureAlgorithm::from_der(&h.sig_alg_der);
    let tbs_plan = sig_alg.as_ref().ok().map(|a| (a.hash(), h.tbs_start, h.tbs_end));
    let allow_extensions = h.version >= 2;

    let (tx, rx) = mpsc::sync_channel::<Block>(PARSE_QUEUE_DEPTH);
    let (recycle_tx, recycle_rx) = mpsc::channel::<Vec<u8>>();
    let want_file = opts.file_digest == super::FileDigest::Sha256;
    let jobs = HashJob::plan(tbs_plan, want_file);

    let total = h.total;
    let (consumed, read_done, digests) = std::thread::scope(|s| {
        let mut hash_tx = Vec::new();
        let mut hash_threads = Vec::new();
        for job in jobs {
            let (htx, hrx) = mpsc::sync_channel::<Block>(HASH_QUEUE_DEPTH);
            let recycle = recycle_tx.clone();
            hash_tx.push(htx);
            hash_threads.push(
                std::thread::Builder::new().name("crl-hash".into()).spawn_scoped(s, move || job.run(hrx, recycle)),
            );
        }
        let reader_thread = s.spawn(move || reader_loop(reader, initial, total, tx, hash_tx, recycle_rx));

        // About 38 bytes an entry in JPKI-like CRLs. Only when the input size
        // is known: then the declared revokedCertificates length was checked
        // against the bytes actually there, not taken from the DER alone.
        if size.is_some() {
            sink.reserve(to_usize((h.entries_end - h.entries_start) / 36).min(to_usize(limits.max_entries)));
        }
        let mut parser = EntryParser {
            carry: Vec::new(),
            carry_offset: h.entries_start,
            sink,
            pool: Vec::new(),
            count: 0,
            allow_extensions,
            max_entries: limits.max_entries,
        };
        let mut trailer: Vec<u8> = Vec::new();
        let mut offset = 0u64;
        let mut consume = || -> Result<(), CrlError> {
            for block in rx.iter() {
                let len = block.len() as u64;
                let lo = offset.max(h.entries_start);
                let hi = (offset + len).min(h.entries_end);
                if lo < hi {
                    let part = block.get(to_usize(lo - offset)..to_usize(hi - offset)).unwrap_or_default();
                    parser.feed(part, lo)?;
                }
                let lo = offset.max(h.entries_end);
                if lo < offset + len {
                    trailer.extend_from_slice(block.get(to_usize(lo - offset)..).unwrap_or_default());
                }
                offset += len;
                if let Some(v) = Arc::into_inner(block) {
                    let _ = recycle_tx.send(v);
                }
            }
            Ok(())
        };
        let consumed = consume();
        drop(rx);
        let read_done = reader_thread.join().unwrap_or(Err(CrlError::Io("reader thread failed".into())));
        let mut digests = Digests::default();
        for t in hash_threads {
            let d = match t {
                Ok(t) => t.join().map_err(|_| CrlError::Io("hash thread failed".into())),
                Err(e) => Err(CrlError::Io(format!("cannot start hash thread: {e}"))),
            };
            match d {
                Ok(d) => {
                    digests.tbs = digests.tbs.or(d.tbs);
                    digests.file = digests.file.or(d.file);
                }
                Err(e) => return (Err(e), read_done, digests),
            }
        }
        (consumed.map(|()| (parser, trailer)), read_done, digests)
    });
    // A short or overlong input explains any decoding error downstream of it.
    let read_done = match read_done {
        Err(e @ (CrlError::Truncated { .. } | CrlError::TrailingData { .. } | CrlError::Io(_))) => return Err(e),
        other => other,
    };
    let (parser, trailer) = consumed?;
    if !read_done? {
        return Err(CrlError::Io("input reader stopped early".into()));
    }
    let entries = parser.finish()?;
    let (extensions, signature) = parse_trailer(&trailer, &h)?;
    let info = CrlInfo {
        version: h.version,
        signature_algorithm_der: h.sig_alg_der,
        signature_algorithm: sig_alg,
        issuer_der: h.issuer_der,
        issuer: h.issuer,
        this_update: h.this_update,
        next_update: h.next_update,
        extensions,
        signature,
        tbs_digest: digests.tbs,
        file_sha256: digests.file,
        size: h.total,
        entries,
    };
    Ok(info)
}
