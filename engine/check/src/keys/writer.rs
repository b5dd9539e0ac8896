//! Writing a keys file as its keys stream by, ascending: the keys go
//! straight to the file, the directory (at most 4 MiB) is filled on the way
//! and appended, the header completed last. Temporary file beside the
//! target, fsync, rename.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{bucket, dir_bits_for, HEADER_BYTES, MAGIC_V2, MAX_KEYS};
use crate::error::CheckError;

/// Output buffer.
const WRITE_BUFFER: usize = 1 << 18;

/// A keys file being written.
#[derive(Debug)]
pub struct KeyFileWriter {
    out: BufWriter<File>,
    tmp: PathBuf,
    path: PathBuf,
    bits: u32,
    /// Directory entries filled so far (entry `b` once a key of a bucket
    /// ≥ `b` arrived).
    dir: Vec<u32>,
    n: u64,
    last: Option<u64>,
}

fn err(path: &Path, message: impl std::fmt::Display) -> CheckError {
    CheckError::Keys { path: path.display().to_string(), message: message.to_string() }
}

impl KeyFileWriter {
    /// Start `path` for at most about `expected` keys (sizes the directory).
    pub fn create(path: &Path, expected: u64) -> Result<Self, CheckError> {
        let dir_path = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        crlbatch_write::atomic::create_dir_all(dir_path)?;
        let tmp = dir_path.join(format!("{}{}", super::tmp_prefix(path), std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let f = crlbatch_write::atomic::create_file(&tmp)?;
        let bits = dir_bits_for(expected);
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, f);
        out.write_all(&[0u8; HEADER_BYTES]).map_err(|e| err(&tmp, e))?;
        Ok(KeyFileWriter {
            out,
            tmp,
            path: path.to_path_buf(),
            bits,
            dir: Vec::with_capacity((1usize << bits) + 1),
            n: 0,
            last: None,
        })
    }

    /// Append keys, ascending (a key equal to the last one is skipped).
    pub fn push_sorted(&mut self, keys: &[u64]) -> Result<(), CheckError> {
        let start = self.n;
        let mut kept = 0u64;
        let mut skip = 0usize;
        if let (Some(last), Some(&first)) = (self.last, keys.first()) {
            if first == last {
                skip = 1;
            }
        }
        let keys = keys.get(skip..).unwrap_or_default();
        let mut prev = self.last;
        for &k in keys {
            if prev.is_some_and(|p| p >= k) {
                return Err(err(&self.tmp, "keys not in ascending order (internal error)"));
            }
            let b = bucket(k, self.bits);
            while self.dir.len() <= b {
                self.dir.push(u32::try_from(start + kept).unwrap_or(u32::MAX));
            }
            prev = Some(k);
            kept += 1;
        }
        if start + kept > MAX_KEYS {
            return Err(err(&self.tmp, format!("more than {MAX_KEYS} keys")));
        }
        write_keys(&mut self.out, keys).map_err(|e| err(&self.tmp, e))?;
        self.n += kept;
        self.last = prev;
        Ok(())
    }

    /// Complete the file and rename it into place. Returns the key count.
    pub fn finish(mut self) -> Result<u64, CheckError> {
        self.finish_inner()
    }

    fn finish_inner(&mut self) -> Result<u64, CheckError> {
        let n32 = u32::try_from(self.n).map_err(|_| err(&self.tmp, "too many keys"))?;
        let buckets = 1usize << self.bits;
        while self.dir.len() <= buckets {
            self.dir.push(n32);
        }
        let tmp = self.tmp.clone();
        let mut dir_bytes = Vec::with_capacity(self.dir.len() * 4);
        for d in &self.dir {
            dir_bytes.extend_from_slice(&d.to_le_bytes());
        }
        self.out.write_all(&dir_bytes).map_err(|e| err(&tmp, e))?;
        let mut head = Vec::with_capacity(HEADER_BYTES);
        head.extend_from_slice(MAGIC_V2);
        head.extend_from_slice(&self.n.to_le_bytes());
        head.extend_from_slice(&self.bits.to_le_bytes());
        head.extend_from_slice(&[0u8; 4]);
        self.out.flush().map_err(|e| err(&tmp, e))?;
        let f = self.out.get_mut();
        f.seek(SeekFrom::Start(0)).map_err(|e| err(&tmp, e))?;
        f.write_all(&head).map_err(|e| err(&tmp, e))?;
        self.out.get_ref().sync_all().map_err(|e| err(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| err(&self.path, e))?;
        if let Some(d) = self.path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crlbatch_write::atomic::sync_dir(d)?;
        }
        Ok(self.n)
    }
}

impl Drop for KeyFileWriter {
    /// An unfinished file (an error on the way, a panic) is removed; after
    /// `finish` the temporary name no longer exists.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// Write keys little-endian (in place where the machine is).
pub(crate) fn write_keys(out: &mut impl Write, keys: &[u64]) -> std::io::Result<()> {
    if cfg!(target_endian = "little") {
        out.write_all(bytemuck::cast_slice(keys))
    } else {
        keys.iter().try_for_each(|k| out.write_all(&k.to_le_bytes()))
    }
}
