//! What runs in the container before `execve`: the init of `create`, and
//! the process of `exec`. Both are clones of the runtime that carry out a
//! pre-validated plan, report a failing step with its errno over the
//! channel, and end in `execve` or `_exit`: they never return.

use crate::channel::{Channel, Message};
use crate::config::Plan;
use crate::hooks;
use crate::keyring::SessionKeyring;
use crate::namespaces::{Kind, NamespacePlan};
use crate::process::ProcessPlan;
use crate::procfs::Procfs;
use crate::rootfs::{CgroupView, MountEnv};
use crate::seccomp::SeccompPlan;
use crate::spec::ConsoleSize;
use crate::sys;
use crate::sys::process::Forked;
use crate::terminal::{self, Pty};
use crate::trace::Trace;
use std::error::Error as StdError;
use std::ffi::CString;
use std::fmt::Display;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// A failed step of the container side.
#[derive(Debug)]
struct StepError {
    errno: i32,
    message: String,
}

/// Wraps a module's error with the step it failed in.
fn step<E: StdError + 'static>(name: &'static str) -> impl FnOnce(E) -> StepError {
    move |err| StepError {
        errno: errno_of(&err),
        message: format!("{name}: {err}"),
    }
}

/// The errno of the first OS error in an error's chain, 0 if none.
fn errno_of(err: &(dyn StdError + 'static)) -> i32 {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(code) = err
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
        {
            return code;
        }
        current = err.source();
    }
    0
}

/// What the init gets from the runtime besides the plan.
pub struct InitArgs<'a> {
    /// The validated configuration.
    pub plan: &'a Plan,
    /// The init's end of the channel.
    pub channel: Channel,
    /// The start FIFO (`O_PATH`), reopened for writing once the init is
    /// ready.
    pub fifo: OwnedFd,
    /// The `--console-socket` connection, when the process has a terminal.
    pub console_socket: Option<OwnedFd>,
    /// The caller's descriptors that stay open (`--preserve-fds`,
    /// `LISTEN_FDS`).
    pub passed_fds: &'a [RawFd],
    /// The cgroup hierarchies the container's cgroup mount shows.
    pub cgroup_views: Vec<CgroupView>,
    /// The container's cgroup directory on a cgroup v2 host.
    pub cgroup2_dir: Option<std::path::PathBuf>,
    /// Whether the init creates its cgroup namespace itself, once the
    /// runtime has put it in its cgroup (cgroup v1: a namespace made at the
    /// clone would be rooted in the runtime's cgroup instead).
    pub unshare_cgroup_ns: bool,
    /// The `CLONE_NEW*` flags of the namespaces the init creates itself
    /// after joining a user namespace given by path (see
    /// [`NamespacePlan::unshare_flags`]); 0 otherwise.
    pub unshare_flags: i32,
    /// The session keyring to join, unless `--no-new-keyring`.
    pub session_keyring: Option<SessionKeyring>,
    /// The phase trace.
    pub trace: &'a Trace,
}

/// Runs the container's init; never returns.
pub fn run_init(args: InitArgs<'_>) -> ! {
    sys::process::restore_default_sigpipe();
    match prepare_init(&args) {
        Ok(ready) => wait_and_exec(&args, ready),
        Err(err) => {
            let _ = args.channel.send(&Message::Failed {
                errno: err.errno,
                message: err.message,
            });
            sys::process::exit_now(1)
        }
    }
}

/// What the init holds once it is ready for `start`.
struct Ready {
    /// The executable's path inside the container.
    exe: CString,
    /// The state document of the container-side hooks, when there are any.
    state: Option<String>,
    /// The init's own `/proc/self/fd` on the host's procfs, opened before
    /// the pivot: through it the FIFO is reopened for writing, which works
    /// whatever user the process has become and needs no /proc inside.
    own_fds: OwnedFd,
}

/// Everything up to waiting for `start`.
fn prepare_init(args: &InitArgs<'_>) -> Result<Ready, StepError> {
    let plan = args.plan;
    let trace = args.trace;
    // The runtime's lines so far came along with the clone: they are its to report.
    trace.take();
    trace.reset();
    if plan.namespaces.joined(Kind::User).is_some() {
        enter_user_namespace(args)?;
        trace.phase("join the user namespace and make the new ones in it");
    }
    args.channel
        .expect(&Message::Go)
        .map_err(step("wait for the runtime"))?;
    trace.phase("wait for id maps");
    plan.namespaces.join().map_err(step("join namespaces"))?;
    if plan.namespaces.has(Kind::User) {
        become_namespace_root()?;
    }
    trace.phase("join namespaces");
    if let Some(keyring) = &args.session_keyring {
        keyring
            .join_new(plan.namespaces.has(Kind::User))
            .map_err(step("session keyring"))?;
        trace.phase("session keyring");
    }
    if args.unshare_cgroup_ns {
        args.channel
            .expect(&Message::CgroupJoined)
            .map_err(step("wait for the cgroup"))?;
        sys::process::unshare(libc::CLONE_NEWCGROUP)
            .map_err(step("create the cgroup namespace"))?;
        trace.phase("cgroup namespace");
    }
    let env = MountEnv {
        cgroup2_dir: args.cgroup2_dir.as_deref(),
        cgroup_views: &args.cgroup_views,
        cgroup_ns: plan.namespaces.has(Kind::Cgroup),
    };
    plan.rootfs.mount_all(&env).map_err(step("mounts"))?;
    // As runc: a missing cwd is made, while the root is still writable.
    plan.rootfs
        .make_dir(&plan.process.cwd)
        .map_err(step("process.cwd"))?;
    trace.phase("mounts");
    let pty = match &args.console_socket {
        Some(socket) => Some(open_console(plan, socket.as_fd())?),
        None => None,
    };
    configure_namespaces(&plan.namespaces)?;
    trace.phase("hostname and sysctl");
    let state_json = exchange_create_hooks(plan, &args.channel)?;
    if let Some(state) = &state_json {
        let list = &plan
            .spec
            .hooks
            .as_ref()
            .map(|h| h.create_container.as_slice())
            .unwrap_or_default();
        hooks::run_hooks("createContainer", list, state.as_bytes())
            .map_err(step("createContainer hooks"))?;
        trace.phase("createContainer hooks");
    }
    let own_fds = sys::fs::openat(None, c"/proc/self/fd", libc::O_PATH | libc::O_DIRECTORY, 0)
        .map_err(step("open /proc/self/fd"))?;
    plan.rootfs.enter().map_err(step("pivot_root"))?;
    trace.phase("pivot and masked paths");
    let exe = become_process(
        &plan.process,
        pty.as_ref(),
        args.passed_fds,
        plan.seccomp.as_ref(),
        &args.channel,
    )?;
    trace.phase("process");
    args.channel
        .send(&Message::Ready(trace.joined()))
        .map_err(step("report ready"))?;
    Ok(Ready {
        exe,
        state: state_json,
        own_fds,
    })
}

/// Joins a user namespace given by path, first of all, and creates the new
/// namespaces from inside it (see [`NamespacePlan::unshare_flags`]). A new
/// pid or time namespace takes in only the caller's children: the init
/// forks then (the one case of a second fork), the child goes on as the
/// init, a sibling the runtime waits for (`CLONE_PARENT`), and the parent
/// hands the child's pidfd to the runtime and exits.
fn enter_user_namespace(args: &InitArgs<'_>) -> Result<(), StepError> {
    args.plan
        .namespaces
        .join_user()
        .map_err(step("join namespaces"))?;
    if args.unshare_flags == 0 {
        return Ok(());
    }
    sys::process::unshare(args.unshare_flags)
        .map_err(step("create the namespaces in the joined user namespace"))?;
    let report = step("report the new namespaces");
    if args.unshare_flags & (libc::CLONE_NEWPID | libc::CLONE_NEWTIME) == 0 {
        return args.channel.send(&Message::Unshared).map_err(report);
    }
    let forked = sys::process::clone_process(libc::CLONE_PARENT as u64, None, true)
        .map_err(step("fork into the new pid and time namespaces"))?;
    let Forked::Parent { pidfd, .. } = forked else {
        return Ok(());
    };
    let pidfd = pidfd.expect("clone was asked for a pidfd");
    if let Err(err) = args.channel.send_fd(&Message::Unshared, pidfd.as_fd()) {
        // The child would wait for the runtime, which waits for this report.
        let _ = sys::process::pidfd_send_signal(pidfd.as_fd(), libc::SIGKILL);
        return Err(report(err));
    }
    sys::process::exit_now(0)
}

/// In a user namespace of its own, the init acts as the namespace's root
/// (files it creates while mounting must belong to a mapped id).
fn become_namespace_root() -> Result<(), StepError> {
    sys::process::setresgid(0)
        .map_err(step("become root of the user namespace (gid 0 mapped?)"))?;
    sys::process::setresuid(0).map_err(step("become root of the user namespace (uid 0 mapped?)"))
}

/// Opens the container's pty, hands its master to the console socket and
/// keeps the peer, which becomes the process's terminal.
fn open_console(plan: &Plan, socket: BorrowedFd<'_>) -> Result<Pty, StepError> {
    let ptmx = plan
        .rootfs
        .open_in_root("dev/ptmx", libc::O_RDWR | libc::O_NOCTTY)
        .map_err(step("open /dev/ptmx"))?;
    let pty = terminal::open_pty(ptmx).map_err(step("terminal"))?;
    set_console_size(pty.master.as_fd(), plan.process.console_size)?;
    terminal::send_master(socket, &pty.master).map_err(step("console socket"))?;
    plan.rootfs
        .bind_console(pty.peer.as_fd())
        .map_err(step("mount /dev/console"))?;
    Ok(pty)
}

fn set_console_size(master: BorrowedFd<'_>, size: Option<ConsoleSize>) -> Result<(), StepError> {
    match size {
        Some(size) => terminal::set_size(master, size).map_err(step("console size")),
        None => Ok(()),
    }
}

fn configure_namespaces(namespaces: &NamespacePlan) -> Result<(), StepError> {
    let procfs = if namespaces.needs_procfs() {
        Some(Procfs::open_private().map_err(step("open procfs"))?)
    } else {
        None
    };
    namespaces
        .configure(procfs.as_ref())
        .map_err(step("namespaces"))
}

/// Lets the runtime run `prestart`/`createRuntime` hooks at the point the
/// spec puts them; returns the state document for the container-side hooks.
/// Without hooks there is no round trip.
fn exchange_create_hooks(plan: &Plan, channel: &Channel) -> Result<Option<String>, StepError> {
    let Some(hooks) = &plan.spec.hooks else {
        return Ok(None);
    };
    if hooks.prestart.is_empty()
        && hooks.create_runtime.is_empty()
        && hooks.create_container.is_empty()
        && hooks.start_container.is_empty()
    {
        return Ok(None);
    }
    channel
        .send(&Message::RunCreateHooks)
        .map_err(step("hooks"))?;
    match channel.recv().map_err(step("hooks"))? {
        Message::HooksDone(state) => Ok(Some(state)),
        _ => Err(StepError {
            errno: 0,
            message: "hooks: the runtime did not run the createRuntime hooks".into(),
        }),
    }
}

/// The last steps before `execve`, shared by the init and `exec`: limits,
/// the cwd (as root; again as the user if root was refused) and the
/// executable found from it, the terminal, scheduling, personality and memory
/// policy, security labels, the identity, the descriptors, and
/// the seccomp filter when it cannot wait until just before `execve`.
/// A filter's notify listener is sent to the runtime over `channel`.
fn become_process(
    process: &ProcessPlan,
    pty: Option<&Pty>,
    passed_fds: &[RawFd],
    seccomp: Option<&SeccompPlan>,
    channel: &Channel,
) -> Result<CString, StepError> {
    process.apply_rlimits().map_err(step("rlimits"))?;
    // The cwd first, as root, who may enter what the user may not; a
    // relative executable is then found from there.
    let exe = match process.enter_cwd() {
        Ok(()) => Some(find_executable(process)?),
        Err(err) if matches!(err.errno(), libc::EACCES | libc::EPERM) => None,
        Err(err) => return Err(step("cwd")(err)),
    };
    if let Some(pty) = pty {
        terminal::become_controlling(&pty.peer).map_err(step("terminal"))?;
    }
    process.apply_scheduling().map_err(step("scheduling"))?;
    process
        .apply_linux_attributes()
        .map_err(step("personality and memory policy"))?;
    if !process.lsm.is_empty() {
        let procfs = Procfs::open_private().map_err(step("open procfs"))?;
        process
            .lsm
            .apply(&procfs)
            .map_err(step("security labels"))?;
    }
    let at = seccomp.map(|filter| (filter, seccomp_point(filter, process)));
    if let Some((filter, SeccompAt::BeforeUser)) = at {
        install_seccomp(filter, channel)?;
    }
    process
        .become_user()
        .map_err(step("user and capabilities"))?;
    if let Some((filter, SeccompAt::AfterUser)) = at {
        install_seccomp(filter, channel)?;
    }
    let exe = match exe {
        Some(exe) => exe,
        // Some filesystems (NFS with root squashing) let in the user only.
        None => {
            process.enter_cwd().map_err(step("cwd"))?;
            find_executable(process)?
        }
    };
    keep_only_passed_fds(passed_fds)?;
    Ok(exe)
}

fn find_executable(process: &ProcessPlan) -> Result<CString, StepError> {
    process
        .resolve_executable()
        .map_err(step("find the executable"))
}

/// When the seccomp filter goes in: as late as possible, so that the
/// runtime's own work is not filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeccompAt {
    /// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: before
    /// the capabilities are dropped.
    BeforeUser,
    /// A notify listener must reach the runtime before `create` returns.
    AfterUser,
    /// Otherwise right before `execve`.
    BeforeExec,
}

fn seccomp_point(filter: &SeccompPlan, process: &ProcessPlan) -> SeccompAt {
    if !process.no_new_privileges {
        SeccompAt::BeforeUser
    } else if filter.needs_listener() {
        SeccompAt::AfterUser
    } else {
        SeccompAt::BeforeExec
    }
}

/// Installs the filter; a notify listener goes to the runtime. Until it
/// has it, any call the filter notifies waits for an agent that has not
/// got the listener yet: the one call between install and hand-over is the
/// `sendmsg` carrying it, which is why only `sendmsg` may not be notified
/// (as runc refuses `write`, its own hand-over call).
fn install_seccomp(filter: &SeccompPlan, channel: &Channel) -> Result<(), StepError> {
    if let Some(listener) = filter.install().map_err(step("seccomp"))? {
        channel
            .send_listener(listener.as_fd())
            .map_err(step("seccomp listener"))?;
    }
    Ok(())
}

/// Installs the filter that waited for the moment before `execve`.
fn install_seccomp_last(
    filter: Option<&SeccompPlan>,
    process: &ProcessPlan,
) -> Result<(), StepError> {
    match filter {
        Some(filter) if seccomp_point(filter, process) == SeccompAt::BeforeExec => {
            filter.install().map(drop).map_err(step("seccomp"))
        }
        _ => Ok(()),
    }
}

/// No descriptor of the runtime reaches the container: every one above
/// stdio is marked close-on-exec but those the caller passed.
fn keep_only_passed_fds(passed_fds: &[RawFd]) -> Result<(), StepError> {
    sys::fs::cloexec_from(3).map_err(step("close descriptors"))?;
    for &fd in passed_fds {
        sys::fs::clear_cloexec(fd).map_err(step("preserve descriptors"))?;
    }
    Ok(())
}

/// Blocks on the start FIFO until `start`, runs the `startContainer` hooks
/// and executes the process. What goes wrong from here is written to the
/// FIFO, where `start` reads it.
fn wait_and_exec(args: &InitArgs<'_>, ready: Ready) -> ! {
    let name = CString::new(args.fifo.as_raw_fd().to_string()).expect("digits");
    let fifo = match sys::fs::openat(Some(ready.own_fds.as_fd()), &name, libc::O_WRONLY, 0) {
        Ok(fifo) => fifo,
        Err(_) => sys::process::exit_now(1),
    };
    drop(ready.own_fds);
    let (exe, state) = (ready.exe, ready.state);
    let fail = |message: &dyn Display, code: i32| -> ! {
        let _ = sys::fs::write_all(fifo.as_fd(), format!("E{message}").as_bytes());
        sys::process::exit_now(code)
    };
    if let (Some(hooks), Some(state)) = (&args.plan.spec.hooks, state) {
        // The runtime's compact JSON said "creating"; the container exists now.
        let state = state.replacen("\"status\":\"creating\"", "\"status\":\"created\"", 1);
        if let Err(err) =
            hooks::run_hooks("startContainer", &hooks.start_container, state.as_bytes())
        {
            fail(&err, 1);
        }
    }
    if sys::fs::write_all(fifo.as_fd(), b"S").is_err() {
        sys::process::exit_now(1);
    }
    if let Err(err) = install_seccomp_last(args.plan.seccomp.as_ref(), &args.plan.process) {
        fail(&err.message, 1);
    }
    let err = args.plan.process.exec(&exe);
    fail(&err, 127)
}

/// What an `exec`'d process gets from the runtime.
pub struct ExecArgs<'a> {
    /// The process to become.
    pub process: &'a ProcessPlan,
    /// The child's end of the channel.
    pub channel: Channel,
    /// A pidfd of the container's init, whose namespaces are joined.
    pub init: BorrowedFd<'a>,
    /// The `CLONE_NEW*` flags of the init's namespaces that differ from
    /// the runtime's (the pid namespace was entered by the runtime).
    pub namespaces: i32,
    /// The `--console-socket` connection, with `--tty`.
    pub console_socket: Option<OwnedFd>,
    /// The caller's descriptors that stay open (`--preserve-fds`).
    pub passed_fds: &'a [RawFd],
    /// The container's seccomp filter.
    pub seccomp: Option<&'a SeccompPlan>,
    /// The container's session keyring, unless it was created with
    /// `--no-new-keyring`.
    pub session_keyring: Option<SessionKeyring>,
}

/// Runs an `exec`'d process in the container; never returns.
pub fn run_exec(args: ExecArgs<'_>) -> ! {
    sys::process::restore_default_sigpipe();
    let err = match prepare_exec(&args) {
        Ok(exe) => {
            let err = args.process.exec(&exe);
            StepError {
                errno: err_errno(&err),
                message: format!("exec: {err}"),
            }
        }
        Err(err) => err,
    };
    let _ = args.channel.send(&Message::Failed {
        errno: err.errno,
        message: err.message,
    });
    sys::process::exit_now(if err.errno == libc::ENOENT { 127 } else { 1 })
}

fn err_errno<E: StdError + 'static>(err: &E) -> i32 {
    errno_of(err)
}

fn prepare_exec(args: &ExecArgs<'_>) -> Result<CString, StepError> {
    args.channel
        .expect(&Message::Go)
        .map_err(step("wait for the runtime"))?;
    if args.namespaces != 0 {
        sys::process::setns(args.init, args.namespaces)
            .map_err(step("join the container's namespaces"))?;
    }
    if let Some(keyring) = &args.session_keyring {
        keyring.join().map_err(step("session keyring"))?;
    }
    let pty = match &args.console_socket {
        Some(socket) => Some(open_exec_console(args.process, socket.as_fd())?),
        None => None,
    };
    let exe = become_process(
        args.process,
        pty.as_ref(),
        args.passed_fds,
        args.seccomp,
        &args.channel,
    )?;
    args.process
        .apply_final_affinity()
        .map_err(step("CPU affinity"))?;
    install_seccomp_last(args.seccomp, args.process)?;
    Ok(exe)
}

/// The pty of an `exec --tty`: from the container's /dev/ptmx, which is
/// the caller's /dev/ptmx once it joined the mount namespace.
fn open_exec_console(process: &ProcessPlan, socket: BorrowedFd<'_>) -> Result<Pty, StepError> {
    let path = CString::new("/dev/ptmx").expect("no NUL");
    let ptmx = sys::fs::openat(None, &path, libc::O_RDWR | libc::O_NOCTTY, 0)
        .map_err(step("open /dev/ptmx"))?;
    let pty = terminal::open_pty(ptmx).map_err(step("terminal"))?;
    set_console_size(pty.master.as_fd(), process.console_size)?;
    terminal::send_master(socket, &pty.master).map_err(step("console socket"))?;
    Ok(pty)
}
