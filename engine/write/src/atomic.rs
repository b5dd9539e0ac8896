//! Atomic file and directory operations. Output files are created with mode
//! 0640 and folders with 0750: results hold PPIDs.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::WriteError;

/// Mode of every output file.
pub const FILE_MODE: u32 = 0o640;
/// Mode of every output folder.
pub const DIR_MODE: u32 = 0o750;

/// Create a folder (and parents) with [`DIR_MODE`].
pub fn create_dir_all(path: &Path) -> Result<(), WriteError> {
    std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(path).map_err(|e| WriteError::io(path, &e))
}

/// Create a new file with [`FILE_MODE`] (fails if it exists).
pub fn create_file(path: &Path) -> Result<File, WriteError> {
    OpenOptions::new().write(true).create_new(true).mode(FILE_MODE).open(path).map_err(|e| WriteError::io(path, &e))
}

/// fsync a folder, making renames inside it durable.
pub fn sync_dir(path: &Path) -> Result<(), WriteError> {
    File::open(path).and_then(|d| d.sync_all()).map_err(|e| WriteError::io(path, &e))
}

/// Write `bytes` to `path` atomically: temporary file beside it, fsync,
/// rename, fsync of the folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = create_file(&tmp)?;
        f.write_all(bytes).map_err(|e| WriteError::io(&tmp, &e))?;
        f.sync_all().map_err(|e| WriteError::io(&tmp, &e))?;
        std::fs::rename(&tmp, path).map_err(|e| WriteError::io(path, &e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Put the folder `staged` at `target` atomically. If `target` exists, the
/// two are exchanged in one step (Linux `renameat2(RENAME_EXCHANGE)`) and the
/// old content is removed afterwards; a reader sees the old folder or the
/// new one, never a mix and never nothing.
pub fn replace_dir(staged: &Path, target: &Path) -> Result<(), WriteError> {
    if let Some(parent) = target.parent() {
        create_dir_all(parent)?;
    }
    if target.exists() {
        exchange(staged, target)?;
        // `staged` now holds the previous content.
        std::fs::remove_dir_all(staged).map_err(|e| WriteError::io(staged, &e))?;
    } else {
        std::fs::rename(staged, target).map_err(|e| WriteError::io(target, &e))?;
    }
    if let Some(parent) = target.parent() {
        sync_dir(parent)?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> Result<(), WriteError> {
    use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
    renameat2(AT_FDCWD, a, AT_FDCWD, b, RenameFlags::RENAME_EXCHANGE)
        .map_err(|e| WriteError::Io { path: b.display().to_string(), message: format!("atomic exchange failed: {e}") })
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> Result<(), WriteError> {
    // Without an atomic exchange: move the old folder aside, then the new in.
    let aside = b.with_extension("old");
    std::fs::rename(b, &aside).map_err(|e| WriteError::io(b, &e))?;
    std::fs::rename(a, b).map_err(|e| WriteError::io(b, &e))?;
    std::fs::rename(&aside, a).map_err(|e| WriteError::io(a, &e))
}
