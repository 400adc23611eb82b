//! The container's root filesystem (config.md "Root" and "Mounts",
//! config-linux.md "Devices", "Rootfs Mount Propagation", "Masked Paths",
//! "Readonly Paths", runtime-linux.md "Dev symbolic links").
//!
//! [`RootfsPlan::from_spec`] checks everything in the parent, before the
//! clone. The container's init then calls, in its new mount namespace:
//! [`RootfsPlan::mount_all`] (the rootfs becomes a mount, every mount of
//! the config goes on it in order, then `/dev`), the createContainer hooks
//! run, and [`RootfsPlan::enter`] masks paths, makes paths and the root
//! read-only and pivots into the rootfs.
//!
//! Until the pivot, the process's root is still the host's `/`: every path
//! inside the rootfs is resolved from a descriptor of the rootfs with
//! `openat2(RESOLVE_IN_ROOT)`, so symlinks planted in the image cannot lead
//! outside it, and mounts go onto descriptors.

mod attrs;
mod cgroup;
mod copyup;
mod devices;
mod mounts;
mod options;
mod paths;
mod pivot;
mod plan;
#[cfg(test)]
mod tests;

pub use options::known_mount_options;

use crate::spec::Spec;
use crate::sys;
use paths::InnerPath;
use plan::{DevicePlan, MountPlan, RootPropagation};
use std::cell::OnceCell;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Choices of the caller that are not in the config.
#[derive(Debug, Clone, Copy, Default)]
pub struct RootfsOptions {
    /// Enter the rootfs with `MS_MOVE` and `chroot` instead of
    /// `pivot_root` (for a rootfs on a ramfs, where pivoting fails).
    pub no_pivot: bool,
}

/// Why the rootfs could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    /// The config asks for something invalid.
    #[error("{field}: {problem}")]
    Invalid {
        /// The config field, such as `mounts[3] (/proc)`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A system call failed.
    #[error("{what}: {source}")]
    Os {
        /// The step and the path or field, such as
        /// `mounts[3] (/proc): mount proc`.
        what: String,
        /// The error of the system call.
        source: io::Error,
    },
}

impl RootfsError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> RootfsError {
        RootfsError::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn os(what: impl Into<String>, source: io::Error) -> RootfsError {
        RootfsError::Os {
            what: what.into(),
            source,
        }
    }

    /// The OS error number, or 0 when the error is not an OS error (for
    /// the init's error report).
    pub fn errno(&self) -> i32 {
        match self {
            RootfsError::Invalid { .. } => 0,
            RootfsError::Os { source, .. } => source.raw_os_error().unwrap_or(0),
        }
    }
}

/// The container's place in one cgroup v1 hierarchy, for a `cgroup` mount.
#[derive(Debug, Clone)]
pub struct CgroupView {
    /// The directory under the container's cgroup mount: `memory`,
    /// `cpu,cpuacct`, `systemd`.
    pub dir_name: String,
    /// The cgroup filesystem's mount options: `memory`, `cpu,cpuacct`,
    /// `none,name=systemd`.
    pub fs_options: String,
    /// The container's cgroup directory on the host.
    pub host_path: PathBuf,
}

/// What the container side knows only after the clone.
#[derive(Debug, Clone, Copy)]
pub struct MountEnv<'a> {
    /// One per cgroup v1 hierarchy the container is in; empty on a
    /// cgroup v2 host, where a `cgroup` mount is a `cgroup2` filesystem.
    pub cgroup_views: &'a [CgroupView],
    /// On a cgroup v2 host, the container's cgroup directory on the host
    /// (bound on a `cgroup` mount when there is no cgroup namespace).
    pub cgroup2_dir: Option<&'a Path>,
    /// Whether the container has its own cgroup namespace.
    pub cgroup_ns: bool,
}

/// The rootfs work of one container, checked and pre-parsed.
#[derive(Debug)]
pub struct RootfsPlan {
    root_path: PathBuf,
    root_c: CString,
    readonly: bool,
    no_pivot: bool,
    propagation: RootPropagation,
    mounts: Vec<MountPlan>,
    devices: Vec<DevicePlan>,
    /// Whether `/dev` is the runtime's to populate (no bind of the host's).
    dev_links: bool,
    /// Whether `/dev/ptmx` becomes a link to `pts/ptmx`.
    ptmx_link: bool,
    masked: Vec<InnerPath>,
    readonly_paths: Vec<InnerPath>,
    /// The rootfs mount, opened by `mount_all` and used until `enter`.
    root_fd: OnceCell<OwnedFd>,
}

impl RootfsPlan {
    /// Parent side, before the clone: resolves `root.path` (relative to
    /// the bundle) to an existing directory, parses and checks every mount
    /// (options, absolute destinations), device, the propagation and the
    /// masked and read-only paths. Errors name the config field.
    pub fn from_spec(
        spec: &Spec,
        bundle: &Path,
        opts: RootfsOptions,
    ) -> Result<RootfsPlan, RootfsError> {
        plan::build(spec, bundle, opts)
    }

    /// The rootfs's absolute path on the host.
    pub fn root_path(&self) -> &Path {
        &self.root_path
    }

    /// Container side, in the new mount namespace, before the
    /// createContainer hooks: makes `/` private (or slave, per
    /// `rootfsPropagation`), binds the rootfs onto itself, performs every
    /// mount in config order, then populates `/dev` (devices and
    /// links). Needs the host's `/proc`
    /// (mounts target `/proc/self/fd/N`). Call once.
    pub fn mount_all(&self, env: &MountEnv<'_>) -> Result<(), RootfsError> {
        if self.root_fd.get().is_some() {
            return Err(RootfsError::invalid("rootfs", "mount_all called twice"));
        }
        let rec = libc::MS_REC | self.propagation.initial;
        sys::mount::mount(None, c"/", None, rec, None)
            .map_err(|e| RootfsError::os("set the propagation of / before mounting", e))?;
        self.bind_root()?;
        let root = self.root()?;
        for m in &self.mounts {
            mounts::mount(root, m, env)?;
        }
        if self.dev_links {
            devices::populate(root, self)?;
        }
        Ok(())
    }

    /// Binds the pty peer `peer` (open on the container's devpts, e.g.
    /// from `open_in_root("dev/ptmx")` and `TIOCGPTPEER`) on
    /// `/dev/console`, after [`RootfsPlan::mount_all`] and before
    /// [`RootfsPlan::enter`].
    pub fn bind_console(&self, peer: BorrowedFd<'_>) -> Result<(), RootfsError> {
        devices::bind_console(self.root()?, peer)
    }

    /// Container side, after the createContainer hooks: masks
    /// `maskedPaths`, makes `readonlyPaths` and (with `root.readonly`)
    /// the root read-only, enters the rootfs (`pivot_root`, or `MS_MOVE`
    /// and `chroot` with `no_pivot`), applies a shared or unbindable
    /// `rootfsPropagation`, and changes directory to `/`.
    pub fn enter(&self) -> Result<(), RootfsError> {
        pivot::enter(self, self.root()?)
    }

    /// Creates the directory `path` (absolute in the container, e.g.
    /// `process.cwd`) and its missing parents inside the rootfs, each by
    /// descriptor from its parent, after [`RootfsPlan::mount_all`] and before
    /// [`RootfsPlan::enter`] can make the root read-only.
    pub fn make_dir(&self, path: &CStr) -> Result<(), RootfsError> {
        let bytes = path.to_bytes();
        let start = bytes.iter().take_while(|&&b| b == b'/').count();
        if start == bytes.len() {
            return Ok(()); // the root itself
        }
        let rel = CString::new(&bytes[start..]).expect("a CStr holds no NUL byte");
        paths::open_dir_creating(self.root()?, &rel, 0)
            .map(drop)
            .map_err(|e| {
                let shown = String::from_utf8_lossy(bytes);
                RootfsError::os(format!("create {shown} in the rootfs"), e)
            })
    }

    /// Opens `path` (relative, e.g. `dev/ptmx`) inside the rootfs with
    /// `openat2(RESOLVE_IN_ROOT)`, before [`RootfsPlan::enter`].
    pub fn open_in_root(&self, path: &str, flags: i32) -> Result<OwnedFd, RootfsError> {
        let what = || format!("open {path} in the rootfs");
        let rel = CString::new(path.trim_start_matches('/'))
            .map_err(|_| RootfsError::invalid(what(), "path contains a NUL byte"))?;
        let opened;
        let root = match self.root_fd.get() {
            Some(fd) => fd.as_fd(),
            None => {
                opened = open_dir(&self.root_c).map_err(|e| RootfsError::os(what(), e))?;
                opened.as_fd()
            }
        };
        sys::fs::openat2(root, &rel, flags, 0, sys::fs::resolve::IN_ROOT)
            .map_err(|e| RootfsError::os(what(), e))
    }

    /// Makes the rootfs a mount point of its own (which `pivot_root`
    /// needs, and which the mounts below hang from) and opens it.
    fn bind_root(&self) -> Result<(), RootfsError> {
        let what = || format!("bind root.path {} onto itself", self.root_path.display());
        let flags = libc::MS_BIND | libc::MS_REC;
        sys::mount::mount(Some(&self.root_c), &self.root_c, None, flags, None)
            .map_err(|e| RootfsError::os(what(), e))?;
        let fd = open_dir(&self.root_c).map_err(|e| RootfsError::os(what(), e))?;
        // mount_all checked that the cell is empty.
        let _ = self.root_fd.set(fd);
        Ok(())
    }

    fn root(&self) -> Result<BorrowedFd<'_>, RootfsError> {
        self.root_fd
            .get()
            .map(AsFd::as_fd)
            .ok_or_else(|| RootfsError::invalid("rootfs", "mount_all has not run"))
    }
}

fn open_dir(path: &CStr) -> io::Result<OwnedFd> {
    sys::fs::openat(None, path, libc::O_PATH | libc::O_DIRECTORY, 0)
}
