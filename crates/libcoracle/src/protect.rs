//! The runtime's defence of its own binary (CVE-2019-5736).
//!
//! A process of the container can reach the runtime's binary through
//! `/proc/PID/exe` of any runtime process it can see: the init while it
//! waits for `start`, an `exec`'d process before its `execve`, and the
//! runtime itself when a script in the rootfs names `/proc/self/exe` as its
//! interpreter (the kernel then runs the runtime's binary inside the
//! container, dumpable). Non-dumpable runtime processes keep out those
//! without `CAP_SYS_PTRACE`, not the others; so the commands that put
//! coracle's code into a container (`create`, `run`, `exec`) first
//! re-execute themselves from a read-only, detached bind mount of their
//! binary: every `/proc/PID/exe` then leads to that mount, and reopening it
//! for writing fails with `EROFS`. The host's mount table is untouched (the
//! mount is attached nowhere and goes away with the last process using it),
//! and nothing is copied. Where the kernel (before 5.12) or the caller's
//! privileges allow no such mount, a sealed copy in a memfd does the same.
//! The other commands never run in a container and pay nothing.

use crate::sys;
use crate::sys::mount::MountAttr;
use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How the running binary is kept from being written through
/// `/proc/PID/exe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// It runs from a read-only mount: a detached read-only bind mount of
    /// itself, or an installation on a read-only filesystem.
    ReadOnlyMount,
    /// It runs from a memfd copy of itself sealed against writes.
    SealedCopy,
}

/// The protection of the running process.
#[derive(Debug, Clone, Copy)]
pub struct Protected {
    /// What protects the binary.
    pub by: Protection,
    /// How long the re-execution took, from the call in the first process
    /// to the return in the re-executed one, when it was measured.
    pub reexec: Option<Duration>,
}

/// A step of the protection that failed.
#[derive(Debug, thiserror::Error)]
#[error("protect the runtime binary (CVE-2019-5736): {step}: {source}")]
pub struct ProtectError {
    step: &'static str,
    #[source]
    source: io::Error,
}

fn failed(step: &'static str) -> impl FnOnce(io::Error) -> ProtectError {
    move |source| ProtectError { step, source }
}

/// Set across the re-execution, with `measure` only: the time of the call
/// in the first process (nanoseconds since the epoch). It marks nothing
/// else: the re-executed process knows itself protected by its binary.
const STARTED: &str = "_CORACLE_PROTECT_STARTED";

/// Returns how the running binary is protected, after re-executing it,
/// with the same arguments and environment, from a read-only bind mount
/// of itself (or a sealed copy) when it is not yet: then the call returns
/// only in the re-executed process. With `measure`, that process learns
/// how long the re-execution took. Call it first thing, while the process
/// has nothing open that it needs.
pub fn ensure_protected(measure: bool) -> Result<Protected, ProtectError> {
    let started = std::env::var_os(STARTED);
    if started.is_some() {
        std::env::remove_var(STARTED);
    }
    let exe = sys::fs::openat(None, c"/proc/self/exe", libc::O_RDONLY, 0)
        .map_err(failed("open /proc/self/exe"))?;
    if let Some(by) = protection_of(exe.as_fd()) {
        restore_name();
        let reexec = started.and_then(|t| elapsed_since(&t));
        return Ok(Protected { by, reexec });
    }
    let argv = c_strings(std::env::args_os());
    let mut env: Vec<OsString> = std::env::vars_os()
        .map(|(key, value)| {
            let mut entry = key;
            entry.push("=");
            entry.push(value);
            entry
        })
        .collect();
    if measure {
        env.push(format!("{STARTED}={}", now_nanos()).into());
    }
    let envp = c_strings(env);
    let image = match read_only_bind() {
        Ok(mount) => mount,
        Err(_) => sealed_copy(exe.as_fd())?,
    };
    let err = sys::process::execveat(
        image.as_fd(),
        &sys::process::pointer_array(&argv),
        &sys::process::pointer_array(&envp),
    );
    Err(failed("execute the protected binary")(err))
}

/// Kernels before 6.14 name a process executed with `execveat(fd, "")`
/// after the descriptor's number; `ps`, `top` and `pgrep` should still see
/// the name the binary was started by.
fn restore_name() {
    let named_by_fd = sys::process::name()
        .is_ok_and(|name| !name.is_empty() && name.iter().all(u8::is_ascii_digit));
    if !named_by_fd {
        return;
    }
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let base = std::path::Path::new(&argv0).file_name().unwrap_or_default();
    if let Ok(name) = CString::new(base.as_bytes()) {
        let _ = sys::process::set_name(&name);
    }
}

/// What already keeps `exe` from being written: a read-only mount, or the
/// seals of a memfd copy.
fn protection_of(exe: BorrowedFd<'_>) -> Option<Protection> {
    if sys::fs::mount_flags(exe).is_ok_and(|flags| flags & libc::ST_RDONLY != 0) {
        return Some(Protection::ReadOnlyMount);
    }
    if sys::fs::seals(exe).is_ok_and(|seals| seals & libc::F_SEAL_WRITE != 0) {
        return Some(Protection::SealedCopy);
    }
    None
}

/// A read-only bind mount of the running binary, attached nowhere:
/// `open_tree(OPEN_TREE_CLONE)` of `/proc/self/exe` and `mount_setattr`.
fn read_only_bind() -> io::Result<OwnedFd> {
    let mount = sys::mount::open_tree(None, c"/proc/self/exe", libc::OPEN_TREE_CLONE)?;
    let read_only = MountAttr {
        set: libc::MOUNT_ATTR_RDONLY,
        ..MountAttr::default()
    };
    sys::mount::mount_setattr(mount.as_fd(), false, read_only)?;
    Ok(mount)
}

/// A copy of `exe` in a memfd sealed against any change.
fn sealed_copy(exe: BorrowedFd<'_>) -> Result<OwnedFd, ProtectError> {
    let copy = sys::fs::memfd_sealable(c"coracle").map_err(failed("create a memfd copy"))?;
    sys::fs::copy_all(exe, copy.as_fd()).map_err(failed("copy the binary into the memfd"))?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    sys::fs::add_seals(copy.as_fd(), seals).map_err(failed("seal the memfd copy"))?;
    Ok(copy)
}

/// Arguments or environment entries as C strings (they hold no NUL: they
/// came from the kernel as C strings).
fn c_strings(strings: impl IntoIterator<Item = OsString>) -> Vec<CString> {
    strings
        .into_iter()
        .filter_map(|s| CString::new(s.as_bytes()).ok())
        .collect()
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

fn elapsed_since(started: &std::ffi::OsStr) -> Option<Duration> {
    let started: u128 = started.to_str()?.parse().ok()?;
    let nanos = now_nanos().checked_sub(started)?;
    Some(Duration::from_nanos(u64::try_from(nanos).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_copy_is_the_binary_and_cannot_be_written() {
        let exe = sys::fs::openat(None, c"/proc/self/exe", libc::O_RDONLY, 0).unwrap();
        let copy = sealed_copy(exe.as_fd()).unwrap();
        assert_eq!(protection_of(copy.as_fd()), Some(Protection::SealedCopy));
        let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&copy));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read("/proc/self/exe").unwrap()
        );
        let write = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut file| io::Write::write_all(&mut file, b"x"));
        assert_eq!(write.unwrap_err().raw_os_error(), Some(libc::EPERM));
    }

    #[test]
    fn a_name_left_by_execveat_becomes_the_binarys_again() {
        // The thread's own name: the test runs on a thread of its own.
        sys::process::set_name(c"4").unwrap();
        restore_name();
        let argv0 = std::env::args_os().next().unwrap();
        let base = std::path::Path::new(&argv0).file_name().unwrap().as_bytes();
        assert_eq!(sys::process::name().unwrap(), &base[..base.len().min(15)]);
    }

    #[test]
    fn a_read_only_bind_is_recognised_as_protected() {
        // Mounts need privilege; without it there is nothing to check here.
        let Ok(mount) = read_only_bind() else {
            return;
        };
        assert_eq!(
            protection_of(mount.as_fd()),
            Some(Protection::ReadOnlyMount)
        );
        let exe = sys::fs::openat(None, c"/proc/self/exe", libc::O_RDONLY, 0).unwrap();
        assert_eq!(
            protection_of(exe.as_fd()),
            None,
            "the test binary is writable"
        );
    }
}
