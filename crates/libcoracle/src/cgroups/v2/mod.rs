//! The cgroup v2 driver (cgroupfs on a unified host): the container's
//! cgroup is one directory of the single hierarchy.
//!
//! The directory exists before the clone, so that the container's init is
//! born in it (`CLONE_INTO_CGROUP`, no migration). Every controller the
//! ancestors below the root offer is enabled in their
//! `cgroup.subtree_control` where missing (a later update may need any).
//! Device access is an eBPF program attached to the directory; freezing,
//! killing and removal use `cgroup.freeze`, `cgroup.kill` and the
//! `cgroup.events` notifications instead of polling.

mod apply;
mod stats;

use super::bpf::device_program;
use super::control::{read_control, write, write_control};
use super::devices::{effective_rules, DeviceRule};
use super::dirs::{
    child_cgroups, ensure_no_process, make_dirs, processes_below, removable_levels, remove_made,
    remove_made_parents,
};
use super::mountinfo::Unified;
use super::oom::OomWatcher;
use super::path::CgroupsPath;
use super::resources::ResourcePlan;
use super::stats::{parse_flat_keyed, Stats};
use super::CgroupError;
use crate::sys;
use apply::{apply, controllers_used};
pub(crate) use apply::{cpu_weight, io_weight, reject_v1_only};
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Seek as _};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long freezing, and the exit of killed processes before a removal, may
/// take: tasks in uninterruptible sleeps hold both up.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The plan for cgroup v2: where, which controllers, what to write.
#[derive(Debug)]
pub(crate) struct V2Plan {
    mount_point: PathBuf,
    dir: PathBuf,
    /// Controllers and the field that needs each.
    controllers: Vec<(String, String)>,
    resources: ResourcePlan,
    /// Levels of `dir` that are coracle's whoever made them
    /// ([`CgroupsPath::owned_levels`]).
    owned_levels: usize,
}

impl V2Plan {
    /// Places the container's cgroup in the unified hierarchy and checks
    /// that cgroup v2 can apply the resources.
    pub(crate) fn new(
        unified: &Unified,
        path: &CgroupsPath,
        resources: ResourcePlan,
    ) -> Result<V2Plan, CgroupError> {
        reject_v1_only(&resources)?;
        let below = path.below_mount(unified.own.as_deref(), &unified.mount_point)?;
        let mount_point = PathBuf::from(&unified.mount_point);
        Ok(V2Plan {
            dir: mount_point.join(below),
            mount_point,
            controllers: controllers_used(&resources),
            resources,
            owned_levels: path.owned_levels(),
        })
    }
}

/// What a container's state records of its v2 cgroup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct V2Record {
    /// The container's cgroup directory.
    path: PathBuf,
    /// The mount point of the hierarchy.
    mount_point: PathBuf,
    /// How many directories, from `path` upwards, creating it made.
    created: usize,
}

/// The container's cgroup on v2.
#[derive(Debug)]
pub(crate) struct V2Cgroup {
    record: V2Record,
    /// The directory, opened on first use (for `CLONE_INTO_CGROUP` and for
    /// attaching programs); `None` when it could not be opened.
    dir_fd: OnceLock<Option<OwnedFd>>,
}

impl V2Cgroup {
    /// Creates the directory, enables the controllers, applies the
    /// resources and the device program; undoes what it created on failure.
    pub(crate) fn create(plan: &V2Plan) -> Result<V2Cgroup, CgroupError> {
        let created = make_dirs(&plan.dir, &plan.mount_point)?;
        let cgroup = V2Cgroup::from_record(&V2Record {
            path: plan.dir.clone(),
            mount_point: plan.mount_point.clone(),
            created: removable_levels(created, plan.owned_levels),
        });
        match cgroup.set_up(plan) {
            Ok(()) => Ok(cgroup),
            Err(err) => {
                remove_made(&plan.dir, created);
                Err(err)
            }
        }
    }

    fn set_up(&self, plan: &V2Plan) -> Result<(), CgroupError> {
        let dir = &plan.dir;
        let fresh = self.record.created > 0;
        if !fresh {
            ensure_no_process(dir)?;
        }
        enable_controllers(&plan.mount_point, dir, &plan.controllers)?;
        self.configure(&plan.resources, !fresh)
    }

    /// A cgroup that someone else made (systemd), at `path`.
    pub(crate) fn adopt(path: &Path, mount_point: &Path) -> V2Cgroup {
        V2Cgroup::from_record(&V2Record {
            path: path.to_owned(),
            mount_point: mount_point.to_owned(),
            created: 0,
        })
    }

    /// Applies the resources and attaches the device program to the
    /// existing directory; with `replace_programs`, device programs attached
    /// before are detached.
    pub(crate) fn configure(
        &self,
        resources: &ResourcePlan,
        replace_programs: bool,
    ) -> Result<(), CgroupError> {
        apply(self.path(), resources, false)?;
        let rules = resources.devices.as_deref().unwrap_or_default();
        self.install_device_program(rules, replace_programs)
    }

    /// Fails unless every controller `resources` need is enabled for the
    /// cgroup.
    pub(crate) fn check_controllers(&self, resources: &ResourcePlan) -> Result<(), CgroupError> {
        let dir = self.path();
        let have = read_control(&dir.join("cgroup.controllers"))?;
        match controllers_used(resources)
            .into_iter()
            .find(|(c, _)| !have.split_whitespace().any(|h| h == c))
        {
            Some((controller, needed_for)) => Err(CgroupError::NotEnabled {
                controller,
                path: dir.to_owned(),
                needed_for,
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn from_record(record: &V2Record) -> V2Cgroup {
        V2Cgroup {
            record: record.clone(),
            dir_fd: OnceLock::new(),
        }
    }

    pub(crate) fn record(&self) -> V2Record {
        self.record.clone()
    }

    fn path(&self) -> &Path {
        &self.record.path
    }

    /// The directory, for `CLONE_INTO_CGROUP`; `None` when it cannot be
    /// opened (the caller then moves the process, which reports the error).
    pub(crate) fn clone_target(&self) -> Option<BorrowedFd<'_>> {
        self.dir_fd
            .get_or_init(|| open_dir(self.path()).ok())
            .as_ref()
            .map(AsFd::as_fd)
    }

    fn dir_fd(&self) -> Result<BorrowedFd<'_>, CgroupError> {
        self.clone_target().ok_or_else(|| CgroupError::Read {
            path: self.path().to_owned(),
            source: open_dir(self.path())
                .err()
                .unwrap_or_else(|| io::Error::from_raw_os_error(libc::EBADF)),
        })
    }

    /// Compiles the device rules and attaches the program; with `replace`,
    /// the programs attached before are detached afterwards (in between,
    /// both apply, and a device needs both to allow it: never more access
    /// than either gives).
    fn install_device_program(
        &self,
        rules: &[DeviceRule],
        replace: bool,
    ) -> Result<(), CgroupError> {
        let dir = self.dir_fd()?;
        let bpf_error = |step: &'static str| {
            let path = self.path().to_owned();
            move |source| CgroupError::Bpf { step, path, source }
        };
        let old = match replace {
            true => {
                sys::bpf::device_programs(dir).map_err(bpf_error("list the device programs"))?
            }
            false => Vec::new(),
        };
        let program: Vec<u64> = device_program(effective_rules(rules))
            .into_iter()
            .map(|insn| insn.encode())
            .collect();
        let prog = sys::bpf::load_device_program(&program, c"Apache-2.0", "coracle_devices")
            .map_err(bpf_error("load the device program"))?;
        sys::bpf::attach_device_program(dir, prog.as_fd())
            .map_err(bpf_error("attach the device program"))?;
        for id in old {
            match sys::bpf::program_by_id(id) {
                Ok(old) => sys::bpf::detach_device_program(dir, old.as_fd())
                    .map_err(bpf_error("detach the previous device program"))?,
                // Detached meanwhile by someone else.
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(bpf_error("open the previous device program")(e)),
            }
        }
        Ok(())
    }

    pub(crate) fn update(&self, resources: &ResourcePlan) -> Result<(), CgroupError> {
        reject_v1_only(resources)?;
        self.check_controllers(resources)?;
        apply(self.path(), resources, true)?;
        match &resources.devices {
            Some(rules) => self.install_device_program(rules, true),
            None => Ok(()),
        }
    }

    pub(crate) fn stats(&self) -> Result<Stats, CgroupError> {
        stats::stats(self.path())
    }

    pub(crate) fn oom_events(&self) -> Result<OomWatcher, CgroupError> {
        if !self.path().join("memory.events").exists() {
            return Err(CgroupError::NotEnabled {
                controller: "memory".into(),
                path: self.path().to_owned(),
                needed_for: "out-of-memory events".into(),
            });
        }
        OomWatcher::v2(self.path())
    }

    pub(crate) fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        write(&self.path().join("cgroup.procs"), &pid.to_string())
    }

    /// The processes of the cgroup and of the cgroups the container made
    /// below it.
    pub(crate) fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        processes_below(self.path())
    }

    /// Whether the directory is gone (systemd removes a scope's once its
    /// last process has left).
    fn is_gone(&self) -> bool {
        !self.path().join("cgroup.procs").exists()
    }

    pub(crate) fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        if self.is_gone() {
            return Ok(()); // no process left to signal
        }
        if signal == libc::SIGKILL {
            // One write kills the whole subtree, forks in flight included.
            match write_control(&self.path().join("cgroup.kill"), "1") {
                Ok(()) => return Ok(()),
                // Emptied and removed meanwhile (systemd removes a scope's).
                Err(e) if vanished(&e) && self.is_gone() => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {} // before 5.14
                Err(source) => {
                    return Err(CgroupError::Write {
                        path: self.path().join("cgroup.kill"),
                        value: "1".into(),
                        source,
                    })
                }
            }
            let frozen = self.set_frozen(true);
            let killed = self.signal_each(signal);
            let thawed = self.set_frozen(false);
            return frozen.and(killed).and(thawed);
        }
        self.signal_each(signal)
    }

    fn signal_each(&self, signal: i32) -> Result<(), CgroupError> {
        for pid in self.pids()? {
            match sys::process::kill(pid, signal) {
                Err(err) if err.raw_os_error() != Some(libc::ESRCH) => {
                    return Err(CgroupError::Signal {
                        signal,
                        pid,
                        source: err,
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes `cgroup.freeze` and waits, on `cgroup.events` notifications,
    /// for the kernel to report the new state.
    pub(crate) fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        let want = if frozen { "1" } else { "0" };
        let mut events = Events::open(self.path())?;
        write(&self.path().join("cgroup.freeze"), want)?;
        let reached = events.wait_for("frozen", want)?;
        if reached {
            return Ok(());
        }
        if frozen {
            // Leave the processes running rather than half frozen.
            let _ = write_control(&self.path().join("cgroup.freeze"), "0");
        }
        Err(CgroupError::Freezer {
            path: self.path().join("cgroup.events"),
            state: if frozen { "FREEZING" } else { "FROZEN" }.into(),
            want: if frozen { "FROZEN" } else { "THAWED" },
        })
    }

    pub(crate) fn is_frozen(&self) -> Result<bool, CgroupError> {
        let events = read_control(&self.path().join("cgroup.events"))?;
        Ok(parse_flat_keyed(&events).get("frozen") == Some(&1))
    }

    /// Waits for the processes to be gone (`populated 0`), then removes the
    /// cgroups the container made below its own, its own, and the parents
    /// that creating it made.
    pub(crate) fn remove(&self) -> Result<(), CgroupError> {
        let dir = self.path();
        let remove_error = |source| CgroupError::Remove {
            path: dir.to_owned(),
            source,
        };
        // systemd removes a scope's directory itself once it is empty,
        // possibly while this reads it.
        let emptied = Events::open(dir).and_then(|mut events| events.wait_for("populated", "0"));
        match emptied {
            Ok(true) => {}
            Ok(false) => return Err(remove_error(io::Error::from_raw_os_error(libc::EBUSY))),
            Err(CgroupError::Read { source, .. }) if vanished(&source) => return Ok(()),
            Err(e) => return Err(e),
        }
        remove_tree(dir).map_err(remove_error)?;
        remove_made_parents(dir, self.record.created);
        Ok(())
    }

    /// The container's directory on the host.
    pub(crate) fn host_path(&self) -> &Path {
        self.path()
    }
}

/// Whether a read failed because the cgroup is gone: its directory does
/// not exist (`ENOENT`), or was removed while the file was open (`ENODEV`).
fn vanished(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::NotFound || error.raw_os_error() == Some(libc::ENODEV)
}

/// The `cgroup.events` file of a cgroup, open to wait for changes.
struct Events {
    file: File,
    path: PathBuf,
}

impl Events {
    fn open(dir: &Path) -> Result<Events, CgroupError> {
        let path = dir.join("cgroup.events");
        // Opening (and each read) marks the file's events as seen: a change
        // after this point raises POLLPRI.
        let file = File::open(&path).map_err(|source| CgroupError::Read {
            path: path.clone(),
            source,
        })?;
        Ok(Events { file, path })
    }

    /// Waits until `key` reads `value`; `false` when it still does not
    /// after [`SETTLE_TIMEOUT`].
    fn wait_for(&mut self, key: &str, value: &str) -> Result<bool, CgroupError> {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        loop {
            if self
                .read()?
                .lines()
                .any(|l| l.split_once(' ') == Some((key, value)))
            {
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            sys::notify::poll_priority(self.file.as_fd(), left.as_millis() as i32 + 1).map_err(
                |source| CgroupError::Watch {
                    path: self.path.clone(),
                    source,
                },
            )?;
        }
    }

    fn read(&mut self) -> Result<String, CgroupError> {
        let mut text = String::new();
        self.file
            .rewind()
            .and_then(|()| self.file.read_to_string(&mut text))
            .map_err(|source| CgroupError::Read {
                path: self.path.clone(),
                source,
            })?;
        Ok(text)
    }
}

/// Opens a cgroup directory for `CLONE_INTO_CGROUP` and `BPF_PROG_ATTACH`
/// (which refuses `O_PATH` descriptors).
fn open_dir(path: &Path) -> io::Result<OwnedFd> {
    Ok(OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(path)?
        .into())
}

/// Enables controllers for the container's cgroup `dir`, in the
/// `cgroup.subtree_control` of each level from the hierarchy's root down
/// to `dir`'s parent: below the root, every one the level offers
/// (`cgroup.controllers`) and does not enable yet, as runc does, so that
/// a later `update`, the statistics and the OOM watcher find every
/// controller whatever the configuration asked for at create. The root's
/// are the host's init's (systemd enables what its units use; a hybrid
/// host's cgroup2 root is not coracle's at all): there only `needed`
/// (what the resources use, with the field that needs each) is added.
/// One write per level that lacks any. `needed` must be offered
/// everywhere; where the kernel refuses the whole set (a level holding
/// processes refuses domain controllers), `needed` alone is enabled.
fn enable_controllers(
    mount_point: &Path,
    dir: &Path,
    needed: &[(String, String)],
) -> Result<(), CgroupError> {
    let mut levels: Vec<&Path> = dir
        .ancestors()
        .skip(1)
        .take_while(|level| level.starts_with(mount_point))
        .collect();
    levels.reverse();
    for level in levels {
        let available = read_control(&level.join("cgroup.controllers"))?;
        let available: Vec<&str> = available.split_whitespace().collect();
        if let Some((controller, field)) = needed
            .iter()
            .find(|(c, _)| !available.contains(&c.as_str()))
        {
            return Err(CgroupError::NotEnabled {
                controller: controller.clone(),
                path: level.to_owned(),
                needed_for: field.clone(),
            });
        }
        let subtree = level.join("cgroup.subtree_control");
        let enabled = read_control(&subtree)?;
        let is_needed = |c: &str| needed.iter().any(|(n, _)| n == c);
        let missing: Vec<&str> = available
            .into_iter()
            .filter(|c| level != mount_point || is_needed(c))
            .filter(|c| !enabled.split_whitespace().any(|e| e == *c))
            .collect();
        if missing.is_empty() {
            continue;
        }
        if write_control(&subtree, &enable_list(&missing)).is_err() {
            enable_each(&subtree, needed, &missing)?;
        }
    }
    Ok(())
}

/// Enables each of `needed` that is `missing` in the
/// `cgroup.subtree_control` file `subtree`, one write per controller, so
/// that a refusal names the field that needs the controller.
fn enable_each(
    subtree: &Path,
    needed: &[(String, String)],
    missing: &[&str],
) -> Result<(), CgroupError> {
    let still_needed = needed.iter().filter(|(c, _)| missing.contains(&c.as_str()));
    for (controller, field) in still_needed {
        let value = format!("+{controller}");
        write_control(subtree, &value).map_err(|source| CgroupError::Refused {
            field: field.clone(),
            path: subtree.to_owned(),
            value,
            source,
        })?;
    }
    Ok(())
}

/// What `cgroup.subtree_control` takes to enable `controllers`: `+a +b`.
fn enable_list(controllers: &[&str]) -> String {
    let plus: Vec<String> = controllers.iter().map(|c| format!("+{c}")).collect();
    plus.join(" ")
}

/// Removes an empty cgroup tree, deepest first.
fn remove_tree(dir: &Path) -> io::Result<()> {
    for child in child_cgroups(dir) {
        remove_tree(&child)?;
    }
    match fs::remove_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests;
