//! A procfs the container cannot tamper with (CVE-2025-52881): writes
//! meant for `/proc` (sysctls, LSM labels, `oom_score_adj`) go through a
//! private procfs instance that is never attached anywhere, so no mount or
//! symlink the container controls can redirect them.

use crate::sys::fs::{fstatfs_type, openat, openat2, resolve, write_all};
use crate::sys::mount::{fsconfig_create, fsmount, fsopen, readlinkat};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

/// Why the private procfs could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum ProcfsError {
    /// Neither a new procfs instance nor `/proc` could be opened.
    #[error("open a private procfs: {0}")]
    Open(#[source] io::Error),
    /// What was opened is not on a procfs.
    #[error("{0} is not on a procfs")]
    NotProcfs(String),
    /// A file below the procfs could not be opened or written.
    #[error("{step} /proc/{path}: {source}")]
    File {
        /// `open` or `write`.
        step: &'static str,
        /// The path below the procfs root.
        path: String,
        /// The OS error.
        source: io::Error,
    },
}

impl ProcfsError {
    /// The OS error number, or 0 when the error is not an OS error.
    pub fn errno(&self) -> i32 {
        match self {
            ProcfsError::Open(err) | ProcfsError::File { source: err, .. } => {
                err.raw_os_error().unwrap_or(0)
            }
            ProcfsError::NotProcfs(_) => 0,
        }
    }
}

/// The root of a private procfs.
#[derive(Debug)]
pub struct Procfs {
    root: OwnedFd,
}

/// Resolution below the procfs root: no symlink, no magic link, no mount
/// crossing (an attached `/proc` may have mounts over its files).
const RESOLVE: u64 =
    resolve::BENEATH | resolve::NO_SYMLINKS | resolve::NO_MAGICLINKS | resolve::NO_XDEV;

impl Procfs {
    /// A new procfs instance of the caller's current pid namespace
    /// (`fsopen("proc")` + `fsmount`, detached, never attached); falls
    /// back to opening `/proc` where the new mount API is unavailable
    /// (`ENOSYS`) or not allowed (`EPERM`). Verified with `fstatfs` either
    /// way.
    pub fn open_private() -> Result<Procfs, ProcfsError> {
        let root = match new_instance() {
            Err(err) if matches!(err.raw_os_error(), Some(libc::ENOSYS | libc::EPERM)) => {
                openat(None, c"/proc", libc::O_PATH | libc::O_DIRECTORY, 0)
            }
            other => other,
        }
        .map_err(ProcfsError::Open)?;
        Procfs::verified(root)
    }

    /// `root` as a procfs root, once `fstatfs` says it is on a procfs.
    fn verified(root: OwnedFd) -> Result<Procfs, ProcfsError> {
        if fstatfs_type(root.as_fd()).map_err(ProcfsError::Open)? != libc::PROC_SUPER_MAGIC {
            return Err(ProcfsError::NotProcfs("the procfs root".into()));
        }
        Ok(Procfs { root })
    }

    /// Opens `rel` below the procfs root (e.g. `sys/net/ipv4/ip_forward`)
    /// with `flags`, following no link, and checks the result is on procfs.
    /// A leading `self/` or `thread-self/` is the caller as this procfs
    /// sees it (the procfs must be of a pid namespace the caller is in).
    pub fn open(&self, rel: &str, flags: i32) -> Result<OwnedFd, ProcfsError> {
        let fail = |source| ProcfsError::File {
            step: "open",
            path: rel.to_owned(),
            source,
        };
        let path = self.resolve_self(rel).map_err(fail)?;
        // openat2 refuses O_PATH with other flags such as O_NOCTTY.
        let flags = if flags & libc::O_PATH != 0 {
            flags
        } else {
            flags | libc::O_NOCTTY
        };
        let fd = openat2(self.root.as_fd(), &path, flags, 0, RESOLVE).map_err(fail)?;
        if fstatfs_type(fd.as_fd()).map_err(fail)? != libc::PROC_SUPER_MAGIC {
            return Err(ProcfsError::NotProcfs(format!("/proc/{rel}")));
        }
        Ok(fd)
    }

    /// Writes `data` to `rel` below the procfs root (e.g.
    /// `sys/net/ipv4/ip_forward`, `self/attr/exec`), in one write.
    pub fn write(&self, rel: &str, data: &[u8]) -> Result<(), ProcfsError> {
        let fd = self.open(rel, libc::O_WRONLY)?;
        write_all(fd.as_fd(), data).map_err(|source| ProcfsError::File {
            step: "write",
            path: rel.to_owned(),
            source,
        })
    }

    /// Replaces a leading `self` or `thread-self` (symlinks, which the
    /// resolution refuses) with what they point to in this procfs.
    fn resolve_self(&self, rel: &str) -> io::Result<CString> {
        let rel = rel.trim_start_matches('/');
        let (first, rest) = rel.split_once('/').unwrap_or((rel, ""));
        let invalid = || io::Error::from_raw_os_error(libc::EINVAL);
        if first != "self" && first != "thread-self" {
            return CString::new(rel).map_err(|_| invalid());
        }
        let link = CString::new(first).map_err(|_| invalid())?;
        let mut target = readlinkat(self.root.as_fd(), &link)?.into_bytes();
        if !rest.is_empty() {
            target.push(b'/');
            target.extend_from_slice(rest.as_bytes());
        }
        CString::new(target).map_err(|_| invalid())
    }
}

/// `fsopen("proc")`, create, `fsmount` (nosuid, nodev, noexec).
fn new_instance() -> io::Result<OwnedFd> {
    let context = fsopen(c"proc")?;
    fsconfig_create(context.as_fd())?;
    let attrs = libc::MOUNT_ATTR_NOSUID | libc::MOUNT_ATTR_NODEV | libc::MOUNT_ATTR_NOEXEC;
    fsmount(context.as_fd(), attrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys;

    #[test]
    fn private_procfs_reads_and_refuses_links() {
        let proc = Procfs::open_private().unwrap();
        // Our own status, through "self".
        let fd = proc.open("self/status", libc::O_RDONLY).unwrap();
        let mut buf = [0u8; 64];
        let n = sys::fs::read(fd.as_fd(), &mut buf).unwrap();
        assert!(buf[..n].starts_with(b"Name:"));
        // Magic links and symlinks below the root are refused.
        let err = proc.open("self/root/etc", libc::O_PATH).unwrap_err();
        assert_eq!(err.errno(), libc::ELOOP, "{err}");
        let err = proc.open("mounts", libc::O_RDONLY).unwrap_err();
        assert_eq!(err.errno(), libc::ELOOP, "{err}");
        // Nor can ".." leave the root.
        let err = proc
            .open("sys/../../etc/passwd", libc::O_RDONLY)
            .unwrap_err();
        assert_eq!(err.errno(), libc::EXDEV, "{err}");
        assert!(err
            .to_string()
            .starts_with("open /proc/sys/../../etc/passwd: "));
    }

    #[test]
    fn a_root_not_on_procfs_is_refused() {
        let dir = std::env::temp_dir().join(format!("coracle-procfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = CString::new(dir.to_str().unwrap()).unwrap();
        let fd = openat(None, &path, libc::O_PATH | libc::O_DIRECTORY, 0).unwrap();
        std::fs::remove_dir(&dir).unwrap();
        let err = Procfs::verified(fd).unwrap_err();
        assert_eq!(err.to_string(), "the procfs root is not on a procfs");
        // A file below a procfs that is on another filesystem (here through
        // a symlink, which the resolution refuses anyway) is never written.
        let proc = Procfs::open_private().unwrap();
        assert!(proc.open("self/cwd", libc::O_PATH).is_err());
    }

    #[test]
    fn private_procfs_writes() {
        let proc = Procfs::open_private().unwrap();
        // Writing our own oom_score_adj back unchanged is harmless.
        let fd = proc.open("self/oom_score_adj", libc::O_RDONLY).unwrap();
        let mut buf = [0u8; 16];
        let n = sys::fs::read(fd.as_fd(), &mut buf).unwrap();
        proc.write("self/oom_score_adj", &buf[..n]).unwrap();
        let err = proc.write("no/such/file", b"1").unwrap_err();
        assert_eq!(err.errno(), libc::ENOENT);
    }
}
