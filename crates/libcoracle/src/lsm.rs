//! Linux security modules: `process.apparmorProfile`,
//! `process.selinuxLabel` and `linux.mountLabel`.
//!
//! A label is asked for at the next `execve` by writing to the process's
//! `attr/exec` file (AppArmor's own `attr/apparmor/exec` where the kernel
//! has it), always through a private procfs verified with `fstatfs`
//! ([`Procfs`]), so that nothing the container mounted over `/proc` can
//! swallow the write (CVE-2019-16884).
//!
//! `linux.mountLabel` goes into the options of the mounts runc labels, as
//! `context="LABEL"` (see [`mount_context`]; the rootfs plan adds it).
//!
//! A label asked for on a host whose module is not enabled is an error
//! found while validating the configuration, before anything is created:
//! the container would otherwise run unconfined (runc fails too: at its
//! container init for AppArmor, at validation for SELinux).

use crate::procfs::{Procfs, ProcfsError};
use crate::spec;
use crate::sys;
use std::ffi::CString;
use std::os::fd::AsFd;

/// What went wrong with a security label.
#[derive(Debug, thiserror::Error)]
pub enum LsmError {
    /// A label for a module the host does not run.
    #[error("{field}: {module} is not enabled on this host")]
    NotEnabled {
        /// The config field.
        field: &'static str,
        /// `AppArmor` or `SELinux`.
        module: &'static str,
    },
    /// A label with a NUL byte.
    #[error("{0}: must not contain a NUL byte")]
    Nul(&'static str),
    /// A mount label with a double quote, which cannot go into the quoted
    /// `context=` mount option.
    #[error("{0}: must not contain a double quote")]
    Quote(&'static str),
    /// Writing the label failed.
    #[error("{field}: {source}")]
    Write {
        /// The config field.
        field: &'static str,
        /// The procfs error.
        source: ProcfsError,
    },
}

impl LsmError {
    /// The OS error number, 0 when the error is not an OS error.
    pub fn errno(&self) -> i32 {
        match self {
            LsmError::Write { source, .. } => source.errno(),
            _ => 0,
        }
    }
}

/// The labels of a process, checked and pre-built in the parent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LsmPlan {
    /// `exec PROFILE`, as AppArmor's attribute takes it.
    apparmor: Option<CString>,
    /// The SELinux context.
    selinux: Option<CString>,
}

impl LsmPlan {
    /// Checks `process.apparmorProfile` and `process.selinuxLabel` (an
    /// empty string asks for nothing) against the modules the host runs.
    pub fn from_spec(process: &spec::Process) -> Result<LsmPlan, LsmError> {
        let wanted = |value: &Option<String>| value.clone().filter(|v| !v.is_empty());
        let apparmor = match wanted(&process.apparmor_profile) {
            Some(profile) => {
                let field = "process.apparmorProfile";
                if !apparmor_enabled() {
                    return Err(LsmError::NotEnabled {
                        field,
                        module: "AppArmor",
                    });
                }
                Some(CString::new(format!("exec {profile}")).map_err(|_| LsmError::Nul(field))?)
            }
            None => None,
        };
        let selinux = match wanted(&process.selinux_label) {
            Some(label) => {
                let field = "process.selinuxLabel";
                if !selinux_enabled() {
                    return Err(LsmError::NotEnabled {
                        field,
                        module: "SELinux",
                    });
                }
                Some(CString::new(label).map_err(|_| LsmError::Nul(field))?)
            }
            None => None,
        };
        Ok(LsmPlan { apparmor, selinux })
    }

    /// Whether no label is asked for.
    pub fn is_empty(&self) -> bool {
        self.apparmor.is_none() && self.selinux.is_none()
    }

    /// Container side, before the user change: asks for the labels at the
    /// next `execve`, through `procfs` (of the caller's pid namespace).
    pub fn apply(&self, procfs: &Procfs) -> Result<(), LsmError> {
        if let Some(profile) = &self.apparmor {
            let field = "process.apparmorProfile";
            let write = |file| procfs.write(file, profile.as_bytes());
            // attr/apparmor/exec since Linux 5.8; attr/exec before, where
            // AppArmor is the only module writing it.
            match write("thread-self/attr/apparmor/exec") {
                Err(err) if err.errno() == libc::ENOENT => write("thread-self/attr/exec"),
                other => other,
            }
            .map_err(|source| LsmError::Write { field, source })?;
        }
        if let Some(label) = &self.selinux {
            procfs
                .write("thread-self/attr/exec", label.as_bytes())
                .map_err(|source| LsmError::Write {
                    field: "process.selinuxLabel",
                    source,
                })?;
        }
        Ok(())
    }
}

/// Checks `linux.mountLabel`: it needs SELinux (without it runc fails at
/// the first mount it labels; coracle refuses before creating anything),
/// and it goes into mount options, quoted.
pub fn check_mount_label(linux: Option<&spec::Linux>) -> Result<(), LsmError> {
    let field = "linux.mountLabel";
    let label = linux.and_then(|l| l.mount_label.as_deref());
    let Some(label) = label.filter(|l| !l.is_empty()) else {
        return Ok(());
    };
    if !selinux_enabled() {
        return Err(LsmError::NotEnabled {
            field,
            module: "SELinux",
        });
    }
    if label.contains('\0') {
        return Err(LsmError::Nul(field));
    }
    if label.contains('"') {
        return Err(LsmError::Quote(field));
    }
    Ok(())
}

/// The mount option that labels a new `fstype` filesystem with the
/// (checked) `linux.mountLabel`, when runc labels such a mount: every new
/// filesystem but proc, sysfs and mqueue (runc labels mqueue's directory
/// instead, which coracle does not). Quoted, as runc does: an MCS label has
/// commas (`s0:c1,c2`). Bind mounts take no filesystem options at all.
pub fn mount_context(fstype: &str, label: &str) -> Option<String> {
    let labelled = !matches!(fstype, "proc" | "sysfs" | "mqueue");
    (labelled && !label.is_empty()).then(|| format!("context=\"{label}\""))
}

/// Whether AppArmor is enabled: its module parameter says `Y`.
pub fn apparmor_enabled() -> bool {
    std::fs::read("/sys/module/apparmor/parameters/enabled").is_ok_and(|v| v.starts_with(b"Y"))
}

/// Whether SELinux is enabled: selinuxfs is mounted at /sys/fs/selinux
/// (checked by its magic number) and has its `enforce` file.
pub fn selinux_enabled() -> bool {
    const SELINUX_MAGIC: i64 = 0xf97c_ff8c;
    let Ok(dir) = sys::fs::openat(
        None,
        c"/sys/fs/selinux",
        libc::O_PATH | libc::O_DIRECTORY,
        0,
    ) else {
        return false;
    };
    sys::fs::fstatfs_type(dir.as_fd()).is_ok_and(|magic| magic == SELINUX_MAGIC)
        && std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(apparmor: &str, selinux: &str) -> spec::Process {
        spec::Process {
            apparmor_profile: Some(apparmor.into()),
            selinux_label: Some(selinux.into()),
            ..spec::Process::default()
        }
    }

    #[test]
    fn empty_labels_ask_for_nothing() {
        assert!(LsmPlan::from_spec(&process("", "")).unwrap().is_empty());
    }

    #[test]
    fn labels_for_disabled_modules_are_refused() {
        if !apparmor_enabled() {
            let err = LsmPlan::from_spec(&process("docker-default", "")).unwrap_err();
            assert_eq!(
                err.to_string(),
                "process.apparmorProfile: AppArmor is not enabled on this host"
            );
        }
        if !selinux_enabled() {
            let err =
                LsmPlan::from_spec(&process("", "system_u:system_r:container_t:s0")).unwrap_err();
            assert_eq!(
                err.to_string(),
                "process.selinuxLabel: SELinux is not enabled on this host"
            );
            let linux = spec::Linux {
                mount_label: Some("system_u:object_r:container_file_t:s0".into()),
                ..spec::Linux::default()
            };
            assert!(check_mount_label(Some(&linux)).is_err());
        }
        assert!(check_mount_label(Some(&spec::Linux::default())).is_ok());
    }

    #[test]
    fn mount_labels_go_on_the_mounts_runc_labels() {
        let label = "system_u:object_r:container_file_t:s0:c1,c2";
        let context = r#"context="system_u:object_r:container_file_t:s0:c1,c2""#;
        for fstype in ["tmpfs", "devpts", "overlay"] {
            assert_eq!(mount_context(fstype, label).as_deref(), Some(context));
        }
        for fstype in ["proc", "sysfs", "mqueue"] {
            assert_eq!(mount_context(fstype, label), None);
        }
        assert_eq!(mount_context("tmpfs", ""), None);
    }

    #[test]
    fn labels_are_written_through_the_private_procfs() {
        if apparmor_enabled() || selinux_enabled() {
            return;
        }
        // With no module to take it, the kernel refuses the write: the
        // write reached /proc/thread-self/attr/exec of a verified procfs.
        let plan = LsmPlan {
            apparmor: None,
            selinux: Some(CString::new("system_u:system_r:container_t:s0").unwrap()),
        };
        let procfs = Procfs::open_private().unwrap();
        let err = plan.apply(&procfs).unwrap_err();
        assert!(
            matches!(err.errno(), libc::EINVAL | libc::EOPNOTSUPP),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("process.selinuxLabel: write /proc/thread-self/attr/exec: "),
            "{err}"
        );
    }
}
