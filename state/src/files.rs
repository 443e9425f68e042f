//! Reading state files safely: regular files only (a FIFO would block forever, a device such
//! as `/dev/zero` would be read without end), up to a size limit.

use std::fs::{self, File, FileType};
use std::io::{ErrorKind, Read as _};
use std::os::unix::fs::FileTypeExt as _;
use std::path::Path;

use crate::error::StateError;

/// The most plinth reads from a snapshot or journal (a 10,000-resource state is tens of MB).
pub const MAX_STATE_FILE_BYTES: u64 = 1 << 30;

/// The most plinth reads from a lock-info file.
pub(crate) const MAX_LOCK_INFO_BYTES: u64 = 64 << 10;

/// Reads `path` if it exists (`None` if it does not). Refuses anything but a regular file (or
/// a symlink to one; a dangling symlink is not "missing") and files over `limit` bytes.
pub fn read_regular(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, StateError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return match fs::symlink_metadata(path) {
                Ok(_) => Err(StateError::NotRegularFile {
                    path: path.to_path_buf(),
                    kind: match fs::read_link(path) {
                        Ok(to) => {
                            format!("a symbolic link to {}, which does not exist", to.display())
                        }
                        Err(_) => "a symbolic link to nothing".to_string(),
                    },
                }),
                Err(_) => Ok(None),
            };
        }
        Err(e) => return Err(StateError::io("read", path, e)),
    };
    check(path, &meta, limit)?;
    let file = File::open(path).map_err(|e| StateError::io("open", path, e))?;
    // The file may have been swapped between the check and the open.
    let meta = file
        .metadata()
        .map_err(|e| StateError::io("read", path, e))?;
    check(path, &meta, limit)?;
    let mut data = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| StateError::io("read", path, e))?;
    if data.len() as u64 > limit {
        return Err(StateError::TooLarge {
            path: path.to_path_buf(),
            size: data.len() as u64,
            limit,
        });
    }
    Ok(Some(data))
}

fn check(path: &Path, meta: &fs::Metadata, limit: u64) -> Result<(), StateError> {
    if !meta.is_file() {
        return Err(StateError::NotRegularFile {
            path: path.to_path_buf(),
            kind: kind(meta.file_type()).to_string(),
        });
    }
    if meta.len() > limit {
        return Err(StateError::TooLarge {
            path: path.to_path_buf(),
            size: meta.len(),
            limit,
        });
    }
    Ok(())
}

/// What a non-regular file is, for messages.
fn kind(t: FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}
