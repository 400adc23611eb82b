//! Processes: clone3, waiting, signals, pidfds, credentials, prctl, exec.

use super::{check, retry};
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// Which side of a clone the caller is on.
#[derive(Debug)]
pub enum Forked {
    /// In the parent, with the child's pid and, when asked, its pidfd.
    Parent {
        /// The child's pid in the parent's pid namespace.
        pid: i32,
        /// A pidfd for the child, when `CLONE_PIDFD` was asked for.
        pidfd: Option<OwnedFd>,
    },
    /// In the child.
    Child,
}

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// `CLONE_INTO_CGROUP`, not yet in every libc.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Creates a child like `fork` but with the namespace `flags` (`CLONE_NEW*`)
/// in one `clone3`, optionally born in the cgroup `cgroup_fd` (v2) and with a
/// pidfd. With `CLONE_PARENT` in `flags` the child is the caller's sibling,
/// and its parent gets the caller's exit signal when it ends. Falls back to
/// `clone` where the kernel lacks `clone3`.
///
/// The caller must be single-threaded: the child is a copy of it.
pub fn clone_process(
    flags: u64,
    cgroup_fd: Option<BorrowedFd<'_>>,
    want_pidfd: bool,
) -> io::Result<Forked> {
    let mut pidfd: RawFd = -1;
    // clone3 refuses an exit signal with CLONE_PARENT: the kernel gives
    // the child the caller's own.
    let exit_signal = if flags & libc::CLONE_PARENT as u64 != 0 {
        0
    } else {
        libc::SIGCHLD as u64
    };
    let mut args = CloneArgs {
        flags,
        exit_signal,
        ..CloneArgs::default()
    };
    if want_pidfd {
        args.flags |= libc::CLONE_PIDFD as u64;
        args.pidfd = &mut pidfd as *mut RawFd as u64;
    }
    if let Some(fd) = cgroup_fd {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: `args` is a valid clone_args of the size passed; without
    // CLONE_VM the child gets its own copy of the address space, so both
    // sides return here like after fork(2). `pidfd` outlives the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    let pid = match ret {
        -1 => {
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::ENOSYS) || cgroup_fd.is_some() {
                return Err(err);
            }
            return clone_legacy(flags, want_pidfd);
        }
        pid => pid as i32,
    };
    Ok(forked(pid, pidfd))
}

fn clone_legacy(flags: u64, want_pidfd: bool) -> io::Result<Forked> {
    let mut pidfd: RawFd = -1;
    let mut flags = flags | libc::SIGCHLD as u64;
    if want_pidfd {
        flags |= libc::CLONE_PIDFD as u64;
    }
    // SAFETY: the raw clone syscall with a null stack behaves like fork: the
    // child continues on a copy of the parent's stack. On x86_64 the argument
    // order is flags, stack, parent_tid (the pidfd slot), child_tid, tls.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags,
            std::ptr::null_mut::<libc::c_void>(),
            &mut pidfd as *mut RawFd,
            std::ptr::null_mut::<libc::c_int>(),
            0u64,
        )
    };
    let pid = check(ret)? as i32;
    Ok(forked(pid, pidfd))
}

fn forked(pid: i32, pidfd: RawFd) -> Forked {
    if pid == 0 {
        return Forked::Child;
    }
    let pidfd = (pidfd >= 0).then(|| {
        // SAFETY: the kernel just created this descriptor for us.
        unsafe { OwnedFd::from_raw_fd(pidfd) }
    });
    Forked::Parent { pid, pidfd }
}

/// How a waited-for child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal killed it.
    Signal(i32),
}

impl Exit {
    /// The shell's convention: the code, or 128 + the signal number.
    pub fn shell_code(self) -> i32 {
        match self {
            Exit::Code(code) => code,
            Exit::Signal(sig) => 128 + sig,
        }
    }
}

/// Waits for the child `pid` to end (`None` with `nohang` if it has not).
pub fn wait_pid(pid: i32, nohang: bool) -> io::Result<Option<Exit>> {
    let mut status = 0;
    let options = if nohang { libc::WNOHANG } else { 0 };
    // SAFETY: waitpid only writes the status integer we own.
    let ret = retry(|| check(unsafe { libc::waitpid(pid, &mut status, options) }))?;
    if ret == 0 {
        return Ok(None);
    }
    Ok(Some(if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    }))
}

/// Opens a pidfd for `pid`.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes plain integers and returns a new descriptor.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Sends `signal` to the process behind `pidfd`.
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: a null siginfo means "as kill(2) would"; no memory is passed.
    check(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        )
    })?;
    Ok(())
}

/// Sends `signal` to `pid`.
pub fn kill(pid: i32, signal: i32) -> io::Result<()> {
    // SAFETY: kill takes plain integers.
    check(unsafe { libc::kill(pid, signal) })?;
    Ok(())
}

/// Joins the namespace(s) behind `fd` (a namespace file or a pidfd).
pub fn setns(fd: BorrowedFd<'_>, nstype: i32) -> io::Result<()> {
    // SAFETY: setns takes a descriptor we borrow and an integer.
    check(unsafe { libc::setns(fd.as_raw_fd(), nstype) })?;
    Ok(())
}

/// Detaches the caller from the namespaces in `flags`.
pub fn unshare(flags: i32) -> io::Result<()> {
    // SAFETY: unshare takes an integer.
    check(unsafe { libc::unshare(flags) })?;
    Ok(())
}

/// `prctl(option, arg2)` for the options whose arguments are integers.
pub fn prctl(option: i32, arg2: u64) -> io::Result<()> {
    // SAFETY: every caller passes an option whose arguments are integers.
    check(unsafe { libc::prctl(option, arg2, 0u64, 0u64, 0u64) })?;
    Ok(())
}

/// Marks the caller (non-)dumpable: a non-dumpable process cannot be
/// ptraced nor its `/proc/PID` files opened by other users.
pub fn set_dumpable(dumpable: bool) -> io::Result<()> {
    prctl(libc::PR_SET_DUMPABLE, dumpable as u64)
}

/// The caller's name (`comm`, at most 15 bytes; `PR_GET_NAME`).
pub fn name() -> io::Result<Vec<u8>> {
    let mut buf = [0u8; 16];
    // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL included, into `buf`.
    check(unsafe { libc::prctl(libc::PR_GET_NAME, buf.as_mut_ptr(), 0u64, 0u64, 0u64) })?;
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(buf[..len].to_vec())
}

/// Sets the caller's name (`comm`; the kernel keeps 15 bytes).
pub fn set_name(name: &CStr) -> io::Result<()> {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string.
    check(unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0u64, 0u64, 0u64) })?;
    Ok(())
}

/// Sets the hostname of the caller's UTS namespace.
pub fn sethostname(name: &str) -> io::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes.
    check(unsafe { libc::sethostname(name.as_ptr().cast(), name.len()) })?;
    Ok(())
}

/// Sets the NIS domain name of the caller's UTS namespace.
pub fn setdomainname(name: &str) -> io::Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes.
    check(unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) })?;
    Ok(())
}

/// Sets the real, effective and saved user ids.
pub fn setresuid(uid: u32) -> io::Result<()> {
    // SAFETY: raw syscall so that only this thread changes (there is one).
    check(unsafe { libc::syscall(libc::SYS_setresuid, uid, uid, uid) })?;
    Ok(())
}

/// Sets the real, effective and saved group ids.
pub fn setresgid(gid: u32) -> io::Result<()> {
    // SAFETY: as for setresuid.
    check(unsafe { libc::syscall(libc::SYS_setresgid, gid, gid, gid) })?;
    Ok(())
}

/// Sets the supplementary groups.
pub fn setgroups(groups: &[u32]) -> io::Result<()> {
    // SAFETY: the pointer and length describe `groups`.
    check(unsafe { libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) })?;
    Ok(())
}

/// Sets the file mode creation mask.
pub fn umask(mask: u32) {
    // SAFETY: umask cannot fail.
    unsafe { libc::umask(mask) };
}

/// Sets a resource limit of the caller.
pub fn setrlimit(resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit64 {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: prlimit64 on ourselves (pid 0) reads the struct we own.
    check(unsafe { libc::prlimit64(0, resource as _, &limit, std::ptr::null_mut()) })?;
    Ok(())
}

/// Replaces the process image. Returns only on failure.
pub fn execve(
    path: &CStr,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> io::Error {
    debug_assert!(argv.last().is_some_and(|p| p.is_null()));
    debug_assert!(envp.last().is_some_and(|p| p.is_null()));
    // SAFETY: `argv` and `envp` are null-terminated arrays of pointers to
    // NUL-terminated strings that the caller keeps alive.
    unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    io::Error::last_os_error()
}

/// Replaces the process image with the file behind `fd`
/// (`execveat(fd, "", argv, envp, AT_EMPTY_PATH)`). Returns only on failure.
pub fn execveat(
    fd: BorrowedFd<'_>,
    argv: &[*const libc::c_char],
    envp: &[*const libc::c_char],
) -> io::Error {
    debug_assert!(argv.last().is_some_and(|p| p.is_null()));
    debug_assert!(envp.last().is_some_and(|p| p.is_null()));
    // SAFETY: as for execve; the path is the empty string.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

/// Ends the calling process at once, without running destructors or
/// flushing stdio buffers inherited from the parent.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory of ours.
    unsafe { libc::_exit(code) }
}

/// The caller's pid.
pub fn getpid() -> i32 {
    // SAFETY: getpid cannot fail.
    unsafe { libc::getpid() }
}

/// The caller's effective uid.
pub fn geteuid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

/// Null-terminated pointer array over `strings`, for `execve`.
pub fn pointer_array(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Blocks or unblocks all signals of the calling thread, returning the old mask.
pub fn sigprocmask_all(block: bool) -> io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data that sigfillset initialises.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: both sets are valid and owned by us.
    unsafe { libc::sigfillset(&mut set) };
    let how = if block {
        libc::SIG_BLOCK
    } else {
        libc::SIG_UNBLOCK
    };
    // SAFETY: both pointers are to valid sigset_t values we own.
    let ret = unsafe { libc::pthread_sigmask(how, &set, &mut old) };
    if ret != 0 {
        return Err(io::Error::from_raw_os_error(ret));
    }
    Ok(old)
}

/// Restores a signal mask saved by [`sigprocmask_all`].
pub fn sigprocmask_set(mask: &libc::sigset_t) -> io::Result<()> {
    // SAFETY: `mask` is a valid sigset_t.
    let ret = unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, mask, std::ptr::null_mut()) };
    if ret != 0 {
        return Err(io::Error::from_raw_os_error(ret));
    }
    Ok(())
}

/// Puts SIGPIPE's disposition back to the default: Rust's runtime ignores
/// it, and an ignored signal would stay ignored in the container's process.
pub fn restore_default_sigpipe() {
    // SAFETY: SIG_DFL is always a valid disposition for SIGPIPE.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// A signalfd receiving the signals in `signals` (which the caller blocks).
pub fn signalfd(signals: &[i32]) -> io::Result<OwnedFd> {
    // SAFETY: sigset_t is plain data initialised by sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid and ours.
    unsafe { libc::sigemptyset(&mut set) };
    for &sig in signals {
        // SAFETY: as above.
        unsafe { libc::sigaddset(&mut set, sig) };
    }
    // SAFETY: `set` is valid; the new descriptor is returned to us.
    let fd = check(unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC) })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads one signal number from a signalfd.
pub fn read_signal(fd: BorrowedFd<'_>) -> io::Result<i32> {
    // SAFETY: signalfd_siginfo is plain data.
    let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
    let size = std::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: we read at most `size` bytes into `info`.
    let n = retry(|| {
        check(unsafe {
            libc::read(
                fd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                size,
            )
        })
    })?;
    if n as usize != size {
        return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
    }
    Ok(info.ssi_signo as i32)
}

/// Waits until one of `fds` is readable; returns the readiness of each.
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|fd| libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // SAFETY: the pointer and length describe `pfds`.
    retry(|| {
        check(unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, timeout_ms) })
    })?;
    Ok(pfds.iter().map(|p| p.revents != 0).collect())
}

/// The `CLONE_NEW*` type of the namespace file `fd` (`NS_GET_NSTYPE`).
pub fn namespace_type(fd: BorrowedFd<'_>) -> io::Result<i32> {
    const NS_GET_NSTYPE: libc::Ioctl = 0xb703;
    // SAFETY: NS_GET_NSTYPE takes no argument and returns an integer.
    check(unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE) })
}
