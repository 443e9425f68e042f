//! Reading files on behalf of a configuration, safely.
//!
//! A configuration may come from an untrusted pull request that CI validates, so a file it
//! names is read only when it is a regular file (never a FIFO, which would block, or a
//! device such as `/dev/zero`, which never ends), no larger than a limit, and — for files a
//! configuration *names* (`manifest_file`, and relative paths given to the `file()`,
//! `fileexists()` and `templatefile()` functions) — inside the configuration directory once
//! symlinks are resolved. Every such read goes through [`ConfigDir::read`] (or
//! [`ConfigDir::read_named`], which admits an explicit absolute path); the `*.toml` files
//! themselves and `--var-file`s through [`read_regular`]. Errors say what is wrong and never quote the file.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file a configuration may name (`manifest_file`, ...).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// The largest `*.toml` file of a configuration (generated configurations get big).
pub const MAX_TOML_BYTES: u64 = 16 * 1024 * 1024;

/// `4 MiB`.
pub fn describe_limit(bytes: u64) -> String {
    if bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}

/// Why a file was not read. The display never includes the file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The path could not be resolved or opened (missing, dangling symlink, symlink loop,
    /// permission denied).
    Io(String),
    /// It resolves outside the configuration directory.
    Outside,
    /// Not a regular file: what it is instead ("a directory", "a FIFO", ...).
    NotRegular(&'static str),
    /// Larger than the limit (bytes).
    TooLarge(u64),
    /// Not UTF-8 text.
    NotText,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Io(e) => f.write_str(e),
            FileError::Outside => f.write_str("it is outside the configuration directory"),
            FileError::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            FileError::TooLarge(limit) => {
                write!(f, "it is larger than the {} limit", describe_limit(*limit))
            }
            FileError::NotText => f.write_str("it is not UTF-8 text"),
        }
    }
}

impl FileError {
    /// What to do about it.
    pub fn help(&self) -> &'static str {
        match self {
            FileError::Io(_) => "check the path: it is relative to the configuration directory",
            FileError::Outside => {
                "files a configuration reads must be inside its directory (symlinks are followed before checking); copy the file into the configuration directory"
            }
            FileError::NotRegular(_) => {
                "name a regular file; FIFOs, devices, sockets and directories cannot be read"
            }
            FileError::TooLarge(_) => {
                "split the file, or keep large data outside the configuration"
            }
            FileError::NotText => "save the file as UTF-8 text",
        }
    }
}

/// What a file that is not a regular file is, for messages.
fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symlink"
    } else {
        "not a regular file"
    }
}

fn io_error(e: &std::io::Error) -> FileError {
    // "Too many levels of symbolic links (os error 40)" reads well as it is.
    FileError::Io(e.to_string())
}

/// Reads a regular file (symlinks followed) of at most `limit` bytes as UTF-8, without ever
/// opening anything else: the type is checked before opening (a FIFO would block the open)
/// and again on the open file, and at most `limit + 1` bytes are read (`/proc` files claim
/// size 0).
pub fn read_regular(path: &Path, limit: u64) -> Result<String, FileError> {
    let meta = std::fs::metadata(path).map_err(|e| io_error(&e))?;
    if !meta.is_file() {
        return Err(FileError::NotRegular(kind_of(&meta.file_type())));
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge(limit));
    }
    let file = File::open(path).map_err(|e| io_error(&e))?;
    let meta = file.metadata().map_err(|e| io_error(&e))?;
    if !meta.is_file() {
        return Err(FileError::NotRegular(kind_of(&meta.file_type())));
    }
    read_bounded(file, meta.len().min(limit) as usize, limit)
}

/// At most `limit` bytes of an open file as UTF-8: `limit + 1` are read, so a larger one is
/// refused without being read to its end.
fn read_bounded(file: File, capacity: usize, limit: u64) -> Result<String, FileError> {
    let mut bytes = Vec::with_capacity(capacity);
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(&e))?;
    if bytes.len() as u64 > limit {
        return Err(FileError::TooLarge(limit));
    }
    String::from_utf8(bytes).map_err(|_| FileError::NotText)
}

/// Reads a file the user named on the command line (`--var-file`) of at most `limit` bytes:
/// a regular file, or a pipe — `--var-file <(sops -d prod.vars)` hands plinth a FIFO, and
/// its writer is the user's own command — read up to `limit + 1` bytes. Devices (`/dev/zero`),
/// sockets and directories are refused before they are opened.
pub fn read_user_file(path: &Path, limit: u64) -> Result<String, FileError> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(path).map_err(|e| io_error(&e))?;
    if !meta.file_type().is_fifo() {
        return read_regular(path, limit);
    }
    let file = File::open(path).map_err(|e| io_error(&e))?;
    read_bounded(file, 0, limit)
}

/// A configuration directory, resolved, that files named by the configuration must be in.
#[derive(Clone, Debug)]
pub struct ConfigDir {
    root: PathBuf,
}

/// A file read through [`ConfigDir::read`].
#[derive(Clone, Debug)]
pub struct ConfinedFile {
    /// Where it really is (symlinks resolved).
    pub path: PathBuf,
    /// Its whole text.
    pub text: String,
}

impl ConfigDir {
    /// The directory, symlinks resolved.
    pub fn new(dir: &Path) -> Result<Self, FileError> {
        let root = std::fs::canonicalize(dir).map_err(|e| io_error(&e))?;
        Ok(ConfigDir { root })
    }

    /// The directory, absolute and with symlinks resolved.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Resolves `rel` (relative to the directory; symlinks followed) and refuses anything
    /// that ends up outside it.
    pub fn resolve(&self, rel: &str) -> Result<PathBuf, FileError> {
        if rel.is_empty() {
            return Err(FileError::Io("the path is empty".into()));
        }
        let real = std::fs::canonicalize(self.root.join(rel)).map_err(|e| io_error(&e))?;
        if !real.starts_with(&self.root) {
            return Err(FileError::Outside);
        }
        Ok(real)
    }

    /// Reads a file the configuration names: inside the directory, regular, at most
    /// [`MAX_FILE_BYTES`], UTF-8.
    pub fn read(&self, rel: &str) -> Result<ConfinedFile, FileError> {
        let path = self.resolve(rel)?;
        let text = read_regular(&path, MAX_FILE_BYTES)?;
        Ok(ConfinedFile { path, text })
    }

    /// Reads a file an expression names (`file(...)`, `templatefile(...)`): a relative path
    /// as [`read`](Self::read) does, inside the directory; an absolute path — the user's
    /// explicit choice — wherever it is (still regular, limited and UTF-8). `Ok(None)` when
    /// nothing is there; a missing file under a directory that leads outside (`../x`, a
    /// symlinked directory) is [`FileError::Outside`] all the same, so a configuration cannot
    /// probe what exists outside it.
    pub fn read_named(&self, path: &str) -> Result<Option<ConfinedFile>, FileError> {
        if path.is_empty() {
            return Err(FileError::Io("the path is empty".into()));
        }
        let joined = self.root.join(path);
        let absolute = Path::new(path).is_absolute();
        match std::fs::symlink_metadata(&joined) {
            Ok(_) => {}
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io_error(&e)),
            // Nothing there (not even a dangling symlink): missing, once the nearest existing
            // ancestor is known to be inside the directory.
            Err(_) if !absolute => {
                let inside = joined
                    .ancestors()
                    .skip(1)
                    .find(|a| std::fs::symlink_metadata(a).is_ok())
                    .and_then(|a| std::fs::canonicalize(a).ok())
                    .is_some_and(|real| real.starts_with(&self.root));
                return if inside {
                    Ok(None)
                } else {
                    Err(FileError::Outside)
                };
            }
            Err(_) => return Ok(None),
        }
        if absolute {
            let path = std::fs::canonicalize(&joined).map_err(|e| io_error(&e))?;
            let text = read_regular(&path, MAX_FILE_BYTES)?;
            return Ok(Some(ConfinedFile { path, text }));
        }
        self.read(path).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_file_inside_and_follows_symlinks_that_stay_inside() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("m")).unwrap();
        std::fs::write(tmp.path().join("m/a.yaml"), "a: 1\n").unwrap();
        let dir = ConfigDir::new(tmp.path()).unwrap();
        assert_eq!(dir.read("m/a.yaml").unwrap().text, "a: 1\n");
        assert_eq!(dir.read("./m/../m/a.yaml").unwrap().text, "a: 1\n");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("m/a.yaml", tmp.path().join("link.yaml")).unwrap();
            assert_eq!(dir.read("link.yaml").unwrap().text, "a: 1\n");
        }
    }

    #[test]
    fn refuses_paths_outside_the_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let conf = tmp.path().join("conf");
        std::fs::create_dir(&conf).unwrap();
        std::fs::write(tmp.path().join("creds.yaml"), "secret: x\n").unwrap();
        let dir = ConfigDir::new(&conf).unwrap();
        assert_eq!(dir.read("../creds.yaml").unwrap_err(), FileError::Outside);
        let abs = tmp.path().join("creds.yaml");
        assert_eq!(
            dir.read(abs.to_str().unwrap()).unwrap_err(),
            FileError::Outside
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&abs, conf.join("x.yaml")).unwrap();
            assert_eq!(dir.read("x.yaml").unwrap_err(), FileError::Outside);
            assert_eq!(
                dir.read("/proc/self/environ").unwrap_err(),
                FileError::Outside
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_regular_file_or_too_large() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("d")).unwrap();
        let dir = ConfigDir::new(tmp.path()).unwrap();
        assert_eq!(
            dir.read("d").unwrap_err(),
            FileError::NotRegular("a directory")
        );
        let big = vec![b'a'; MAX_FILE_BYTES as usize + 1];
        std::fs::write(tmp.path().join("big.yaml"), big).unwrap();
        let e = dir.read("big.yaml").unwrap_err();
        assert_eq!(e, FileError::TooLarge(MAX_FILE_BYTES));
        assert!(e.to_string().contains("4 MiB"), "{e}");
        std::fs::write(tmp.path().join("bin.yaml"), [0xff, 0xfe, 0]).unwrap();
        assert_eq!(dir.read("bin.yaml").unwrap_err(), FileError::NotText);
        assert!(matches!(dir.read("missing.yaml"), Err(FileError::Io(_))));
        #[cfg(unix)]
        {
            assert_eq!(
                read_regular(Path::new("/dev/zero"), MAX_FILE_BYTES).unwrap_err(),
                FileError::NotRegular("a character device")
            );
            // A /proc file claims size 0 but is read with the limit all the same.
            assert!(read_regular(Path::new("/proc/self/status"), 8).is_err());
        }
    }
}
