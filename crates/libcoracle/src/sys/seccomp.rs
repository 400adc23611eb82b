//! seccomp(2): installing a BPF filter, probing what the kernel supports,
//! and the user-notification ioctls of a listener descriptor.

use super::{check, retry};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SockFilter {
    /// Opcode.
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

/// `SECCOMP_FILTER_FLAG_TSYNC`: apply the filter to every thread.
pub const FLAG_TSYNC: u32 = 1;
/// `SECCOMP_FILTER_FLAG_LOG`: log every action but `ALLOW`.
pub const FLAG_LOG: u32 = 1 << 1;
/// `SECCOMP_FILTER_FLAG_SPEC_ALLOW`: keep speculative store bypass enabled.
pub const FLAG_SPEC_ALLOW: u32 = 1 << 2;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: return a user-notification fd.
pub const FLAG_NEW_LISTENER: u32 = 1 << 3;
/// `SECCOMP_FILTER_FLAG_TSYNC_ESRCH`: report a failed thread sync as
/// `ESRCH`, which makes TSYNC usable together with NEW_LISTENER.
pub const FLAG_TSYNC_ESRCH: u32 = 1 << 4;
/// `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV`: a notified task waits killably.
pub const FLAG_WAIT_KILLABLE_RECV: u32 = 1 << 5;

const SECCOMP_SET_MODE_FILTER: libc::c_ulong = 1;
const SECCOMP_GET_ACTION_AVAIL: libc::c_ulong = 2;
const SECCOMP_GET_NOTIF_SIZES: libc::c_ulong = 3;

/// `SECCOMP_IOCTL_NOTIF_RECV`: `_IOWR('!', 0, struct seccomp_notif)`.
const IOCTL_NOTIF_RECV: libc::c_ulong = 0xc050_2100;
/// `SECCOMP_IOCTL_NOTIF_SEND`: `_IOWR('!', 1, struct seccomp_notif_resp)`.
const IOCTL_NOTIF_SEND: libc::c_ulong = 0xc018_2101;
/// `SECCOMP_IOCTL_NOTIF_ID_VALID`: `_IOW('!', 2, __u64)`.
const IOCTL_NOTIF_ID_VALID: libc::c_ulong = 0x4008_2102;

fn seccomp(op: libc::c_ulong, flags: libc::c_ulong, arg: *mut libc::c_void) -> io::Result<i64> {
    // SAFETY: every caller passes an `arg` valid for `op` (or null to probe).
    check(unsafe { libc::syscall(libc::SYS_seccomp, op, flags, arg) })
}

/// Installs `program` as a seccomp filter of the calling thread with the
/// `SECCOMP_FILTER_FLAG_*` bits `flags`. Returns the listener descriptor when
/// `flags` has [`FLAG_NEW_LISTENER`]. Allocates nothing.
///
/// The caller must have set no_new_privs or hold `CAP_SYS_ADMIN`.
pub fn set_mode_filter(program: &[SockFilter], flags: u32) -> io::Result<Option<OwnedFd>> {
    let len =
        u16::try_from(program.len()).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let prog = libc::sock_fprog {
        len,
        // The kernel only reads the program; SockFilter has sock_filter's layout.
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    let ret = seccomp(
        SECCOMP_SET_MODE_FILTER,
        flags as libc::c_ulong,
        &prog as *const libc::sock_fprog as *mut libc::c_void,
    )?;
    if flags & FLAG_NEW_LISTENER == 0 {
        return Ok(None);
    }
    // SAFETY: with NEW_LISTENER the return value is a new descriptor we own.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(ret as i32) }))
}

/// Whether the running kernel knows the filter flag(s) `flags`.
///
/// The kernel validates the flags before it reads the program, so a null
/// program fails with `EFAULT` for known flags and `EINVAL` for unknown
/// ones, without installing anything.
pub fn filter_flags_known(flags: u32) -> bool {
    let err = seccomp(
        SECCOMP_SET_MODE_FILTER,
        flags as libc::c_ulong,
        std::ptr::null_mut(),
    );
    matches!(err, Err(e) if e.raw_os_error() == Some(libc::EFAULT))
}

/// Whether the kernel supports the filter return action `action`
/// (a `SECCOMP_RET_*` value, data bits ignored).
pub fn action_available(action: u32) -> bool {
    let mut action = action;
    seccomp(
        SECCOMP_GET_ACTION_AVAIL,
        0,
        (&mut action as *mut u32).cast(),
    )
    .is_ok()
}

/// The kernel's sizes of the user-notification structures
/// (`struct seccomp_notif_sizes`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifSizes {
    /// `sizeof(struct seccomp_notif)`.
    pub notif: u16,
    /// `sizeof(struct seccomp_notif_resp)`.
    pub notif_resp: u16,
    /// `sizeof(struct seccomp_data)`.
    pub data: u16,
}

/// Asks the kernel for its notification structure sizes.
pub fn notif_sizes() -> io::Result<NotifSizes> {
    let mut sizes = NotifSizes::default();
    seccomp(
        SECCOMP_GET_NOTIF_SIZES,
        0,
        (&mut sizes as *mut NotifSizes).cast(),
    )?;
    Ok(sizes)
}

/// `struct seccomp_data`: what a filter sees of a syscall.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeccompData {
    /// Syscall number.
    pub nr: i32,
    /// `AUDIT_ARCH_*` of the calling ABI.
    pub arch: u32,
    /// Instruction pointer.
    pub instruction_pointer: u64,
    /// The six arguments.
    pub args: [u64; 6],
}

/// `struct seccomp_notif`: one intercepted syscall.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notif {
    /// Cookie identifying the notification.
    pub id: u64,
    /// The calling task's pid (in the listener's pid namespace).
    pub pid: u32,
    /// Unused, zero.
    pub flags: u32,
    /// The syscall.
    pub data: SeccompData,
}

/// `struct seccomp_notif_resp`: the answer to a notification.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotifResp {
    /// The notification's cookie.
    pub id: u64,
    /// Return value when `error` is 0.
    pub val: i64,
    /// Negated errno to fail the syscall with, or 0.
    pub error: i32,
    /// `SECCOMP_USER_NOTIF_FLAG_CONTINUE` to let the syscall run.
    pub flags: u32,
}

/// Waits for and receives the next notification on `listener`.
pub fn notif_recv(listener: BorrowedFd<'_>) -> io::Result<Notif> {
    // The kernel insists on a zeroed buffer.
    let mut notif = Notif::default();
    // SAFETY: `notif` is a seccomp_notif-sized buffer the kernel fills.
    retry(|| {
        check(unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                IOCTL_NOTIF_RECV as _,
                &mut notif as *mut Notif,
            )
        })
    })?;
    Ok(notif)
}

/// Answers a notification on `listener`.
pub fn notif_send(listener: BorrowedFd<'_>, resp: &NotifResp) -> io::Result<()> {
    let mut resp = *resp;
    // SAFETY: `resp` is a valid seccomp_notif_resp for the call.
    check(unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            IOCTL_NOTIF_SEND as _,
            &mut resp as *mut NotifResp,
        )
    })?;
    Ok(())
}

/// Whether the notification `id` is still pending (its task still waits).
pub fn notif_id_valid(listener: BorrowedFd<'_>, id: u64) -> bool {
    let mut id = id;
    // SAFETY: the ioctl reads one u64 we own.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            IOCTL_NOTIF_ID_VALID as _,
            &mut id as *mut u64,
        )
    };
    ret == 0
}

/// Test support: a raw syscall whose arguments are all plain integers
/// (never pointers), so that tests can make calls no wrapper exists for.
#[cfg(test)]
pub(crate) fn syscall_ints(nr: i64, args: [u64; 6]) -> io::Result<i64> {
    // SAFETY: every caller passes a syscall that takes no pointers, so the
    // kernel reads or writes no memory on our behalf.
    check(unsafe { libc::syscall(nr, args[0], args[1], args[2], args[3], args[4], args[5]) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_match_the_kernel() {
        let sizes = notif_sizes().expect("SECCOMP_GET_NOTIF_SIZES");
        assert_eq!(usize::from(sizes.notif), std::mem::size_of::<Notif>());
        assert_eq!(
            usize::from(sizes.notif_resp),
            std::mem::size_of::<NotifResp>()
        );
        assert_eq!(usize::from(sizes.data), std::mem::size_of::<SeccompData>());
        assert_eq!(
            std::mem::size_of::<SockFilter>(),
            std::mem::size_of::<libc::sock_filter>()
        );
    }
}
