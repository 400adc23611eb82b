//! The cgroup v1 driver (cgroupfs): the container's cgroup is one directory
//! per joined hierarchy, at the same path below each mount point.
//!
//! Only the hierarchies the container needs are joined at create: every
//! join costs a `cgroup.procs` write (and an RCU grace period in the
//! kernel). An update that needs another joins it then, moving the
//! container's processes (`V1Cgroup::update`).

mod apply;
mod devices;
mod stats;

use super::control::{read_control, write, write_control};
use super::dirs::{
    ensure_no_process, make_dirs, processes_below, removable_levels, remove_busy_dir, remove_made,
    remove_made_parents,
};
use super::mountinfo::Hierarchy;
use super::oom::OomWatcher;
use super::path::CgroupsPath;
use super::resources::{CpuPlan, ResourcePlan};
use super::stats::Stats;
use super::{CgroupError, CgroupViewInfo};
use crate::sys;
use apply::apply;
use serde::{Deserialize, Serialize};
use stats::add_stats;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The plan for cgroup v1: which hierarchies, where, and what to write.
#[derive(Debug)]
pub(crate) struct V1Plan {
    hierarchies: Vec<Planned>,
    /// Every mounted hierarchy, and the container's path: create records
    /// from them where its directory would be in the others.
    mounted: Vec<Hierarchy>,
    path: CgroupsPath,
    resources: ResourcePlan,
}

/// One hierarchy of the container, where its directory is (to be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Planned {
    controllers: Vec<String>,
    mount_point: PathBuf,
    /// The container's cgroup directory in it.
    dir: PathBuf,
    /// Levels of `dir` that are coracle's whoever made them
    /// ([`CgroupsPath::owned_levels`]).
    #[serde(default)]
    owned_levels: usize,
}

impl Planned {
    fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

impl V1Plan {
    /// Chooses the hierarchies and the container's directory in each: those
    /// of `pids`, `freezer` and `devices` (ps, kill --all, pause, device
    /// control), of the accounting engines read for their `stats` (memory,
    /// cpu, cpuacct, blkio) where mounted, and of the controllers the
    /// resources use. Every other hierarchy costs a directory and a join.
    pub(crate) fn new(
        hierarchies: Vec<Hierarchy>,
        path: CgroupsPath,
        resources: ResourcePlan,
    ) -> Result<V1Plan, CgroupError> {
        let mut needed = vec![
            ("pids", "ps and kill --all"),
            ("freezer", "pause and kill --all"),
            ("devices", "device access control"),
        ];
        needed.extend(controllers_used(&resources)?);
        let mut planned: Vec<Planned> = Vec::with_capacity(needed.len() + ACCOUNTING.len());
        for (controller, needed_for) in needed {
            let hierarchy = hierarchies.iter().find(|h| h.has(controller)).ok_or(
                CgroupError::NoController {
                    controller,
                    needed_for,
                },
            )?;
            plan_hierarchy(&mut planned, hierarchy, &path)?;
        }
        for controller in ACCOUNTING {
            if let Some(hierarchy) = hierarchies.iter().find(|h| h.has(controller)) {
                plan_hierarchy(&mut planned, hierarchy, &path)?;
            }
        }
        Ok(V1Plan {
            hierarchies: planned,
            mounted: hierarchies,
            path,
            resources,
        })
    }
}

/// Where the container's directory would be in each hierarchy with a
/// controller that `planned` leaves out (just paths: nothing is read), for
/// an `update` that needs one to join it.
/// One where a relative path has no starting point is left out too: an
/// update that needs it says the controller is not mounted.
fn plan_others(hierarchies: &[Hierarchy], planned: &[Planned], path: &CgroupsPath) -> Vec<Planned> {
    let mut others = Vec::new();
    for hierarchy in hierarchies {
        let named_only = hierarchy.controllers.iter().all(|c| c.starts_with("name="));
        if named_only
            || planned
                .iter()
                .any(|p| p.mount_point == Path::new(&hierarchy.mount_point))
        {
            continue;
        }
        let _ = plan_hierarchy(&mut others, hierarchy, path);
    }
    others
}

/// Controllers joined whenever mounted, for the engines' statistics.
const ACCOUNTING: [&str; 4] = ["memory", "cpu", "cpuacct", "blkio"];

/// Adds a hierarchy to the plan once (co-mounted controllers share one).
fn plan_hierarchy(
    planned: &mut Vec<Planned>,
    hierarchy: &Hierarchy,
    path: &CgroupsPath,
) -> Result<(), CgroupError> {
    let mount_point = PathBuf::from(&hierarchy.mount_point);
    if planned.iter().any(|p| p.mount_point == mount_point) {
        return Ok(());
    }
    let below = path.below_mount(hierarchy.own.as_deref(), &hierarchy.mount_point)?;
    planned.push(Planned {
        controllers: hierarchy.controllers.clone(),
        dir: mount_point.join(below),
        mount_point,
        owned_levels: path.owned_levels(),
    });
    Ok(())
}

/// The controllers that `resources` use, and the field that needs each.
fn controllers_used(
    resources: &ResourcePlan,
) -> Result<Vec<(&'static str, &'static str)>, CgroupError> {
    if !resources.unified.is_empty() {
        return Err(CgroupError::Invalid {
            field: "linux.resources.unified".into(),
            reason: "requires cgroup v2 (this host's controllers are cgroup v1 hierarchies)".into(),
        });
    }
    let uses = [
        (resources.uses_memory(), "memory", "linux.resources.memory"),
        (resources.uses_cpu(), "cpu", "linux.resources.cpu"),
        (
            resources.uses_cpuset(),
            "cpuset",
            "linux.resources.cpu.cpus and mems",
        ),
        (
            resources.devices.is_some(),
            "devices",
            "linux.resources.devices",
        ),
        (
            !resources.block_io.is_empty(),
            "blkio",
            "linux.resources.blockIO",
        ),
        (
            !resources.hugepages.is_empty(),
            "hugetlb",
            "linux.resources.hugepageLimits",
        ),
        (
            resources.network.class_id.is_some(),
            "net_cls",
            "linux.resources.network.classID",
        ),
        (
            !resources.network.priorities.is_empty(),
            "net_prio",
            "linux.resources.network.priorities",
        ),
        (!resources.rdma.is_empty(), "rdma", "linux.resources.rdma"),
    ];
    Ok(uses
        .into_iter()
        .filter(|(used, _, _)| *used)
        .map(|(_, controller, field)| (controller, field))
        .collect())
}

/// The container's cgroup on v1; also what its state records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct V1Cgroup {
    hierarchies: Vec<Joined>,
    /// Where it would be in the hierarchies it has not joined (yet).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    unjoined: Vec<Planned>,
}

/// The container's directory in one hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Joined {
    /// As `/proc/self/cgroup` names them (`cpu`, `cpuacct`, `name=systemd`…).
    controllers: Vec<String>,
    /// The container's cgroup directory.
    path: PathBuf,
    /// How many directories, from `path` upwards, creating it made; the
    /// parents among them are removed with it once empty.
    created: usize,
}

impl Joined {
    fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

impl V1Cgroup {
    /// Creates the directories and applies the resources; undoes what it
    /// created when something fails.
    pub(crate) fn create(plan: &V1Plan) -> Result<V1Cgroup, CgroupError> {
        let mut cgroup = V1Cgroup {
            hierarchies: Vec::with_capacity(plan.hierarchies.len()),
            unjoined: plan_others(&plan.mounted, &plan.hierarchies, &plan.path),
        };
        match cgroup.create_all(plan) {
            Ok(()) => Ok(cgroup),
            Err(err) => {
                cgroup.undo();
                Err(err)
            }
        }
    }

    fn create_all(&mut self, plan: &V1Plan) -> Result<(), CgroupError> {
        for planned in &plan.hierarchies {
            let created = make_dirs(&planned.dir, &planned.mount_point)?;
            self.hierarchies.push(Joined {
                controllers: planned.controllers.clone(),
                path: planned.dir.clone(),
                created: removable_levels(created, planned.owned_levels),
            });
            if created == 0 {
                ensure_no_process(&planned.dir)?;
            } else if planned.controllers.iter().any(|c| c == "cpuset") {
                init_cpusets(
                    &planned.dir,
                    created,
                    &planned.mount_point,
                    &plan.resources.cpu,
                )?;
            }
        }
        for joined in &self.hierarchies {
            // A directory that was there may hold values of its own.
            let live = joined.created == 0;
            apply(&joined.path, &joined.controllers, &plan.resources, live)?;
        }
        Ok(())
    }

    /// Removes what `create` made, after a failure (no process joined yet).
    fn undo(&self) {
        for joined in self.hierarchies.iter().rev() {
            remove_made(&joined.path, joined.created);
        }
    }

    /// Applies `resources` to the live cgroup. A controller whose hierarchy
    /// the container did not join at create (engines set a cpuset later,
    /// as the kubelet's CPU manager does) is joined now: the directory is
    /// made and gets its values, then every process of the container moves
    /// in, and the hierarchy joins the record (so that stats, later
    /// updates and delete include it; the caller saves the record, even
    /// when a later step fails).
    pub(crate) fn update(&mut self, resources: &ResourcePlan) -> Result<(), CgroupError> {
        // Refuse before writing anything: a half-applied update is worse.
        let mut to_join = Vec::new();
        for (controller, needed_for) in controllers_used(resources)? {
            if self.hierarchies.iter().any(|j| j.has(controller)) {
                continue;
            }
            match self.unjoined.iter().position(|u| u.has(controller)) {
                Some(i) if !to_join.iter().any(|&(j, _)| j == i) => to_join.push((i, needed_for)),
                Some(_) => {} // co-mounted with one already to join
                None => {
                    return Err(CgroupError::NoController {
                        controller,
                        needed_for,
                    })
                }
            }
        }
        let joined_before = self.hierarchies.len();
        to_join.sort_unstable();
        // From the last: joining one takes it out of `unjoined`.
        for (i, needed_for) in to_join.into_iter().rev() {
            self.join_live(i, resources, needed_for)?;
        }
        for joined in &self.hierarchies[..joined_before] {
            apply(&joined.path, &joined.controllers, resources, true)?;
        }
        Ok(())
    }

    /// Joins the hierarchy `unjoined[i]` of a live container: makes its
    /// directory (with cpusets initialised from the parent, as at create),
    /// writes the values, records it as joined, and moves the container's
    /// processes in. Until it is recorded, a failure removes what was made
    /// and leaves the record as it was. `needed_for` is the field that
    /// needs the hierarchy, which a refused move names.
    fn join_live(
        &mut self,
        i: usize,
        resources: &ResourcePlan,
        needed_for: &'static str,
    ) -> Result<(), CgroupError> {
        let planned = &self.unjoined[i];
        let created = make_dirs(&planned.dir, &planned.mount_point)?;
        let prepared = match created {
            0 => ensure_no_process(&planned.dir),
            _ if planned.has("cpuset") => {
                init_cpusets(&planned.dir, created, &planned.mount_point, &resources.cpu)
            }
            _ => Ok(()),
        }
        .and_then(|()| apply(&planned.dir, &planned.controllers, resources, created == 0));
        if let Err(err) = prepared {
            remove_made(&planned.dir, created);
            return Err(err);
        }
        let planned = self.unjoined.remove(i);
        let procs = planned.dir.join("cgroup.procs");
        self.hierarchies.push(Joined {
            controllers: planned.controllers,
            path: planned.dir,
            created: removable_levels(created, planned.owned_levels),
        });
        self.move_processes(&procs, needed_for)
    }

    /// Moves every process of the container into the `cgroup.procs` file
    /// `procs`, listing them from a hierarchy it joined: again and again
    /// until a pass finds none it has not moved, so that a child forked
    /// by a process not moved yet is not left behind. A refused move names
    /// `field`, the one that needs the hierarchy.
    fn move_processes(&self, procs: &Path, field: &str) -> Result<(), CgroupError> {
        let mut moved = Vec::new();
        loop {
            let fresh: Vec<i32> = self
                .pids()?
                .into_iter()
                .filter(|pid| !moved.contains(pid))
                .collect();
            if fresh.is_empty() {
                return Ok(());
            }
            for pid in fresh {
                let value = pid.to_string();
                match write_control(procs, &value) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {} // exited
                    Err(source) => {
                        return Err(CgroupError::Refused {
                            field: field.to_owned(),
                            path: procs.to_owned(),
                            value,
                            source,
                        })
                    }
                }
                moved.push(pid);
            }
        }
    }

    pub(crate) fn stats(&self) -> Result<Stats, CgroupError> {
        let mut stats = Stats::default();
        for joined in &self.hierarchies {
            for controller in &joined.controllers {
                add_stats(controller, &joined.path, &mut stats)?;
            }
        }
        Ok(stats)
    }

    pub(crate) fn oom_events(&self) -> Result<OomWatcher, CgroupError> {
        OomWatcher::v1(&self.find("memory", "out-of-memory events")?.path)
    }

    pub(crate) fn add_process(&self, pid: i32) -> Result<(), CgroupError> {
        let pid = pid.to_string();
        for joined in &self.hierarchies {
            write(&joined.path.join("cgroup.procs"), &pid)?;
        }
        Ok(())
    }

    /// The processes of the container's cgroup and of the cgroups it made
    /// below it, listed in the pids hierarchy (or the freezer's).
    pub(crate) fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        let joined = self
            .find("pids", "the list of processes")
            .or_else(|_| self.find("freezer", "the list of processes"))?;
        processes_below(&joined.path)
    }

    pub(crate) fn signal_all(&self, signal: i32) -> Result<(), CgroupError> {
        if signal != libc::SIGKILL {
            return self.signal_each(signal);
        }
        // Frozen, no process can fork a child that the list misses. If the
        // freezer fails, the processes still get their SIGKILL.
        let frozen = self.set_frozen(true);
        let killed = self.signal_each(signal);
        let thawed = self.set_frozen(false);
        frozen.and(killed).and(thawed)
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
                _ => {} // sent, or already gone
            }
        }
        Ok(())
    }

    pub(crate) fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        let state = self.find("freezer", "pause")?.path.join("freezer.state");
        let want = if frozen { "FROZEN" } else { "THAWED" };
        // Freezing is asynchronous: the state reads FREEZING until every task
        // has stopped. Writing again nudges tasks that were busy; the wait is
        // bounded (about a second) for tasks stuck in the kernel.
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut pause = Duration::ZERO;
        loop {
            write(&state, want)?;
            let now = read_control(&state)?;
            if now.trim_end() == want {
                return Ok(());
            }
            if Instant::now() >= deadline {
                if frozen {
                    // Leave the processes running rather than half frozen.
                    let _ = write_control(&state, "THAWED");
                }
                return Err(CgroupError::Freezer {
                    path: state,
                    state: now.trim_end().to_owned(),
                    want,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).clamp(Duration::from_micros(100), Duration::from_millis(10));
        }
    }

    pub(crate) fn is_frozen(&self) -> Result<bool, CgroupError> {
        let state = read_control(&self.find("freezer", "pause")?.path.join("freezer.state"))?;
        Ok(state.trim_end() == "FROZEN")
    }

    pub(crate) fn remove(&self) -> Result<(), CgroupError> {
        // One deadline for all hierarchies: the tasks that keep one busy are
        // the same ones everywhere.
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut first_error = None;
        for joined in self.hierarchies.iter().rev() {
            match remove_busy_dir(&joined.path, deadline) {
                Ok(()) => remove_made_parents(&joined.path, joined.created),
                Err(source) => {
                    first_error.get_or_insert(CgroupError::Remove {
                        path: joined.path.clone(),
                        source,
                    });
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    pub(crate) fn views(&self) -> Vec<CgroupViewInfo> {
        self.hierarchies
            .iter()
            .map(|joined| view_of(&joined.controllers, &joined.path))
            .collect()
    }

    /// The joined hierarchy holding `controller`.
    fn find(
        &self,
        controller: &'static str,
        needed_for: &'static str,
    ) -> Result<&Joined, CgroupError> {
        self.hierarchies
            .iter()
            .find(|j| j.has(controller))
            .ok_or(CgroupError::NotJoined {
                controller,
                needed_for,
            })
    }
}

/// How the container's cgroup mount names a hierarchy: `cpu,cpuacct` with
/// options `cpu,cpuacct`; a named one `systemd` with `none,name=systemd`.
fn view_of(controllers: &[String], path: &Path) -> CgroupViewInfo {
    let (names, plain): (Vec<&str>, Vec<&str>) = controllers
        .iter()
        .map(String::as_str)
        .partition(|c| c.starts_with("name="));
    let dir_name = match plain.is_empty() {
        false => plain.join(","),
        true => names
            .iter()
            .map(|n| &n["name=".len()..])
            .collect::<Vec<_>>()
            .join(","),
    };
    let mut options = if plain.is_empty() {
        vec!["none"]
    } else {
        plain
    };
    options.extend(names);
    CgroupViewInfo {
        dir_name,
        fs_options: options.join(","),
        host_path: path.to_owned(),
    }
}

/// A new cpuset cgroup starts with no CPU and no memory node, and no task
/// can join it until both are set: copy them down from the parent into each
/// level just created. The container's own values are written later.
fn init_cpusets(
    dir: &Path,
    created: usize,
    mount_point: &Path,
    cpu: &CpuPlan,
) -> Result<(), CgroupError> {
    let mut levels: Vec<&Path> = dir.ancestors().take(created).collect();
    levels.reverse();
    let parent = levels[0].parent().unwrap_or(mount_point);
    for (file, own) in [("cpuset.cpus", &cpu.cpus), ("cpuset.mems", &cpu.mems)] {
        let value = inherited_cpuset(parent, file, mount_point)?;
        for level in &levels {
            if *level == dir && own.is_some() {
                continue;
            }
            write(&level.join(file), &value)?;
        }
    }
    Ok(())
}

/// The value of `file` in the existing cgroup `dir`; when empty (a cgroup
/// someone created without initialising it), it is first initialised from
/// its own parent.
fn inherited_cpuset(dir: &Path, file: &str, mount_point: &Path) -> Result<String, CgroupError> {
    let value = read_control(&dir.join(file))?.trim_end().to_owned();
    if !value.is_empty() || dir == mount_point {
        return Ok(value);
    }
    let value = inherited_cpuset(dir.parent().unwrap_or(mount_point), file, mount_point)?;
    write(&dir.join(file), &value)?;
    Ok(value)
}

#[cfg(test)]
mod tests;
