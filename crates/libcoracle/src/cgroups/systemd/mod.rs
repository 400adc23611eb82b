//! The systemd cgroup driver (`--systemd-cgroup`, cgroup v2 hosts): the
//! container's cgroup is a transient scope unit that systemd creates,
//! delegated to coracle (`Delegate=yes`), in the slice that `cgroupsPath`
//! (`slice:prefix:name`) names. coracle then writes the resources and the
//! device program into the scope's directory as the v2 driver does, and
//! does everything else (freeze, kill, stats…) through it.
//!
//! systemd wants a scope's first process when it starts the scope, so the
//! scope starts in [`SystemdCgroup::add_process`], after the clone, with the
//! container's init; the init waits for coracle before it runs anything.

mod dbus;
mod unit;

use super::control::read_control;
use super::oom::OomWatcher;
use super::resources::ResourcePlan;
use super::stats::Stats;
use super::v2::{reject_v1_only, V2Cgroup};
use super::CgroupError;
use dbus::{Bus, BusError, Call, Value};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;
pub(crate) use unit::ScopeName;

const SYSTEMD: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: &str = "/org/freedesktop/systemd1";
const MANAGER: &str = "org.freedesktop.systemd1.Manager";
/// How long a bus read may take (systemd answers in milliseconds; a
/// stalled systemd must not hang coracle).
const BUS_TIMEOUT: Duration = Duration::from_secs(60);

/// The plan of a systemd scope.
#[derive(Debug)]
pub(crate) struct SystemdPlan {
    scope: ScopeName,
    mount_point: PathBuf,
    resources: ResourcePlan,
}

impl SystemdPlan {
    /// Plans the scope `scope` in the cgroup2 hierarchy at `mount_point`.
    pub(crate) fn new(
        scope: ScopeName,
        mount_point: &str,
        resources: ResourcePlan,
    ) -> Result<SystemdPlan, CgroupError> {
        reject_v1_only(&resources)?;
        Ok(SystemdPlan {
            scope,
            mount_point: PathBuf::from(mount_point),
            resources,
        })
    }
}

/// What a container's state records of its scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SystemdRecord {
    /// The scope unit.
    unit: String,
    /// Its cgroup directory.
    path: PathBuf,
    /// The mount point of the hierarchy.
    mount_point: PathBuf,
}

/// A container's scope.
#[derive(Debug)]
pub(crate) struct SystemdCgroup {
    record: SystemdRecord,
    cgroup: V2Cgroup,
    /// What to apply once the scope exists; `None` for a scope found again
    /// from a record (it exists already).
    resources: Option<Box<ResourcePlan>>,
    slice: String,
    /// Set once the scope exists.
    started: OnceLock<()>,
}

impl SystemdCgroup {
    /// Prepares the scope; nothing exists before
    /// [`SystemdCgroup::add_process`].
    pub(crate) fn create(plan: &SystemdPlan) -> SystemdCgroup {
        let path = plan.mount_point.join(plan.scope.cgroup_path());
        SystemdCgroup {
            cgroup: V2Cgroup::adopt(&path, &plan.mount_point),
            record: SystemdRecord {
                unit: plan.scope.unit.clone(),
                path,
                mount_point: plan.mount_point.clone(),
            },
            resources: Some(Box::new(plan.resources.clone())),
            slice: plan.scope.slice.clone(),
            started: OnceLock::new(),
        }
    }

    pub(crate) fn from_record(record: &SystemdRecord) -> SystemdCgroup {
        SystemdCgroup {
            cgroup: V2Cgroup::adopt(&record.path, &record.mount_point),
            record: record.clone(),
            resources: None,
            slice: String::new(),
            started: OnceLock::from(()),
        }
    }

    pub(crate) fn record(&self) -> SystemdRecord {
        self.record.clone()
    }

    /// Starts the scope with `pid` as its first process, then applies the
    /// resources; later, moves `pid` into the scope.
    pub(crate) fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        if self.started.get().is_some() {
            return self.cgroup.add_process(pid);
        }
        let resources = self.resources.as_ref().expect("a new scope has its plan");
        self.start_scope(pid, resources)?;
        let _ = self.started.set(());
        self.cgroup.check_controllers(resources)?;
        self.cgroup.configure(resources, false)
    }

    /// `StartTransientUnit` and the wait for its job to finish.
    fn start_scope(&self, pid: i32, resources: &ResourcePlan) -> Result<(), CgroupError> {
        let unit = &self.record.unit;
        let error = |step: &str| {
            let step = format!("{step} {unit}");
            move |e: BusError| CgroupError::Systemd {
                step,
                reason: e.to_string(),
            }
        };
        let mut bus = Bus::connect(Path::new(dbus::SYSTEM_BUS), BUS_TIMEOUT)
            .map_err(error("connect to the system bus to start"))?;
        // The job's end is a broadcast signal: ask the bus for it first.
        bus.call(&Call {
            destination: "org.freedesktop.DBus",
            path: "/org/freedesktop/DBus",
            interface: "org.freedesktop.DBus",
            member: "AddMatch",
            args: vec![Value::Str(format!(
                "type='signal',sender='{SYSTEMD}',interface='{MANAGER}',member='JobRemoved'"
            ))],
        })
        .map_err(error("subscribe to job results to start"))?;
        let mut properties = vec![
            (
                "Description".to_owned(),
                Value::Str(format!("coracle container {unit}")),
            ),
            ("Slice".to_owned(), Value::Str(self.slice.clone())),
            ("Delegate".to_owned(), Value::Bool(true)),
            // Not ordered against shutdown targets: coracle stops it.
            ("DefaultDependencies".to_owned(), Value::Bool(false)),
            ("PIDs".to_owned(), Value::U32s(vec![pid as u32])),
        ];
        properties.extend(unit::resource_properties(
            resources,
            unit::Current::default(),
        ));
        properties.extend(
            cpuset_properties(&mut bus, resources)
                .map_err(error("read the version of systemd to start"))?,
        );
        let reply = bus
            .call(&manager_call(
                "StartTransientUnit",
                vec![
                    Value::Str(unit.clone()),
                    Value::Str("fail".into()),
                    Value::Properties(properties),
                    Value::AuxUnits,
                ],
            ))
            .map_err(error("start"))?;
        let job = match reply.args().map_err(error("start"))?.first() {
            Some(Value::ObjectPath(job)) => job.clone(),
            _ => {
                return Err(CgroupError::Systemd {
                    step: format!("start {unit}"),
                    reason: "the reply holds no job".into(),
                })
            }
        };
        let done = bus
            .wait_signal(|m| {
                m.is_signal(MANAGER, "JobRemoved")
                    && matches!(m.args().as_deref(), Ok([_, Value::ObjectPath(j), ..]) if *j == job)
            })
            .map_err(error("wait for the start of"))?;
        match done.args().map_err(error("start"))?.get(3) {
            Some(Value::Str(result)) if result == "done" => Ok(()),
            other => Err(CgroupError::Systemd {
                step: format!("start {unit}"),
                reason: format!("the job ended with {other:?}"),
            }),
        }
    }

    /// Always `None`: the scope starts with its first process, so the init
    /// cannot be cloned into it (nor, for simplicity, later processes).
    pub(crate) fn clone_target(&self) -> Option<std::os::fd::BorrowedFd<'_>> {
        None
    }

    pub(crate) fn update(&self, resources: &ResourcePlan) -> Result<(), CgroupError> {
        self.cgroup.update(resources)?;
        let (cpu, memory) = (&resources.cpu, &resources.memory);
        let current = unit::Current {
            cpu_period: match (cpu.quota, cpu.period) {
                (Some(_), None) => self.current_number("cpu.max", 1)?,
                _ => None,
            },
            memory_max: match (memory.swap, memory.limit) {
                (Some(_), None) => self.current_number("memory.max", 0)?,
                _ => None,
            },
        };
        let mut properties = unit::resource_properties(resources, current);
        if properties.is_empty() && !resources.uses_cpuset() {
            return Ok(());
        }
        // Tell systemd too: it rewrites these files from its own values
        // whenever it applies the unit's settings.
        let unit = &self.record.unit;
        let error = |step: &str| {
            let step = format!("{step} {unit}");
            move |e: BusError| CgroupError::Systemd {
                step,
                reason: e.to_string(),
            }
        };
        let mut bus = Bus::connect(Path::new(dbus::SYSTEM_BUS), BUS_TIMEOUT)
            .map_err(error("connect to the system bus to update"))?;
        properties.extend(
            cpuset_properties(&mut bus, resources)
                .map_err(error("read the version of systemd to update"))?,
        );
        // Nothing to tell: only cpuset lists, which this systemd is too old
        // to take.
        if properties.is_empty() {
            return Ok(());
        }
        bus.call(&manager_call(
            "SetUnitProperties",
            vec![
                Value::Str(unit.clone()),
                Value::Bool(true),
                Value::Properties(properties),
            ],
        ))
        .map_err(error("set the properties of"))?;
        // systemd applies the new settings after it has answered, before it
        // reads its next message: one more call waits for that, so that the
        // files hold the new values once `update` returns.
        bus.call(&Call {
            destination: SYSTEMD,
            path: MANAGER_PATH,
            interface: "org.freedesktop.DBus.Peer",
            member: "Ping",
            args: Vec::new(),
        })
        .map_err(error("wait for systemd to apply the properties of"))?;
        Ok(())
    }

    /// Field `index` of a control file of numbers (`cpu.max` is `max
    /// 100000`), when it reads as a number (`max` is `u64::MAX`).
    fn current_number(&self, file: &str, index: usize) -> Result<Option<u64>, CgroupError> {
        let text = read_control(&self.host_path().join(file))?;
        Ok(text
            .split_whitespace()
            .nth(index)
            .and_then(super::stats::parse_number))
    }

    pub(crate) fn stats(&self) -> Result<Stats, CgroupError> {
        self.cgroup.stats()
    }

    pub(crate) fn oom_events(&self) -> Result<OomWatcher, CgroupError> {
        self.cgroup.oom_events()
    }

    pub(crate) fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        self.cgroup.pids()
    }

    pub(crate) fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        self.cgroup.signal_all(signal)
    }

    pub(crate) fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        self.cgroup.set_frozen(frozen)
    }

    pub(crate) fn is_frozen(&self) -> Result<bool, CgroupError> {
        self.cgroup.is_frozen()
    }

    /// Waits for the processes to be gone and removes the scope's cgroup,
    /// then stops the unit (systemd usually has, once the scope emptied)
    /// and forgets a failed one, so that its name can be used again.
    pub(crate) fn remove(&self) -> Result<(), CgroupError> {
        self.cgroup.remove()?;
        if self.started.get().is_none() {
            return Ok(());
        }
        let unit = &self.record.unit;
        let error = |step: &str| {
            let step = format!("{step} {unit}");
            move |e: BusError| CgroupError::Systemd {
                step,
                reason: e.to_string(),
            }
        };
        let mut bus = Bus::connect(Path::new(dbus::SYSTEM_BUS), BUS_TIMEOUT)
            .map_err(error("connect to the system bus to stop"))?;
        for member in ["StopUnit", "ResetFailedUnit"] {
            let mut args = vec![Value::Str(unit.clone())];
            if member == "StopUnit" {
                args.push(Value::Str("replace".into()));
            }
            match bus.call(&manager_call(member, args)) {
                Ok(_) => {}
                // Gone already, or not failed: nothing to do.
                Err(BusError::Remote { name, .. })
                    if name.ends_with(".NoSuchUnit") || name.ends_with(".NotFailed") => {}
                Err(e) => return Err(error(member)(e)),
            }
        }
        Ok(())
    }

    /// The scope's directory on the host.
    pub(crate) fn host_path(&self) -> &Path {
        self.cgroup.host_path()
    }
}

/// The cpuset properties of `resources` for the systemd on `bus`, whose
/// version is asked only when there are lists to send (one more round
/// trip).
fn cpuset_properties(
    bus: &mut Bus,
    resources: &ResourcePlan,
) -> Result<Vec<(String, Value)>, BusError> {
    if !resources.uses_cpuset() {
        return Ok(Vec::new());
    }
    let reply = bus.call(&Call {
        destination: SYSTEMD,
        path: MANAGER_PATH,
        interface: "org.freedesktop.DBus.Properties",
        member: "Get",
        args: vec![Value::Str(MANAGER.into()), Value::Str("Version".into())],
    })?;
    match reply.args()?.as_slice() {
        [Value::Str(version)] => Ok(unit::cpuset_properties(
            resources,
            unit::major_version(version),
        )),
        other => Err(BusError::Protocol(format!(
            "the manager's Version is {other:?}, not a string"
        ))),
    }
}

/// A call to systemd's manager.
fn manager_call(member: &str, args: Vec<Value>) -> Call<'_> {
    Call {
        destination: SYSTEMD,
        path: MANAGER_PATH,
        interface: MANAGER,
        member,
        args,
    }
}

#[cfg(test)]
mod tests;
