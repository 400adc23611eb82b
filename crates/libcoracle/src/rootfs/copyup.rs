//! `tmpcopyup`: the directory a tmpfs covers is copied into it, so that
//! the image's files stay visible on the writable tmpfs. Everything is
//! opened by descriptor below the two directories, never following links.

use crate::sys::fs::{openat2, resolve};
use crate::sys::mount::{
    fchmodat, lchownat, lstatat, mkdirat, mknodat, read_dir_names, readlinkat, symlinkat,
};
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

const BENEATH: u64 = resolve::BENEATH | resolve::NO_SYMLINKS | resolve::NO_XDEV;

/// Copies the contents of the directory `from` (open for reading) into the
/// directory `to`, keeping modes, owners, links and special files.
pub(super) fn copy_dir(from: OwnedFd, to: BorrowedFd<'_>) -> io::Result<()> {
    let listing = openat2(
        from.as_fd(),
        c".",
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
        BENEATH,
    )?;
    for name in read_dir_names(listing)? {
        copy_entry(from.as_fd(), to, &name)?;
    }
    Ok(())
}

fn copy_entry(from: BorrowedFd<'_>, to: BorrowedFd<'_>, name: &CStr) -> io::Result<()> {
    let st = lstatat(from, name)?;
    let perm = st.st_mode & 0o7777;
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => {
            mkdirat(to, name, 0o700)?;
            let sub_from = openat2(from, name, libc::O_RDONLY | libc::O_DIRECTORY, 0, BENEATH)?;
            let sub_to = openat2(to, name, libc::O_PATH | libc::O_DIRECTORY, 0, BENEATH)?;
            copy_dir(sub_from, sub_to.as_fd())?;
        }
        libc::S_IFREG => {
            let src = openat2(from, name, libc::O_RDONLY, 0, BENEATH)?;
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
            let dst = openat2(to, name, flags, 0o600, BENEATH)?;
            io::copy(&mut File::from(src), &mut File::from(dst))?;
        }
        libc::S_IFLNK => {
            symlinkat(&readlinkat(from, name)?, to, name)?;
        }
        kind => mknodat(to, name, kind | 0o600, st.st_rdev)?,
    }
    lchownat(to, name, Some(st.st_uid), Some(st.st_gid))?;
    if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
        // After chown, which clears set-id bits; the name is ours and not a
        // link, so following it is safe.
        fchmodat(to, name, perm)?;
    }
    Ok(())
}
