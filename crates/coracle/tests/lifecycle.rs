//! The lifecycle of runtime.md through the runc-compatible command line:
//! create/start/state/kill/delete, run, list, ps, --pid-file, the command
//! line forms engines use.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;

#[test]
fn create_start_stop_delete() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo started > /out/started; echo $$ > /out/pid; echo hello-stdout");
    b.config["annotations"] = json!({"org.coracle.test": "yes"});
    let c = t.create(&b);

    // created: the init exists, the user program has not run.
    let st = c.state();
    assert_eq!(st["status"], "created");
    assert_eq!(st["id"], c.id.as_str());
    assert!(
        st["ociVersion"].as_str().is_some_and(|v| !v.is_empty()),
        "{st}"
    );
    assert_eq!(st["bundle"], b.dir.to_str().unwrap());
    assert_eq!(st["annotations"]["org.coracle.test"], "yes");
    assert!(c.pid > 0 && pid_alive(c.pid), "init {} not alive", c.pid);
    assert!(!out.join("started").exists(), "process ran before start");

    c.start();
    c.wait_stopped();
    assert_eq!(read(&out.join("started")), "started\n");
    assert_eq!(
        read(&out.join("pid")),
        "1\n",
        "the process is pid 1 of its namespace"
    );
    assert_eq!(c.stdout(), "hello-stdout\n");
    let st = c.state();
    assert_eq!(st["status"], "stopped");
    assert!(!pid_alive(c.pid));

    let id = c.id.clone();
    c.delete();
    t.rt(&["state", &id]).fails();
    assert!(!t.root.join(&id).exists(), "state dir left");
}

#[test]
fn running_state_while_process_lives() {
    let t = Test::new();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["process"]["args"] = json!(["sleep", "1000"]);
    let c = t.create(&b);
    c.start();
    assert_eq!(c.status(), "running");
    assert_eq!(c.state()["pid"], c.pid);
    // /proc/PID/exe of a running container is the user program (busybox).
    let exe = fs::read_link(format!("/proc/{}/exe", c.pid)).unwrap();
    assert!(exe.to_string_lossy().ends_with("/bin/busybox"), "{exe:?}");
}

#[test]
fn start_twice_fails_and_runs_once() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo run >> /out/runs; exec sleep 1000");
    let c = t.create(&b);
    c.start();
    wait_for_file(&out.join("runs"));
    c.rt(&["start"], &[]).fails_with(&format!(
        "coracle start: container {} is running: only a created container can be started",
        c.id
    ));
    assert_eq!(
        c.status(),
        "running",
        "a failed start must not affect the container"
    );
    assert_eq!(read(&out.join("runs")), "run\n");
}

#[test]
fn start_of_stopped_container_fails() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let c = t.create(&b);
    c.start();
    c.wait_stopped();
    c.rt(&["start"], &[]).fails_with(&format!(
        "coracle start: container {} is stopped: only a created container can be started",
        c.id
    ));
    assert_eq!(c.status(), "stopped");
}

#[test]
fn delete_running_needs_force() {
    let t = Test::new();
    let b = t.bundle(&["sleep", "1000"]);
    let c = t.create(&b);
    c.start();
    c.rt(&["delete"], &[]).fails_with(&format!(
        "coracle delete: container {} is running: stop it first or delete it with --force",
        c.id
    ));
    assert_eq!(
        c.status(),
        "running",
        "a refused delete must not affect the container"
    );
    assert!(pid_alive(c.pid));
    let pid = c.pid;
    c.force_delete();
    assert!(!pid_alive(pid));
}

/// A plain `delete` of a created container kills its waiting init and
/// removes everything, as runc does: containerd's shim deletes a task that
/// was never started that way. (runtime.md would have it refused.)
#[test]
fn delete_of_created_container_kills_its_init() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo ran > /out/ran");
    let c = t.create(&b);
    let pid = c.pid;
    // Checks that the state and the cgroups are gone.
    c.delete();
    assert!(!pid_alive(pid), "the init of {pid} survived delete");
    assert!(
        !out.join("ran").exists(),
        "the process of a never-started container ran"
    );
}

#[test]
fn force_delete_of_created_container() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo ran > /out/ran");
    let c = t.create(&b);
    let pid = c.pid;
    c.force_delete();
    assert!(!pid_alive(pid));
    assert!(
        !out.join("ran").exists(),
        "the process of a never-started container ran"
    );
}

/// Starts a container whose init traps `signals`, writing the name of the
/// one received to /out/sig, then exiting; waits until the traps are set.
fn trapping_container<'t>(t: &'t Test, signals: &[&str]) -> (Container<'t>, std::path::PathBuf) {
    let mut b = t.bundle(&[]);
    let out = b.out_dir(t);
    let traps: String = signals
        .iter()
        .map(|s| format!("trap 'echo {s} > /out/sig; exit 0' {s}; "))
        .collect();
    // `wait` returns as soon as a trapped signal arrives.
    b.sh(&format!(
        "{traps} : > /out/ready; while :; do sleep 1000 & wait $!; done"
    ));
    let c = t.create(&b);
    c.start();
    wait_for_file(&out.join("ready"));
    (c, out)
}

#[test]
fn kill_default_signal_is_term() {
    let t = Test::new();
    let (c, out) = trapping_container(&t, &["TERM", "USR1"]);
    c.rt(&["kill"], &[]).ok();
    c.wait_stopped();
    assert_eq!(read(&out.join("sig")), "TERM\n");
}

#[test]
fn kill_named_signal() {
    let t = Test::new();
    let (c, out) = trapping_container(&t, &["TERM", "USR1", "USR2"]);
    c.rt(&["kill"], &["USR1"]).ok();
    c.wait_stopped();
    assert_eq!(read(&out.join("sig")), "USR1\n");

    let (c, out) = trapping_container(&t, &["TERM", "USR1", "USR2"]);
    c.rt(&["kill"], &["SIGUSR2"]).ok();
    c.wait_stopped();
    assert_eq!(read(&out.join("sig")), "USR2\n");
}

#[test]
fn kill_numeric_signal() {
    let t = Test::new();
    let (c, out) = trapping_container(&t, &["TERM", "USR1", "HUP"]);
    c.rt(&["kill"], &["1"]).ok();
    c.wait_stopped();
    assert_eq!(read(&out.join("sig")), "HUP\n");
}

#[test]
fn kill_stopped_container_fails() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let c = t.create(&b);
    c.start();
    c.wait_stopped();
    c.rt(&["kill"], &["KILL"]).fails_with(&format!(
        "coracle kill: container {} is stopped: there is no process to signal",
        c.id
    ));
    assert_eq!(c.status(), "stopped");
}

/// Signal 0 only checks that the init exists, as kill(2) and runc have it:
/// accepted for a live container, which goes on running; a stopped one
/// has no process to check.
#[test]
fn kill_zero_checks_the_init_exists() {
    let t = Test::new();
    let b = t.bundle(&["sleep", "1000"]);
    let c = t.create(&b);
    c.start();
    c.rt(&["kill"], &["0"]).ok();
    assert_eq!(c.status(), "running");
    c.rt(&["kill"], &["KILL"]).ok();
    c.wait_stopped();
    c.rt(&["kill"], &["0"]).fails_with(&format!(
        "coracle kill: container {} is stopped: there is no process to signal",
        c.id
    ));
}

#[test]
fn kill_created_container() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let c = t.create(&b);
    c.rt(&["kill"], &["KILL"]).ok();
    c.wait_stopped();
    assert!(!pid_alive(c.pid));
}

#[test]
fn run_passes_exit_code_through() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("echo out; echo err >&2; exit 3");
    let out = t.run(&b).code_is(3);
    assert_eq!(out.stdout, "out\n");
    assert!(out.stderr.contains("err"), "{out}");

    b.args(&["true"]);
    t.run(&b).code_is(0);
}

#[test]
fn run_reports_death_by_signal_as_128_plus_n() {
    let t = Test::new();
    // Without a pid namespace the shell is not a pid 1 and can die of a
    // signal it sends itself.
    let mut b = t.bundle(&[]);
    b.without_ns("pid");
    b.sh("kill -USR1 $$; sleep 1000");
    t.run(&b).code_is(128 + libc::SIGUSR1);
}

#[test]
fn run_killed_from_outside() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh(": > /out/ready; exec sleep 1000");
    b.save();
    let id = t.id();
    let mut cmd = t.command();
    cmd.args(["run", "--bundle"]).arg(&b.dir).arg(&id);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    wait_for_file(&out.join("ready"));
    t.rt(&["kill", &id, "KILL"]).ok();
    let status = wait_child(&mut child, "run");
    assert_eq!(status.code(), Some(128 + 9));
    t.assert_no_container(&id);
}

#[test]
fn run_detach() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo detached > /out/m; exec sleep 1000");
    b.save();
    let id = t.id();
    let res = t
        .rt(&["run", "--detach", "--bundle", b.dir.to_str().unwrap(), &id])
        .ok();
    let c = t.adopt(&id, &b, res);
    assert_eq!(c.status(), "running");
    wait_for_file(&out.join("m"));
    assert_eq!(read(&out.join("m")), "detached\n");
    c.force_delete();
}

/// `run --keep`: the exit code is passed through and the container stays,
/// stopped, with its cgroups, until `delete` removes both.
#[test]
fn run_keep_leaves_a_stopped_container_for_delete() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("exit 3");
    let cgroup = t.cgroup_path();
    b.config["linux"]["cgroupsPath"] = json!(cgroup);
    b.save();
    let id = t.id();
    let dir = b.dir.to_str().unwrap();
    let out = t.rt(&["run", "--keep", "--bundle", dir, &id]).code_is(3);
    let state: Value = serde_json::from_str(&t.rt(&["state", &id]).ok().stdout)
        .unwrap_or_else(|e| panic!("state after {out}: {e}"));
    assert_eq!(state["status"], "stopped", "{state}");
    assert_eq!(state["id"], id.as_str(), "{state}");
    let kept: Vec<_> = cgroup_mounts()
        .into_iter()
        .map(|(_, mnt)| mnt.join(cgroup.trim_start_matches('/')))
        .filter(|d| d.exists())
        .collect();
    assert!(!kept.is_empty(), "run --keep kept no cgroup {cgroup}");
    t.rt(&["delete", &id]).ok();
    t.assert_no_container(&id);
    let left = remove_cgroup_everywhere(&cgroup);
    assert!(left.is_empty(), "delete left cgroups: {left:?}");
}

#[test]
fn pid_file_holds_the_init_pid() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let pid_file = t.dir.join("ct.pid");
    let c = t
        .try_create(&b, &["--pid-file", pid_file.to_str().unwrap()])
        .unwrap_or_else(|o| panic!("{o}"));
    let text = fs::read_to_string(&pid_file).unwrap();
    assert_eq!(text.trim().parse::<i32>().unwrap(), c.pid);
    c.force_delete();
}

#[test]
fn list_table_json_and_quiet() {
    let t = Test::new();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["annotations"] = json!({"org.coracle.test": "listed"});
    let c1 = t.create(&b);
    let c2 = t.create(&b);
    c2.start();

    let table = t.rt(&["list"]).ok().stdout;
    let mut lines = table.lines();
    let header = lines.next().unwrap();
    for col in ["ID", "PID", "STATUS", "BUNDLE"] {
        assert!(header.contains(col), "{table}");
    }
    let row = |id: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .map(String::from)
    };
    let r1 = row(&c1.id).unwrap_or_else(|| panic!("{} not listed:\n{table}", c1.id));
    let r2 = row(&c2.id).unwrap_or_else(|| panic!("{} not listed:\n{table}", c2.id));
    assert!(
        r1.contains("created") && r1.contains(&c1.pid.to_string()),
        "{r1}"
    );
    assert!(
        r2.contains("running") && r2.contains(&c2.pid.to_string()),
        "{r2}"
    );
    assert!(r1.contains(b.dir.to_str().unwrap()), "{r1}");

    let json: Value =
        serde_json::from_str(&t.rt(&["list", "--format", "json"]).ok().stdout).unwrap();
    let arr = json.as_array().expect("list json is an array");
    assert_eq!(arr.len(), 2, "{json}");
    let e1 = arr.iter().find(|e| e["id"] == c1.id.as_str()).unwrap();
    assert_eq!(e1["status"], "created");
    assert_eq!(e1["pid"], c1.pid);
    assert_eq!(e1["bundle"], b.dir.to_str().unwrap());
    // runc's other fields.
    assert_eq!(e1["rootfs"], b.rootfs().to_str().unwrap(), "{e1}");
    assert_eq!(e1["annotations"]["org.coracle.test"], "listed", "{e1}");
    assert!(
        e1["ociVersion"].as_str().is_some_and(|v| !v.is_empty()),
        "{e1}"
    );
    assert!(
        e1["created"].as_str().is_some_and(|v| !v.is_empty()),
        "{e1}"
    );
    assert_eq!(e1["owner"], "root", "{e1}");
    let e2 = arr.iter().find(|e| e["id"] == c2.id.as_str()).unwrap();
    assert_eq!(e2["status"], "running");

    let quiet = t.rt(&["list", "-q"]).ok().stdout;
    let mut ids: Vec<&str> = quiet.lines().collect();
    ids.sort();
    let mut want = vec![c1.id.as_str(), c2.id.as_str()];
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn list_empty_root() {
    let t = Test::new();
    let out = t.rt(&["list", "--format", "json"]).ok();
    let v: Value = serde_json::from_str(out.stdout.trim()).unwrap_or(Value::Null);
    assert!(v.is_null() || v == json!([]), "{out}");
}

/// A started container whose init waits for one child sleeping; the
/// child's pid.
fn with_a_sleeping_child(t: &Test) -> (Container<'_>, i32) {
    let mut b = t.bundle(&[]);
    let out = b.out_dir(t);
    b.sh("sleep 1000 & : > /out/ready; wait");
    let c = t.create(&b);
    c.start();
    wait_for_file(&out.join("ready"));
    let kids = children_of(c.pid);
    assert_eq!(kids.len(), 1, "{kids:?}");
    let kid = kids[0];
    wait_for_comm(kid, "sleep");
    (c, kid)
}

#[test]
fn ps_json_lists_container_processes() {
    let t = Test::new();
    let (c, kid) = with_a_sleeping_child(&t);
    let v: Value =
        serde_json::from_str(&c.rt(&["ps", "--format", "json"], &[]).ok().stdout).unwrap();
    let pids: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_i64().unwrap())
        .collect();
    assert!(pids.contains(&(c.pid as i64)), "{pids:?}");
    assert!(pids.contains(&(kid as i64)), "{pids:?}");
}

/// `ps ID`: the header of `ps -ef` and exactly the rows of the init and
/// its child; `ps ID -o pid,comm` the same rows in the asked-for columns.
#[test]
fn ps_table_lists_exactly_the_container_processes() {
    let t = Test::new();
    let (c, kid) = with_a_sleeping_child(&t);
    let mut want = vec![c.pid, kid];
    want.sort();

    let (header, rows) = ps_table(&c, &[]);
    assert_eq!(
        header,
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        "{rows:?}"
    );
    let mut pids: Vec<i32> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
    pids.sort();
    assert_eq!(pids, want, "{rows:?}");
    let kid_row = rows.iter().find(|r| r[1] == kid.to_string()).unwrap();
    assert_eq!(kid_row[2], c.pid.to_string(), "the child's PPID: {rows:?}");
    assert_eq!(kid_row[7..], ["sleep", "1000"], "{rows:?}");

    let (header, mut rows) = ps_table(&c, &["-o", "pid,comm"]);
    assert_eq!(header, ["PID", "COMMAND"], "{rows:?}");
    rows.sort_by_key(|r| r[0].parse::<i32>().unwrap());
    let mut expected = vec![
        vec![c.pid.to_string(), "sh".to_string()],
        vec![kid.to_string(), "sleep".to_string()],
    ];
    expected.sort_by_key(|r| r[0].parse::<i32>().unwrap());
    assert_eq!(rows, expected);
}

/// `ps ID [ps options]`: the header's columns and each row's.
fn ps_table(c: &Container, options: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let table = c.rt(&["ps"], options).ok().stdout;
    let mut rows = table
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>());
    let header = rows.next().unwrap_or_default();
    (header, rows.collect())
}

#[test]
fn state_of_unknown_container_fails() {
    let t = Test::new();
    let id = "no-such-container";
    for args in [
        &["state", id][..],
        &["start", id],
        &["kill", id, "KILL"],
        &["delete", id],
    ] {
        t.rt(args).fails_with(&format!(
            "coracle {}: container {id} does not exist",
            args[0]
        ));
    }
}

#[test]
fn duplicate_id_is_refused() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let c = t.create(&b);
    let mut cmd = t.command();
    cmd.args(["create", "--bundle"]).arg(&b.dir).arg(&c.id);
    t.output(cmd).fails_with(&format!(
        "coracle create: container {} already exists",
        c.id
    ));
    assert_eq!(
        c.status(),
        "created",
        "the first container must be untouched"
    );
    assert!(pid_alive(c.pid));
}

/// Engines put options after the id and use `--flag=value` (design notes).
#[test]
fn options_after_id_and_equals_forms() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo ok > /out/ok");
    b.save();
    let id = t.id();
    let pid_file = t.dir.join("p.pid");
    let mut cmd = t.command();
    cmd.args(["create", &id])
        .arg(format!("--bundle={}", b.dir.display()))
        .arg(format!("--pid-file={}", pid_file.display()));
    let c = t
        .finish_create(cmd, &b, &id)
        .unwrap_or_else(|o| panic!("{o}"));
    assert_eq!(
        fs::read_to_string(&pid_file).unwrap().trim(),
        c.pid.to_string()
    );
    c.start();
    c.wait_stopped();
    assert_eq!(read(&out.join("ok")), "ok\n");
    c.rt(&["kill"], &["--all", "KILL"]); // accepted or refused: the container is stopped
    c.delete();
}

#[test]
fn bundle_defaults_to_current_directory() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo cwd-bundle > /out/m");
    b.save();
    let id = t.id();
    let mut cmd = t.command();
    cmd.current_dir(&b.dir).args(["run", &id]);
    t.output(cmd).ok();
    assert_eq!(read(&out.join("m")), "cwd-bundle\n");
    t.assert_no_container(&id);
}

#[test]
fn version_has_commit_and_spec_lines() {
    let t = Test::new();
    let out = t.rt(&["--version"]).ok();
    assert!(
        out.stdout.lines().any(|l| l.starts_with("commit:")),
        "{out}"
    );
    assert!(out.stdout.lines().any(|l| l.starts_with("spec:")), "{out}");
}

#[test]
fn spec_writes_a_runnable_config() {
    let t = Test::new();
    let dir = t.host_dir("spec");
    t.rt(&["spec", "--bundle", dir.to_str().unwrap()]).ok();
    let v: Value = serde_json::from_str(&read(&dir.join("config.json"))).unwrap();
    assert!(v["ociVersion"].is_string(), "{v}");
    assert!(v["process"]["args"].is_array(), "{v}");
    assert_eq!(v["root"]["path"], "rootfs");
    // Refuses to overwrite.
    t.rt(&["spec", "--bundle", dir.to_str().unwrap()]).fails();

    let rootless = t.host_dir("spec-rootless");
    t.rt(&["spec", "--rootless", "--bundle", rootless.to_str().unwrap()])
        .ok();
    let v: Value = serde_json::from_str(&read(&rootless.join("config.json"))).unwrap();
    let ns = v["linux"]["namespaces"].as_array().unwrap();
    assert!(ns.iter().any(|n| n["type"] == "user"), "{v}");
    assert!(v["linux"]["uidMappings"].is_array(), "{v}");
}

/// The bundle of scripts/make-bundle.sh runs as the README says.
#[test]
fn make_bundle_script_bundle_runs() {
    let t = Test::new();
    let dir = t.dir.join("bb");
    host(
        workspace().join("scripts/make-bundle.sh").to_str().unwrap(),
        &[dir.to_str().unwrap()],
    );
    let id = t.id();
    let out = t.rt(&["run", "--bundle", dir.to_str().unwrap(), &id]).ok();
    assert_eq!(out.stdout, "hello from coracle\n");
    t.assert_no_container(&id);

    let dir2 = t.dir.join("bb2");
    host(
        workspace().join("scripts/make-bundle.sh").to_str().unwrap(),
        &[
            dir2.to_str().unwrap(),
            "sh",
            "-c",
            "id -u; echo \"$0\"",
            "a b",
        ],
    );
    let out = t
        .rt(&["run", "--bundle", dir2.to_str().unwrap(), &t.id()])
        .ok();
    assert_eq!(out.stdout, "0\na b\n");
}

#[test]
fn json_log_receives_errors() {
    let t = Test::new();
    let log = t.dir.join("log.json");
    let out = t.rt(&[
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "state",
        "no-such-container",
    ]);
    out.fails();
    let text = read(&log);
    let errors: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["level"] == "error")
        .collect();
    assert!(!errors.is_empty(), "no JSON error line in the log:\n{text}");
    for e in &errors {
        assert!(e["msg"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        assert!(e["time"].is_string(), "{e}");
    }
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok()),
        "non-JSON line:\n{text}"
    );
}

#[test]
fn debug_logs_json_lines() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    b.save();
    let log = t.dir.join("debug.json");
    let id = t.id();
    t.rt(&[
        "--debug",
        "--log",
        log.to_str().unwrap(),
        "--log-format",
        "json",
        "run",
        "--bundle",
        b.dir.to_str().unwrap(),
        &id,
    ])
    .ok();
    let text = read(&log);
    let debug = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["level"] == "debug")
        .count();
    assert!(debug > 0, "--debug wrote no debug line:\n{text}");
}

/// `run` in the foreground with a terminal and no console socket relays the
/// terminal itself, as runc does: the process gets a pty, input arrives
/// through it, and the exit code comes through; from a terminal, and
/// (coracle only: runc wants a terminal of its own) from a file, whose end
/// is the terminal's end of file.
#[test]
fn run_with_a_terminal_and_no_console_socket_relays_it() {
    let t = Test::new();
    let mut b = t.bundle(&["sh"]);
    b.config["process"]["terminal"] = json!(true);
    let input = t.host_dir("relay-input").join("input");
    fs::write(&input, "tty; echo relayed-$((40+2)); exit 6\n").unwrap();
    b.save();
    let id = t.id();
    let mut cmd = in_a_terminal(&t, &["run", "--bundle", b.dir.to_str().unwrap(), &id]);
    cmd.stdin(fs::File::open(&input).unwrap());
    let out = t.output(cmd).code_is(6);
    assert!(out.stdout.contains("/dev/pts/0"), "{}", out.stdout);
    assert!(out.stdout.contains("relayed-42"), "{}", out.stdout);
    t.assert_no_container(&id);
    if skip_unless_coracle("relaying a terminal without one of the runtime's") {
        return;
    }

    // Not an interactive shell: its line editing would read the end of
    // file key as a character.
    b.args(&["sh", "-c", "tty; tr a-z A-Z; exit 7"]);
    b.save();
    fs::write(&input, "relayed\n").unwrap();
    let id = t.id();
    let mut cmd = t.command();
    cmd.stdin(fs::File::open(&input).unwrap());
    cmd.args(["run", "--bundle"]).arg(&b.dir).arg(&id);
    let out = t.output(cmd).code_is(7);
    assert!(out.stdout.contains("/dev/pts/0"), "{}", out.stdout);
    assert!(out.stdout.contains("RELAYED"), "{}", out.stdout);
    t.assert_no_container(&id);
}
