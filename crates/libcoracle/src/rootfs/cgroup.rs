//! A `cgroup` mount: on a cgroup v1 host, a tmpfs holding one directory
//! per hierarchy, each showing the container's own cgroup (a fresh
//! `cgroup` filesystem in a cgroup namespace, a bind of the host's
//! directory without one), plus links for combined controllers
//! (`cpu -> cpu,cpuacct`). Every hierarchy is there, as runc shows them:
//! in those the container did not join (`cpuset` without cpus or mems,
//! `name=systemd`, which systemd in a container needs) it is where the
//! runtime was (but in a user namespace without a cgroup namespace, where
//! no cgroup filesystem can be mounted). On a cgroup v2 host, a `cgroup2`
//! filesystem. Read-only unless the options say `rw`.

use super::attrs::{fail, needs_new_mount_fd, open_new_mount, set_propagation, set_recursive_attr};
use super::options::attr_of_flags;
use super::paths::open_dir_creating;
use super::plan::{MountPlan, CGROUP_TMPFS_DATA};
use super::{CgroupView, MountEnv, RootfsError};
use crate::sys::fs::{openat2, resolve};
use crate::sys::mount::{self as m, MountAttr};
use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
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
    // The plan's data is the tmpfs's options with a mount label.
    let data = Some(plan.opts.data.as_deref().unwrap_or(CGROUP_TMPFS_DATA));
    m::mount_on_fd(tmpfs, dest.as_fd(), tmpfs, flags & !libc::MS_RDONLY, data)
        .map_err(fail(plan, "mount the tmpfs for the cgroup hierarchies"))?;
    let top = open_new_mount(root, plan)?;
    for view in env.cgroup_views {
        hierarchy(top.as_fd(), view, flags, env.cgroup_ns)
            .map_err(fail(plan, format_args!("mount cgroup {}", view.dir_name)))?;
    }
    for (view, path) in unjoined(env.cgroup_views) {
        let mounted = match env.cgroup_ns {
            true => hierarchy(top.as_fd(), &view, flags, true),
            false => unjoined_hierarchy(top.as_fd(), &view, &path, flags),
        };
        mounted.map_err(fail(plan, format_args!("mount cgroup {}", view.dir_name)))?;
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
    let (name, dir) = hierarchy_dir(top, view)?;
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
    link_controllers(top, view, &name)
}

/// The hierarchies of `/proc/self/cgroup` (the init's, before the pivot)
/// that no view shows (none of their controllers is a view's), with the
/// init's cgroup path in each.
fn unjoined(views: &[CgroupView]) -> Vec<(CgroupView, String)> {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let shown: Vec<&str> = views
        .iter()
        .flat_map(|view| view.fs_options.split(','))
        .filter(|word| *word != "none")
        .collect();
    own.lines()
        .filter_map(|line| {
            let (controllers, path) = line.split_once(':')?.1.split_once(':')?;
            // The empty list is the cgroup2 part of a hybrid host.
            if controllers.is_empty() || controllers.split(',').any(|c| shown.contains(&c)) {
                return None;
            }
            Some((view_named(controllers), path.to_string()))
        })
        .collect()
}

/// The view of the hierarchy of `controllers` (as /proc/self/cgroup lists
/// them), with no host directory, named as the cgroup module names the
/// joined ones: `cpu,cpuacct`, or `systemd` mounted with
/// `none,name=systemd`.
fn view_named(controllers: &str) -> CgroupView {
    let (names, plain): (Vec<&str>, Vec<&str>) =
        controllers.split(',').partition(|c| c.starts_with("name="));
    let dir_name = match plain.is_empty() {
        true => names.iter().map(|n| &n["name=".len()..]).collect(),
        false => plain.clone(),
    };
    let options = if plain.is_empty() {
        vec!["none"]
    } else {
        plain
    };
    CgroupView {
        dir_name: dir_name.join(","),
        fs_options: [options, names].concat().join(","),
        host_path: Default::default(),
    }
}

/// Without a cgroup namespace, the init's cgroup `path` of a hierarchy it
/// did not join: cloned out of a fresh mount of the whole hierarchy, which
/// goes again at once (the container must not see the rest of it).
fn unjoined_hierarchy(
    top: BorrowedFd<'_>,
    view: &CgroupView,
    path: &str,
    flags: libc::c_ulong,
) -> io::Result<()> {
    let (name, dir) = hierarchy_dir(top, view)?;
    let options = c_string(view.fs_options.as_bytes())?;
    let cgroup = Some(c"cgroup");
    match m::mount_on_fd(cgroup, dir.as_fd(), cgroup, flags, Some(&options)) {
        // In a user namespace without a cgroup namespace of its own no
        // cgroup filesystem can be mounted: the hierarchy is left out.
        Err(err) if err.raw_os_error() == Some(libc::EPERM) => {
            let made = format!("/proc/self/fd/{}/{}", top.as_raw_fd(), view.dir_name);
            return std::fs::remove_dir(made);
        }
        other => other?,
    }
    let beneath = resolve::BENEATH | resolve::NO_SYMLINKS;
    let whole = openat2(top, &name, libc::O_PATH | libc::O_DIRECTORY, 0, beneath)?;
    let relative = match path.trim_start_matches('/') {
        "" => ".",
        relative => relative,
    };
    let tree = m::open_tree(
        Some(whole.as_fd()),
        &c_string(relative.as_bytes())?,
        libc::OPEN_TREE_CLONE,
    );
    let whole_path = c_string(format!("/proc/self/fd/{}", whole.as_raw_fd()).as_bytes())?;
    m::umount2(&whole_path, libc::MNT_DETACH)?;
    let tree = tree?;
    m::mount_setattr(tree.as_fd(), false, attr_of_flags(flags))?;
    m::move_mount(tree.as_fd(), dir.as_fd())?;
    link_controllers(top, view, &name)
}

/// Makes the directory `view.dir_name` in the tmpfs `top` and opens it.
fn hierarchy_dir(top: BorrowedFd<'_>, view: &CgroupView) -> io::Result<(CString, OwnedFd)> {
    if view.dir_name.is_empty() || view.dir_name.contains('/') {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let name = c_string(view.dir_name.as_bytes())?;
    ignore_exists(m::mkdirat(top, &name, 0o755))?;
    let beneath = resolve::BENEATH | resolve::NO_SYMLINKS;
    let dir = openat2(top, &name, libc::O_PATH | libc::O_DIRECTORY, 0, beneath)?;
    Ok((name, dir))
}

/// A link per controller of a combined hierarchy: `cpu -> cpu,cpuacct`.
fn link_controllers(top: BorrowedFd<'_>, view: &CgroupView, name: &CString) -> io::Result<()> {
    for controller in view.dir_name.split(',').filter(|c| *c != view.dir_name) {
        ignore_exists(m::symlinkat(name, top, &c_string(controller.as_bytes())?))?;
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

#[cfg(test)]
mod tests {
    use super::view_named;

    #[test]
    fn views_are_named_like_the_joined_ones() {
        let view = view_named("cpu,cpuacct");
        assert_eq!(
            (view.dir_name.as_str(), view.fs_options.as_str()),
            ("cpu,cpuacct", "cpu,cpuacct")
        );
        let view = view_named("name=systemd");
        assert_eq!(
            (view.dir_name.as_str(), view.fs_options.as_str()),
            ("systemd", "none,name=systemd")
        );
        let view = view_named("cpuset");
        assert_eq!(
            (view.dir_name.as_str(), view.fs_options.as_str()),
            ("cpuset", "cpuset")
        );
    }
}
