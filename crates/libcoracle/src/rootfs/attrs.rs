//! What is done to a mount once it is attached at its destination: the
//! recursive attributes (`rro`, `rnosuid`…) and the propagation, applied to
//! the new mount reopened by fd; and the error naming the mount's field.

use super::paths::open_in;
use super::plan::MountPlan;
use super::RootfsError;
use crate::sys::mount::{self as m, MountAttr};
use std::io;
use std::os::fd::{BorrowedFd, OwnedFd};

/// The error of `step` for `plan`: "mounts[3] (/proc): mount proc: …".
pub(super) fn fail<'a>(
    plan: &'a MountPlan,
    step: impl std::fmt::Display + 'a,
) -> impl FnOnce(io::Error) -> RootfsError + 'a {
    move |err| RootfsError::os(format!("{}: {step}", plan.field()), err)
}

/// Whether anything is left to do on the mount once it is attached.
pub(super) fn needs_new_mount_fd(plan: &MountPlan) -> bool {
    plan.opts.recursive_attr != MountAttr::default() || !plan.opts.propagation.is_empty()
}

/// The root of what was just mounted at the destination.
pub(super) fn open_new_mount(
    root: BorrowedFd<'_>,
    plan: &MountPlan,
) -> Result<OwnedFd, RootfsError> {
    open_in(root, &plan.dest.rel, libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(fail(plan, "open the new mount"))
}

/// Applies `rro`, `rnosuid`… to the mount behind `fd` and all below it.
pub(super) fn set_recursive_attr(fd: BorrowedFd<'_>, plan: &MountPlan) -> Result<(), RootfsError> {
    if plan.opts.recursive_attr == MountAttr::default() {
        return Ok(());
    }
    m::mount_setattr(fd, true, plan.opts.recursive_attr)
        .map_err(fail(plan, "set recursive attributes"))
}

/// Applies the propagation options in order to the mount behind `fd`.
pub(super) fn set_propagation(fd: BorrowedFd<'_>, plan: &MountPlan) -> Result<(), RootfsError> {
    for &(kind, recursive) in &plan.opts.propagation {
        let attr = MountAttr {
            propagation: kind,
            ..MountAttr::default()
        };
        m::mount_setattr(fd, recursive, attr).map_err(fail(plan, "set propagation"))?;
    }
    Ok(())
}
