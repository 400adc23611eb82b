//! `exec`: another process in a running container, in all its namespaces
//! and its cgroup.

use super::create::Console;
use super::start::open_init;
use super::wait::wait_for;
use super::{state_document, wrong_state, Error, Runtime};
use crate::cgroups::Cgroup;
use crate::channel::{Channel, ChannelError, Message};
use crate::init::{self, ExecArgs};
use crate::keyring::SessionKeyring;
use crate::namespaces;
use crate::process::ProcessPlan;
use crate::seccomp::{self, SeccompPlan};
use crate::spec::{Process, Status};
use crate::state::Record;
use crate::sys;
use crate::sys::process::Forked;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What `exec` runs, as runc's flags give it.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// `--process`: a process.json; the other process flags are then ignored.
    pub process_file: Option<PathBuf>,
    /// The command and its arguments.
    pub args: Vec<String>,
    /// `--tty`.
    pub tty: bool,
    /// `--console-socket`.
    pub console_socket: Option<PathBuf>,
    /// `--detach`: return once the process runs.
    pub detach: bool,
    /// `--pid-file`.
    pub pid_file: Option<PathBuf>,
    /// `--cwd`.
    pub cwd: Option<String>,
    /// `--env K=V`, added to (or replacing in) the container's environment.
    pub env: Vec<String>,
    /// `--user UID[:GID]`.
    pub user: Option<(u32, Option<u32>)>,
    /// `--additional-gids`.
    pub additional_gids: Vec<u32>,
    /// `--cap`: capabilities added to the container's.
    pub caps: Vec<String>,
    /// `--no-new-privs`.
    pub no_new_privs: bool,
    /// `--preserve-fds`: descriptors 3 to 3+N-1 (those of them the caller
    /// holds) are passed to the process.
    pub preserve_fds: u32,
    /// `--process-label` (SELinux).
    pub process_label: Option<String>,
    /// `--apparmor`.
    pub apparmor: Option<String>,
}

impl Runtime {
    /// Runs a process in the container. Returns its exit code, or 0 at once
    /// with `detach`.
    pub fn exec(&self, id: &str, options: &ExecOptions) -> Result<i32, Error> {
        self.trace.reset();
        // Before anything is opened here, lest it pass for the caller's.
        // Unlike create, exec passes no LISTEN_FDS on (runc neither).
        let passed_fds = self.passed_fds(options.preserve_fds);
        let (record, status) = {
            let dir = self.root.open(id)?;
            let record = dir.load()?;
            let status = self.status_of(&record, dir.fifo_exists());
            (record, status)
        };
        if !matches!(status, Status::Created | Status::Running) {
            return Err(wrong_state(
                id,
                status,
                "exec needs a created or running container",
            ));
        }
        let process = exec_process(&record.process, options)?;
        let console = Console::of(options.console_socket.as_deref(), options.detach);
        check_terminal(process.terminal, console)?;
        let plan = ProcessPlan::from_spec(&process)?
            .with_linux_attributes(record.personality.as_ref(), record.memory_policy.as_ref())?;
        let cache = self.seccomp_cache();
        let seccomp = match &record.seccomp {
            Some(profile) => Some(SeccompPlan::from_spec(profile, cache.as_deref())?),
            None => None,
        };
        self.trace.phase(&super::with_seccomp_source(
            "exec plan",
            seccomp.as_ref().map(|(_, hit)| *hit),
        ));
        let seccomp = seccomp.map(|(plan, _)| plan);

        let init = open_init(&record)?;
        let ns = differing_namespaces(record.pid);
        if ns & libc::CLONE_NEWPID != 0 {
            sys::process::setns(init.as_fd(), libc::CLONE_NEWPID)
                .map_err(Error::io("enter the container's pid namespace"))?;
        }
        let cgroup = Cgroup::from_record(&record.cgroup);
        let (console_socket, relay) = console.connect(process.terminal)?;
        let (channel, child_channel) = Channel::pair()?;
        plan.apply_initial_affinity()?;
        super::create::protect_runtime_binary()?;
        let forked = sys::process::clone_process(0, cgroup.clone_target(), true)
            .map_err(Error::io("clone the exec process"))?;
        let (pid, pidfd) = match forked {
            Forked::Child => {
                drop(channel);
                init::run_exec(ExecArgs {
                    process: &plan,
                    channel: child_channel,
                    init: init.as_fd(),
                    namespaces: ns & !libc::CLONE_NEWPID,
                    console_socket,
                    passed_fds: &passed_fds,
                    seccomp: seccomp.as_ref(),
                    session_keyring: (!record.no_new_keyring)
                        .then(|| SessionKeyring::of(&record.id)),
                })
            }
            Forked::Parent { pid, pidfd } => (pid, pidfd.expect("clone was asked for a pidfd")),
        };
        drop(child_channel);
        self.trace.phase("clone");
        let released = self
            .release_exec(&record, seccomp.as_ref(), &channel, pid)
            .and_then(|()| {
                self.trace.phase("exec");
                match &options.pid_file {
                    Some(path) => super::create::write_pid_file(path, pid),
                    None => Ok(()),
                }
            });
        if let Err(err) = released {
            // A failed exec leaves no process behind, as runc's.
            let _ = sys::process::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
            let _ = sys::process::wait_pid(pid, false);
            return Err(err);
        }
        if options.detach {
            return Ok(0);
        }
        wait_for(pid, pidfd.as_fd(), relay.as_ref())
    }

    /// Puts the process in the cgroup, lets it go, and waits until it has
    /// executed (its end of the channel closes) or reported a failure. A
    /// seccomp notify listener it sends goes on to the profile's agent.
    fn release_exec(
        &self,
        record: &Record,
        seccomp: Option<&SeccompPlan>,
        channel: &Channel,
        pid: i32,
    ) -> Result<(), Error> {
        let cgroup = Cgroup::from_record(&record.cgroup);
        if cgroup.clone_target().is_none() {
            cgroup.add_process(pid)?;
        }
        channel.send(&Message::Go)?;
        loop {
            match channel.recv_with_fd() {
                Err(ChannelError::Closed) => return Ok(()),
                Ok((Message::Listener, Some(fd))) => {
                    let filter = seccomp.ok_or(ChannelError::Malformed)?;
                    let state = state_document(record, Status::Running);
                    let message =
                        seccomp::listener_message(&state, filter.listener_metadata(), pid);
                    let path = filter.listener_path().unwrap_or_default();
                    seccomp::send_listener(path, &message, fd.as_fd())?;
                }
                Ok((Message::Failed { message, .. }, _)) => return Err(Error::Container(message)),
                Ok(_) => return Err(ChannelError::Malformed.into()),
                Err(err) => return Err(err.into()),
            }
        }
    }
}

/// A terminal in the background needs a console socket to hand its
/// master to (in the foreground the runtime relays it), and a console
/// socket without a terminal has nothing to receive.
fn check_terminal(terminal: bool, console: Console<'_>) -> Result<(), Error> {
    match (terminal, console) {
        (true, Console::Socket(None)) => Err(Error::Usage(
            "exec --detach with a terminal needs --console-socket".into(),
        )),
        (false, Console::Socket(Some(_))) => Err(Error::Usage(
            "--console-socket was given but the process has no terminal (--tty)".into(),
        )),
        _ => Ok(()),
    }
}

/// The process of an `exec`: a process.json, or the container's own
/// process with the command line's changes.
fn exec_process(base: &Process, options: &ExecOptions) -> Result<Process, Error> {
    if let Some(path) = &options.process_file {
        return process_file(path, base);
    }
    if options.args.is_empty() {
        return Err(Error::Usage("exec needs a command, or --process".into()));
    }
    let mut process = base.clone();
    process.args = options.args.clone();
    process.terminal = options.tty;
    if let Some(cwd) = &options.cwd {
        process.cwd = cwd.clone();
    }
    for entry in &options.env {
        let key = entry.split('=').next().unwrap_or_default();
        process.env.retain(|e| e.split('=').next() != Some(key));
        process.env.push(entry.clone());
    }
    if let Some((uid, gid)) = options.user {
        process.user.uid = uid;
        // As runc: a uid alone keeps the container's group, never root's.
        if let Some(gid) = gid {
            process.user.gid = gid;
        }
    }
    process
        .user
        .additional_gids
        .extend(&options.additional_gids);
    if !options.caps.is_empty() {
        let caps = process.capabilities.get_or_insert_with(Default::default);
        for set in [
            &mut caps.bounding,
            &mut caps.effective,
            &mut caps.permitted,
            &mut caps.inheritable,
        ] {
            set.get_or_insert_with(Vec::new)
                .extend(options.caps.iter().cloned());
        }
    }
    process.no_new_privileges |= options.no_new_privs;
    if let Some(profile) = &options.apparmor {
        process.apparmor_profile = Some(profile.clone());
    }
    if let Some(label) = &options.process_label {
        process.selinux_label = Some(label.clone());
    }
    Ok(process)
}

/// A process.json for `exec`. Without `capabilities` it gets the
/// container's, as runc and crun do (an empty object asks for none).
fn process_file(path: &Path, base: &Process) -> Result<Process, Error> {
    let bytes = std::fs::read(path).map_err(Error::io(format!("read {}", path.display())))?;
    let mut process: Process = serde_json::from_slice(&bytes)
        .map_err(|err| Error::Usage(format!("{}: {err}", path.display())))?;
    if process.capabilities.is_none() {
        process.capabilities = base.capabilities.clone();
    }
    Ok(process)
}

/// The `CLONE_NEW*` flags of the init's namespaces that are not the
/// runtime's own: only those are joined (joining one's own user namespace
/// is an error). A namespace type the kernel lacks has nothing to join.
fn differing_namespaces(pid: i32) -> i32 {
    namespaces::ALL
        .into_iter()
        .filter(|kind| {
            let name = kind.proc_name();
            let theirs = std::fs::metadata(format!("/proc/{pid}/ns/{name}"));
            let ours = std::fs::metadata(format!("/proc/self/ns/{name}"));
            matches!((theirs, ours), (Ok(t), Ok(o)) if (t.ino(), t.dev()) != (o.ino(), o.dev()))
        })
        .fold(0, |flags, kind| flags | kind.flag())
}
