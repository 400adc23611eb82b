//! Kernel keys (`keyctl(2)`): joining a session keyring and its permissions.

use super::check;
use std::ffi::CStr;
use std::io;

/// `KEYCTL_JOIN_SESSION_KEYRING`: makes the keyring named `name` the
/// caller's session keyring, creating it when the caller cannot search one
/// of that name. Returns its serial number.
pub fn join_session_keyring(name: &CStr) -> io::Result<i32> {
    // SAFETY: `name` is NUL-terminated; the other arguments are unused.
    let id = check(unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            name.as_ptr(),
            0u64,
            0u64,
            0u64,
        )
    })?;
    Ok(id as i32)
}

/// The permission mask of key `id` (the fourth field of `KEYCTL_DESCRIBE`,
/// `type;uid;gid;perm;description`).
pub fn key_permissions(id: i32) -> io::Result<u32> {
    // type (≤ 32) + ids + mask + a description of up to 4095 bytes.
    let mut buf = vec![0u8; 4200];
    // SAFETY: the pointer and length describe `buf`, which the kernel fills
    // with a NUL-terminated string of at most that many bytes.
    let len = check(unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_DESCRIBE,
            id,
            buf.as_mut_ptr(),
            buf.len(),
            0u64,
        )
    })? as usize;
    let text = buf.get(..len.min(buf.len())).unwrap_or_default();
    text.split(|&b| b == b';')
        .nth(3)
        .and_then(|perm| std::str::from_utf8(perm).ok())
        .and_then(|perm| u32::from_str_radix(perm, 16).ok())
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))
}

/// `KEYCTL_SETPERM`: sets the permission mask of key `id`.
pub fn set_key_permissions(id: i32, perm: u32) -> io::Result<()> {
    // SAFETY: KEYCTL_SETPERM takes two integers.
    check(unsafe { libc::syscall(libc::SYS_keyctl, libc::KEYCTL_SETPERM, id, perm, 0u64, 0u64) })?;
    Ok(())
}
