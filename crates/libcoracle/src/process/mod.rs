//! The container's process (config.md "Process", "POSIX process", "Linux
//! Process" and "User").
//!
//! [`ProcessPlan::from_spec`] validates `process` and pre-builds everything
//! in the parent, before the clone (C strings, numbers, capability masks), so
//! that the container side allocates little and parses nothing. The
//! container side then calls, in this order (after `pivot_root`):
//! [`ProcessPlan::apply_rlimits`] (raising a hard limit needs
//! `CAP_SYS_RESOURCE`, so before the capabilities go),
//! [`ProcessPlan::resolve_executable`], [`ProcessPlan::apply_scheduling`]
//! and [`ProcessPlan::apply_linux_attributes`] (raising a priority needs
//! `CAP_SYS_NICE`), the security labels ([`crate::lsm`]),
//! [`ProcessPlan::become_user`], [`ProcessPlan::enter_cwd`], for `exec`
//! [`ProcessPlan::apply_final_affinity`], and [`ProcessPlan::exec`].

mod exec;
mod fds;
mod identity;
mod linux;
mod rlimit;
mod sched;
mod signal;

pub use exec::DEFAULT_PATH;
pub use fds::{listen_fds, CallerFds};
pub use linux::{memory_policy_flags, memory_policy_modes};
pub use signal::parse_signal;

use crate::capabilities::{CapabilityError, CapabilityPlan};
use crate::lsm::{LsmError, LsmPlan};
use crate::spec;
use crate::sys::sched::{CpuMask, NodeMask, SchedAttr};
use std::ffi::CString;
use std::io;

/// What went wrong with the process: one line naming the field or the step.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The configuration is not valid, such as
    /// "process.cwd: must be an absolute path (got \"tmp\")".
    #[error("{field}: {message}")]
    Invalid {
        /// The field, such as `process.rlimits`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// `args[0]` has no `/` and is in none of the `PATH` directories.
    #[error("process.args[0] {name}: executable file not found in $PATH")]
    NotFound {
        /// `args[0]`.
        name: String,
    },
    /// `args[0]` names a file that cannot be executed.
    #[error("process.args[0] {path}: {reason}")]
    NotExecutable {
        /// The file.
        path: String,
        /// Why, such as "is a directory".
        reason: &'static str,
    },
    /// The working directory is not under the container's root: a
    /// descriptor of the host leaked in (CVE-2024-21626).
    #[error("process.cwd {cwd}: the working directory is outside the container")]
    CwdOutside {
        /// `process.cwd`.
        cwd: String,
    },
    /// A system call failed.
    #[error("{step}: {source}")]
    Os {
        /// The step, such as "exec /bin/nope".
        step: String,
        /// The operating system's error.
        source: io::Error,
    },
    /// Setting up the capabilities failed.
    #[error(transparent)]
    Capabilities(#[from] CapabilityError),
    /// An AppArmor profile or SELinux label.
    #[error(transparent)]
    Lsm(#[from] LsmError),
}

impl ProcessError {
    /// The OS error number, 0 when the error is not an OS error; an
    /// executable not found counts as `ENOENT` and one that cannot be
    /// executed as `EACCES`, like `execvp` (shells turn them into 127/126).
    pub fn errno(&self) -> i32 {
        match self {
            ProcessError::Os { source, .. } => source.raw_os_error().unwrap_or(0),
            ProcessError::Capabilities(err) => err.errno(),
            ProcessError::Lsm(err) => err.errno(),
            ProcessError::NotFound { .. } => libc::ENOENT,
            ProcessError::NotExecutable { .. } => libc::EACCES,
            ProcessError::Invalid { .. } | ProcessError::CwdOutside { .. } => 0,
        }
    }
}

/// An [`ProcessError::Invalid`] for `field`.
fn invalid(field: impl Into<String>, message: impl Into<String>) -> ProcessError {
    ProcessError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Everything needed to become the container's process, built and checked
/// in the parent.
#[derive(Debug, Clone)]
pub struct ProcessPlan {
    /// `process.args`; `args[0]` is looked up by [`Self::resolve_executable`].
    pub args: Vec<CString>,
    /// `process.env`, each entry `KEY=VALUE`.
    pub env: Vec<CString>,
    /// `process.cwd`, absolute.
    pub cwd: CString,
    /// `process.user.uid`.
    pub uid: u32,
    /// `process.user.gid`.
    pub gid: u32,
    /// `process.user.additionalGids`.
    pub additional_gids: Vec<u32>,
    /// `process.user.umask`; `None` leaves the umask alone.
    pub umask: Option<u32>,
    /// `process.rlimits` as `(resource, soft, hard)`.
    pub rlimits: Vec<(u32, u64, u64)>,
    /// `process.noNewPrivileges`.
    pub no_new_privileges: bool,
    /// `process.oomScoreAdj`; `None` leaves `oom_score_adj` alone.
    pub oom_score_adj: Option<i32>,
    /// `process.terminal`.
    pub terminal: bool,
    /// `process.consoleSize`, kept only when `terminal` is true (config.md:
    /// ignored otherwise); both dimensions fit a `u16`.
    pub console_size: Option<spec::ConsoleSize>,
    /// `process.capabilities` as masks.
    pub capabilities: CapabilityPlan,
    /// `process.apparmorProfile` and `process.selinuxLabel`.
    pub lsm: LsmPlan,
    /// `process.ioPriority` as the value of `ioprio_set`.
    pub io_priority: Option<u16>,
    /// `process.scheduler`.
    pub scheduler: Option<SchedAttr>,
    /// `process.execCPUAffinity.initial` (exec only).
    pub affinity_initial: Option<CpuMask>,
    /// `process.execCPUAffinity.final` (exec only).
    pub affinity_final: Option<CpuMask>,
    /// `linux.personality` (see [`Self::with_linux`]).
    pub personality: Option<u64>,
    /// `linux.memoryPolicy`: mode with flags, and nodes.
    pub memory_policy: Option<(i32, NodeMask)>,
}

impl ProcessPlan {
    /// Validates `process` and builds the plan: `args` non-empty with a
    /// non-empty `args[0]`, `cwd` absolute, every `env` entry `KEY=VALUE`,
    /// no NUL byte anywhere, `rlimits` of known types (every `RLIMIT_*` of
    /// Linux), each at most once and with soft ≤ hard, a console size that
    /// fits the kernel's, known capability names, security labels of
    /// modules the host runs, I/O priority, scheduler and CPU lists. Nothing is added to `env`
    /// (without a `PATH` there, [`Self::resolve_executable`] searches
    /// [`DEFAULT_PATH`]).
    pub fn from_spec(process: &spec::Process) -> Result<Self, ProcessError> {
        if process.args.is_empty() {
            return Err(invalid("process.args", "must not be empty"));
        }
        if process.args[0].is_empty() {
            return Err(invalid("process.args[0]", "must not be empty"));
        }
        let args = c_strings("process.args", &process.args)?;
        let env = c_strings("process.env", &process.env)?;
        if let Some((i, entry)) = process
            .env
            .iter()
            .enumerate()
            .find(|(_, e)| !is_env_entry(e))
        {
            let message = format!("{entry:?} is not KEY=VALUE");
            return Err(invalid(format!("process.env[{i}]"), message));
        }
        if !process.cwd.starts_with('/') {
            let message = format!("must be an absolute path (got {:?})", process.cwd);
            return Err(invalid("process.cwd", message));
        }
        let user = &process.user;
        let (affinity_initial, affinity_final) =
            sched::cpu_affinity(process.exec_cpu_affinity.as_ref())?;
        Ok(Self {
            args,
            env,
            cwd: c_string("process.cwd", &process.cwd)?,
            uid: user.uid,
            gid: user.gid,
            additional_gids: user.additional_gids.clone(),
            umask: user.umask,
            rlimits: rlimit::plan(&process.rlimits)?,
            no_new_privileges: process.no_new_privileges,
            oom_score_adj: process.oom_score_adj,
            terminal: process.terminal,
            console_size: console_size(process)?,
            capabilities: CapabilityPlan::from_spec(process.capabilities.as_ref())?,
            lsm: LsmPlan::from_spec(process)?,
            io_priority: sched::io_priority(process.io_priority.as_ref())?,
            scheduler: sched::scheduler(process.scheduler.as_ref())?,
            affinity_initial,
            affinity_final,
            personality: None,
            memory_policy: None,
        })
    }

    /// Sets the environment variable `key` to `value`, replacing any entry
    /// of `key` already there (for `LISTEN_FDS`/`LISTEN_PID` and `exec
    /// --env`). Both come from the runtime's own arguments, which cannot hold
    /// a NUL byte; should one appear, the entry is cut there.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env
            .retain(|entry| env_key(entry.as_bytes()) != key.as_bytes());
        let entry = format!("{key}={value}");
        let entry = entry.split('\0').next().unwrap_or_default();
        self.env.push(CString::new(entry).unwrap_or_default());
    }

    /// The value of the environment variable `key`, if set.
    fn env_value(&self, key: &[u8]) -> Option<&[u8]> {
        self.env
            .iter()
            .map(|e| e.as_bytes())
            .find_map(|entry| (env_key(entry) == key).then(|| &entry[key.len() + 1..]))
    }
}

/// The key of a `KEY=VALUE` entry (the whole entry when it has no `=`).
fn env_key(entry: &[u8]) -> &[u8] {
    let end = entry.iter().position(|&b| b == b'=').unwrap_or(entry.len());
    &entry[..end]
}

/// Whether `entry` is `KEY=VALUE` with a non-empty key.
fn is_env_entry(entry: &str) -> bool {
    entry.find('=').is_some_and(|eq| eq > 0)
}

/// `value` as a C string; `field` names it when it holds a NUL byte.
fn c_string(field: &str, value: &str) -> Result<CString, ProcessError> {
    CString::new(value).map_err(|_| invalid(field, "must not contain a NUL byte"))
}

/// Each of `values` as a C string; `field` names the list.
fn c_strings(field: &str, values: &[String]) -> Result<Vec<CString>, ProcessError> {
    let convert = |(i, value): (usize, &String)| {
        CString::new(value.as_str())
            .map_err(|_| invalid(format!("{field}[{i}]"), "must not contain a NUL byte"))
    };
    values.iter().enumerate().map(convert).collect()
}

/// `process.consoleSize` when there is a terminal, checked to fit the
/// kernel's 16-bit window size.
fn console_size(process: &spec::Process) -> Result<Option<spec::ConsoleSize>, ProcessError> {
    let Some(size) = process.console_size.filter(|_| process.terminal) else {
        return Ok(None);
    };
    for (name, value) in [("height", size.height), ("width", size.width)] {
        if value > u64::from(u16::MAX) {
            let message = format!("{name} {value} is larger than {}", u16::MAX);
            return Err(invalid("process.consoleSize", message));
        }
    }
    Ok(Some(size))
}

#[cfg(test)]
pub(crate) mod tests;
