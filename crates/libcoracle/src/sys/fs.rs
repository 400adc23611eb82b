//! Files: `openat2` resolution inside a root, FIFOs, locks, descriptor
//! hygiene, sealed memfds. Every descriptor opened here is close-on-exec.

use super::{check, retry};
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

/// `RESOLVE_*` flags of `openat2`.
pub mod resolve {
    /// Refuse to cross a mount point.
    pub const NO_XDEV: u64 = 0x01;
    /// Refuse magic links such as `/proc/self/fd/N`.
    pub const NO_MAGICLINKS: u64 = 0x02;
    /// Refuse every symbolic link.
    pub const NO_SYMLINKS: u64 = 0x04;
    /// Refuse to leave the starting directory.
    pub const BENEATH: u64 = 0x08;
    /// Treat the starting directory as `/`: `..` and absolute links stay inside.
    pub const IN_ROOT: u64 = 0x10;
}

#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

/// `openat2(dirfd, path, flags | O_CLOEXEC, mode, resolve)`.
pub fn openat2(
    dirfd: BorrowedFd<'_>,
    path: &CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: mode as u64,
        resolve,
    };
    // SAFETY: `how` and `path` are valid for the call's duration.
    let fd = retry(|| {
        check(unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dirfd.as_raw_fd(),
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        })
    })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `openat(dirfd, path, flags | O_CLOEXEC, mode)`; `dirfd` of `None` is the cwd.
pub fn openat(
    dirfd: Option<BorrowedFd<'_>>,
    path: &CStr,
    flags: i32,
    mode: u32,
) -> io::Result<OwnedFd> {
    let dir = dirfd.map_or(libc::AT_FDCWD, |fd| fd.as_raw_fd());
    // SAFETY: `path` is NUL-terminated and outlives the call.
    let fd = retry(|| {
        check(unsafe { libc::openat(dir, path.as_ptr(), flags | libc::O_CLOEXEC, mode) })
    })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates a FIFO at `path` relative to `dirfd` (`None`: the cwd).
pub fn mkfifoat(dirfd: Option<BorrowedFd<'_>>, path: &CStr, mode: u32) -> io::Result<()> {
    let dir = dirfd.map_or(libc::AT_FDCWD, |fd| fd.as_raw_fd());
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { libc::mkfifoat(dir, path.as_ptr(), mode) })?;
    Ok(())
}

/// Takes (`exclusive`) or shares an advisory lock on `fd`, waiting for it.
pub fn flock(fd: BorrowedFd<'_>, exclusive: bool) -> io::Result<()> {
    let op = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    // SAFETY: flock takes a descriptor and an integer.
    retry(|| check(unsafe { libc::flock(fd.as_raw_fd(), op) }))?;
    Ok(())
}

/// Marks every descriptor from `first` up close-on-exec.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    // SAFETY: close_range only changes descriptor flags.
    check(unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    })?;
    Ok(())
}

/// Clears close-on-exec on `fd`, so that it survives `execve`.
pub fn clear_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_SETFD on a descriptor number only changes its flags; an
    // invalid number fails with EBADF.
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, 0) })?;
    Ok(())
}

/// Duplicates `fd` onto `target` (clearing close-on-exec on the copy).
pub fn dup2(fd: BorrowedFd<'_>, target: RawFd) -> io::Result<()> {
    // SAFETY: dup2 takes descriptor numbers; the caller owns `target`'s slot.
    check(unsafe { libc::dup2(fd.as_raw_fd(), target) })?;
    Ok(())
}

/// The filesystem magic number of the filesystem `fd` is on.
pub fn fstatfs_type(fd: BorrowedFd<'_>) -> io::Result<i64> {
    // SAFETY: statfs is plain data filled by the kernel.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `buf` is valid and ours.
    check(unsafe { libc::fstatfs(fd.as_raw_fd(), &mut buf) })?;
    Ok(buf.f_type as i64)
}

/// The mount flags (`ST_RDONLY`, `ST_NOSUID`…) of the mount the file `fd`
/// is on (`fstatvfs`).
pub fn mount_flags(fd: BorrowedFd<'_>) -> io::Result<u64> {
    // SAFETY: statvfs is plain data filled by the call.
    let mut buf: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `buf` is valid and ours.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), &mut buf) })?;
    Ok(buf.f_flag as u64)
}

/// `memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING)`: an anonymous
/// file in memory that can be sealed.
pub fn memfd_sealable(name: &CStr) -> io::Result<OwnedFd> {
    let flags = libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING;
    // SAFETY: `name` is NUL-terminated; the call returns a new descriptor.
    let fd = check(unsafe { libc::memfd_create(name.as_ptr(), flags) })?;
    // SAFETY: the descriptor is new and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Copies all of `from` (from its current offset to its end) to `to`, in
/// the kernel (`sendfile`).
pub fn copy_all(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    loop {
        // SAFETY: a null offset means the descriptors' own offsets.
        let n = retry(|| {
            check(unsafe {
                libc::sendfile(
                    to.as_raw_fd(),
                    from.as_raw_fd(),
                    std::ptr::null_mut(),
                    1 << 30,
                )
            })
        })?;
        if n == 0 {
            return Ok(());
        }
    }
}

/// Adds the `F_SEAL_*` seals `seals` to a memfd.
pub fn add_seals(fd: BorrowedFd<'_>, seals: i32) -> io::Result<()> {
    // SAFETY: F_ADD_SEALS takes an integer.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) })?;
    Ok(())
}

/// The `F_SEAL_*` seals of a file (`EINVAL` for files that cannot have any).
pub fn seals(fd: BorrowedFd<'_>) -> io::Result<i32> {
    // SAFETY: F_GET_SEALS takes no argument.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) })
}

/// `fstat` of a descriptor.
pub fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data filled by the kernel.
    let mut buf: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `buf` is valid and ours.
    check(unsafe { libc::fstat(fd.as_raw_fd(), &mut buf) })?;
    Ok(buf)
}

/// Changes the working directory to the directory `fd`.
pub fn fchdir(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: fchdir takes a descriptor.
    check(unsafe { libc::fchdir(fd.as_raw_fd()) })?;
    Ok(())
}

/// Changes the working directory by path.
pub fn chdir(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { libc::chdir(path.as_ptr()) })?;
    Ok(())
}

/// Writes all of `buf` to `fd`.
pub fn write_all(fd: BorrowedFd<'_>, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        // SAFETY: the pointer and length describe `buf`.
        let n = retry(|| {
            check(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) })
        })?;
        buf = &buf[n as usize..];
    }
    Ok(())
}

/// Reads into `buf`, returning how many bytes came (0 at end of file).
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe `buf`.
    let n =
        retry(|| check(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }))?;
    Ok(n as usize)
}

/// Creates a pipe; both ends are close-on-exec.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: both descriptors are new and ours.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}
