//! Entering the rootfs: masked and read-only paths, the read-only root
//! (all still resolved from the rootfs's descriptor, while the host's
//! `/proc` and `/dev/null` are at hand), then `pivot_root` or `MS_MOVE`.

use super::paths::{open_in, InnerPath};
use super::{RootfsError, RootfsPlan};
use crate::sys::fs::{chdir, fchdir, fstat, openat};
use crate::sys::mount::{self as m, MountAttr};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// See [`RootfsPlan::enter`].
pub(super) fn enter(plan: &RootfsPlan, root: BorrowedFd<'_>) -> Result<(), RootfsError> {
    mask(root, &plan.masked)?;
    for path in &plan.readonly_paths {
        make_readonly(root, path)
            .map_err(|e| RootfsError::os(format!("make {} read-only", path.shown), e))?;
    }
    if plan.readonly {
        let ro = MountAttr {
            set: libc::MOUNT_ATTR_RDONLY,
            ..MountAttr::default()
        };
        m::mount_setattr(root, false, ro)
            .map_err(|e| RootfsError::os("make the root read-only (root.readonly)", e))?;
    }
    if plan.no_pivot {
        move_root(root).map_err(|e| RootfsError::os("move the rootfs onto / (no pivot)", e))?;
    } else {
        pivot(root).map_err(|e| RootfsError::os("pivot_root into the rootfs", e))?;
    }
    if let Some((kind, recursive)) = plan.propagation.last {
        let flags = if recursive { kind | libc::MS_REC } else { kind };
        m::mount(None, c"/", None, flags, None)
            .map_err(|e| RootfsError::os("set linux.rootfsPropagation on /", e))?;
    }
    chdir(c"/").map_err(|e| RootfsError::os("chdir to / in the rootfs", e))
}

/// Hides each existing masked path: a directory under an empty read-only
/// tmpfs, anything else under the host's `/dev/null`.
fn mask(root: BorrowedFd<'_>, paths: &[InnerPath]) -> Result<(), RootfsError> {
    if paths.is_empty() {
        return Ok(());
    }
    // Masked lists nearly always hold files (/proc/kcore…): open it once.
    let null = open_dev_null().map_err(|e| RootfsError::os("open /dev/null for maskedPaths", e))?;
    for path in paths {
        mask_one(root, path, null.as_fd())
            .map_err(|e| RootfsError::os(format!("mask {}", path.shown), e))?;
    }
    Ok(())
}

fn mask_one(root: BorrowedFd<'_>, path: &InnerPath, null: BorrowedFd<'_>) -> io::Result<()> {
    let Some(target) = open_existing(root, path)? else {
        return Ok(());
    };
    if fstat(target.as_fd())?.st_mode & libc::S_IFMT == libc::S_IFDIR {
        let flags = libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC;
        let tmpfs = Some(c"tmpfs");
        m::mount_on_fd(tmpfs, target.as_fd(), tmpfs, flags, None)
    } else {
        m::bind_fd_on_fd(null, target.as_fd(), 0)
    }
}

/// The host's `/dev/null`, checked to be the null device (CVE-2025-31133:
/// never mask with whatever a path happens to name).
fn open_dev_null() -> io::Result<OwnedFd> {
    let fd = openat(None, c"/dev/null", libc::O_PATH, 0)?;
    let st = fstat(fd.as_fd())?;
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != libc::makedev(1, 3) {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    Ok(fd)
}

/// Binds the path onto itself, recursively read-only, nosuid, nodev and
/// noexec; the other attributes stay.
fn make_readonly(root: BorrowedFd<'_>, path: &InnerPath) -> io::Result<()> {
    let Some(target) = open_existing(root, path)? else {
        return Ok(());
    };
    let flags = libc::OPEN_TREE_CLONE | (libc::AT_RECURSIVE | libc::AT_EMPTY_PATH) as u32;
    let tree = m::open_tree(Some(target.as_fd()), m::EMPTY, flags)?;
    let attr = MountAttr {
        set: libc::MOUNT_ATTR_RDONLY
            | libc::MOUNT_ATTR_NOSUID
            | libc::MOUNT_ATTR_NODEV
            | libc::MOUNT_ATTR_NOEXEC,
        ..MountAttr::default()
    };
    m::mount_setattr(tree.as_fd(), true, attr)?;
    m::move_mount(tree.as_fd(), target.as_fd())
}

/// The path inside the rootfs, or `None` when it does not exist.
fn open_existing(root: BorrowedFd<'_>, path: &InnerPath) -> io::Result<Option<OwnedFd>> {
    match open_in(root, &path.rel, libc::O_PATH, 0) {
        Ok(fd) => Ok(Some(fd)),
        Err(err) if matches!(err.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => Ok(None),
        Err(err) => Err(err),
    }
}

/// `pivot_root(".", ".")` from inside the rootfs stacks the old root on
/// top of the new one, so no directory for it is needed; it is then made
/// a slave (so that unmounting it cannot propagate to the host) and
/// detached.
fn pivot(root: BorrowedFd<'_>) -> io::Result<()> {
    let old_root = openat(None, c"/", libc::O_PATH | libc::O_DIRECTORY, 0)?;
    fchdir(root)?;
    m::pivot_root(c".", c".")?;
    // "." is not guaranteed to be the old root after the pivot: go there.
    fchdir(old_root.as_fd())?;
    m::mount(None, c".", None, libc::MS_SLAVE | libc::MS_REC, None)?;
    m::umount2(c".", libc::MNT_DETACH)
}

/// Without `pivot_root`: move the rootfs mount onto `/` and chroot into it.
fn move_root(root: BorrowedFd<'_>) -> io::Result<()> {
    fchdir(root)?;
    m::mount(Some(c"."), c"/", None, libc::MS_MOVE, None)?;
    m::chroot(c".")
}
