//! The operations of runtime.md, as the `coracle` command line offers them:
//! create, start, state, kill, delete, and runc's run, exec, list, ps,
//! pause, resume, update and events. Each validates its input before it
//! changes anything, and a failure leaves nothing behind.

mod create;
mod delete;
mod events;
mod exec;
mod query;
mod run;
mod start;
mod update;
mod wait;

pub use exec::ExecOptions;
pub use query::ContainerSummary;

use crate::cgroups::CgroupError;
use crate::channel::ChannelError;
use crate::config::ConfigError;
use crate::hooks;
use crate::hooks::HookError;
use crate::namespaces::NamespaceError;
use crate::process::{CallerFds, ProcessError};
use crate::spec::{Hook, State, Status, OCI_VERSION};
use crate::state::{Record, StateError, StateRoot};
use crate::trace::Trace;
use std::cell::RefCell;
use std::io;
use std::path::PathBuf;
use thiserror::Error;

/// Errors of the lifecycle operations; each displays as one line.
#[derive(Debug, Error)]
pub enum Error {
    /// The state root or a container's record.
    #[error(transparent)]
    State(#[from] StateError),
    /// config.json.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The container's cgroup.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// Namespaces.
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    /// A hook.
    #[error(transparent)]
    Hook(#[from] HookError),
    /// The process of `exec`.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A network device to move.
    #[error(transparent)]
    NetDevice(#[from] crate::netdev::NetDevError),
    /// The seccomp filter or its notify listener.
    #[error(transparent)]
    Seccomp(#[from] crate::seccomp::SeccompError),
    /// The channel to the container's process.
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// An operation the container's status does not allow.
    #[error("container {id} is {status}: {why}")]
    WrongState {
        /// The container.
        id: String,
        /// Its status.
        status: Status,
        /// What cannot be done.
        why: &'static str,
    },
    /// A step inside the container failed (the message names it).
    #[error("{0}")]
    Container(String),
    /// Flags that do not go together.
    #[error("{0}")]
    Usage(String),
    /// A system call of the runtime's own.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: String,
        /// The OS error.
        source: io::Error,
    },
}

impl Error {
    fn io(action: impl Into<String>) -> impl FnOnce(io::Error) -> Error {
        let action = action.into();
        move |source| Error::Io { action, source }
    }
}

/// How a container is created (`create` and `run`).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The bundle directory.
    pub bundle: PathBuf,
    /// Where to write the init's pid.
    pub pid_file: Option<PathBuf>,
    /// The unix socket that receives the pty master.
    pub console_socket: Option<PathBuf>,
    /// MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// Keep the caller's session keyring instead of joining a new one,
    /// `_ses.ID` (see [`crate::keyring`]).
    pub no_new_keyring: bool,
    /// Descriptors 3 to 3+N-1 are passed to the container (those of them
    /// the caller holds: see [`Runtime::set_caller_fds`]).
    pub preserve_fds: u32,
}

/// The runtime: a state root and the global options.
#[derive(Debug)]
pub struct Runtime {
    root: StateRoot,
    systemd_cgroup: bool,
    trace: Trace,
    warnings: RefCell<Vec<String>>,
    caller_fds: Option<CallerFds>,
}

impl Runtime {
    /// A runtime keeping its containers under `root`.
    pub fn new(root: PathBuf) -> Runtime {
        Runtime {
            root: StateRoot::new(root),
            systemd_cgroup: false,
            trace: Trace::new(false),
            warnings: RefCell::new(Vec::new()),
            caller_fds: None,
        }
    }

    /// The descriptors the program's caller passed, as [`CallerFds::note`]
    /// found them at start-up: a program that opens files before it
    /// creates a container must note them first, or its own files could
    /// pass for the caller's. Without it they are noted when `create` or
    /// `exec` begins.
    pub fn set_caller_fds(&mut self, fds: CallerFds) {
        self.caller_fds = Some(fds);
    }

    /// The caller's descriptors among 3 to 3+`count`-1: those a container's
    /// process may inherit.
    fn passed_fds(&self, count: u32) -> Vec<std::os::fd::RawFd> {
        match &self.caller_fds {
            Some(fds) => fds.first(count),
            None => CallerFds::note().first(count),
        }
    }

    /// `--systemd-cgroup`: use the systemd cgroup driver.
    pub fn set_systemd_cgroup(&mut self, on: bool) {
        self.systemd_cgroup = on;
    }

    /// `--debug`: record the phase trace.
    pub fn set_debug(&mut self, on: bool) {
        self.trace = Trace::new(on);
    }

    /// Adds a phase the caller measured itself to the trace (the
    /// re-execution of [`crate::protect::ensure_protected`]).
    pub fn record_phase(&self, name: &str, took: std::time::Duration) {
        self.trace.record(name, took);
    }

    /// The phase trace recorded so far.
    pub fn take_trace(&self) -> Vec<String> {
        self.trace.take()
    }

    /// Warnings of operations that succeeded anyway (a failed poststop hook).
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }

    /// The directory of compiled seccomp filters, made on first use; `None`
    /// when it cannot be made (filters are then compiled every time).
    fn seccomp_cache(&self) -> Option<PathBuf> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = self.root.path().join(".seccomp-cache");
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .ok()
            .map(|()| dir)
    }

    fn warn(&self, message: String) {
        self.warnings.borrow_mut().push(message);
    }

    /// Runs every poststop hook; a failing one is a warning and the others
    /// still run (runtime.md, step 13).
    fn run_poststop(&self, poststop: &[Hook], state: &State) {
        if poststop.is_empty() {
            return;
        }
        let state = serde_json::to_string(state).expect("a state always serializes");
        for (index, hook) in poststop.iter().enumerate() {
            if let Err(err) = hooks::run_hook("poststop", index, hook, state.as_bytes()) {
                self.warn(err.to_string());
            }
        }
    }

    /// Pauses a created or running container (freezes all its processes),
    /// as runc does.
    pub fn pause(&self, id: &str) -> Result<(), Error> {
        let dir = self.root.open(id)?;
        let record = dir.load()?;
        let status = self.status_of(&record, dir.fifo_exists());
        if !matches!(status, Status::Created | Status::Running) {
            return Err(wrong_state(
                id,
                status,
                "only a created or running container can be paused",
            ));
        }
        crate::cgroups::Cgroup::from_record(&record.cgroup).set_frozen(true)?;
        Ok(())
    }

    /// Resumes a paused container; it is created or running again, as
    /// before the pause.
    pub fn resume(&self, id: &str) -> Result<(), Error> {
        let dir = self.root.open(id)?;
        let record = dir.load()?;
        let status = self.status_of(&record, dir.fifo_exists());
        if status != Status::Paused {
            return Err(wrong_state(
                id,
                status,
                "only a paused container can be resumed",
            ));
        }
        crate::cgroups::Cgroup::from_record(&record.cgroup).set_frozen(false)?;
        Ok(())
    }

    /// The status of a recorded container, paused included (a frozen
    /// created container is paused too, as in runc).
    fn status_of(&self, record: &Record, fifo_exists: bool) -> Status {
        let status = record.status(fifo_exists);
        if matches!(status, Status::Created | Status::Running)
            && crate::cgroups::Cgroup::from_record(&record.cgroup)
                .is_frozen()
                .unwrap_or(false)
        {
            return Status::Paused;
        }
        status
    }
}

fn wrong_state(id: &str, status: Status, why: &'static str) -> Error {
    Error::WrongState {
        id: id.to_string(),
        status,
        why,
    }
}

/// The state document of runtime.md for a record.
fn state_document(record: &Record, status: Status) -> State {
    State {
        oci_version: OCI_VERSION.to_string(),
        id: record.id.clone(),
        status,
        pid: match status {
            Status::Stopped => Some(0),
            Status::Creating => None,
            _ => Some(record.pid),
        },
        bundle: record.bundle.to_string_lossy().into_owned(),
        annotations: record.annotations.clone(),
    }
}

/// A trace phase's name with where its seccomp filter came from, when
/// there is one (`cached`: whether it was a cache hit), so that `--debug`
/// shows whether a create or an exec reused a compiled filter.
fn with_seccomp_source(phase: &str, cached: Option<bool>) -> String {
    match cached {
        None => phase.to_string(),
        Some(true) => format!("{phase} (seccomp filter from the cache)"),
        Some(false) => format!("{phase} (seccomp filter compiled)"),
    }
}
