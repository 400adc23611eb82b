//! The thin system-call layer: the only module of coracle with `unsafe`.
//!
//! Each function wraps one system call (or a tight group of them) in a safe
//! signature, returns `std::io::Result`, and never follows a path it was not
//! handed. Everything above this module is safe Rust.

pub mod bpf;
pub mod caps;
pub mod fs;
pub mod keys;
pub mod mount;
pub mod netlink;
pub mod notify;
pub mod process;
pub mod sched;
pub mod seccomp;
pub mod socket;
pub mod term;

use std::io;

/// Turns a `-1`-on-error return value into an `io::Result` carrying errno.
pub(crate) fn check<T: Copy + PartialEq + From<i8>>(ret: T) -> io::Result<T> {
    if ret == T::from(-1) {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Retries a call that the kernel interrupted with `EINTR`.
pub(crate) fn retry<T, F: FnMut() -> io::Result<T>>(mut call: F) -> io::Result<T> {
    loop {
        match call() {
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
