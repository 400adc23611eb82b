//! The descriptors a container's process inherits beyond stdio:
//! `--preserve-fds N` and socket activation (`LISTEN_FDS`, honoured only
//! when `LISTEN_PID` is the runtime's own pid), in `run` and `exec`. Only
//! what the caller really passed may arrive, never a descriptor of the
//! runtime's own that took a number the caller left free. Each test lists
//! the descriptors from inside the container.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::fs;
use std::os::fd::AsRawFd;
use std::process::Command;

/// A shell line printing the shell's descriptors (`ls -l` reads each link)
/// and the activation variables: `ls` lists the shell's directory from a
/// process of its own, so that nothing of the listing itself shows up.
const LIST_FDS: &str = "ls -l /proc/$$/fd; echo \"LISTEN=$LISTEN_FDS/$LISTEN_PID\"";

/// The listing of [`LIST_FDS`]: descriptor → target, and the `LISTEN=` line.
fn listing(stdout: &str) -> (BTreeMap<i32, String>, String) {
    let fds = stdout
        .lines()
        .filter_map(|line| {
            let (left, target) = line.split_once(" -> ")?;
            let fd = left.split_whitespace().last()?.parse().ok()?;
            Some((fd, target.to_string()))
        })
        .collect();
    let listen = stdout
        .lines()
        .find_map(|l| l.strip_prefix("LISTEN="))
        .unwrap_or_else(|| panic!("no LISTEN line in {stdout:?}"))
        .to_string();
    (fds, listen)
}

/// The descriptors above stdio in a listing.
fn above_stdio(fds: &BTreeMap<i32, String>) -> BTreeMap<i32, String> {
    fds.iter()
        .filter(|(fd, _)| **fd > 2)
        .map(|(fd, target)| (*fd, target.clone()))
        .collect()
}

/// A file of the test's own, to pass as a descriptor; its path is what
/// the container's listing shows for it.
fn file(t: &Test, name: &str) -> (fs::File, String) {
    let path = t.dir.join(name);
    let file = fs::File::create(&path).unwrap();
    (file, path.to_string_lossy().into_owned())
}

/// The runtime with this test's `--root`, started through a shell that
/// sets `LISTEN_PID` to the pid the runtime will have (the shell's, which
/// `exec` keeps), as systemd does.
fn activated(t: &Test, listen_fds: &str) -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "LISTEN_PID=$$ exec \"$@\"", "sh"])
        .arg(runtime())
        .arg("--root")
        .arg(&t.root)
        .env("LISTEN_FDS", listen_fds)
        .stdin(std::process::Stdio::null());
    cmd
}

/// `run` of a bundle printing [`LIST_FDS`], with `cmd` (the runtime and
/// its global flags) and the descriptors `fds` (fd, number in the runtime).
fn run_listing(t: &Test, mut cmd: Command, extra: &[&str], fds: &[(i32, i32)]) -> Out {
    let mut b = t.bundle(&[]);
    b.sh(LIST_FDS);
    b.save();
    let id = t.id();
    cmd.arg("run")
        .args(extra)
        .arg("--bundle")
        .arg(&b.dir)
        .arg(&id);
    let _keep = pass_fds(&mut cmd, fds);
    let out = t.output(cmd).ok();
    t.assert_no_container(&id);
    out
}

/// `--preserve-fds 3` when the caller holds only fd 3: fds 4 and 5 are
/// free in the runtime, where its own descriptors (the rootfs, the start
/// FIFO) land; none of them reaches the container (runc leaks its own).
#[test]
fn preserve_fds_passes_only_what_the_caller_holds() {
    let t = Test::new();
    if skip_unless_coracle("keeping the runtime's own descriptors out of a gap") {
        return;
    }
    let (f3, p3) = file(&t, "fd3");
    let out = run_listing(
        &t,
        t.command(),
        &["--preserve-fds", "3"],
        &[(f3.as_raw_fd(), 3)],
    );
    let (fds, _) = listing(&out.stdout);
    assert_eq!(above_stdio(&fds), BTreeMap::from([(3, p3)]), "{out}");
}

/// `LISTEN_FDS=2` with `LISTEN_PID` the runtime's pid: fds 3 and 4 go on,
/// and the process learns of them as runc tells it (`LISTEN_FDS=2`,
/// `LISTEN_PID=1`).
#[test]
fn listen_fds_of_the_runtimes_own_pid_are_passed() {
    let t = Test::new();
    let (f3, p3) = file(&t, "fd3");
    let (f4, p4) = file(&t, "fd4");
    let fds = [(f3.as_raw_fd(), 3), (f4.as_raw_fd(), 4)];
    let out = run_listing(&t, activated(&t, "2"), &[], &fds);
    let (listed, listen) = listing(&out.stdout);
    assert_eq!(above_stdio(&listed), BTreeMap::from([(3, p3), (4, p4)]));
    assert_eq!(listen, "2/1", "{out}");
}

/// `LISTEN_FDS` meant for another process (`LISTEN_PID` not the runtime's,
/// or none) passes nothing and tells the container nothing, as with runc.
#[test]
fn listen_fds_of_another_pid_are_ignored() {
    let t = Test::new();
    let (f3, _) = file(&t, "fd3");
    for pid in [Some("1"), None] {
        let mut cmd = t.command();
        cmd.env("LISTEN_FDS", "1").env_remove("LISTEN_PID");
        if let Some(pid) = pid {
            cmd.env("LISTEN_PID", pid);
        }
        let out = run_listing(&t, cmd, &[], &[(f3.as_raw_fd(), 3)]);
        let (listed, listen) = listing(&out.stdout);
        assert_eq!(above_stdio(&listed), BTreeMap::new(), "{pid:?}: {out}");
        assert_eq!(listen, "/", "{pid:?}: {out}");
    }
}

/// `LISTEN_FDS=1` for the runtime without fd 3: the container is told of
/// one descriptor (as runc tells it) but gets none of the runtime's.
#[test]
fn listen_fds_not_held_pass_nothing_of_the_runtime() {
    let t = Test::new();
    if skip_unless_coracle("keeping the runtime's own descriptors out of a gap") {
        return;
    }
    let mut cmd = activated(&t, "1");
    let log = t.dir.join("log");
    // A log file opened at start-up would take fd 3 too.
    cmd.arg("--log").arg(&log);
    let out = run_listing(&t, cmd, &[], &[]);
    let (listed, listen) = listing(&out.stdout);
    assert_eq!(above_stdio(&listed), BTreeMap::new(), "{out}");
    assert_eq!(listen, "1/1", "{out}");
}

/// A running container to exec into.
fn running(t: &Test) -> Container<'_> {
    let b = t.bundle(&["sleep", "1000"]);
    let c = t.create(&b);
    c.start();
    c
}

/// `exec --preserve-fds 2` when the caller holds only fd 3: fd 3 arrives,
/// nothing of the runtime's takes fd 4.
#[test]
fn exec_preserve_fds_passes_only_what_the_caller_holds() {
    let t = Test::new();
    if skip_unless_coracle("keeping the runtime's own descriptors out of a gap") {
        return;
    }
    let c = running(&t);
    let (f3, p3) = file(&t, "fd3");
    let mut cmd = t.command();
    cmd.args(["exec", "--preserve-fds", "2", &c.id, "sh", "-c", LIST_FDS]);
    let _keep = pass_fds(&mut cmd, &[(f3.as_raw_fd(), 3)]);
    let out = t.output(cmd).ok();
    let (listed, _) = listing(&out.stdout);
    assert_eq!(above_stdio(&listed), BTreeMap::from([(3, p3)]), "{out}");
}

/// `exec` passes no `LISTEN_FDS` on, even for its own pid: runc's exec
/// does not either (only create and run take part in socket activation).
#[test]
fn exec_ignores_listen_fds() {
    let t = Test::new();
    let c = running(&t);
    let (f3, _) = file(&t, "fd3");
    let mut cmd = activated(&t, "1");
    cmd.args(["exec", &c.id, "sh", "-c", LIST_FDS]);
    let _keep = pass_fds(&mut cmd, &[(f3.as_raw_fd(), 3)]);
    let out = t.output(cmd).ok();
    let (listed, listen) = listing(&out.stdout);
    assert_eq!(above_stdio(&listed), BTreeMap::new(), "{out}");
    assert_eq!(listen, "/", "{out}");
}
