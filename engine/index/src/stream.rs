//! Writing an index file while its CRL is still being parsed.
//!
//! After the parse, `crlbatch index` used to spend a fifth of its time on
//! the index file: encode 68 MB (10M entries), then about 36 ms of disk
//! writes with both cores nearly idle. The revocation times are 40 MB of it,
//! and while a CRL's serials ascend (the common case) each time is final as
//! soon as its entry is parsed: rank order is CRL order. A [`TimeStream`]
//! takes them from the index builder, batch by batch, and a thread of its
//! own writes them to the temporary file in 4 MiB blocks (`O_DIRECT` where
//! the filesystem allows it) at their final offset, which does not depend on
//! the metadata as long as that fits the room reserved before it
//! ([`times_offset`]). What is left for the end is the head, the last
//! partial block and the smaller sections.
//!
//! Anything unexpected abandons the stream and the index is written the
//! usual way ([`RevocationIndex::save_and_free`]): serials out of order, the
//! metadata outgrowing its room, a write refused. Either way the file has
//! the same bytes (a test compares them), and it appears under its name
//! only once complete (temporary file, fsync, rename, fsync of the folder).

use std::fs::File;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::error::IndexError;
use crate::format::{
    crc_of, io_err, put_head, put_times, put_trailer, times_offset, tmp_path, AlignedBuf, DIRECT_ALIGN, TRAILER_BYTES,
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
struct Written {
    /// CRC-32 state over every byte written, in file order.
    crc: crc32fast::Hasher,
    error: Option<std::io::Error>,
}

/// Revocation times on their way to a temporary index file; see the module
/// documentation.
#[derive(Debug)]
pub struct TimeStream {
    tmp: PathBuf,
    file: Arc<File>,
    /// Offset of the TIME payload.
    base: usize,
    /// Bytes handed to the writer (whole blocks).
    flushed: usize,
    /// Bytes per block.
    block: usize,
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

impl std::fmt::Debug for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Written").field("error", &self.error).finish_non_exhaustive()
    }
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
        let open = |direct: bool| {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            if direct {
                o.custom_flags(nix::libc::O_DIRECT);
            }
            o.open(&tmp)
        };
        // Filesystems without O_DIRECT (tmpfs) refuse it at open.
        let file = match open(true) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(io_err(&tmp, &e)),
            Err(_) => open(false).map_err(|e| io_err(&tmp, &e))?,
        };
        let file = Arc::new(file);
        let (tx, rx) = mpsc::sync_channel::<(AlignedBuf, usize)>(QUEUE_DEPTH);
        let (recycle_tx, recycle) = mpsc::channel::<AlignedBuf>();
        let out = Arc::clone(&file);
        let spawned = std::thread::Builder::new().name("index-write".into()).spawn(move || {
            let mut w = Written { crc: crc32fast::Hasher::new(), error: None };
            for (buf, offset) in rx {
                if w.error.is_none() {
                    let data = buf.get(0..block).unwrap_or_default();
                    match out.write_all_at(data, offset as u64) {
                        Ok(()) => w.crc.update(data),
                        Err(e) => w.error = Some(e),
                    }
                }
                let _ = recycle_tx.send(buf);
            }
            w
        });
        let writer = match spawned {
            Ok(h) => h,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(io_err(&tmp, &e));
            }
        };
        Ok(Self {
            tmp,
            file,
            base: HEAD_ROOM,
            flushed: 0,
            block,
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

    /// Stop the writer thread; what it wrote, if it ran to the end.
    fn stop_writer(&mut self) -> Option<Written> {
        drop(self.tx.take());
        self.writer.take().and_then(|h| h.join().ok())
    }

    /// Write the rest of `index` (whose times must be the ones streamed) and
    /// publish the file at `path`. When the stream cannot be used, the index
    /// is written the usual way. The index's memory is freed on another
    /// thread while the file goes to disk. Returns the metadata.
    pub fn finish(mut self, index: RevocationIndex, path: &Path) -> Result<IndexMeta, IndexError> {
        let written = self.stop_writer();
        let meta = index.meta_json(&self.tmp)?;
        let (times_len, usable) = {
            let (times, _) = index.columns();
            (times.len(), !self.broken && times.len() == self.count && times_offset(meta.len()) == self.base)
        };
        let written = match written {
            Some(w) if usable && w.error.is_none() => w,
            _ => {
                drop(self);
                return index.save_and_free(path);
            }
        };
        let result = self.write_rest(index, &meta, times_len, written.crc);
        // Drop removes the temporary file unless committed.
        result.and_then(|m| {
            crate::format::commit(&self.tmp, path)?;
            self.committed = true;
            Ok(m)
        })
    }

    /// The last partial block and the sections after the times, then the
    /// head, then the length cut, fsync.
    fn write_rest(
        &self,
        index: RevocationIndex,
        meta: &[u8],
        times_len: usize,
        streamed_crc: crc32fast::Hasher,
    ) -> Result<IndexMeta, IndexError> {
        let e = |x: std::io::Error| io_err(&self.tmp, &x);
        let out_meta = index.meta.clone();
        let (last, rest_len, body_len, head) = {
            let (_, reasons) = index.columns();
            let plan = index.tail_plan(reasons.len());
            let rest_len = self.fill_len + plan.len();
            let body_len = self.base + times_len * 4 + plan.len();
            let mut last = AlignedBuf::zeroed(rest_len + TRAILER_BYTES);
            if let (Some(d), Some(s)) = (last.get_mut(0..self.fill_len), self.fill.get(0..self.fill_len)) {
                d.copy_from_slice(s);
            }
            index.put_tail(last.get_mut(self.fill_len..rest_len).unwrap_or_default(), &reasons, &plan).map_err(e)?;
            let mut head = AlignedBuf::zeroed(self.base);
            put_head(head.get_mut(0..self.base).unwrap_or_default(), meta, times_len * 4);
            (last, rest_len, body_len, head)
        };
        let freeing = std::thread::Builder::new().spawn(move || drop(index)).ok();
        let mut crc = crc_of(head.get(0..self.base).unwrap_or_default());
        crc.combine(&streamed_crc);
        crc.combine(&crc_of(last.get(0..rest_len).unwrap_or_default()));
        let mut last = last;
        put_trailer(last.get_mut(rest_len..rest_len + TRAILER_BYTES).unwrap_or_default(), body_len, crc.finalize());
        let padded = (rest_len + TRAILER_BYTES).next_multiple_of(DIRECT_ALIGN);
        let result = (|| {
            self.file.write_all_at(last.get(0..padded).unwrap_or_default(), (self.base + self.flushed) as u64)?;
            self.file.write_all_at(head.get(0..self.base).unwrap_or_default(), 0)?;
            self.file.set_len((body_len + TRAILER_BYTES) as u64)?;
            self.file.sync_all()
        })();
        if let Some(f) = freeing {
            let _ = f.join();
        }
        result.map_err(e)?;
        Ok(out_meta)
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
