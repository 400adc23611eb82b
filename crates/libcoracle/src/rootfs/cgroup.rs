//! A `cgroup` mount: on a cgroup v1 host, a tmpfs holding one directory
//! per hierarchy the container is in, each showing the container's own
//! cgroup (a fresh `cgroup` filesystem in a cgroup namespace, a bind of the
//! host's directory without one), plus links for combined controllers
//! (`cpu -> cpu,cpuacct`). On a cgroup v2 host, a `cgroup2` filesystem.
//! Read-only unless the options say `rw`.

use super::attrs::{fail, needs_new_mount_fd, open_new_mount, set_propagation, set_recursive_attr};
use super::options::attr_of_flags;
use super::paths::open_dir_creating;
use super::plan::MountPlan;
use super::{CgroupView, MountEnv, RootfsError};
use crate::sys::fs::{openat2, resolve};
use crate::sys::mount::{self as m, MountAttr};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;

/// Mounts the container's cgroups at the destination of `plan`.
pub(super) fn mount(
    root: BorrowedFd<'_>,
    plan: &MountPlan,
    env: &MountEnv<'_>,
) -> Result<(), RootfsError> {
    let dest =
        open_dir_creating(root, &plan.dest.rel, 0).map_err(fail(plan, "create the mount point"))?;
    // "rw" named last clears the read-only bit; anything else is read-only.
    let readonly = plan.opts.bind_attr.clear & libc::MOUNT_ATTR_RDONLY == 0;
    let flags = if readonly {
        plan.opts.flags | libc::MS_RDONLY
    } else {
        plan.opts.flags
    };
    if env.cgroup_views.is_empty() {
        match (env.cgroup_ns, env.cgroup2_dir) {
            // Without a cgroup namespace a fresh cgroup2 would show the
            // whole host hierarchy: bind the container's own directory.
            (false, Some(dir)) => {
                let source = CString::new(dir.as_os_str().as_bytes()).map_err(|_| {
                    fail(plan, "bind the cgroup")(io::Error::from_raw_os_error(libc::EINVAL))
                })?;
                m::mount_on_fd(
                    Some(&source),
                    dest.as_fd(),
                    None,
                    libc::MS_BIND | libc::MS_REC,
                    None,
                )
                .map_err(fail(plan, "bind the container's cgroup"))?;
                let top = open_new_mount(root, plan)?;
                if readonly {
                    let ro = MountAttr {
                        set: libc::MOUNT_ATTR_RDONLY,
                        ..MountAttr::default()
                    };
                    m::mount_setattr(top.as_fd(), true, ro)
                        .map_err(fail(plan, "make read-only"))?;
                }
                set_recursive_attr(top.as_fd(), plan)?;
                return set_propagation(top.as_fd(), plan);
            }
            _ => m::mount_on_fd(
                Some(c"cgroup2"),
                dest.as_fd(),
                Some(c"cgroup2"),
                flags,
                None,
            )
            .map_err(fail(plan, "mount cgroup2"))?,
        }
        if needs_new_mount_fd(plan) {
            let top = open_new_mount(root, plan)?;
            set_recursive_attr(top.as_fd(), plan)?;
            set_propagation(top.as_fd(), plan)?;
        }
        return Ok(());
    }
    let tmpfs = Some(c"tmpfs");
    let data = Some(c"mode=755");
    m::mount_on_fd(tmpfs, dest.as_fd(), tmpfs, flags & !libc::MS_RDONLY, data)
        .map_err(fail(plan, "mount the tmpfs for the cgroup hierarchies"))?;
    let top = open_new_mount(root, plan)?;
    for view in env.cgroup_views {
        hierarchy(top.as_fd(), view, flags, env.cgroup_ns)
            .map_err(fail(plan, format_args!("mount cgroup {}", view.dir_name)))?;
    }
    if readonly {
        let ro = MountAttr {
            set: libc::MOUNT_ATTR_RDONLY,
            ..MountAttr::default()
        };
        m::mount_setattr(top.as_fd(), false, ro).map_err(fail(plan, "make read-only"))?;
    }
    set_recursive_attr(top.as_fd(), plan)?;
    set_propagation(top.as_fd(), plan)
}

/// Creates and mounts the directory of one hierarchy in the tmpfs `top`.
fn hierarchy(
    top: BorrowedFd<'_>,
    view: &CgroupView,
    flags: libc::c_ulong,
    cgroup_ns: bool,
) -> io::Result<()> {
    if view.dir_name.is_empty() || view.dir_name.contains('/') {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let name = c_string(view.dir_name.as_bytes())?;
    ignore_exists(m::mkdirat(top, &name, 0o755))?;
    let beneath = resolve::BENEATH | resolve::NO_SYMLINKS;
    let dir = openat2(top, &name, libc::O_PATH | libc::O_DIRECTORY, 0, beneath)?;
    if cgroup_ns {
        let options = c_string(view.fs_options.as_bytes())?;
        let cgroup = Some(c"cgroup");
        m::mount_on_fd(cgroup, dir.as_fd(), cgroup, flags, Some(&options))?;
    } else {
        let host = c_string(view.host_path.as_os_str().as_bytes())?;
        let tree = m::open_tree(None, &host, libc::OPEN_TREE_CLONE)?;
        m::mount_setattr(tree.as_fd(), false, attr_of_flags(flags))?;
        m::move_mount(tree.as_fd(), dir.as_fd())?;
    }
    for controller in view.dir_name.split(',').filter(|c| *c != view.dir_name) {
        ignore_exists(m::symlinkat(&name, top, &c_string(controller.as_bytes())?))?;
    }
    Ok(())
}

fn ignore_exists(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.raw_os_error() == Some(libc::EEXIST) => Ok(()),
        other => other,
    }
}

fn c_string(bytes: &[u8]) -> io::Result<CString> {
    CString::new(bytes).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}
