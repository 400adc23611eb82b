//! Capabilities of the container process (config.md, "Linux Process").
//!
//! [`CapabilityPlan::from_spec`] turns the five lists of names into masks in
//! the parent, before the clone; the container side only drops the bounding
//! set and calls `capset`, with no parsing.

use crate::spec;
use crate::sys;
use std::io;

/// What went wrong with the capabilities.
#[derive(Debug, thiserror::Error)]
pub enum CapabilityError {
    /// A name that is not a capability of this build.
    #[error("process.capabilities.{set}: unknown capability {name}")]
    Unknown {
        /// The set the name is in (`bounding`, `effective`…).
        set: &'static str,
        /// The name as written.
        name: String,
    },
    /// A system call failed.
    #[error("{step}: {source}")]
    Os {
        /// The step, such as "drop CAP_SYS_ADMIN from the bounding set".
        step: String,
        /// The operating system's error.
        source: io::Error,
    },
}

impl CapabilityError {
    /// The OS error number, 0 when the error is not an OS error.
    pub fn errno(&self) -> i32 {
        match self {
            CapabilityError::Os { source, .. } => source.raw_os_error().unwrap_or(0),
            CapabilityError::Unknown { .. } => 0,
        }
    }
}

/// The capability names, indexed by number (capabilities(7)).
const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// All capability names this build knows, in number order
/// (`CAP_CHOWN` = 0 … `CAP_CHECKPOINT_RESTORE` = 40).
pub fn known_names() -> &'static [&'static str] {
    &NAMES
}

/// The number of the capability `name` (`"CAP_KILL"` → 5). Names are exact,
/// as capabilities(7) writes them.
pub fn number_of(name: &str) -> Option<u32> {
    NAMES
        .iter()
        .position(|known| *known == name)
        .map(|n| n as u32)
}

/// The name of capability number `cap`, for messages.
fn name_of(cap: u32) -> &'static str {
    NAMES.get(cap as usize).copied().unwrap_or("CAP_UNKNOWN")
}

/// The highest capability number the running kernel knows, found by asking
/// whether it is in the bounding set (`PR_CAPBSET_READ` fails with `EINVAL`
/// above the last one). Same answer as `/proc/sys/kernel/cap_last_cap`,
/// without depending on a mounted `/proc`; usually one call.
fn kernel_last_cap() -> u32 {
    (0..NAMES.len() as u32)
        .rev()
        .find(|&cap| sys::process::prctl(libc::PR_CAPBSET_READ, cap.into()).is_ok())
        .unwrap_or(0)
}

/// The five capability sets of the process as masks (bit `n` is capability
/// number `n`), holding only what can be granted.
#[derive(Debug, Clone, Default)]
pub struct CapabilityPlan {
    /// Capabilities kept in the bounding set; all others are dropped.
    pub bounding: u64,
    /// The effective set.
    pub effective: u64,
    /// The permitted set.
    pub permitted: u64,
    /// The inheritable set.
    pub inheritable: u64,
    /// The ambient set.
    pub ambient: u64,
}

impl CapabilityPlan {
    /// Validates and converts `process.capabilities`. `None`, like an absent
    /// list, means an empty set (what runc does: no capabilities).
    ///
    /// Config.md asks runtimes not to fail on capabilities that cannot be
    /// granted, so those are left out of the masks silently: capabilities
    /// the running kernel does not know, effective ones that are not
    /// permitted, and ambient ones that are not both permitted and
    /// inheritable (the kernel refuses to raise those). Names this build does
    /// not know are errors.
    pub fn from_spec(caps: Option<&spec::Capabilities>) -> Result<Self, CapabilityError> {
        let Some(caps) = caps else {
            return Ok(Self::default());
        };
        let kernel_mask = mask_up_to(kernel_last_cap());
        let set = |name: &'static str, list: &Option<Vec<String>>| {
            mask_of(name, list.as_deref().unwrap_or_default()).map(|mask| mask & kernel_mask)
        };
        let permitted = set("permitted", &caps.permitted)?;
        let inheritable = set("inheritable", &caps.inheritable)?;
        Ok(Self {
            bounding: set("bounding", &caps.bounding)?,
            effective: set("effective", &caps.effective)? & permitted,
            permitted,
            inheritable,
            ambient: set("ambient", &caps.ambient)? & permitted & inheritable,
        })
    }

    /// Drops from the bounding set every capability not in `bounding`
    /// (`PR_CAPBSET_DROP`). Needs `CAP_SETPCAP`: call before changing uid.
    pub fn drop_bounding(&self) -> Result<(), CapabilityError> {
        for cap in 0..u64::BITS {
            if self.bounding & (1 << cap) != 0 {
                continue;
            }
            match sys::process::prctl(libc::PR_CAPBSET_DROP, cap.into()) {
                Ok(()) => {}
                // Above the kernel's last capability: nothing left to drop.
                Err(err) if err.raw_os_error() == Some(libc::EINVAL) => break,
                Err(err) => {
                    let step = format!("drop {} from the bounding set", name_of(cap));
                    return Err(os_error(step)(err));
                }
            }
        }
        Ok(())
    }

    /// Sets the effective, permitted and inheritable sets with `capset`,
    /// then makes the ambient set exactly `ambient` (cleared, then each
    /// capability raised). Call after the uid/gid change, which empties the
    /// effective set.
    pub fn apply(&self) -> Result<(), CapabilityError> {
        sys::caps::ambient_clear_all().map_err(os_error("clear the ambient set".into()))?;
        sys::caps::capset(sys::caps::Sets {
            effective: self.effective,
            permitted: self.permitted,
            inheritable: self.inheritable,
        })
        .map_err(os_error(format!(
            "capset (effective {:#x}, permitted {:#x}, inheritable {:#x})",
            self.effective, self.permitted, self.inheritable
        )))?;
        for cap in (0..u64::BITS).filter(|cap| self.ambient & (1 << cap) != 0) {
            sys::caps::ambient_raise(cap)
                .map_err(|source| os_error(format!("raise ambient {}", name_of(cap)))(source))?;
        }
        Ok(())
    }
}

/// Wraps an OS error of `step`.
fn os_error(step: String) -> impl FnOnce(io::Error) -> CapabilityError {
    move |source| CapabilityError::Os { step, source }
}

/// The mask of capabilities 0 to `last`.
fn mask_up_to(last: u32) -> u64 {
    if last >= 63 {
        u64::MAX
    } else {
        (1 << (last + 1)) - 1
    }
}

/// The mask of the capability `names` of the set called `set`.
fn mask_of(set: &'static str, names: &[String]) -> Result<u64, CapabilityError> {
    names
        .iter()
        .try_fold(0, |mask, name| match number_of(name) {
            Some(cap) => Ok(mask | 1 << cap),
            None => Err(CapabilityError::Unknown {
                set,
                name: name.clone(),
            }),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(names: &[&str]) -> Option<Vec<String>> {
        Some(names.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(known_names().len(), 41);
        assert_eq!(known_names()[0], "CAP_CHOWN");
        assert_eq!(known_names()[40], "CAP_CHECKPOINT_RESTORE");
        assert_eq!(number_of("CAP_KILL"), Some(5));
        assert_eq!(number_of("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(number_of("CAP_BPF"), Some(39));
        assert_eq!(number_of("cap_kill"), None);
        assert_eq!(number_of("KILL"), None);
        for (n, name) in known_names().iter().enumerate() {
            assert_eq!(number_of(name), Some(n as u32));
        }
    }

    #[test]
    fn none_means_nothing() {
        let plan = CapabilityPlan::from_spec(None).unwrap();
        assert_eq!(
            (
                plan.bounding,
                plan.effective,
                plan.permitted,
                plan.inheritable,
                plan.ambient
            ),
            (0, 0, 0, 0, 0)
        );
    }

    #[test]
    fn masks_of_the_sets() {
        let caps = spec::Capabilities {
            bounding: list(&["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]),
            effective: list(&["CAP_KILL", "CAP_CHOWN"]),
            permitted: list(&["CAP_KILL", "CAP_NET_BIND_SERVICE"]),
            inheritable: list(&["CAP_NET_BIND_SERVICE", "CAP_KILL"]),
            ambient: list(&["CAP_NET_BIND_SERVICE", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"]),
        };
        let plan = CapabilityPlan::from_spec(Some(&caps)).unwrap();
        assert_eq!(plan.bounding, 1 | 1 << 5 | 1 << 10);
        // CAP_CHOWN is not permitted: it cannot be effective nor ambient.
        assert_eq!(plan.effective, 1 << 5);
        assert_eq!(plan.permitted, 1 << 5 | 1 << 10);
        assert_eq!(plan.inheritable, 1 << 5 | 1 << 10);
        assert_eq!(plan.ambient, 1 << 10);
    }

    #[test]
    fn unknown_name_names_the_set() {
        let caps = spec::Capabilities {
            bounding: list(&["CAP_KILL", "CAP_FOO"]),
            ..Default::default()
        };
        let err = CapabilityPlan::from_spec(Some(&caps)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "process.capabilities.bounding: unknown capability CAP_FOO"
        );
        assert_eq!(err.errno(), 0);
        let caps = spec::Capabilities {
            ambient: list(&["kill"]),
            ..Default::default()
        };
        let err = CapabilityPlan::from_spec(Some(&caps)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "process.capabilities.ambient: unknown capability kill"
        );
    }

    #[test]
    fn masks_up_to() {
        assert_eq!(mask_up_to(0), 1);
        assert_eq!(mask_up_to(40), (1 << 41) - 1);
        assert_eq!(mask_up_to(63), u64::MAX);
        let proc_value: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(kernel_last_cap(), proc_value.min(40));
    }
}
