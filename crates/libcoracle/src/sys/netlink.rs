//! The route netlink socket and interface names, for moving network
//! devices (the messages themselves are built in safe code, in netdev.rs).

use super::check;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// A `NETLINK_ROUTE` socket of the caller's current network namespace.
pub fn route_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket takes integers and returns a new descriptor.
    let fd = check(unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    })?;
    // SAFETY: `fd` was just returned by socket and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sends one datagram to the kernel.
pub fn send(sock: BorrowedFd<'_>, data: &[u8]) -> io::Result<()> {
    // SAFETY: the pointer and length describe `data`.
    let sent = check(unsafe { libc::send(sock.as_raw_fd(), data.as_ptr().cast(), data.len(), 0) })?;
    if sent as usize != data.len() {
        return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    Ok(())
}

/// Receives one datagram; a datagram larger than `buf` is an error
/// (`MSG_TRUNC` reports its real size).
pub fn recv(sock: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe `buf`.
    let len = super::retry(|| {
        check(unsafe {
            libc::recv(
                sock.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_TRUNC,
            )
        })
    })? as usize;
    if len > buf.len() {
        return Err(io::Error::from_raw_os_error(libc::EMSGSIZE));
    }
    Ok(len)
}

/// The index of interface `name` in the caller's network namespace.
pub fn if_nametoindex(name: &CStr) -> io::Result<u32> {
    // SAFETY: `name` is NUL-terminated.
    match unsafe { libc::if_nametoindex(name.as_ptr()) } {
        0 => Err(io::Error::last_os_error()),
        index => Ok(index),
    }
}

/// The name of interface `index` in the caller's network namespace.
pub fn if_indextoname(index: u32) -> io::Result<CString> {
    let mut buf = [0u8; libc::IF_NAMESIZE];
    // SAFETY: the buffer holds IF_NAMESIZE bytes, as if_indextoname needs.
    let name = unsafe { libc::if_indextoname(index, buf.as_mut_ptr().cast()) };
    if name.is_null() {
        return Err(io::Error::last_os_error());
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    CString::new(&buf[..end]).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}
