//! The OCI runtime specification's documents as Rust types: `config.json`
//! (config.md, config-linux.md) and the state (runtime.md).
//!
//! These types only describe; they do not validate. The `config` module turns
//! a [`Spec`] into a checked plan.

mod decode;
mod linux;
mod state;
mod template;

pub use decode::{decode, DecodeError};
pub use linux::*;
pub use state::*;
pub use template::default_spec;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the runtime specification this build implements.
pub const OCI_VERSION: &str = "1.3.0";

/// A container's configuration, as read from `config.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// The specification version the document complies with.
    pub oci_version: String,
    /// The container's root filesystem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<Root>,
    /// The container's process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<Process>,
    /// The container's hostname (needs a UTS namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// The container's NIS domain name (needs a UTS namespace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Additional mounts, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<Mount>,
    /// Lifecycle hooks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hooks: Option<Hooks>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Linux-specific configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linux: Option<Linux>,
}

/// `root`: where the container's root filesystem is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Root {
    /// Path to the root filesystem, absolute or relative to the bundle.
    pub path: String,
    /// Whether the root filesystem is mounted read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub readonly: bool,
}

/// One entry of `mounts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mount {
    /// Destination inside the container; absolute.
    pub destination: String,
    /// Filesystem type (`proc`, `tmpfs`, `bind`…); absent for binds.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    /// Device name, host path for binds, or a dummy string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Mount options as in mount(8).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// User id mappings of an idmapped mount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uid_mappings: Vec<IdMapping>,
    /// Group id mappings of an idmapped mount.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gid_mappings: Vec<IdMapping>,
}

/// A range of ids mapped from the container to the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdMapping {
    /// First id in the container.
    #[serde(rename = "containerID")]
    pub container_id: u32,
    /// First id on the host.
    #[serde(rename = "hostID")]
    pub host_id: u32,
    /// Number of ids in the range.
    pub size: u32,
}

/// `process`: what the container runs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    /// Whether a pseudo-terminal is attached to the process.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminal: bool,
    /// The terminal's size, when `terminal` is true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<ConsoleSize>,
    /// The user the process runs as.
    #[serde(default)]
    pub user: User,
    /// The command and its arguments; `args[0]` is looked up in `PATH`.
    #[serde(default)]
    pub args: Vec<String>,
    /// The whole command line (Windows only; ignored here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
    /// Environment as `KEY=value` strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Working directory inside the container; absolute.
    pub cwd: String,
    /// Capability sets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// Resource limits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rlimits: Vec<Rlimit>,
    /// Sets `PR_SET_NO_NEW_PRIVS`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_new_privileges: bool,
    /// AppArmor profile to confine the process with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apparmor_profile: Option<String>,
    /// Value written to `/proc/self/oom_score_adj`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oom_score_adj: Option<i32>,
    /// SELinux label of the process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux_label: Option<String>,
    /// I/O scheduling class and priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io_priority: Option<IoPriority>,
    /// CPU scheduling policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<Scheduler>,
    /// CPU affinity while and after the process is started (exec).
    #[serde(rename = "execCPUAffinity", skip_serializing_if = "Option::is_none")]
    pub exec_cpu_affinity: Option<ExecCpuAffinity>,
}

/// `process.consoleSize`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct ConsoleSize {
    /// Rows.
    pub height: u64,
    /// Columns.
    pub width: u64,
}

/// `process.user`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// User id in the container.
    #[serde(default)]
    pub uid: u32,
    /// Group id in the container.
    #[serde(default)]
    pub gid: u32,
    /// File mode creation mask.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub umask: Option<u32>,
    /// Supplementary groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_gids: Vec<u32>,
    /// User name (Windows only; ignored here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// `process.capabilities`: capability names per set, such as `CAP_KILL`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// The bounding set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bounding: Option<Vec<String>>,
    /// The effective set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<Vec<String>>,
    /// The inheritable set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inheritable: Option<Vec<String>>,
    /// The permitted set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permitted: Option<Vec<String>>,
    /// The ambient set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ambient: Option<Vec<String>>,
}

/// One entry of `process.rlimits`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rlimit {
    /// The resource, such as `RLIMIT_NOFILE`.
    #[serde(rename = "type")]
    pub typ: String,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// `process.ioPriority`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IoPriority {
    /// `IOPRIO_CLASS_RT`, `IOPRIO_CLASS_BE` or `IOPRIO_CLASS_IDLE`.
    pub class: String,
    /// Priority within the class.
    #[serde(default)]
    pub priority: i32,
}

/// `process.scheduler`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Scheduler {
    /// Policy such as `SCHED_OTHER` or `SCHED_FIFO`.
    pub policy: String,
    /// Nice value.
    #[serde(default)]
    pub nice: i32,
    /// Static priority.
    #[serde(default)]
    pub priority: i32,
    /// Flags such as `SCHED_FLAG_RESET_ON_FORK`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// SCHED_DEADLINE runtime, in nanoseconds.
    #[serde(default)]
    pub runtime: u64,
    /// SCHED_DEADLINE deadline, in nanoseconds.
    #[serde(default)]
    pub deadline: u64,
    /// SCHED_DEADLINE period, in nanoseconds.
    #[serde(default)]
    pub period: u64,
}

/// `process.execCPUAffinity`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExecCpuAffinity {
    /// CPU list applied when the runtime joins the container.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial: Option<String>,
    /// CPU list applied just before the process executes.
    #[serde(rename = "final", skip_serializing_if = "Option::is_none")]
    pub final_: Option<String>,
}

/// `hooks`: commands run at points of the lifecycle.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hooks {
    /// Deprecated; run with `createRuntime`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prestart: Vec<Hook>,
    /// In the runtime namespace, after the environment is created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create_runtime: Vec<Hook>,
    /// In the container namespace, before `pivot_root`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub create_container: Vec<Hook>,
    /// In the container namespace, before the user program runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start_container: Vec<Hook>,
    /// In the runtime namespace, after the user program started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststart: Vec<Hook>,
    /// In the runtime namespace, after the container is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub poststop: Vec<Hook>,
}

/// One hook.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Hook {
    /// Absolute path of the executable.
    pub path: String,
    /// Arguments, `args[0]` included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment as `KEY=value` strings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// Seconds after which the hook is aborted; positive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
}
