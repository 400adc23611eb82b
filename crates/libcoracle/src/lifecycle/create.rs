//! `create`: from a bundle to an init waiting on its FIFO.

use super::{CreateOptions, Error, Runtime};
use crate::cgroups::Cgroup;
use crate::channel::{Channel, Message};
use crate::config::{self, Plan, PlanOptions};
use crate::hooks;
use crate::init::{self, InitArgs};
use crate::keyring::SessionKeyring;
use crate::namespaces::Kind;
use crate::process;
use crate::rootfs::CgroupView;
use crate::seccomp;
use crate::spec::{State, Status, OCI_VERSION};
use crate::state::{self, ContainerDir, Record};
use crate::sys;
use crate::sys::process::Forked;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// A container just created, whose init is the caller's child.
pub(super) struct Created {
    pub pid: i32,
    pub pidfd: OwnedFd,
    /// With [`Console::Relay`] and a terminal: the runtime's end of the
    /// console socket pair, where the pty master arrives.
    pub relay: Option<OwnedFd>,
}

/// Where the container's process sends the pty master of a terminal.
#[derive(Clone, Copy)]
pub(super) enum Console<'a> {
    /// To the `--console-socket` (required with a terminal).
    Socket(Option<&'a Path>),
    /// To the runtime itself, which relays it (`run` in the foreground).
    Relay,
}

impl<'a> Console<'a> {
    /// In the foreground without a console socket, the runtime relays a
    /// terminal itself, as runc does (`run`, `exec`).
    pub(super) fn of(console_socket: Option<&'a Path>, detach: bool) -> Console<'a> {
        match (console_socket, detach) {
            (None, false) => Console::Relay,
            (path, _) => Console::Socket(path),
        }
    }

    /// The container side's end for a process with or without a
    /// `terminal`, and with [`Console::Relay`] the runtime's own end,
    /// where the pty master arrives.
    pub(super) fn connect(
        self,
        terminal: bool,
    ) -> Result<(Option<OwnedFd>, Option<OwnedFd>), Error> {
        match self {
            Console::Socket(path) => Ok((connect_console(path)?, None)),
            Console::Relay if terminal => {
                let (ours, theirs) =
                    sys::socket::stream_pair().map_err(Error::io("console socket pair"))?;
                Ok((Some(theirs), Some(ours)))
            }
            Console::Relay => Ok((None, None)),
        }
    }
}

/// Undoes a `create` that failed part-way: the init, the cgroup, the state
/// directory. Disarmed once the container is recorded.
struct Undo {
    dir: Option<PathBuf>,
    cgroup: Option<Cgroup>,
    pid: Option<i32>,
}

impl Undo {
    /// Undoes what was done so far, now rather than when dropped.
    fn undo_now(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = sys::process::kill(pid, libc::SIGKILL);
            let _ = sys::process::wait_pid(pid, false);
        }
        if let Some(cgroup) = self.cgroup.take() {
            let _ = cgroup.remove();
        }
        if let Some(dir) = self.dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    fn disarm(&mut self) {
        self.dir = None;
        self.cgroup = None;
        self.pid = None;
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        self.undo_now();
    }
}

impl Runtime {
    /// Creates the container `id` from `options.bundle`: its init is set up
    /// and waits for [`start`](Runtime::start).
    pub fn create(&self, id: &str, options: &CreateOptions) -> Result<(), Error> {
        let console = Console::Socket(options.console_socket.as_deref());
        self.create_container(id, options, console).map(|_| ())
    }

    pub(super) fn create_container(
        &self,
        id: &str,
        options: &CreateOptions,
        console: Console<'_>,
    ) -> Result<Created, Error> {
        let trace = &self.trace;
        trace.reset();
        // Before anything is opened here, lest it pass for the caller's.
        let listen = process::listen_fds();
        let passed_fds = self.passed_fds(listen + options.preserve_fds);
        state::validate_id(id)?;
        let cache = self.seccomp_cache();
        let mut plan = config::load(
            &options.bundle,
            PlanOptions {
                id,
                no_pivot: options.no_pivot,
                systemd_cgroup: self.systemd_cgroup,
                seccomp_cache: cache.as_deref(),
            },
        )?;
        if let Console::Socket(path) = console {
            check_terminal(plan.process.terminal, path)?;
        }
        if listen > 0 {
            // As runc tells the container's process (sd_listen_fds(3)).
            plan.process.set_env("LISTEN_FDS", &listen.to_string());
            plan.process.set_env("LISTEN_PID", "1");
        }
        trace.phase(&super::with_seccomp_source(
            "parse and validate config",
            plan.seccomp.as_ref().map(|_| plan.seccomp_cached),
        ));

        let mut dir = self.root.create(id)?;
        let mut undo = Undo {
            dir: Some(dir.path().to_path_buf()),
            cgroup: None,
            pid: None,
        };
        dir.make_fifo()?;
        trace.phase("state directory");
        let cgroup = &*undo.cgroup.insert(Cgroup::create(&plan.cgroup)?);
        // From here on a create that dies (killed during a hook, say)
        // leaves a record that delete can remove everything by.
        let record = creating_record(id, &plan, cgroup, options);
        dir.save(&record)?;
        trace.phase("cgroup create");
        let (console_socket, relay_end) = console.connect(plan.process.terminal)?;
        let fifo = dir.open_fifo_path()?;
        let (channel, child_channel) = Channel::pair()?;
        let own_namespaces = plan.namespaces.enter_for_children()?;
        let cgroup_views = views_of(cgroup);
        // Born in its cgroup (v2), the init gets its cgroup namespace with
        // the clone; otherwise it makes it once it has joined.
        let born_in_cgroup = cgroup.clone_target().is_some();
        let unshare_cgroup_ns = !born_in_cgroup && plan.namespaces.is_new(Kind::Cgroup);
        let mut flags = plan.namespaces.clone_flags();
        let mut unshare_flags = plan.namespaces.unshare_flags();
        if unshare_cgroup_ns {
            flags &= !(libc::CLONE_NEWCGROUP as u64);
            unshare_flags &= !libc::CLONE_NEWCGROUP;
        }

        protect_runtime_binary()?;
        let forked = sys::process::clone_process(flags, cgroup.clone_target(), true)
            .map_err(Error::io("clone the container's init"))?;
        let (pid, pidfd) = match forked {
            Forked::Child => {
                dir.release_in_child();
                drop(channel);
                init::run_init(InitArgs {
                    plan: &plan,
                    channel: child_channel,
                    fifo,
                    console_socket,
                    passed_fds: &passed_fds,
                    cgroup_views,
                    cgroup2_dir: cgroup.unified_path().map(Path::to_path_buf),
                    unshare_cgroup_ns,
                    unshare_flags,
                    session_keyring: (!options.no_new_keyring).then(|| SessionKeyring::of(id)),
                    trace,
                })
            }
            Forked::Parent { pid, pidfd } => (pid, pidfd.expect("clone was asked for a pidfd")),
        };
        undo.pid = Some(pid);
        own_namespaces.restore()?;
        drop(child_channel);
        drop(fifo);
        let (pid, pidfd) = if unshare_flags != 0 {
            let init = wait_for_unshare(&channel, pid, pidfd)?;
            undo.pid = Some(init.0);
            init
        } else {
            (pid, pidfd)
        };
        trace.phase("clone");

        if plan.namespaces.needs_id_maps() {
            plan.namespaces.write_id_maps(pid)?;
            trace.phase("id maps");
        }
        if !plan.net_devices.is_empty() {
            plan.net_devices.move_into(&plan.namespaces, pid)?;
            trace.phase("network devices");
        }
        if let Some(score) = plan.process.oom_score_adj {
            std::fs::write(format!("/proc/{pid}/oom_score_adj"), score.to_string())
                .map_err(Error::io("process.oomScoreAdj: write oom_score_adj"))?;
        }
        // On v1 the join (which can wait for an RCU grace period) overlaps
        // the init's mount work; the init forks nothing (hooks) and execs
        // nothing before the runtime has read its next message, which
        // comes after the join. With systemd the cgroup directory the init
        // may bind only exists once the scope started with the process, so
        // the join comes first there.
        let cgroup = undo.cgroup.as_ref().expect("set above");
        let join_first = !born_in_cgroup && cgroup.unified_path().is_some();
        if join_first {
            cgroup.add_process(pid)?;
            trace.phase("cgroup join");
        }
        channel.send(&Message::Go)?;
        if !born_in_cgroup && !join_first {
            cgroup.add_process(pid)?;
            trace.phase("cgroup join");
        }
        if unshare_cgroup_ns {
            channel.send(&Message::CgroupJoined)?;
        }
        self.follow_init(&plan, &dir, &channel, &mut undo, pid)?;

        let (_, start_time) = state::proc_stat(pid)
            .ok_or_else(|| Error::Container("the container's init exited during create".into()))?;
        dir.save(&created_record(record, &plan, pid, start_time))?;
        if let Some(path) = &options.pid_file {
            write_pid_file(path, pid)?;
        }
        trace.phase("record");
        undo.disarm();
        Ok(Created {
            pid,
            pidfd,
            relay: relay_end,
        })
    }

    /// Serves the init until it is ready: runs the runtime-side create hooks
    /// when it asks, and turns its failure report into the error. When a
    /// failure comes after the hooks started, the container is destroyed
    /// and the poststop hooks run (runtime.md, steps 3 to 5 and 12, 13).
    fn follow_init(
        &self,
        plan: &Plan,
        dir: &ContainerDir,
        channel: &Channel,
        undo: &mut Undo,
        pid: i32,
    ) -> Result<(), Error> {
        self.trace.phase("runtime side");
        let mut hooks_started = false;
        let result = self.serve_init(plan, dir.id(), channel, pid, &mut hooks_started);
        if result.is_err() && hooks_started {
            undo.undo_now();
            let state = state_with(dir.id(), plan, Status::Stopped, pid);
            self.run_poststop(&plan.hooks().poststop, &state);
        }
        result
    }

    fn serve_init(
        &self,
        plan: &Plan,
        id: &str,
        channel: &Channel,
        pid: i32,
        hooks_started: &mut bool,
    ) -> Result<(), Error> {
        loop {
            let (message, mut listener) = channel.recv_with_fd()?;
            match message {
                Message::RunCreateHooks => {
                    *hooks_started = true;
                    self.trace.reset();
                    let hooks = plan.hooks();
                    let state = json(&state_with(id, plan, Status::Creating, pid));
                    hooks::run_hooks("prestart", &hooks.prestart, state.as_bytes())?;
                    hooks::run_hooks("createRuntime", &hooks.create_runtime, state.as_bytes())?;
                    self.trace.phase("prestart and createRuntime hooks");
                    // The container-side hooks see the pid as the container does.
                    let inside = json(&state_with(id, plan, Status::Creating, pid_inside(pid)));
                    channel.send(&Message::HooksDone(inside))?;
                }
                Message::Listener => {
                    self.forward_listener(plan, id, pid, listener.take())?;
                }
                Message::Ready(lines) => {
                    self.trace.extend("init", &lines);
                    self.trace.reset();
                    return Ok(());
                }
                Message::Failed { message, .. } => return Err(Error::Container(message)),
                _ => return Err(crate::channel::ChannelError::Malformed.into()),
            }
        }
    }
}

impl Runtime {
    /// Hands the init's seccomp notify listener to the agent at the
    /// profile's `listenerPath` (config-linux.md); failing that fails create.
    fn forward_listener(
        &self,
        plan: &Plan,
        id: &str,
        pid: i32,
        fd: Option<OwnedFd>,
    ) -> Result<(), Error> {
        let (Some(filter), Some(fd)) = (&plan.seccomp, fd) else {
            return Err(crate::channel::ChannelError::Malformed.into());
        };
        let path = filter.listener_path().unwrap_or_default();
        let state = state_with(id, plan, Status::Creating, pid);
        let message = seccomp::listener_message(&state, filter.listener_metadata(), pid);
        seccomp::send_listener(path, &message, fd.as_fd())?;
        Ok(())
    }
}

/// With namespaces the init creates itself (a user namespace joined by
/// path): waits until they exist. When the init had to fork into a new pid
/// or time namespace, the process cloned exits, and its child, a child of
/// the runtime's too (`CLONE_PARENT`), is the init from then on.
fn wait_for_unshare(channel: &Channel, pid: i32, pidfd: OwnedFd) -> Result<(i32, OwnedFd), Error> {
    match channel.recv_with_fd()? {
        (Message::Unshared, None) => Ok((pid, pidfd)),
        (Message::Unshared, Some(init)) => {
            let _ = sys::process::wait_pid(pid, false);
            Ok((pid_of_pidfd(init.as_fd())?, init))
        }
        (Message::Failed { message, .. }, _) => Err(Error::Container(message)),
        _ => Err(crate::channel::ChannelError::Malformed.into()),
    }
}

/// The pid, in the runtime's pid namespace, of the process behind a pidfd
/// (the `Pid:` line of its fdinfo): the sender saw another number when it
/// was in a pid namespace joined by path.
fn pid_of_pidfd(pidfd: BorrowedFd<'_>) -> Result<i32, Error> {
    let path = format!("/proc/self/fdinfo/{}", pidfd.as_raw_fd());
    let text = std::fs::read_to_string(&path).map_err(Error::io(format!("read {path}")))?;
    text.lines()
        .find_map(|line| line.strip_prefix("Pid:"))
        .and_then(|pid| pid.trim().parse().ok())
        .filter(|&pid: &i32| pid > 0)
        .ok_or_else(|| Error::Container(format!("{path}: no pid of the container's init")))
}

/// Makes the runtime non-dumpable before it clones a process that runs its
/// code inside a container (the flag is inherited): no process of the
/// container without `CAP_SYS_PTRACE` can then open its `/proc/PID/exe`,
/// ptrace it or read its memory. `execve` of the container's program makes
/// the process dumpable again. (What such a process, or one with the
/// capability, reaches is a read-only mount of the binary: see
/// [`crate::protect`], CVE-2019-5736.)
pub(super) fn protect_runtime_binary() -> Result<(), Error> {
    sys::process::set_dumpable(false).map_err(Error::io("make the runtime non-dumpable"))
}

/// A terminal needs a console socket to hand its master to, and a console
/// socket without a terminal has nothing to receive (runc refuses both).
fn check_terminal(terminal: bool, console_socket: Option<&Path>) -> Result<(), Error> {
    match (terminal, console_socket) {
        (true, None) => Err(Error::Usage(
            "process.terminal is true: --console-socket is required to receive the terminal".into(),
        )),
        (false, Some(_)) => Err(Error::Usage(
            "--console-socket was given but process.terminal is false".into(),
        )),
        _ => Ok(()),
    }
}

fn connect_console(path: Option<&Path>) -> Result<Option<OwnedFd>, Error> {
    path.map(|path| {
        sys::socket::connect_unix(path).map_err(Error::io(format!(
            "connect to console socket {}",
            path.display()
        )))
    })
    .transpose()
}

fn views_of(cgroup: &Cgroup) -> Vec<CgroupView> {
    cgroup
        .views()
        .into_iter()
        .map(|view| CgroupView {
            dir_name: view.dir_name,
            fs_options: view.fs_options,
            host_path: view.host_path,
        })
        .collect()
}

/// The state document of the container being created, for its hooks.
fn state_with(id: &str, plan: &Plan, status: Status, pid: i32) -> State {
    State {
        oci_version: OCI_VERSION.to_string(),
        id: id.to_string(),
        status,
        pid: Some(pid),
        bundle: plan.bundle.to_string_lossy().into_owned(),
        annotations: plan.spec.annotations.clone(),
    }
}

fn json(state: &State) -> String {
    serde_json::to_string(state).expect("a state always serializes")
}

/// The pid of `pid` in its own (innermost) pid namespace: the last field of
/// `NSpid` in /proc/PID/status.
fn pid_inside(pid: i32) -> i32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("NSpid:"))
        .and_then(|ids| ids.split_whitespace().last()?.parse().ok())
        .unwrap_or(pid)
}

/// The record of a container being created: its cgroup and what `state`
/// and `list` show. The init and its process are recorded once it is ready.
fn creating_record(id: &str, plan: &Plan, cgroup: &Cgroup, options: &CreateOptions) -> Record {
    Record {
        id: id.to_string(),
        pid: 0,
        start_time: 0,
        bundle: plan.bundle.clone(),
        rootfs: plan.rootfs.root_path().to_path_buf(),
        created: state::now_rfc3339(),
        owner: owner_uid(),
        annotations: plan.spec.annotations.clone(),
        cgroup: cgroup.record(),
        hooks: plan.hooks(),
        process: Default::default(),
        seccomp: None,
        no_new_keyring: options.no_new_keyring,
        creating: true,
        personality: None,
        memory_policy: None,
    }
}

/// The record of the created container, whose init `pid` waits for start.
fn created_record(creating: Record, plan: &Plan, pid: i32, start_time: u64) -> Record {
    let linux = plan.spec.linux.as_ref();
    Record {
        pid,
        start_time,
        process: plan.spec.process.clone().unwrap_or_default(),
        seccomp: linux.and_then(|l| l.seccomp.clone()),
        personality: linux.and_then(|l| l.personality.clone()),
        memory_policy: linux.and_then(|l| l.memory_policy.clone()),
        creating: false,
        ..creating
    }
}

/// The uid of the caller (the owner of the state root it just wrote).
fn owner_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

/// Writes the pid file atomically, as engines poll for it.
pub(super) fn write_pid_file(path: &Path, pid: i32) -> Result<(), Error> {
    let tmp = path.with_extension("coracle-tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        write!(file, "{pid}")?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(Error::io(format!("write pid file {}", path.display())))
}
