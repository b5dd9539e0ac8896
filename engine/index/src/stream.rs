//! Writing an index file while its CRL is still being parsed.
//!
//! After the parse, `crlbatch index` used to spend a fifth of its time on
//! the index file: encode 68 MB (10M entries), then about 36 ms of disk
//! writes with both cores nearly idle. The revocation times are 40 MB of it,
//! and while a CRL's serials ascend (the common case) each time is final as
//! soon as its entry is parsed: rank order is CRL order. A [`TimeStream`]
//! takes them from the index builder, batch by batch, instead of the
//! builder keeping them, and a thread of its own writes them to the
//! temporary file in 4 MiB blocks (`O_DIRECT` where the filesystem allows
//! it) at their final offset, which does not depend on the metadata as long
//! as that fits the room reserved before it ([`times_offset`]). What is left
//! for the end is the head, the last partial block and the smaller sections.
//!
//! When the stream cannot be used to the end, the times are read back from
//! the file and the index is built or written the usual way: serials out of
//! order (the builder sorts), metadata larger than its room
//! ([`RevocationIndex::save_and_free`]). Either way the file has the same
//! bytes (tests compare them), and it appears under its name only once
//! complete (temporary file, fsync, rename, fsync of the folder).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::error::IndexError;
use crate::format::{
    crc_of, io_err, put_head, put_times, put_trailer, times_offset, tmp_path, AlignedBuf, TmpFile, DIRECT_ALIGN,
    TRAILER_BYTES,
};
use crate::index::RevocationIndex;
use crate::meta::IndexMeta;

/// Bytes of times per block written (a multiple of 4096 and of 4).
const BLOCK_BYTES: usize = 4 << 20;
/// Blocks queued for the writer thread.
const QUEUE_DEPTH: usize = 2;
/// Room for the head before the times: the TIME payload starts at 4096, so
/// metadata of up to 4056 bytes (one CRL: about 800) fits.
const HEAD_ROOM: usize = DIRECT_ALIGN;

/// What the writer thread did.
#[derive(Debug)]
struct Written {
    out: TmpFile,
    /// CRC-32 state over every byte written, in file order.
    crc: crc32fast::Hasher,
    error: Option<std::io::Error>,
}

/// Revocation times on their way to a temporary index file; see the module
/// documentation.
#[derive(Debug)]
pub struct TimeStream {
    /// The index file this stream is for, and its temporary file.
    path: PathBuf,
    tmp: PathBuf,
    /// Offset of the TIME payload.
    base: usize,
    /// Bytes per block.
    block: usize,
    /// Bytes handed to the writer (whole blocks).
    flushed: usize,
    /// The block being filled, and its bytes used.
    fill: AlignedBuf,
    fill_len: usize,
    /// Time codes taken.
    count: usize,
    tx: Option<mpsc::SyncSender<(AlignedBuf, usize)>>,
    recycle: mpsc::Receiver<AlignedBuf>,
    writer: Option<JoinHandle<Written>>,
    /// A block could not be handed over (the writer stopped).
    broken: bool,
    /// Renamed into place: nothing to remove.
    committed: bool,
}

impl TimeStream {
    /// Create the temporary file for the index at `path` (its folder is
    /// created) and start the writer thread. An error here is one the usual
    /// way of writing would meet too (a folder that cannot be made, no
    /// permission), or no thread could be started.
    pub fn create(path: &Path) -> Result<Self, IndexError> {
        Self::create_with(path, BLOCK_BYTES)
    }

    /// [`Self::create`] with blocks of `block_bytes` (rounded up to a
    /// multiple of 4096): for tests, to cross block boundaries with small
    /// inputs.
    pub fn create_with(path: &Path, block_bytes: usize) -> Result<Self, IndexError> {
        let block = block_bytes.max(1).next_multiple_of(DIRECT_ALIGN);
        let (dir, tmp) = tmp_path(path);
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, &e))?;
        let mut out = TmpFile::create(&tmp).map_err(|e| io_err(&tmp, &e))?;
        let (tx, rx) = mpsc::sync_channel::<(AlignedBuf, usize)>(QUEUE_DEPTH);
        let (recycle_tx, recycle) = mpsc::channel::<AlignedBuf>();
        let writer_tmp = tmp.clone();
        let spawned = std::thread::Builder::new().name("index-write".into()).spawn(move || {
            let mut crc = crc32fast::Hasher::new();
            let mut error = None;
            for (buf, offset) in rx {
                if error.is_none() {
                    let data = buf.get(0..block).unwrap_or_default();
                    match out.write_at(&writer_tmp, data, offset) {
                        Ok(()) => crc.update(data),
                        Err(e) => error = Some(e),
                    }
                }
                let _ = recycle_tx.send(buf);
            }
            Written { out, crc, error }
        });
        let writer = match spawned {
            Ok(h) => h,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(io_err(&tmp, &e));
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            tmp,
            base: HEAD_ROOM,
            block,
            flushed: 0,
            fill: AlignedBuf::zeroed(block),
            fill_len: 0,
            count: 0,
            tx: Some(tx),
            recycle,
            writer: Some(writer),
            broken: false,
            committed: false,
        })
    }

    /// Append time codes, in rank order.
    pub fn push(&mut self, times: &[u32]) {
        let mut rest = times;
        while !rest.is_empty() {
            let room = (self.block - self.fill_len) / 4;
            let (now, later) = rest.split_at(room.min(rest.len()));
            let end = self.fill_len + now.len() * 4;
            put_times(self.fill.get_mut(self.fill_len..end).unwrap_or_default(), now);
            self.fill_len = end;
            if self.fill_len == self.block {
                self.hand_over();
            }
            rest = later;
        }
        self.count += times.len();
    }

    /// Send the full block to the writer and start a new one.
    fn hand_over(&mut self) {
        let next = self.recycle.try_recv().unwrap_or_else(|_| AlignedBuf::zeroed(self.block));
        let full = std::mem::replace(&mut self.fill, next);
        let offset = self.base + self.flushed;
        self.fill_len = 0;
        self.flushed += self.block;
        if self.tx.as_ref().is_none_or(|tx| tx.send((full, offset)).is_err()) {
            self.broken = true;
        }
    }

    /// Stop the writer thread: what it wrote, if it got to the end of what
    /// it was given without an error.
    fn stop_writer(&mut self) -> Result<Written, std::io::Error> {
        drop(self.tx.take());
        let w = self.writer.take().and_then(|h| h.join().ok());
        match w {
            Some(Written { error: Some(e), .. }) => Err(e),
            Some(w) if !self.broken => Ok(w),
            _ => Err(std::io::Error::other("the index writer thread stopped")),
        }
    }

    /// Every time code taken, read back from the file (and the block being
    /// filled); the stream is then given up and its file removed.
    pub fn take_back(mut self) -> Result<Vec<u32>, IndexError> {
        let tmp = self.tmp.display().to_string();
        let err = |e: std::io::Error| IndexError::Io {
            path: tmp.clone(),
            message: format!("reading back the revocation times written: {e}"),
        };
        let written = self.stop_writer().map_err(err);
        let mut bytes = vec![0u8; self.flushed];
        written
            .and_then(|_| File::open(&self.tmp).map_err(err))
            .and_then(|f| f.read_exact_at(&mut bytes, self.base as u64).map_err(err))?;
        bytes.extend_from_slice(self.fill.get(0..self.fill_len).unwrap_or_default());
        let times: Vec<u32> =
            bytes.chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default())).collect();
        if times.len() != self.count {
            return Err(err(std::io::Error::other(format!("{} times, expected {}", times.len(), self.count))));
        }
        Ok(times)
    }
}

impl Drop for TimeStream {
    fn drop(&mut self) {
        let _ = self.stop_writer();
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// An index whose revocation times are in a [`TimeStream`], not in memory:
/// it can only be written, to the file the stream was made for.
#[derive(Debug)]
pub struct StreamedIndex {
    /// Everything but the times.
    index: RevocationIndex,
    stream: TimeStream,
}

/// What a streaming index builder produced.
#[derive(Debug)]
pub enum Built {
    /// A complete index (the stream was given up, or there was none).
    Index(RevocationIndex),
    /// An index whose times are in its stream.
    Streamed(StreamedIndex),
}

impl Built {
    /// Write the index to `path` (atomically) and free it; returns the
    /// metadata. A streamed index must go to the path its stream was made
    /// for.
    pub fn save_and_free(self, path: &Path) -> Result<IndexMeta, IndexError> {
        match self {
            Built::Index(index) => index.save_and_free(path),
            Built::Streamed(s) => s.finish(path),
        }
    }

    /// The metadata.
    pub fn meta(&self) -> &IndexMeta {
        match self {
            Built::Index(index) => index.meta(),
            Built::Streamed(s) => s.index.meta(),
        }
    }
}

impl StreamedIndex {
    pub(crate) fn new(index: RevocationIndex, stream: TimeStream) -> Self {
        Self { index, stream }
    }

    /// Write the rest and publish the file at `path`. When the metadata
    /// outgrew its room, the times are read back and the index is written
    /// the usual way. The index's memory is freed on another thread while
    /// the file goes to disk.
    fn finish(self, path: &Path) -> Result<IndexMeta, IndexError> {
        let Self { mut index, mut stream } = self;
        if path != stream.path {
            return Err(IndexError::Io {
                path: path.display().to_string(),
                message: format!("this index was streamed to {}; it can be written only there", stream.path.display()),
            });
        }
        let members = usize::try_from(index.members.len()).unwrap_or(usize::MAX);
        let meta = index.meta_json(&stream.tmp)?;
        if members != stream.count {
            return Err(IndexError::Corrupt {
                path: stream.tmp.display().to_string(),
                what: format!("{} revocation times streamed for {members} members", stream.count),
            });
        }
        if times_offset(meta.len()) != stream.base {
            index.times = stream.take_back()?;
            return index.save_and_free(path);
        }
        let written = stream.stop_writer().map_err(|e| io_err(&stream.tmp, &e))?;
        let result = stream.write_rest(index, &meta, written);
        // Drop removes the temporary file unless committed.
        result.and_then(|m| {
            crate::format::commit(&stream.tmp, path)?;
            stream.committed = true;
            Ok(m)
        })
    }
}

impl TimeStream {
    /// The last partial block and the sections after the times, then the
    /// head, then the length cut, fsync.
    fn write_rest(&self, index: RevocationIndex, meta: &[u8], written: Written) -> Result<IndexMeta, IndexError> {
        let e = |x: std::io::Error| io_err(&self.tmp, &x);
        let Written { mut out, crc: streamed_crc, .. } = written;
        let out_meta = index.meta.clone();
        let times_bytes = self.count * 4;
        let (mut last, rest_len, body_len, head) = {
            let plan = index.tail_plan(index.reasons.len());
            let rest_len = self.fill_len + plan.len();
            let body_len = self.base + times_bytes + plan.len();
            let mut last = AlignedBuf::zeroed(rest_len + TRAILER_BYTES);
            if let (Some(d), Some(s)) = (last.get_mut(0..self.fill_len), self.fill.get(0..self.fill_len)) {
                d.copy_from_slice(s);
            }
            index
                .put_tail(last.get_mut(self.fill_len..rest_len).unwrap_or_default(), &index.reasons, &plan)
                .map_err(e)?;
            let mut head = AlignedBuf::zeroed(self.base);
            put_head(head.get_mut(0..self.base).unwrap_or_default(), meta, times_bytes);
            (last, rest_len, body_len, head)
        };
        let freeing = std::thread::Builder::new().spawn(move || drop(index)).ok();
        let mut crc = crc_of(head.get(0..self.base).unwrap_or_default());
        crc.combine(&streamed_crc);
        crc.combine(&crc_of(last.get(0..rest_len).unwrap_or_default()));
        put_trailer(last.get_mut(rest_len..rest_len + TRAILER_BYTES).unwrap_or_default(), body_len, crc.finalize());
        let padded = (rest_len + TRAILER_BYTES).next_multiple_of(DIRECT_ALIGN);
        let result = (|| {
            out.write_at(&self.tmp, last.get(0..padded).unwrap_or_default(), self.base + self.flushed)?;
            out.write_at(&self.tmp, head.get(0..self.base).unwrap_or_default(), 0)?;
            out.file.set_len((body_len + TRAILER_BYTES) as u64)?;
            out.file.sync_all()
        })();
        if let Some(f) = freeing {
            let _ = f.join();
        }
        result.map_err(e)?;
        Ok(out_meta)
    }
}
