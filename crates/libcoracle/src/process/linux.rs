//! The `linux` fields that are attributes of the container's process:
//! `linux.personality` and `linux.memoryPolicy`. Both survive `execve`, so
//! the init sets them on itself, and so does every `exec`'d process (as
//! crun does): they describe the container, not only its first process.

use super::sched::mask;
use super::{invalid, ProcessError, ProcessPlan};
use crate::spec;
use crate::sys;
use crate::sys::sched::NodeMask;

/// `personality(2)` execution domains by name.
const DOMAINS: [(&str, u64); 2] = [("LINUX", 0x0000), ("LINUX32", 0x0008)];

/// `MPOL_*` modes by name, and whether they take nodes: `Some(true)` they
/// need at least one, `Some(false)` they take none, `None` either.
const MODES: [(&str, i32, Option<bool>); 7] = [
    ("MPOL_DEFAULT", 0, Some(false)),
    ("MPOL_PREFERRED", 1, None),
    ("MPOL_BIND", 2, Some(true)),
    ("MPOL_INTERLEAVE", 3, Some(true)),
    ("MPOL_LOCAL", 4, Some(false)),
    ("MPOL_PREFERRED_MANY", 5, Some(true)),
    ("MPOL_WEIGHTED_INTERLEAVE", 6, Some(true)),
];

const MPOL_F_STATIC_NODES: i32 = 1 << 15;
const MPOL_F_RELATIVE_NODES: i32 = 1 << 14;

/// `MPOL_F_*` mode flags by name.
const MODE_FLAGS: [(&str, i32); 3] = [
    ("MPOL_F_NUMA_BALANCING", 1 << 13),
    ("MPOL_F_RELATIVE_NODES", MPOL_F_RELATIVE_NODES),
    ("MPOL_F_STATIC_NODES", MPOL_F_STATIC_NODES),
];

/// The names `linux.memoryPolicy.mode` accepts (for `features`).
pub fn memory_policy_modes() -> Vec<&'static str> {
    MODES.iter().map(|(name, _, _)| *name).collect()
}

/// The names `linux.memoryPolicy.flags` accepts (for `features`).
pub fn memory_policy_flags() -> Vec<&'static str> {
    MODE_FLAGS.iter().map(|(name, _)| *name).collect()
}

/// The persona of `linux.personality`: `LINUX` or `LINUX32`, and no flag
/// (the specification defines none).
pub(super) fn personality(p: Option<&spec::Personality>) -> Result<Option<u64>, ProcessError> {
    let Some(p) = p else { return Ok(None) };
    let domain = DOMAINS
        .iter()
        .find(|(name, _)| *name == p.domain)
        .map(|&(_, value)| value)
        .ok_or_else(|| {
            let message = format!("unknown domain {:?} (LINUX or LINUX32)", p.domain);
            invalid("linux.personality.domain", message)
        })?;
    if let Some(flag) = p.flags.first() {
        let message = format!("unknown flag {flag:?} (no flag is defined)");
        return Err(invalid("linux.personality.flags", message));
    }
    Ok(Some(domain))
}

/// The mode (with its flags) and node mask of `linux.memoryPolicy`.
pub(super) fn memory_policy(
    policy: Option<&spec::MemoryPolicy>,
) -> Result<Option<(i32, NodeMask)>, ProcessError> {
    let Some(policy) = policy else {
        return Ok(None);
    };
    let (mode, takes_nodes) = MODES
        .iter()
        .find(|(name, _, _)| *name == policy.mode)
        .map(|&(_, mode, takes)| (mode, takes))
        .ok_or_else(|| {
            invalid(
                "linux.memoryPolicy.mode",
                format!("unknown mode {:?}", policy.mode),
            )
        })?;
    // An empty list is the empty mask.
    let nodes = mask(&policy.nodes, "linux.memoryPolicy.nodes")?;
    let has_nodes = nodes.iter().any(|&w| w != 0);
    match takes_nodes {
        Some(true) if !has_nodes => {
            let message = format!("{} needs at least one node", policy.mode);
            return Err(invalid("linux.memoryPolicy.nodes", message));
        }
        Some(false) if has_nodes => {
            let message = format!("{} takes no nodes", policy.mode);
            return Err(invalid("linux.memoryPolicy.nodes", message));
        }
        _ => {}
    }
    let mut flags = 0;
    for name in &policy.flags {
        flags |= MODE_FLAGS
            .iter()
            .find(|(known, _)| known == name)
            .map(|&(_, bit)| bit)
            .ok_or_else(|| invalid("linux.memoryPolicy.flags", format!("unknown flag {name}")))?;
    }
    if flags & MPOL_F_STATIC_NODES != 0 && flags & MPOL_F_RELATIVE_NODES != 0 {
        return Err(invalid(
            "linux.memoryPolicy.flags",
            "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
        ));
    }
    Ok(Some((mode | flags, nodes)))
}

impl ProcessPlan {
    /// Adds the process attributes of `linux` (personality, memory policy)
    /// to the plan of the container's init.
    pub fn with_linux(self, linux: Option<&spec::Linux>) -> Result<Self, ProcessError> {
        let Some(linux) = linux else { return Ok(self) };
        self.with_linux_attributes(linux.personality.as_ref(), linux.memory_policy.as_ref())
    }

    /// Adds `linux.personality` and `linux.memoryPolicy` to the plan (of
    /// the init, or of an `exec`'d process from the container's record).
    pub fn with_linux_attributes(
        mut self,
        persona: Option<&spec::Personality>,
        policy: Option<&spec::MemoryPolicy>,
    ) -> Result<Self, ProcessError> {
        self.personality = personality(persona)?;
        self.memory_policy = memory_policy(policy)?;
        Ok(self)
    }

    /// Sets the personality and the memory policy, which `execve` keeps.
    pub fn apply_linux_attributes(&self) -> Result<(), ProcessError> {
        if let Some(persona) = self.personality {
            sys::sched::set_personality(persona).map_err(|source| ProcessError::Os {
                step: format!("linux.personality: personality {persona:#x}"),
                source,
            })?;
        }
        if let Some((mode, nodes)) = &self.memory_policy {
            sys::sched::set_mempolicy(*mode, nodes).map_err(|source| ProcessError::Os {
                step: format!("linux.memoryPolicy: set_mempolicy mode {mode:#x}"),
                source,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personality_domains_and_no_flags() {
        let p = |domain: &str, flags: &[&str]| spec::Personality {
            domain: domain.into(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
        };
        assert_eq!(personality(Some(&p("LINUX32", &[]))).unwrap(), Some(8));
        assert_eq!(personality(Some(&p("LINUX", &[]))).unwrap(), Some(0));
        let err = personality(Some(&p("LINUX64", &[])))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("linux.personality.domain: "), "{err}");
        let err = personality(Some(&p("LINUX", &["ADDR_NO_RANDOMIZE"]))).unwrap_err();
        assert!(err.to_string().starts_with("linux.personality.flags: "));
    }

    #[test]
    fn memory_policies_check_nodes_and_flags() {
        let mp = |mode: &str, nodes: &str, flags: &[&str]| spec::MemoryPolicy {
            mode: mode.into(),
            nodes: nodes.into(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
        };
        let (mode, nodes) = memory_policy(Some(&mp("MPOL_BIND", "0,2", &["MPOL_F_STATIC_NODES"])))
            .unwrap()
            .unwrap();
        assert_eq!((mode, nodes[0]), (2 | 1 << 15, 0b101));
        assert!(memory_policy(Some(&mp("MPOL_LOCAL", "", &[])))
            .unwrap()
            .is_some());
        assert!(memory_policy(Some(&mp("MPOL_PREFERRED", "", &[])))
            .unwrap()
            .is_some());
        for (mode, nodes, flags) in [
            ("MPOL_BIND", "", &[][..]),
            ("MPOL_DEFAULT", "0", &[]),
            ("MPOL_SOMETIMES", "0", &[]),
            ("MPOL_BIND", "0-", &[]),
            ("MPOL_BIND", "0", &["MPOL_F_FAST"]),
            (
                "MPOL_BIND",
                "0",
                &["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"],
            ),
        ] {
            let err = memory_policy(Some(&mp(mode, nodes, flags)))
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("linux.memoryPolicy."), "{err}");
        }
    }
}
