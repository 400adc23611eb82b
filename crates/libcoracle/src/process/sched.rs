//! `process.ioPriority`, `process.scheduler` and `process.execCPUAffinity`:
//! validated into the numbers the system calls take, applied by the
//! container side.

use super::{invalid, ProcessError, ProcessPlan};
use crate::cpulist::CpuList;
use crate::spec;
use crate::sys;
use crate::sys::sched::{CpuMask, SchedAttr};

/// `IOPRIO_CLASS_*` by name.
const IO_CLASSES: [(&str, u16); 3] = [
    ("IOPRIO_CLASS_RT", 1),
    ("IOPRIO_CLASS_BE", 2),
    ("IOPRIO_CLASS_IDLE", 3),
];

/// `SCHED_*` policies by name; `SCHED_ISO` is in the specification but
/// not in Linux.
const POLICIES: [(&str, u32); 6] = [
    ("SCHED_OTHER", 0),
    ("SCHED_FIFO", 1),
    ("SCHED_RR", 2),
    ("SCHED_BATCH", 3),
    ("SCHED_IDLE", 5),
    ("SCHED_DEADLINE", 6),
];

/// `SCHED_FLAG_*` by name.
const SCHED_FLAGS: [(&str, u64); 7] = [
    ("SCHED_FLAG_RESET_ON_FORK", 0x01),
    ("SCHED_FLAG_RECLAIM", 0x02),
    ("SCHED_FLAG_DL_OVERRUN", 0x04),
    ("SCHED_FLAG_KEEP_POLICY", 0x08),
    ("SCHED_FLAG_KEEP_PARAMS", 0x10),
    ("SCHED_FLAG_UTIL_CLAMP_MIN", 0x20),
    ("SCHED_FLAG_UTIL_CLAMP_MAX", 0x40),
];

const SCHED_FIFO: u32 = 1;
const SCHED_RR: u32 = 2;
const SCHED_DEADLINE: u32 = 6;

/// The value of `ioprio_set` for `process.ioPriority`: a known class and
/// a level from 0 to 7.
pub(super) fn io_priority(prio: Option<&spec::IoPriority>) -> Result<Option<u16>, ProcessError> {
    let Some(prio) = prio else { return Ok(None) };
    let field = "process.ioPriority";
    let class = IO_CLASSES
        .iter()
        .find(|(name, _)| *name == prio.class)
        .map(|&(_, class)| class)
        .ok_or_else(|| invalid(field, format!("unknown class {:?}", prio.class)))?;
    if !(0..=7).contains(&prio.priority) {
        let message = format!("priority {} is not between 0 and 7", prio.priority);
        return Err(invalid(field, message));
    }
    Ok(Some(class << 13 | prio.priority as u16))
}

/// The `sched_attr` of `process.scheduler`: a policy of Linux, a nice
/// value from -20 to 19, a priority only for the real-time policies (1 to
/// 99), and runtime, deadline and period only for `SCHED_DEADLINE`
/// (runtime ≤ deadline ≤ period, a period of 0 meaning the deadline).
pub(super) fn scheduler(
    sched: Option<&spec::Scheduler>,
) -> Result<Option<SchedAttr>, ProcessError> {
    let Some(sched) = sched else { return Ok(None) };
    let field = "process.scheduler";
    let policy = POLICIES
        .iter()
        .find(|(name, _)| *name == sched.policy)
        .map(|&(_, policy)| policy)
        .ok_or_else(|| {
            let message = format!(
                "policy {:?} is not a scheduling policy of Linux",
                sched.policy
            );
            invalid(field, message)
        })?;
    if !(-20..=19).contains(&sched.nice) {
        let message = format!("nice {} is not between -20 and 19", sched.nice);
        return Err(invalid(field, message));
    }
    let realtime = policy == SCHED_FIFO || policy == SCHED_RR;
    if realtime && !(1..=99).contains(&sched.priority) {
        let message = format!(
            "priority {} of {} is not between 1 and 99",
            sched.priority, sched.policy
        );
        return Err(invalid(field, message));
    }
    if !realtime && sched.priority != 0 {
        let message = format!("priority {} needs SCHED_FIFO or SCHED_RR", sched.priority);
        return Err(invalid(field, message));
    }
    check_deadline(sched, policy == SCHED_DEADLINE)?;
    let mut flags = 0;
    for name in &sched.flags {
        flags |= SCHED_FLAGS
            .iter()
            .find(|(known, _)| known == name)
            .map(|&(_, bit)| bit)
            .ok_or_else(|| invalid(field, format!("unknown flag {name}")))?;
    }
    Ok(Some(SchedAttr {
        policy,
        flags,
        nice: sched.nice,
        priority: sched.priority as u32,
        runtime: sched.runtime,
        deadline: sched.deadline,
        period: sched.period,
    }))
}

fn check_deadline(sched: &spec::Scheduler, deadline_policy: bool) -> Result<(), ProcessError> {
    let field = "process.scheduler";
    let (runtime, deadline, period) = (sched.runtime, sched.deadline, sched.period);
    if !deadline_policy {
        if runtime != 0 || deadline != 0 || period != 0 {
            return Err(invalid(
                field,
                "runtime, deadline and period need SCHED_DEADLINE",
            ));
        }
        return Ok(());
    }
    if runtime == 0 || runtime > deadline || (period != 0 && deadline > period) {
        let message = format!(
            "SCHED_DEADLINE needs 0 < runtime ≤ deadline ≤ period (got {runtime}, {deadline}, {period})"
        );
        return Err(invalid(field, message));
    }
    Ok(())
}

/// `process.execCPUAffinity`: the `initial` and `final` CPU sets (an empty
/// `final` changes nothing).
pub(super) fn cpu_affinity(
    affinity: Option<&spec::ExecCpuAffinity>,
) -> Result<(Option<CpuMask>, Option<CpuMask>), ProcessError> {
    let Some(affinity) = affinity else {
        return Ok((None, None));
    };
    let parse = |name: &str, list: &Option<String>| {
        list.as_deref()
            .filter(|l| !l.is_empty())
            .map(|l| mask(l, format!("process.execCPUAffinity.{name}")))
            .transpose()
    };
    Ok((
        parse("initial", &affinity.initial)?,
        parse("final", &affinity.final_)?,
    ))
}

/// The mask of a list such as `0-3,7`, as the system calls take it; an
/// error names `field`.
pub(super) fn mask(list: &str, field: impl Into<String>) -> Result<[u64; 16], ProcessError> {
    CpuList::parse(list)
        .and_then(|list| list.words())
        .map_err(|e| invalid(field, e.to_string()))
}

impl ProcessPlan {
    /// Sets the I/O priority and the scheduling policy. Raising either
    /// needs `CAP_SYS_NICE` (a real-time I/O class `CAP_SYS_ADMIN`): call
    /// it before [`Self::become_user`].
    pub fn apply_scheduling(&self) -> Result<(), ProcessError> {
        if let Some(value) = self.io_priority {
            sys::sched::ioprio_set_self(value).map_err(|source| ProcessError::Os {
                step: format!("process.ioPriority: ioprio_set {value:#x}"),
                source,
            })?;
        }
        if let Some(attr) = &self.scheduler {
            sys::sched::sched_setattr_self(attr).map_err(|source| ProcessError::Os {
                step: format!("process.scheduler: sched_setattr policy {}", attr.policy),
                source,
            })?;
        }
        Ok(())
    }

    /// `exec`, in the runtime before the process is cloned: runs the
    /// runtime on `execCPUAffinity.initial`, which the clone inherits, so
    /// that the move into the container's cgroup happens there.
    pub fn apply_initial_affinity(&self) -> Result<(), ProcessError> {
        self.set_affinity(self.affinity_initial.as_ref(), "initial")
    }

    /// `exec`, in the process, once in the container's cgroup (which may
    /// have reset the affinity) and right before `execve`: moves to
    /// `execCPUAffinity.final`.
    pub fn apply_final_affinity(&self) -> Result<(), ProcessError> {
        self.set_affinity(self.affinity_final.as_ref(), "final")
    }

    fn set_affinity(&self, mask: Option<&CpuMask>, which: &str) -> Result<(), ProcessError> {
        let Some(mask) = mask else { return Ok(()) };
        sys::sched::sched_setaffinity_self(mask).map_err(|source| ProcessError::Os {
            step: format!("process.execCPUAffinity.{which}: sched_setaffinity"),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_priorities_are_class_and_level() {
        let prio = |class: &str, priority| spec::IoPriority {
            class: class.into(),
            priority,
        };
        assert_eq!(
            io_priority(Some(&prio("IOPRIO_CLASS_BE", 3))).unwrap(),
            Some(2 << 13 | 3)
        );
        assert_eq!(
            io_priority(Some(&prio("IOPRIO_CLASS_IDLE", 0))).unwrap(),
            Some(3 << 13)
        );
        let err = io_priority(Some(&prio("IOPRIO_CLASS_BE", 8))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "process.ioPriority: priority 8 is not between 0 and 7"
        );
        assert!(io_priority(Some(&prio("BEST", 1))).is_err());
    }

    fn sched(policy: &str) -> spec::Scheduler {
        spec::Scheduler {
            policy: policy.into(),
            ..spec::Scheduler::default()
        }
    }

    #[test]
    fn schedulers_are_checked_by_policy() {
        let attr = scheduler(Some(&spec::Scheduler {
            nice: 5,
            ..sched("SCHED_BATCH")
        }))
        .unwrap()
        .unwrap();
        assert_eq!((attr.policy, attr.nice), (3, 5));
        let fifo = spec::Scheduler {
            priority: 10,
            flags: vec!["SCHED_FLAG_RESET_ON_FORK".into()],
            ..sched("SCHED_FIFO")
        };
        let attr = scheduler(Some(&fifo)).unwrap().unwrap();
        assert_eq!((attr.policy, attr.priority, attr.flags), (1, 10, 1));
        let refused = [
            sched("SCHED_ISO"),
            sched("SCHED_FIFO"),
            spec::Scheduler {
                priority: 3,
                ..sched("SCHED_OTHER")
            },
            spec::Scheduler {
                nice: 20,
                ..sched("SCHED_OTHER")
            },
            spec::Scheduler {
                runtime: 5,
                ..sched("SCHED_OTHER")
            },
            spec::Scheduler {
                runtime: 10,
                deadline: 5,
                ..sched("SCHED_DEADLINE")
            },
            spec::Scheduler {
                flags: vec!["SCHED_FLAG_FAST".into()],
                ..sched("SCHED_OTHER")
            },
        ];
        for s in refused {
            let err = scheduler(Some(&s)).unwrap_err().to_string();
            assert!(err.starts_with("process.scheduler: "), "{err}");
        }
        let dl = spec::Scheduler {
            runtime: 10_000_000,
            deadline: 30_000_000,
            period: 30_000_000,
            ..sched("SCHED_DEADLINE")
        };
        assert_eq!(scheduler(Some(&dl)).unwrap().unwrap().policy, 6);
    }

    #[test]
    fn an_empty_final_affinity_changes_nothing() {
        let affinity = spec::ExecCpuAffinity {
            initial: Some("0".into()),
            final_: Some(String::new()),
        };
        let (initial, last) = cpu_affinity(Some(&affinity)).unwrap();
        assert_eq!(initial.unwrap()[0], 1);
        assert!(last.is_none());
        let bad = spec::ExecCpuAffinity {
            initial: None,
            final_: Some("x".into()),
        };
        let err = cpu_affinity(Some(&bad)).unwrap_err().to_string();
        assert!(err.starts_with("process.execCPUAffinity.final: "), "{err}");
        let beyond = spec::ExecCpuAffinity {
            initial: Some("1024".into()),
            final_: None,
        };
        let err = cpu_affinity(Some(&beyond)).unwrap_err().to_string();
        assert_eq!(
            err,
            "process.execCPUAffinity.initial: 1024 is above the highest number, 1023"
        );
    }
}
