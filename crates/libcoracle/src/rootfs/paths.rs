//! Paths inside the rootfs, which the container's image controls: cleaned
//! in the parent, then resolved by descriptor with `openat2` so that no
//! symlink or `..` can lead outside the rootfs, and missing components
//! created one at a time relative to the descriptor of their parent.

use crate::sys::fs::{openat2, resolve};
use crate::sys::mount::mkdirat;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// A path inside the container, checked and cleaned in the parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InnerPath {
    /// The cleaned absolute path, for messages (`/dev/pts`).
    pub shown: String,
    /// The same path relative to the rootfs (`dev/pts`), for `openat2`.
    pub rel: CString,
}

impl InnerPath {
    /// Cleans an absolute path lexically (`.`, `..`, repeated `/`); `..`
    /// stops at the root. `None` for a relative path, the root itself or a
    /// path with a NUL byte.
    pub fn parse(path: &str) -> Option<InnerPath> {
        if !path.starts_with('/') || path.contains('\0') {
            return None;
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                _ => parts.push(part),
            }
        }
        if parts.is_empty() {
            return None;
        }
        let rel = parts.join("/");
        Some(InnerPath {
            shown: format!("/{rel}"),
            rel: CString::new(rel).ok()?,
        })
    }

    /// The parent directory (relative; `None` for the rootfs itself) and
    /// the last component.
    pub fn split_last(&self) -> (Option<CString>, CString) {
        let bytes = self.rel.as_bytes();
        match bytes.iter().rposition(|&b| b == b'/') {
            Some(i) => (
                CString::new(&bytes[..i]).ok(),
                CString::new(&bytes[i + 1..]).unwrap_or_default(),
            ),
            None => (None, self.rel.clone()),
        }
    }
}

fn is_errno(err: &io::Error, errno: i32) -> bool {
    err.raw_os_error() == Some(errno)
}

/// Opens `rel` inside `root` as an `O_PATH` descriptor, following symlinks
/// only inside the root (plus `extra` resolve flags).
pub(crate) fn open_in(
    root: BorrowedFd<'_>,
    rel: &CStr,
    flags: i32,
    extra: u64,
) -> io::Result<OwnedFd> {
    openat2(root, rel, flags, 0, resolve::IN_ROOT | extra)
}

/// Opens the directory `rel` inside `root`, creating missing components
/// (mode 0755) one by one relative to their parent's descriptor.
pub(crate) fn open_dir_creating(
    root: BorrowedFd<'_>,
    rel: &CStr,
    extra: u64,
) -> io::Result<OwnedFd> {
    const FLAGS: i32 = libc::O_PATH | libc::O_DIRECTORY;
    match open_in(root, rel, FLAGS, extra) {
        Err(err) if is_errno(&err, libc::ENOENT) => {}
        other => return other,
    }
    let bytes = rel.to_bytes();
    let mut parent: Option<OwnedFd> = None;
    let mut start = 0;
    let ends = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'/')
        .map(|(i, _)| i)
        .chain(std::iter::once(bytes.len()));
    for end in ends {
        let prefix = c_string(&bytes[..end])?;
        let dir = match open_in(root, &prefix, FLAGS, extra) {
            Err(err) if is_errno(&err, libc::ENOENT) => {
                let name = c_string(&bytes[start..end])?;
                let at = parent.as_ref().map_or(root, |fd| fd.as_fd());
                match mkdirat(at, &name, 0o755) {
                    Err(err) if !is_errno(&err, libc::EEXIST) => return Err(err),
                    _ => open_in(root, &prefix, FLAGS, extra)?,
                }
            }
            other => other?,
        };
        parent = Some(dir);
        start = end + 1;
    }
    parent.ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
}

/// Opens the file `path` inside `root` (`O_PATH`), creating it empty (and
/// its missing parents) if it does not exist: a bind mount of a file
/// needs a file to cover.
pub(crate) fn open_file_creating(root: BorrowedFd<'_>, path: &InnerPath) -> io::Result<OwnedFd> {
    match open_in(root, &path.rel, libc::O_PATH, 0) {
        Err(err) if is_errno(&err, libc::ENOENT) => {}
        other => return other,
    }
    let (parent, name) = path.split_last();
    let parent = match parent {
        Some(rel) => Some(open_dir_creating(root, &rel, 0)?),
        None => None,
    };
    let at = parent.as_ref().map_or(root, |fd| fd.as_fd());
    create_empty_file(at, &name)
}

/// Creates the empty file `name` in `dir` (or opens it if it is already
/// there and is not a directory nor a symlink).
pub(crate) fn create_empty_file(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    let beneath = resolve::BENEATH | resolve::NO_SYMLINKS;
    let flags = libc::O_RDONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
    match openat2(dir, name, flags, 0o644, beneath) {
        Err(err) if is_errno(&err, libc::EEXIST) => {
            let fd = openat2(dir, name, libc::O_PATH | libc::O_NOFOLLOW, 0, beneath)?;
            let kind = crate::sys::fs::fstat(fd.as_fd())?.st_mode & libc::S_IFMT;
            match kind {
                libc::S_IFDIR => Err(io::Error::from_raw_os_error(libc::EISDIR)),
                libc::S_IFLNK => Err(io::Error::from_raw_os_error(libc::ELOOP)),
                _ => Ok(fd),
            }
        }
        other => other,
    }
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rel(path: &str) -> Option<String> {
        InnerPath::parse(path).map(|p| p.rel.into_string().unwrap())
    }

    #[test]
    fn cleaning() {
        assert_eq!(rel("/dev/pts").as_deref(), Some("dev/pts"));
        assert_eq!(rel("//dev/./pts/").as_deref(), Some("dev/pts"));
        assert_eq!(rel("/../../etc/../dev").as_deref(), Some("dev"));
        assert_eq!(rel("/a/b/../c").as_deref(), Some("a/c"));
        assert_eq!(InnerPath::parse("/a//b").unwrap().shown, "/a/b");
    }

    #[test]
    fn refused_paths() {
        assert_eq!(rel("dev"), None);
        assert_eq!(rel(""), None);
        assert_eq!(rel("/"), None);
        assert_eq!(rel("/.."), None);
        assert_eq!(rel("/a\0b"), None);
    }

    #[test]
    fn split_last() {
        let p = InnerPath::parse("/dev/net/tun").unwrap();
        assert_eq!(
            p.split_last(),
            (Some(c"dev/net".to_owned()), c"tun".to_owned())
        );
        let p = InnerPath::parse("/dev").unwrap();
        assert_eq!(p.split_last(), (None, c"dev".to_owned()));
    }
}
