//! Paths inside the rootfs, which the container's image controls: cleaned
//! in the parent, then resolved by descriptor with `openat2` so that no
//! symlink or `..` can lead outside the rootfs, and missing components
//! created one at a time relative to the descriptor of their parent.

use crate::sys::fs::{openat2, resolve};
use crate::sys::mount::{mkdirat, readlinkat};
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

    /// The same path taken on the host, as an absolute C string.
    pub fn host_c(&self) -> CString {
        // `shown` is `/` and `rel`, which has no NUL byte.
        CString::new(self.shown.as_bytes()).unwrap_or_default()
    }

    /// The parent directory (relative; `None` for the rootfs itself) and
    /// the last component.
    pub fn split_last(&self) -> (Option<CString>, CString) {
        let (parent, name) = split_parent(self.rel.as_bytes());
        // Parts of a C string have no NUL byte.
        (
            parent.and_then(|p| CString::new(p).ok()),
            CString::new(name).unwrap_or_default(),
        )
    }
}

/// A relative path's parent (`None` for a single component) and last
/// component.
fn split_parent(rel: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => (Some(&rel[..i]), &rel[i + 1..]),
        None => (None, rel),
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

/// What to create for a missing last component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    Dir,
    File,
}

/// Opens the directory `rel` inside `root`, creating missing components
/// (mode 0755) one by one relative to their parent's descriptor. `extra`
/// may add `RESOLVE_NO_SYMLINKS`.
pub(crate) fn open_dir_creating(
    root: BorrowedFd<'_>,
    rel: &CStr,
    extra: u64,
) -> io::Result<OwnedFd> {
    match open_in(root, rel, libc::O_PATH | libc::O_DIRECTORY, extra) {
        Err(err) if is_errno(&err, libc::ENOENT) => {}
        other => return other,
    }
    match create_last(root, rel, Last::Dir, extra) {
        Some(fd) => Ok(fd),
        None => walk_creating(root, rel, Last::Dir, extra),
    }
}

/// Opens the file `path` inside `root` (`O_PATH`), creating it empty (and
/// its missing parents) if it does not exist: a bind mount of a file
/// needs a file to cover.
pub(crate) fn open_file_creating(root: BorrowedFd<'_>, path: &InnerPath) -> io::Result<OwnedFd> {
    match open_in(root, &path.rel, libc::O_PATH, 0) {
        Err(err) if is_errno(&err, libc::ENOENT) => {}
        other => return other,
    }
    match create_last(root, &path.rel, Last::File, 0) {
        Some(fd) => Ok(fd),
        None => walk_creating(root, &path.rel, Last::File, 0),
    }
}

/// The usual case of a missing path: only its last component is missing.
/// Creates it in its parent, or gives up (`None`) for the full walk to
/// handle (missing parents, a dangling symlink).
fn create_last(root: BorrowedFd<'_>, rel: &CStr, last: Last, extra: u64) -> Option<OwnedFd> {
    let (parent, name) = split_parent(rel.to_bytes());
    let name = c_string(name).ok()?;
    let opened = match parent {
        Some(parent) => {
            let parent = c_string(parent).ok()?;
            Some(open_in(root, &parent, libc::O_PATH | libc::O_DIRECTORY, extra).ok()?)
        }
        None => None,
    };
    let dir = opened.as_ref().map_or(root, |fd| fd.as_fd());
    match last {
        Last::File => create_empty_file(dir, &name).ok(),
        Last::Dir => {
            mkdirat(dir, &name, 0o755).ok()?;
            let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW;
            openat2(dir, &name, flags, 0, resolve::BENEATH).ok()
        }
    }
}

/// The most symlinks followed in one walk, as the kernel's limit.
const MAX_LINKS: usize = 40;

/// Resolves `rel` inside `root` one component at a time, creating what is
/// missing. Symlinks (unless `extra` has `RESOLVE_NO_SYMLINKS`) are
/// followed by hand, so that a dangling one (`/etc/resolv.conf ->
/// ../run/x`) leads to its target being created inside the root; `..` is
/// applied to the resolved path, which has no symlinks left. Every step
/// is a single name relative to a descriptor, so nothing leaves the root.
fn walk_creating(root: BorrowedFd<'_>, rel: &CStr, last: Last, extra: u64) -> io::Result<OwnedFd> {
    let no_symlinks = extra & resolve::NO_SYMLINKS != 0;
    // Components still to resolve, the next one last.
    let mut todo: Vec<Vec<u8>> = components(rel.to_bytes()).rev().collect();
    // The resolved path so far and its descriptor.
    let mut done: Vec<Vec<u8>> = Vec::new();
    let mut dir = open_in(root, c".", libc::O_PATH | libc::O_DIRECTORY, 0)?;
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name == b".." {
            // The resolved path has no symlinks: ".." is lexical here.
            done.pop();
            let path = if done.is_empty() {
                c".".to_owned()
            } else {
                c_string(&done.join(&b'/'))?
            };
            dir = open_in(root, &path, libc::O_PATH | libc::O_DIRECTORY, 0)?;
            continue;
        }
        let c_name = c_string(&name)?;
        let flags = libc::O_PATH | libc::O_NOFOLLOW;
        let next = match openat2(dir.as_fd(), &c_name, flags, 0, resolve::BENEATH) {
            Ok(fd) => fd,
            Err(err) if is_errno(&err, libc::ENOENT) => {
                if todo.is_empty() && last == Last::File {
                    create_empty_file(dir.as_fd(), &c_name)?
                } else {
                    match mkdirat(dir.as_fd(), &c_name, 0o755) {
                        Err(err) if !is_errno(&err, libc::EEXIST) => return Err(err),
                        _ => openat2(dir.as_fd(), &c_name, flags, 0, resolve::BENEATH)?,
                    }
                }
            }
            Err(err) => return Err(err),
        };
        if crate::sys::fs::fstat(next.as_fd())?.st_mode & libc::S_IFMT == libc::S_IFLNK {
            links += 1;
            if no_symlinks || links > MAX_LINKS {
                return Err(io::Error::from_raw_os_error(libc::ELOOP));
            }
            let target = readlinkat(next.as_fd(), c"")?;
            let target = target.as_bytes();
            if target.starts_with(b"/") {
                done.clear();
                dir = open_in(root, c".", libc::O_PATH | libc::O_DIRECTORY, 0)?;
            }
            todo.extend(components(target).rev());
            continue;
        }
        done.push(name);
        dir = next;
    }
    Ok(dir)
}

/// The non-empty, non-`.` components of a path.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = Vec<u8>> + '_ {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
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
    use crate::rootfs::tests::TempDir;
    use std::os::unix::fs::symlink;

    fn root_of(tmp: &TempDir) -> OwnedFd {
        let path = CString::new(tmp.path().join("rootfs").to_str().unwrap()).unwrap();
        crate::sys::fs::openat(None, &path, libc::O_PATH | libc::O_DIRECTORY, 0).unwrap()
    }

    #[test]
    fn creation_follows_dangling_links_inside_the_root() {
        let tmp = TempDir::new("paths-dangling");
        let rootfs = tmp.path().join("rootfs");
        std::fs::create_dir(rootfs.join("etc")).unwrap();
        symlink("../run/x/resolv.conf", rootfs.join("etc/resolv.conf")).unwrap();
        symlink("/../../../outside", rootfs.join("abs")).unwrap();
        let root = root_of(&tmp);
        let file = InnerPath::parse("/etc/resolv.conf").unwrap();
        open_file_creating(root.as_fd(), &file).unwrap();
        assert!(rootfs.join("run/x/resolv.conf").is_file());
        open_dir_creating(root.as_fd(), c"abs/a/b", 0).unwrap();
        assert!(rootfs.join("outside/a/b").is_dir());
        assert!(!tmp.path().join("outside").exists());
        // Existing paths are found as they are, through links.
        open_dir_creating(root.as_fd(), c"abs/a", 0).unwrap();
        open_file_creating(root.as_fd(), &file).unwrap();
    }

    #[test]
    fn creation_refuses_loops_and_links_when_asked() {
        let tmp = TempDir::new("paths-loops");
        let rootfs = tmp.path().join("rootfs");
        symlink("b", rootfs.join("a")).unwrap();
        symlink("a", rootfs.join("b")).unwrap();
        std::fs::create_dir(rootfs.join("real")).unwrap();
        symlink("real", rootfs.join("link")).unwrap();
        let root = root_of(&tmp);
        let err = open_dir_creating(root.as_fd(), c"a/x", 0).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        let err = open_dir_creating(root.as_fd(), c"link/x/y", resolve::NO_SYMLINKS).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ELOOP));
        assert!(!rootfs.join("real/x").exists());
        open_dir_creating(root.as_fd(), c"link/x/y", 0).unwrap();
        assert!(rootfs.join("real/x/y").is_dir());
        // A file in the way of a directory.
        std::fs::write(rootfs.join("file"), "").unwrap();
        let err = open_dir_creating(root.as_fd(), c"file/x", 0).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTDIR));
    }

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
