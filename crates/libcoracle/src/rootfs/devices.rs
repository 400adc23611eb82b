//! `/dev`: the default devices of config-linux.md and `linux.devices`
//! (created with `mknodat` relative to a descriptor of their directory
//! opened without following any symlink, or, where `mknod` is not allowed,
//! bound from the host), the links of runtime-linux.md, `/dev/ptmx`, and
//! `/dev/console`.

use super::paths::{create_empty_file, open_dir_creating, open_in};
use super::plan::DevicePlan;
use super::{RootfsError, RootfsPlan};
use crate::sys::fs::{fstat, fstatfs_type, resolve};
use crate::sys::mount as m;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// The links that runtime-linux.md asks for when `/proc/self/fd` exists.
const FD_LINKS: [(&CStr, &CStr); 4] = [
    (c"/proc/self/fd", c"fd"),
    (c"/proc/self/fd/0", c"stdin"),
    (c"/proc/self/fd/1", c"stdout"),
    (c"/proc/self/fd/2", c"stderr"),
];

/// Creates the devices and links of `plan` in the rootfs `root`.
pub(super) fn populate(root: BorrowedFd<'_>, plan: &RootfsPlan) -> Result<(), RootfsError> {
    let dev = open_dev(root)?;
    for device in &plan.devices {
        let opened;
        let dir = match device.parent.as_deref() {
            Some(p) if p == c"dev" => dev.as_fd(),
            Some(p) => {
                opened = open_dir_creating(root, p, resolve::NO_SYMLINKS).map_err(|e| {
                    RootfsError::os(format!("open the directory of {}", device.path.shown), e)
                })?;
                opened.as_fd()
            }
            None => root,
        };
        create_device(dir, &device.name, device)?;
    }
    if open_in(root, c"proc/self/fd", libc::O_PATH, 0).is_ok() {
        for (target, name) in FD_LINKS {
            link(dev.as_fd(), target, name)?;
        }
    }
    if plan.ptmx_link {
        match m::unlinkat(dev.as_fd(), c"ptmx") {
            Err(err) if err.raw_os_error() != Some(libc::ENOENT) => {
                return Err(RootfsError::os("remove /dev/ptmx", err));
            }
            _ => link(dev.as_fd(), c"pts/ptmx", c"ptmx")?,
        }
    }
    Ok(())
}

/// The rootfs's `/dev`, which must not be (or lead through) a symlink.
fn open_dev(root: BorrowedFd<'_>) -> Result<std::os::fd::OwnedFd, RootfsError> {
    open_dir_creating(root, c"dev", resolve::NO_SYMLINKS)
        .map_err(|e| RootfsError::os("open /dev in the rootfs", e))
}

fn link(dev: BorrowedFd<'_>, target: &CStr, name: &CStr) -> Result<(), RootfsError> {
    match m::symlinkat(target, dev, name) {
        Err(err) if err.raw_os_error() != Some(libc::EEXIST) => Err(RootfsError::os(
            format!(
                "link /dev/{} to {}",
                name.to_string_lossy(),
                target.to_string_lossy()
            ),
            err,
        )),
        _ => Ok(()),
    }
}

fn create_device(dir: BorrowedFd<'_>, name: &CStr, device: &DevicePlan) -> Result<(), RootfsError> {
    let what = || format!("create device {}", device.path.shown);
    match m::mknodat(dir, name, device.kind | device.perm, device.rdev) {
        Ok(()) => set_mode_and_owner(dir, name, device).map_err(|e| RootfsError::os(what(), e)),
        Err(err) if err.raw_os_error() == Some(libc::EEXIST) => existing(dir, name, device),
        Err(err) if err.raw_os_error() == Some(libc::EPERM) && device.kind != libc::S_IFIFO => {
            bind_from_host(dir, name, device).map_err(|e| RootfsError::os(what(), e))
        }
        Err(err) => Err(RootfsError::os(what(), err)),
    }
}

fn set_mode_and_owner(dir: BorrowedFd<'_>, name: &CStr, device: &DevicePlan) -> io::Result<()> {
    // mknod applied the umask; the name was just created as a node, so
    // following it is safe.
    m::fchmodat(dir, name, device.perm)?;
    if device.uid.is_some() || device.gid.is_some() {
        m::lchownat(dir, name, device.uid, device.gid)?;
    }
    Ok(())
}

/// A file already at the device's path: the same device is fine, an empty
/// regular file (a previous bind target) is bound over, anything else is
/// an error, as config-linux.md asks.
fn existing(dir: BorrowedFd<'_>, name: &CStr, device: &DevicePlan) -> Result<(), RootfsError> {
    let what = || format!("create device {}", device.path.shown);
    let st = m::lstatat(dir, name).map_err(|e| RootfsError::os(what(), e))?;
    let kind = st.st_mode & libc::S_IFMT;
    if kind == device.kind && (kind == libc::S_IFIFO || st.st_rdev == device.rdev) {
        return Ok(());
    }
    if kind == libc::S_IFREG && st.st_size == 0 && device.kind != libc::S_IFIFO {
        return bind_from_host(dir, name, device).map_err(|e| RootfsError::os(what(), e));
    }
    Err(RootfsError::invalid(
        format!("linux.devices ({})", device.path.shown),
        "a different file already exists at the path",
    ))
}

/// Binds the host's node at the same path onto an empty file (for user
/// namespaces, where `mknod` is not allowed), after checking that the
/// host's node is the requested device.
fn bind_from_host(dir: BorrowedFd<'_>, name: &CStr, device: &DevicePlan) -> io::Result<()> {
    let tree = m::open_tree(None, &device.host_path, libc::OPEN_TREE_CLONE)?;
    let st = fstat(tree.as_fd())?;
    if st.st_mode & libc::S_IFMT != device.kind || st.st_rdev != device.rdev {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    let target = create_empty_file(dir, name)?;
    m::move_mount(tree.as_fd(), target.as_fd())
}

/// Binds the pty `peer` on `/dev/console`, after checking that it is on a
/// devpts (CVE-2025-52565: never bind by a path the container controls).
pub(super) fn bind_console(root: BorrowedFd<'_>, peer: BorrowedFd<'_>) -> Result<(), RootfsError> {
    let what = "bind the console on /dev/console";
    let magic = fstatfs_type(peer).map_err(|e| RootfsError::os(what, e))?;
    if magic != libc::DEVPTS_SUPER_MAGIC {
        return Err(RootfsError::invalid(
            what,
            "the console is not a pty on devpts",
        ));
    }
    let dev = open_dev(root)?;
    let target =
        create_empty_file(dev.as_fd(), c"console").map_err(|e| RootfsError::os(what, e))?;
    let flags = libc::OPEN_TREE_CLONE | libc::AT_EMPTY_PATH as u32;
    let tree = m::open_tree(Some(peer), m::EMPTY, flags).map_err(|e| RootfsError::os(what, e))?;
    m::move_mount(tree.as_fd(), target.as_fd()).map_err(|e| RootfsError::os(what, e))
}
