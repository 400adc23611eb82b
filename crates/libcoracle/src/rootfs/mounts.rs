//! The entries of `mounts`, on the container side, in config order. Each
//! destination is resolved inside the rootfs by descriptor (created if
//! missing); binds are cloned with `open_tree`, get their attributes while
//! still detached and are attached with `move_mount`; new filesystems are
//! mounted with `mount(2)` onto `/proc/self/fd/N` of the destination.

use super::attrs::{fail, needs_new_mount_fd, open_new_mount, set_propagation, set_recursive_attr};
use super::paths::{open_dir_creating, open_file_creating, open_in};
use super::plan::{MountKind, MountPlan};
use super::{cgroup, copyup, MountEnv, RootfsError};
use crate::sys::fs::fstat;
use crate::sys::mount::{self as m, MountAttr};
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd};

/// Performs one entry of `mounts`.
pub(super) fn mount(
    root: BorrowedFd<'_>,
    plan: &MountPlan,
    env: &MountEnv<'_>,
) -> Result<(), RootfsError> {
    match &plan.kind {
        MountKind::Bind { source } => bind(root, plan, source),
        MountKind::Filesystem { fstype, source } => {
            filesystem(root, plan, fstype, source.as_deref())
        }
        MountKind::Remount => remount(root, plan),
        MountKind::Cgroup => cgroup::mount(root, plan, env),
    }
}

fn bind(root: BorrowedFd<'_>, plan: &MountPlan, source: &CStr) -> Result<(), RootfsError> {
    let shown = source.to_string_lossy();
    let mut flags = libc::OPEN_TREE_CLONE;
    if plan.opts.bind == Some(true) {
        flags |= libc::AT_RECURSIVE as u32;
    }
    let tree = m::open_tree(None, source, flags)
        .map_err(fail(plan, format_args!("open bind source {shown}")))?;
    let is_dir = fstat(tree.as_fd())
        .map_err(fail(plan, format_args!("stat bind source {shown}")))?
        .st_mode
        & libc::S_IFMT
        == libc::S_IFDIR;
    let dest = if is_dir {
        open_dir_creating(root, &plan.dest.rel, 0)
    } else {
        open_file_creating(root, &plan.dest)
    }
    .map_err(fail(plan, "create the mount point"))?;
    if plan.opts.bind_attr != MountAttr::default() {
        m::mount_setattr(tree.as_fd(), false, plan.opts.bind_attr)
            .map_err(fail(plan, "set the bind's attributes"))?;
    }
    set_recursive_attr(tree.as_fd(), plan)?;
    m::move_mount(tree.as_fd(), dest.as_fd())
        .map_err(fail(plan, format_args!("attach the bind of {shown}")))?;
    set_propagation(tree.as_fd(), plan)
}

fn filesystem(
    root: BorrowedFd<'_>,
    plan: &MountPlan,
    fstype: &CStr,
    source: Option<&CStr>,
) -> Result<(), RootfsError> {
    let dest =
        open_dir_creating(root, &plan.dest.rel, 0).map_err(fail(plan, "create the mount point"))?;
    // The covered directory, read after the tmpfs hides it.
    let lower = if plan.opts.tmpcopyup {
        let flags = libc::O_RDONLY | libc::O_DIRECTORY;
        Some(open_in(root, &plan.dest.rel, flags, 0).map_err(fail(plan, "open for tmpcopyup"))?)
    } else {
        None
    };
    let mut flags = plan.opts.flags;
    if lower.is_some() {
        // Read-only only once filled.
        flags &= !libc::MS_RDONLY;
    }
    let data = plan.opts.data.as_deref();
    match m::mount_on_fd(source, dest.as_fd(), Some(fstype), flags, data) {
        Err(err) if err.raw_os_error() == Some(libc::EPERM) && fstype == c"sysfs" => {
            // A user namespace that does not own the network namespace may
            // not mount sysfs: give it the host's, as runc does.
            return sysfs_from_host(dest.as_fd(), plan);
        }
        other => other.map_err(fail(
            plan,
            format_args!("mount {}", fstype.to_string_lossy()),
        ))?,
    }
    if lower.is_none() && !needs_new_mount_fd(plan) {
        return Ok(());
    }
    let top = open_new_mount(root, plan)?;
    if let Some(lower) = lower {
        copyup::copy_dir(lower, top.as_fd()).map_err(fail(plan, "tmpcopyup"))?;
        if plan.opts.flags & libc::MS_RDONLY != 0 {
            let ro = MountAttr {
                set: libc::MOUNT_ATTR_RDONLY,
                ..MountAttr::default()
            };
            m::mount_setattr(top.as_fd(), false, ro)
                .map_err(fail(plan, "make read-only after tmpcopyup"))?;
        }
    }
    set_recursive_attr(top.as_fd(), plan)?;
    set_propagation(top.as_fd(), plan)
}

fn sysfs_from_host(dest: BorrowedFd<'_>, plan: &MountPlan) -> Result<(), RootfsError> {
    let flags = libc::OPEN_TREE_CLONE | libc::AT_RECURSIVE as u32;
    let tree = m::open_tree(None, c"/sys", flags).map_err(fail(plan, "bind the host's /sys"))?;
    if plan.opts.bind_attr != MountAttr::default() {
        m::mount_setattr(tree.as_fd(), true, plan.opts.bind_attr)
            .map_err(fail(plan, "set the attributes of the host's /sys"))?;
    }
    set_recursive_attr(tree.as_fd(), plan)?;
    m::move_mount(tree.as_fd(), dest).map_err(fail(plan, "attach the host's /sys"))?;
    set_propagation(tree.as_fd(), plan)
}

fn remount(root: BorrowedFd<'_>, plan: &MountPlan) -> Result<(), RootfsError> {
    let dest = open_in(root, &plan.dest.rel, libc::O_PATH, 0)
        .map_err(fail(plan, "open the mount to remount"))?;
    let mut flags = plan.opts.flags;
    if plan.opts.bind.is_some() {
        flags |= libc::MS_BIND;
    }
    let data = plan.opts.data.as_deref();
    m::mount_on_fd(None, dest.as_fd(), None, flags, data).map_err(fail(plan, "remount"))?;
    if !needs_new_mount_fd(plan) {
        return Ok(());
    }
    let top = open_new_mount(root, plan)?;
    set_recursive_attr(top.as_fd(), plan)?;
    set_propagation(top.as_fd(), plan)
}
