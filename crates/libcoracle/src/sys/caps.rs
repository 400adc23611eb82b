//! Capabilities: `capset` and the ambient set.
//!
//! The bounding set needs no wrapper of its own: `PR_CAPBSET_READ` and
//! `PR_CAPBSET_DROP` take integers and go through [`super::process::prctl`].

use super::check;
use std::io;

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, as two 32-bit halves.
const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// A thread's effective, permitted and inheritable sets, as masks
/// (bit `n` is capability number `n`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sets {
    /// The effective set.
    pub effective: u64,
    /// The permitted set.
    pub permitted: u64,
    /// The inheritable set.
    pub inheritable: u64,
}

/// Sets the calling thread's effective, permitted and inheritable sets.
pub fn capset(sets: Sets) -> io::Result<()> {
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let half = |mask: u64, shift: u32| (mask >> shift) as u32;
    let data = [0, 32].map(|shift| Data {
        effective: half(sets.effective, shift),
        permitted: half(sets.permitted, shift),
        inheritable: half(sets.inheritable, shift),
    });
    // SAFETY: version 3 makes the kernel read two `Data` structures, which
    // is what `data` holds; both pointers are valid for the call.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) })?;
    Ok(())
}

/// Empties the calling thread's ambient set.
pub fn ambient_clear_all() -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}

/// Adds capability `cap` to the calling thread's ambient set (it must be
/// both permitted and inheritable already).
pub fn ambient_raise(cap: u32) -> io::Result<()> {
    // SAFETY: prctl with integer arguments only.
    check(unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_RAISE as libc::c_ulong,
            cap as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}
