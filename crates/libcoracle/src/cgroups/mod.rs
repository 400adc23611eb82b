//! Control groups (config-linux.md, "Control groups"): the container's
//! cgroup, its resource limits and device access, and what later commands
//! do through it (list, signal, freeze, update, stats, OOM events, remove).
//!
//! One interface, [`Cgroup`], over the drivers: cgroup v1 cgroupfs (`v1`,
//! one directory per joined hierarchy) and cgroup v2 cgroupfs (`v2`, one
//! directory of the unified hierarchy, chosen when no v1 hierarchy holds a
//! controller; a hybrid host stays on v1), and systemd (`systemd`, a
//! delegated transient scope on a cgroup v2 host, started over D-Bus), as
//! variants of the private `Driver`, `PlanDriver` and `RecordDriver` enums.
//! Shared by all: the validated resources (`resources`), the device
//! rules (`devices`, compiled for v2 by `bpf`), the `cgroupsPath` rules
//! (`path`) and the statistics' shape (`stats`).
//!
//! Costs matter (a run should spend about a millisecond here): the plan is
//! computed before the clone, only the v1 hierarchies the config needs are
//! joined (an update joins more if it must), and control files are
//! written without being read first (except where a value depends on the
//! current one).

mod bpf;
mod control;
mod devices;
mod dirs;
mod mountinfo;
mod oom;
mod path;
mod resources;
mod stats;
mod systemd;
#[cfg(test)]
mod test_support;
mod v1;
mod v2;

pub use oom::{OomEvents, OomWatcher};
pub use stats::{
    BlkioEntry, BlkioStats, CpuStats, CpuUsage, CpusetStats, HugetlbStats, MemoryEntry,
    MemoryStats, PidsStats, Stats, Throttling,
};

use crate::spec::{self, Spec};
use control::read_control;
use serde::{Deserialize, Serialize};
use std::io;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};

/// What this build implements of cgroups: the `linux.cgroup` object of
/// `features` (features-linux.md: the runtime's implementation, whatever
/// the host runs), serialized as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Support {
    /// cgroup v1 cgroupfs: the `v1` driver.
    pub v1: bool,
    /// cgroup v2 cgroupfs: the `v2` driver.
    pub v2: bool,
    /// systemd's system manager: the `systemd` driver (`--systemd-cgroup`,
    /// `--cgroup-manager systemd`).
    pub systemd: bool,
    /// systemd's user manager: the `systemd` driver only talks to the
    /// system bus.
    pub systemd_user: bool,
    /// `linux.resources.rdma`: written to `rdma.max` by the `v1` and `v2`
    /// drivers (and so under `systemd`, whose scope `v2` fills).
    pub rdma: bool,
}

/// See [`Support`]; one field per variant of the drivers below.
pub const SUPPORT: Support = Support {
    v1: true,
    v2: true,
    systemd: true,
    systemd_user: false,
    rdma: true,
};

/// Why a cgroup operation failed; one line naming the step, the path or
/// field, the value and the OS error.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A feature coracle does not implement yet.
    #[error("{0}")]
    Unsupported(&'static str),
    /// A value of the configuration coracle refuses.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field, such as `linux.resources.memory.swappiness`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A kernel file that does not read as expected.
    #[error("parse {}: {reason}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A controller the container needs is not mounted as a v1 hierarchy.
    #[error("the {controller} cgroup controller is not mounted as a cgroup v1 hierarchy (needed for {needed_for})")]
    NoController {
        /// The controller, such as `pids`.
        controller: &'static str,
        /// What needs it.
        needed_for: &'static str,
    },
    /// The container's cgroup lacks a controller, which it was created
    /// without.
    #[error("the container's cgroup has no {controller} controller (it was created without one), which {needed_for} needs")]
    NotJoined {
        /// The controller, such as `memory`.
        controller: &'static str,
        /// What needs it.
        needed_for: &'static str,
    },
    /// Watching a file for events failed.
    #[error("watch {} for events: {source}", path.display())]
    Watch {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Reading a file failed.
    #[error("read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Writing a control file failed.
    #[error("write {value} to {}: {source}", path.display())]
    Write {
        /// The control file.
        path: PathBuf,
        /// The value written.
        value: String,
        /// The OS error.
        source: io::Error,
    },
    /// The kernel refused a value of the configuration (`EINVAL` for a
    /// setting it no longer allows, `EOPNOTSUPP` for a feature the device's
    /// I/O scheduler lacks…).
    #[error("{field}: write {value} to {}: {source}", path.display())]
    Refused {
        /// The field of the configuration, such as
        /// `linux.resources.memory.useHierarchy`.
        field: String,
        /// The control file.
        path: PathBuf,
        /// The value written.
        value: String,
        /// The OS error.
        source: io::Error,
    },
    /// The kernel lacks the control file a configured field needs.
    #[error("{field}: the kernel has no {} (controller feature not available)", path.display())]
    MissingFile {
        /// The field of the configuration.
        field: &'static str,
        /// The control file that does not exist.
        path: PathBuf,
    },
    /// The kernel accepts a control file's value and ignores it.
    #[error("{field}: the kernel ignores {} (this kernel no longer enforces the limit)", path.display())]
    Ignored {
        /// The field of the configuration.
        field: &'static str,
        /// The control file.
        path: PathBuf,
    },
    /// Creating a cgroup directory failed.
    #[error("create cgroup {}: {source}", path.display())]
    Create {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A controller the container needs is not available in the cgroup v2
    /// hierarchy, or not enabled for the container's cgroup.
    #[error("the {controller} cgroup controller is not available in {} (needed for {needed_for})", path.display())]
    NotEnabled {
        /// The controller, such as `memory`.
        controller: String,
        /// The cgroup whose `cgroup.controllers` lacks it.
        path: PathBuf,
        /// What needs it.
        needed_for: String,
    },
    /// A `bpf(2)` step of the cgroup v2 device program failed.
    #[error("{step} for {}: {source}", path.display())]
    Bpf {
        /// The step, such as `attach the device program`.
        step: &'static str,
        /// The container's cgroup.
        path: PathBuf,
        /// The OS error (with the verifier's log for a refused program).
        source: io::Error,
    },
    /// A step with systemd (over D-Bus) failed.
    #[error("systemd: {step}: {reason}")]
    Systemd {
        /// The step, such as `start coracle-x.scope`.
        step: String,
        /// systemd's error, or the bus's.
        reason: String,
    },
    /// Removing a cgroup directory failed.
    #[error("remove cgroup {}: {source}", path.display())]
    Remove {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The container's cgroup already exists and holds processes.
    #[error("cgroup {} is not empty (it holds pid {pid}): another container or service uses it", path.display())]
    NotEmpty {
        /// The directory.
        path: PathBuf,
        /// A process in it.
        pid: i32,
    },
    /// Sending a signal to a process of the cgroup failed.
    #[error("send signal {signal} to pid {pid}: {source}")]
    Signal {
        /// The signal.
        signal: i32,
        /// The process.
        pid: i32,
        /// The OS error.
        source: io::Error,
    },
    /// The freezer did not reach the state asked for.
    #[error("{}: the freezer is still {state}, not {want}", path.display())]
    Freezer {
        /// The `freezer.state` file.
        path: PathBuf,
        /// The state it shows.
        state: String,
        /// The state asked for.
        want: &'static str,
    },
}

/// Validated, pre-computed plan of the container's cgroup, made in the
/// parent before the clone. It reads only mountinfo and the caller's own
/// cgroups; nothing is created yet.
#[derive(Debug)]
pub struct CgroupPlan {
    driver: PlanDriver,
}

/// The plan of each driver.
#[derive(Debug)]
enum PlanDriver {
    V1(v1::V1Plan),
    V2(v2::V2Plan),
    Systemd(systemd::SystemdPlan),
}

impl CgroupPlan {
    /// Plans the cgroup of container `id` from `linux.cgroupsPath` and
    /// `linux.resources`.
    ///
    /// `cgroupsPath` absent means `/coracle/<id>`; an absolute path starts at
    /// each hierarchy's root, a relative one at the caller's own cgroup in
    /// each hierarchy; `..`, `.` and empty components are refused. `systemd`
    /// is the `--systemd-cgroup` flag (cgroup v2 hosts only): `cgroupsPath` is
    /// then `slice:prefix:name`, absent meaning `system.slice:coracle:<id>`,
    /// and the cgroup is the scope unit `prefix-name.scope`. Resource errors
    /// name the field, such as `linux.resources.memory.swappiness`.
    pub fn from_spec(spec: &Spec, id: &str, systemd: bool) -> Result<CgroupPlan, CgroupError> {
        let linux = spec.linux.as_ref();
        let cgroups_path = linux.and_then(|l| l.cgroups_path.as_deref());
        let resources = match linux.and_then(|l| l.resources.as_ref()) {
            Some(resources) => resources::ResourcePlan::from_spec(resources)?,
            None => resources::ResourcePlan::without_resources(),
        };
        let driver = match (mountinfo::discover()?, systemd) {
            (mountinfo::Layout::V1(_), true) => {
                return Err(CgroupError::Unsupported(
                    "the systemd cgroup driver needs cgroup v2 (this host's controllers are cgroup v1 hierarchies)",
                ))
            }
            (mountinfo::Layout::V1(hierarchies), false) => {
                let path = path::CgroupsPath::parse(cgroups_path, id)?;
                PlanDriver::V1(v1::V1Plan::new(hierarchies, path, resources)?)
            }
            (mountinfo::Layout::Unified(unified), false) => {
                let path = path::CgroupsPath::parse(cgroups_path, id)?;
                PlanDriver::V2(v2::V2Plan::new(&unified, &path, resources)?)
            }
            (mountinfo::Layout::Unified(unified), true) => {
                let scope = systemd::ScopeName::parse(cgroups_path, id)?;
                PlanDriver::Systemd(systemd::SystemdPlan::new(
                    scope,
                    &unified.mount_point,
                    resources,
                )?)
            }
        };
        Ok(CgroupPlan { driver })
    }
}

/// The container's cgroup(s), whatever the driver.
#[derive(Debug)]
pub struct Cgroup {
    driver: Driver,
}

/// The cgroup of each driver.
#[derive(Debug)]
enum Driver {
    V1(v1::V1Cgroup),
    V2(v2::V2Cgroup),
    Systemd(systemd::SystemdCgroup),
}

impl Cgroup {
    /// Creates the cgroup directories in each hierarchy the container joins
    /// and applies the resources (parent side, before the clone). The
    /// hierarchies joined are those of the controllers the resources use,
    /// plus `pids` and `freezer` for ps, kill --all and pause, and `devices`,
    /// which every container needs: it starts from "no device", then gets
    /// the configured rules in order and the default devices of
    /// config-linux.md. On failure, whatever was created is removed again.
    pub fn create(plan: &CgroupPlan) -> Result<Cgroup, CgroupError> {
        let driver = match &plan.driver {
            PlanDriver::V1(plan) => Driver::V1(v1::V1Cgroup::create(plan)?),
            PlanDriver::V2(plan) => Driver::V2(v2::V2Cgroup::create(plan)?),
            PlanDriver::Systemd(plan) => Driver::Systemd(systemd::SystemdCgroup::create(plan)),
        };
        Ok(Cgroup { driver })
    }

    /// Applies the fields present in `resources` to the live cgroup
    /// (`update`); absent fields keep their values. Values are checked on
    /// their own (a swap limit alone is fine: the cgroup has a memory limit);
    /// an empty device list leaves the device rules alone, and a device list
    /// that would change nothing writes nothing (rewriting starts with "deny
    /// everything", a moment a running container could notice). Fails,
    /// before writing anything, when a field needs a controller the cgroup
    /// was created without and cannot join. On cgroup v1 a controller
    /// whose hierarchy the container did not join at create is joined now
    /// (every process of the container moves in): the record changes then,
    /// even when the update fails later, and the caller must save it.
    pub fn update(&mut self, resources: &spec::Resources) -> Result<(), CgroupError> {
        let plan = resources::ResourcePlan::for_update(resources)?;
        match &mut self.driver {
            Driver::V1(cgroup) => cgroup.update(&plan),
            Driver::V2(cgroup) => cgroup.update(&plan),
            Driver::Systemd(cgroup) => cgroup.update(&plan),
        }
    }

    /// The cgroup's resource usage, in the shape of `runc events --stats`.
    /// Counters of controllers the cgroup did not join read 0.
    pub fn stats(&self) -> Result<Stats, CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.stats(),
            Driver::V2(cgroup) => cgroup.stats(),
            Driver::Systemd(cgroup) => cgroup.stats(),
        }
    }

    /// A watcher of the cgroup's out-of-memory events. On cgroup v1 the
    /// cgroup must have joined the memory controller (it does when the
    /// configuration sets a memory limit).
    pub fn oom_events(&self) -> Result<OomWatcher, CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.oom_events(),
            Driver::V2(cgroup) => cgroup.oom_events(),
            Driver::Systemd(cgroup) => cgroup.oom_events(),
        }
    }

    /// Moves process `pid` (and its threads) into the container's cgroup in
    /// every joined hierarchy. Done by the parent after the clone. With the
    /// systemd driver, the first call starts the scope with `pid` in it and
    /// then applies the resources and device rules (systemd wants a scope's
    /// first process at its start).
    pub fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.add_process(pid),
            Driver::V2(cgroup) => cgroup.add_process(pid),
            Driver::Systemd(cgroup) => cgroup.add_process(pid),
        }
    }

    /// The cgroup directory to clone into with `CLONE_INTO_CGROUP`, on a
    /// driver that allows it (cgroup v2); `None` on cgroup v1 and with
    /// systemd, where the process must be moved with [`Cgroup::add_process`].
    pub fn clone_target(&self) -> Option<BorrowedFd<'_>> {
        match &self.driver {
            Driver::V1(_) => None,
            Driver::V2(cgroup) => cgroup.clone_target(),
            Driver::Systemd(cgroup) => cgroup.clone_target(),
        }
    }

    /// What to keep in the container's state so later commands find the
    /// cgroup again with [`Cgroup::from_record`].
    pub fn record(&self) -> CgroupRecord {
        match &self.driver {
            Driver::V1(cgroup) => CgroupRecord(RecordDriver::V1(cgroup.clone())),
            Driver::V2(cgroup) => CgroupRecord(RecordDriver::V2(cgroup.record())),
            Driver::Systemd(cgroup) => CgroupRecord(RecordDriver::Systemd(cgroup.record())),
        }
    }

    /// The cgroup of a container, from its state's record.
    pub fn from_record(record: &CgroupRecord) -> Cgroup {
        let driver = match &record.0 {
            RecordDriver::V1(cgroup) => Driver::V1(cgroup.clone()),
            RecordDriver::V2(record) => Driver::V2(v2::V2Cgroup::from_record(record)),
            RecordDriver::Systemd(record) => {
                Driver::Systemd(systemd::SystemdCgroup::from_record(record))
            }
        };
        Cgroup { driver }
    }

    /// The pids of every process in the container's cgroup and in the
    /// cgroups below it; none when the cgroup is gone.
    pub fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.pids(),
            Driver::V2(cgroup) => cgroup.pids(),
            Driver::Systemd(cgroup) => cgroup.pids(),
        }
    }

    /// Sends `signal` to every process in the cgroup (`kill --all`). For
    /// `SIGKILL` the cgroup is frozen meanwhile, so that nothing forks out of
    /// reach, and thawed afterwards so the processes can die.
    pub fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.signal_all(signal),
            Driver::V2(cgroup) => cgroup.signal_all(signal),
            Driver::Systemd(cgroup) => cgroup.signal_all(signal),
        }
    }

    /// Freezes (`true`) or thaws (`false`) every process of the cgroup, and
    /// returns once the freezer reports the new state.
    pub fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.set_frozen(frozen),
            Driver::V2(cgroup) => cgroup.set_frozen(frozen),
            Driver::Systemd(cgroup) => cgroup.set_frozen(frozen),
        }
    }

    /// Whether the cgroup is frozen.
    pub fn is_frozen(&self) -> Result<bool, CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.is_frozen(),
            Driver::V2(cgroup) => cgroup.is_frozen(),
            Driver::Systemd(cgroup) => cgroup.is_frozen(),
        }
    }

    /// Removes the cgroup directories, deepest first, with the parent
    /// directories [`Cgroup::create`] made once they are empty. The caller has
    /// killed and reaped the processes; tasks still exiting make the kernel
    /// refuse with `EBUSY` for a moment, so that is retried for up to about a
    /// second.
    pub fn remove(&self) -> Result<(), CgroupError> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.remove(),
            Driver::V2(cgroup) => cgroup.remove(),
            Driver::Systemd(cgroup) => cgroup.remove(),
        }
    }

    /// What the container's cgroup mount shows: one entry per joined v1
    /// hierarchy; none on cgroup v2, where the mount is one `cgroup2`
    /// filesystem (see [`Cgroup::unified_path`]).
    pub fn views(&self) -> Vec<CgroupViewInfo> {
        match &self.driver {
            Driver::V1(cgroup) => cgroup.views(),
            Driver::V2(_) | Driver::Systemd(_) => Vec::new(),
        }
    }

    /// On cgroup v2, the container's cgroup directory on the host; `None`
    /// on cgroup v1.
    ///
    /// For the container's `/sys/fs/cgroup`: in a new cgroup namespace
    /// (entered after the init is in its cgroup), a fresh `cgroup2` mount
    /// shows this directory as its root; without a cgroup namespace a fresh
    /// mount would show the host's whole hierarchy, so this directory is
    /// bind-mounted instead.
    pub fn unified_path(&self) -> Option<&Path> {
        match &self.driver {
            Driver::V1(_) => None,
            Driver::V2(cgroup) => Some(cgroup.host_path()),
            Driver::Systemd(cgroup) => Some(cgroup.host_path()),
        }
    }
}

/// What a container's state keeps of its cgroup (opaque JSON tagged with
/// the driver, such as `{"driver":"v1","hierarchies":[…]}` or
/// `{"driver":"v2","path":…,"mount_point":…,"created":1}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CgroupRecord(RecordDriver);

/// The record of each driver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "driver")]
enum RecordDriver {
    #[serde(rename = "v1")]
    V1(v1::V1Cgroup),
    #[serde(rename = "v2")]
    V2(v2::V2Record),
    #[serde(rename = "systemd")]
    Systemd(systemd::SystemdRecord),
}

/// One cgroup v1 hierarchy as the container's `/sys/fs/cgroup` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupViewInfo {
    /// The directory name under `/sys/fs/cgroup`, such as `cpu,cpuacct` or
    /// `systemd`.
    pub dir_name: String,
    /// The cgroup filesystem's mount options that select the hierarchy,
    /// such as `cpu,cpuacct` or `none,name=systemd`.
    pub fs_options: String,
    /// The container's cgroup directory on the host.
    pub host_path: PathBuf,
}
