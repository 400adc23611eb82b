//! Kernel notifications the cgroup code waits on: eventfd (cgroup v1
//! memory events), inotify (cgroup v2 `*.events` files), and `poll` for the
//! priority events that cgroupfs raises when such a file changes. Every
//! descriptor made here is close-on-exec.

use super::{check, retry};
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A new non-blocking eventfd counter starting at 0.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointer.
    let fd = check(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads and resets an eventfd counter; `None` when it is 0 (the read
/// would block).
pub fn read_eventfd(fd: BorrowedFd<'_>) -> io::Result<Option<u64>> {
    let mut count = 0u64;
    // SAFETY: the pointer and length describe `count`.
    let n = retry(|| {
        check(unsafe {
            libc::read(
                fd.as_raw_fd(),
                (&mut count as *mut u64).cast(),
                std::mem::size_of::<u64>(),
            )
        })
    });
    match n {
        Ok(_) => Ok(Some(count)),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
        Err(e) => Err(e),
    }
}

/// A new non-blocking inotify instance.
pub fn inotify() -> io::Result<OwnedFd> {
    // SAFETY: inotify_init1 takes no pointer.
    let fd = check(unsafe { libc::inotify_init1(libc::IN_CLOEXEC | libc::IN_NONBLOCK) })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Watches `path` for the events of `mask` (`IN_MODIFY`…); returns the
/// watch descriptor.
pub fn inotify_watch(fd: BorrowedFd<'_>, path: &CStr, mask: u32) -> io::Result<i32> {
    // SAFETY: `path` is NUL-terminated and outlives the call.
    check(unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) })
}

/// Reads the pending inotify events; returns the mask of each, empty when
/// none is pending.
pub fn read_inotify(fd: BorrowedFd<'_>) -> io::Result<Vec<u32>> {
    const HEADER: usize = std::mem::size_of::<libc::inotify_event>();
    let mut buf = [0u8; 4096];
    // SAFETY: the pointer and length describe `buf`.
    let n =
        retry(|| check(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }));
    let n = match n {
        Ok(n) => n as usize,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    // struct inotify_event { int wd; uint32_t mask, cookie, len; char name[]; }
    let mut masks = Vec::new();
    let mut at = 0;
    while at + HEADER <= n {
        let field = |offset: usize| {
            let bytes = &buf[at + offset..at + offset + 4];
            u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
        };
        masks.push(field(4));
        at += HEADER + field(12) as usize;
    }
    Ok(masks)
}

/// Waits up to `timeout_ms` (-1: forever) for a priority event on `fd`,
/// which cgroupfs raises (`POLLPRI | POLLERR`) when a file such as
/// `cgroup.events` changes; returns whether one came. Plain readability is
/// ignored: a regular file is always readable.
pub fn poll_priority(fd: BorrowedFd<'_>, timeout_ms: i32) -> io::Result<bool> {
    let mut pfd = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLPRI,
        revents: 0,
    };
    // SAFETY: the pointer describes one pollfd.
    let n = retry(|| check(unsafe { libc::poll(&mut pfd, 1, timeout_ms) }))?;
    Ok(n > 0 && pfd.revents & (libc::POLLPRI | libc::POLLERR) != 0)
}
