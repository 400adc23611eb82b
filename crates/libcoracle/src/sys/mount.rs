//! Mounts: `mount(2)` onto descriptors, the new mount API (`open_tree`,
//! `move_mount`, `mount_setattr`, `fsopen`/`fsmount`), `pivot_root`, and
//! the `*at` calls that prepare mount points and device nodes relative to a
//! directory descriptor. Every descriptor opened here is close-on-exec.

use super::check;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};

/// The empty path, for the `AT_EMPTY_PATH` forms of the calls.
pub const EMPTY: &CStr = c"";

/// `/proc/self/fd/N` of a descriptor, built on the stack: `mount(2)` only
/// takes paths, and this magic link names exactly the descriptor's file.
struct FdPath {
    buf: [u8; 32],
}

impl FdPath {
    fn new(fd: BorrowedFd<'_>) -> FdPath {
        const PREFIX: &[u8] = b"/proc/self/fd/";
        let mut buf = [0u8; 32];
        buf[..PREFIX.len()].copy_from_slice(PREFIX);
        let mut digits = [0u8; 10];
        let mut n = fd.as_raw_fd() as u32;
        let mut len = 0;
        loop {
            digits[len] = b'0' + (n % 10) as u8;
            len += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for (i, d) in digits[..len].iter().rev().enumerate() {
            buf[PREFIX.len() + i] = *d;
        }
        FdPath { buf }
    }

    fn as_cstr(&self) -> &CStr {
        // The buffer is zero-filled past the digits, so a NUL is there.
        CStr::from_bytes_until_nul(&self.buf).unwrap_or(c"/proc/self/fd/")
    }
}

fn opt_ptr(s: Option<&CStr>) -> *const libc::c_char {
    s.map_or(std::ptr::null(), CStr::as_ptr)
}

/// `mount(2)` by paths.
pub fn mount(
    source: Option<&CStr>,
    target: &CStr,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    // SAFETY: every pointer is null or a NUL-terminated string that outlives
    // the call; `data` is a string, as every filesystem we mount expects.
    check(unsafe {
        libc::mount(
            opt_ptr(source),
            target.as_ptr(),
            opt_ptr(fstype),
            flags,
            opt_ptr(data).cast(),
        )
    })?;
    Ok(())
}

/// `mount(2)` onto the file behind `target` (through `/proc/self/fd/N`,
/// which needs a procfs at `/proc`).
pub fn mount_on_fd(
    source: Option<&CStr>,
    target: BorrowedFd<'_>,
    fstype: Option<&CStr>,
    flags: libc::c_ulong,
    data: Option<&CStr>,
) -> io::Result<()> {
    mount(source, FdPath::new(target).as_cstr(), fstype, flags, data)
}

/// Binds the file behind `source` onto the file behind `target`, both
/// named by descriptor (through `/proc/self/fd/N`).
pub fn bind_fd_on_fd(
    source: BorrowedFd<'_>,
    target: BorrowedFd<'_>,
    flags: libc::c_ulong,
) -> io::Result<()> {
    let src = FdPath::new(source);
    mount(
        Some(src.as_cstr()),
        FdPath::new(target).as_cstr(),
        None,
        libc::MS_BIND | flags,
        None,
    )
}

/// `umount2(2)`.
pub fn umount2(target: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: `target` is NUL-terminated.
    check(unsafe { libc::umount2(target.as_ptr(), flags) })?;
    Ok(())
}

/// `pivot_root(2)`.
pub fn pivot_root(new_root: &CStr, put_old: &CStr) -> io::Result<()> {
    // SAFETY: both paths are NUL-terminated.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) })?;
    Ok(())
}

/// `chroot(2)`.
pub fn chroot(path: &CStr) -> io::Result<()> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { libc::chroot(path.as_ptr()) })?;
    Ok(())
}

fn owned(fd: libc::c_long) -> OwnedFd {
    // SAFETY: the caller passes a descriptor the kernel just returned to us.
    unsafe { OwnedFd::from_raw_fd(fd as RawFd) }
}

/// `open_tree(dirfd, path, flags | OPEN_TREE_CLOEXEC)`: with
/// `OPEN_TREE_CLONE` a detached copy of the mount (tree, with
/// `AT_RECURSIVE`) at the path, ready to be attached with [`move_mount`].
pub fn open_tree(dirfd: Option<BorrowedFd<'_>>, path: &CStr, flags: u32) -> io::Result<OwnedFd> {
    let dir = dirfd.map_or(libc::AT_FDCWD, |fd| fd.as_raw_fd());
    // SAFETY: `path` is NUL-terminated; the call returns a new descriptor.
    let fd = check(unsafe {
        libc::syscall(
            libc::SYS_open_tree,
            dir,
            path.as_ptr(),
            flags | libc::OPEN_TREE_CLOEXEC,
        )
    })?;
    Ok(owned(fd))
}

/// Attaches the mount `from` (a detached tree or an attached mount, which
/// is then moved) on top of the file behind `to`.
pub fn move_mount(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: both paths are the empty string; descriptors are borrowed.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            EMPTY.as_ptr(),
            to.as_raw_fd(),
            EMPTY.as_ptr(),
            libc::MOVE_MOUNT_F_EMPTY_PATH | libc::MOVE_MOUNT_T_EMPTY_PATH,
        )
    })?;
    Ok(())
}

/// What `mount_setattr` changes: `MOUNT_ATTR_*` bits to set and to clear,
/// and a propagation type (`MS_SHARED`, `MS_SLAVE`, `MS_PRIVATE`,
/// `MS_UNBINDABLE`, or 0 for unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MountAttr {
    /// Attributes to set.
    pub set: u64,
    /// Attributes to clear (`MOUNT_ATTR__ATIME` whole, to change atime).
    pub clear: u64,
    /// Propagation type, or 0.
    pub propagation: u64,
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH | (AT_RECURSIVE if recursive))`:
/// changes the mount behind `fd`, and with `recursive` every mount below it.
pub fn mount_setattr(fd: BorrowedFd<'_>, recursive: bool, attr: MountAttr) -> io::Result<()> {
    let raw = libc::mount_attr {
        attr_set: attr.set,
        attr_clr: attr.clear,
        propagation: attr.propagation,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    // SAFETY: `raw` is a valid mount_attr of the size passed; the path is
    // the empty string.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            EMPTY.as_ptr(),
            flags,
            &raw as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    })?;
    Ok(())
}

/// `fsopen(fstype, FSOPEN_CLOEXEC)`: a filesystem context to configure.
pub fn fsopen(fstype: &CStr) -> io::Result<OwnedFd> {
    // SAFETY: `fstype` is NUL-terminated; the call returns a new descriptor.
    let fd =
        check(unsafe { libc::syscall(libc::SYS_fsopen, fstype.as_ptr(), libc::FSOPEN_CLOEXEC) })?;
    Ok(owned(fd))
}

/// `fsconfig(fd, FSCONFIG_CMD_CREATE)`: creates the superblock.
pub fn fsconfig_create(fs: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: the create command takes no key, value nor aux.
    check(unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            libc::FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    })?;
    Ok(())
}

/// `fsmount(fs, FSMOUNT_CLOEXEC, attrs)`: a detached mount of the created
/// filesystem context, with `MOUNT_ATTR_*` attributes.
pub fn fsmount(fs: BorrowedFd<'_>, attrs: u64) -> io::Result<OwnedFd> {
    // SAFETY: fsmount takes integers and returns a new descriptor.
    let fd = check(unsafe {
        libc::syscall(
            libc::SYS_fsmount,
            fs.as_raw_fd(),
            libc::FSMOUNT_CLOEXEC,
            attrs as libc::c_uint,
        )
    })?;
    Ok(owned(fd))
}

/// `mkdirat(2)`.
pub fn mkdirat(dirfd: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::mkdirat(dirfd.as_raw_fd(), name.as_ptr(), mode) })?;
    Ok(())
}

/// `mknodat(2)`; `mode` carries the file type bits.
pub fn mknodat(dirfd: BorrowedFd<'_>, name: &CStr, mode: u32, dev: libc::dev_t) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::mknodat(dirfd.as_raw_fd(), name.as_ptr(), mode, dev) })?;
    Ok(())
}

/// `symlinkat(2)`: creates `name` in `dirfd` pointing at `target`.
pub fn symlinkat(target: &CStr, dirfd: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: both strings are NUL-terminated.
    check(unsafe { libc::symlinkat(target.as_ptr(), dirfd.as_raw_fd(), name.as_ptr()) })?;
    Ok(())
}

/// `unlinkat(2)` of a non-directory.
pub fn unlinkat(dirfd: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::unlinkat(dirfd.as_raw_fd(), name.as_ptr(), 0) })?;
    Ok(())
}

/// `fchmodat(2)`, which follows a final symlink: use it only on names the
/// caller just created as non-links.
pub fn fchmodat(dirfd: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    check(unsafe { libc::fchmodat(dirfd.as_raw_fd(), name.as_ptr(), mode, 0) })?;
    Ok(())
}

/// `fchownat(2)` without following a final symlink; `None` keeps an id.
pub fn lchownat(
    dirfd: BorrowedFd<'_>,
    name: &CStr,
    uid: Option<u32>,
    gid: Option<u32>,
) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated; -1 means "unchanged".
    check(unsafe {
        libc::fchownat(
            dirfd.as_raw_fd(),
            name.as_ptr(),
            uid.unwrap_or(u32::MAX),
            gid.unwrap_or(u32::MAX),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(())
}

/// `fstatat(2)` without following a final symlink.
pub fn lstatat(dirfd: BorrowedFd<'_>, name: &CStr) -> io::Result<libc::stat> {
    // SAFETY: stat is plain data filled by the kernel.
    let mut buf: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `name` is NUL-terminated and `buf` is ours.
    check(unsafe {
        libc::fstatat(
            dirfd.as_raw_fd(),
            name.as_ptr(),
            &mut buf,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    Ok(buf)
}

/// `readlinkat(2)`: the target of the symlink `name` in `dirfd`.
pub fn readlinkat(dirfd: BorrowedFd<'_>, name: &CStr) -> io::Result<CString> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: the pointer and length describe `buf`.
    let n = check(unsafe {
        libc::readlinkat(
            dirfd.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    })? as usize;
    if n >= buf.len() {
        return Err(io::Error::from_raw_os_error(libc::ENAMETOOLONG));
    }
    buf.truncate(n);
    // readlink never returns a NUL inside the target.
    CString::new(buf).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The names in the directory `dir` (which must be open for reading), but
/// `.` and `..`. The descriptor is consumed.
pub fn read_dir_names(dir: OwnedFd) -> io::Result<Vec<CString>> {
    let raw = dir.into_raw_fd();
    // SAFETY: fdopendir takes ownership of `raw`, a directory open for
    // reading; on failure the descriptor is still ours and is closed.
    let stream = unsafe { libc::fdopendir(raw) };
    if stream.is_null() {
        let err = io::Error::last_os_error();
        drop(owned(raw as libc::c_long));
        return Err(err);
    }
    let mut names = Vec::new();
    let result = loop {
        // SAFETY: errno is thread-local; readdir signals errors only via it.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: `stream` is a valid DIR until closedir below.
        let entry = unsafe { libc::readdir64(stream) };
        if entry.is_null() {
            let err = io::Error::last_os_error();
            break match err.raw_os_error() {
                Some(0) | None => Ok(()),
                Some(_) => Err(err),
            };
        }
        // SAFETY: d_name of a returned entry is a NUL-terminated string in
        // the stream's buffer, valid until the next readdir.
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) };
        if name != c"." && name != c".." {
            names.push(name.to_owned());
        }
    };
    // SAFETY: `stream` is valid; closedir also closes the descriptor.
    unsafe { libc::closedir(stream) };
    result.map(|()| names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn fd_path_names_the_descriptor() {
        let file = std::fs::File::open("/").unwrap();
        let path = FdPath::new(file.as_fd());
        let expected = format!("/proc/self/fd/{}", file.as_raw_fd());
        assert_eq!(path.as_cstr().to_str().unwrap(), expected);
    }
}
