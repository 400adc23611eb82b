//! The state root: what a create killed midway leaves and how it is
//! removed, the status read from the init's liveness (pid reuse, zombies),
//! and the per-container lock that serializes commands.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A bundle whose createRuntime hook saves the state it gets on stdin to
/// `dir/state.json`, its pid to `dir/hook.pid`, then sleeps: a create of it
/// blocks in the hook.
fn bundle_blocking_in_a_hook(t: &Test, dir: &Path, cgroup: &str) -> Bundle {
    let mut b = t.bundle(&["true"]);
    let d = dir.display();
    let script = format!(
        "cat > {d}/state.json; echo $$ > {d}/pid.tmp && mv {d}/pid.tmp {d}/hook.pid; exec sleep 1000"
    );
    b.config["hooks"] =
        json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]});
    b.config["linux"]["cgroupsPath"] = json!(cgroup);
    b.save();
    b
}

/// A `create` blocked in the hook of [`bundle_blocking_in_a_hook`]: killed,
/// with the hook, when dropped, should the test fail before it does.
struct BlockedCreate {
    create: std::process::Child,
    hook_pid_file: std::path::PathBuf,
}

impl BlockedCreate {
    /// Kills the create (SIGKILL) and the hook's sleep: both were started
    /// by this test, and the hook is a child of ours once the create died.
    fn kill(&mut self) {
        let _ = self.create.kill();
        let _ = self.create.wait();
        if let Ok(pid) = read(&self.hook_pid_file).trim().parse::<i32>() {
            // SAFETY: kill of a pid read from the hook's own file.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            reap(pid);
        }
    }
}

impl Drop for BlockedCreate {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The host directories of cgroup path `cgroup`, in every hierarchy.
fn cgroup_dirs_of(cgroup: &str) -> Vec<std::path::PathBuf> {
    cgroup_mounts()
        .into_iter()
        .map(|(_, mount)| mount.join(cgroup.trim_start_matches('/')))
        .filter(|dir| dir.exists())
        .collect()
}

/// A create killed (SIGKILL) while its createRuntime hook runs has its
/// record already: `state` and `list` show it as creating, with its
/// bundle, and `delete --force`, or a plain `delete` (the create is gone),
/// removes everything: the state directory, the cgroup, the init.
#[test]
fn create_killed_in_a_hook_is_deleted_entirely() {
    let t = Test::new();
    if skip_unless_coracle("the record of a create killed midway") {
        return;
    }
    for delete in [&["delete", "--force"][..], &["delete"]] {
        let dir = t.host_dir(&t.unique("hook"));
        let cgroup = t.cgroup_path();
        let b = bundle_blocking_in_a_hook(&t, &dir, &cgroup);
        let id = t.id();
        let mut cmd = t.command();
        cmd.args(["create", "--bundle"]).arg(&b.dir).arg(&id);
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut create = BlockedCreate {
            create: cmd.spawn().unwrap(),
            hook_pid_file: dir.join("hook.pid"),
        };
        wait_for_file(&create.hook_pid_file);

        let state: Value = serde_json::from_str(&t.rt(&["state", &id]).ok().stdout).unwrap();
        assert_eq!(state["status"], "creating", "{state}");
        assert_eq!(state["bundle"], b.dir.to_str().unwrap(), "{state}");
        let list = t.rt(&["list"]).ok().stdout;
        let row = list.lines().find(|l| l.starts_with(&format!("{id} ")));
        assert!(row.is_some_and(|r| r.contains("creating")), "{list}");
        assert!(!cgroup_dirs_of(&cgroup).is_empty(), "no cgroup made yet");

        create.kill();
        // The init was the create's child: ours now.
        let init = serde_json::from_str::<Value>(&read(&dir.join("state.json"))).unwrap()["pid"]
            .as_i64()
            .unwrap() as i32;

        let mut args = delete.to_vec();
        args.push(&id);
        t.rt(&args).ok();
        reap(init);
        assert!(!t.root.join(&id).exists(), "state directory left");
        assert_eq!(cgroup_dirs_of(&cgroup), Vec::<std::path::PathBuf>::new());
        assert!(!pid_alive(init), "the init {init} survived");
    }
}

/// The state letter of `pid` (`R`, `S`, `Z`…), from /proc/PID/stat.
fn proc_state(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 2..].chars().next()
}

/// A zombie init (exited, not reaped: its parent, this subreaper, waits
/// for the harness) is a stopped container. The init is seen as a zombie
/// before and after the status is read, so the test cannot pass on an
/// init that is simply gone.
#[test]
fn zombie_init_is_stopped() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let c = t.create(&b);
    c.start();
    let end = std::time::Instant::now() + DEADLINE;
    while proc_state(c.pid) != Some('Z') {
        assert!(
            std::time::Instant::now() < end,
            "init {} never became a zombie: {:?}",
            c.pid,
            proc_state(c.pid)
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let state = c.state();
    assert_eq!(state["status"], "stopped", "{state}");
    assert_eq!(state["pid"], 0, "{state}");
    let list = t.rt(&["list"]).ok().stdout;
    let row = list.lines().find(|l| l.starts_with(&format!("{} ", c.id)));
    assert!(row.is_some_and(|r| r.contains(" stopped ")), "{list}");
    assert_eq!(proc_state(c.pid), Some('Z'), "reaped while the test ran");
    c.delete();
}

/// The record's pid alive but another process (its start time is not the
/// recorded one): the container reads as stopped, and nothing signals
/// that process; delete removes the container (its real init, still in
/// the cgroup, with it) and leaves the stranger alone.
#[test]
fn a_reused_pid_is_not_the_container() {
    let t = Test::new();
    if skip_unless_coracle("editing coracle's state record") {
        return;
    }
    let b = t.bundle(&["true"]);
    let c = t.create(&b);
    let record_path = t.root.join(&c.id).join("state.json");
    let mut record: Value = serde_json::from_str(&read(&record_path)).unwrap();
    // Start times count clock ticks: a process started in the init's tick
    // would pass for it (as in runc); a real reuse of the pid cannot come
    // that soon. Take a stranger of a later tick (bounded: a tick is 10 ms).
    let init_start = record["start_time"].as_u64().expect("start_time recorded");
    let stranger = loop {
        let child = Stranger::spawn();
        if start_time_of(child.pid()) != init_start {
            break child;
        }
    };
    record["pid"] = json!(stranger.pid());
    fs::write(&record_path, record.to_string()).unwrap();

    let state = c.state();
    assert_eq!(state["status"], "stopped", "{state}");
    assert_eq!(state["pid"], 0, "{state}");
    c.rt(&["kill"], &["KILL"]).fails_with(&format!(
        "coracle kill: container {} is stopped: there is no process to signal",
        c.id
    ));
    c.rt(&["start"], &[]).fails_with(&format!(
        "coracle start: container {} is stopped: only a created container can be started",
        c.id
    ));
    assert!(
        pid_alive(stranger.pid() as i32),
        "kill or start reached the process that took the pid"
    );
    c.delete();
}

/// A process of the test's own, killed and reaped when dropped (also when
/// an assertion fails).
struct Stranger(std::process::Child);

impl Stranger {
    fn spawn() -> Stranger {
        Stranger(
            std::process::Command::new("sleep")
                .arg("1000")
                .spawn()
                .unwrap(),
        )
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Field 22 of /proc/PID/stat: when the process started, in clock ticks.
fn start_time_of(pid: u32) -> u64 {
    let stat = read(Path::new(&format!("/proc/{pid}/stat")));
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    after_comm.split(' ').nth(19).unwrap().parse().unwrap()
}

/// Commands on one container serialize on a lock of its state directory
/// (flock): while the test holds it, `start` waits for it (seen in
/// /proc/locks) and does nothing; once it is released, `start` proceeds.
#[test]
fn commands_on_one_container_wait_for_its_lock() {
    let t = Test::new();
    if skip_unless_coracle("the per-container lock") {
        return;
    }
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo ran > /out/ran; exec sleep 1000");
    let c = t.create(&b);
    let dir = fs::File::open(t.root.join(&c.id)).unwrap();
    // SAFETY: flock on a descriptor this test owns.
    assert_eq!(unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX) }, 0);

    let mut cmd = t.command();
    cmd.args(["start", &c.id])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut start = cmd.spawn().unwrap();
    let waiter = format!(" {} ", start.id());
    let end = std::time::Instant::now() + DEADLINE;
    while !read(Path::new("/proc/locks"))
        .lines()
        .any(|l| l.contains("-> FLOCK") && l.contains(&waiter))
    {
        assert!(
            std::time::Instant::now() < end,
            "start never waited for the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert_eq!(c.status(), "created");
    assert!(start.try_wait().unwrap().is_none(), "start did not wait");

    drop(dir);
    assert!(wait_child(&mut start, "start").success());
    wait_for_file(&out.join("ran"));
    assert_eq!(c.status(), "running");
}
