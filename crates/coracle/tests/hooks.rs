//! Hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle"): every
//! kind runs at its step, in order, in its namespace, with the state on
//! stdin; failures follow the lifecycle.
//!
//! Namespaces, per config.md: prestart, createRuntime, poststart and
//! poststop run in the runtime namespace (path resolved there too);
//! createContainer runs in the container namespace before pivot_root with
//! its path resolved in the runtime namespace; startContainer runs in the
//! container namespace with its path resolved there (the rootfs's /bin/sh).

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

/// A hook that appends "KIND UTS-NS MNT-NS PID-NS" to DIR/order and saves
/// its stdin to DIR/KIND.json, DIR being `dir` as the hook sees it.
fn marker_hook(kind: &str, dir: &str) -> Value {
    json!({
        "path": "/bin/sh",
        "args": ["sh", "-c",
                 "cat > \"$2/$1.json\"; echo \"$1 $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid)\" >> \"$2/order\"",
                 "sh", kind, dir],
        "env": [PATH_ENV]
    })
}

/// A hook running `script` with sh.
fn sh_hook(script: &str) -> Value {
    json!({"path": "/bin/sh", "args": ["sh", "-c", script], "env": [PATH_ENV]})
}

/// The container's own line in the order file, in the marker hooks' format.
const PROCESS_MARKER: &str = "echo \"process $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/pid)\" >> /hooks/order";

/// A bundle with one marker hook of every kind; returns the host log dir.
fn bundle_with_all_hooks(t: &Test) -> (Bundle, PathBuf) {
    let mut b = t.bundle(&[]);
    let log = t.host_dir("hooks");
    fs::create_dir_all(b.rootfs().join("hooks")).unwrap();
    b.bind(&log, "/hooks");
    let host = log.to_str().unwrap();
    b.config["hooks"] = json!({
        "prestart": [marker_hook("prestart", host)],
        "createRuntime": [marker_hook("createRuntime", host)],
        "createContainer": [marker_hook("createContainer", host)],
        "startContainer": [marker_hook("startContainer", "/hooks")],
        "poststart": [marker_hook("poststart", host)],
        "poststop": [marker_hook("poststop", host)]
    });
    b.sh(&format!("{PROCESS_MARKER}; exec sleep 1000"));
    (b, log)
}

fn order(log: &Path) -> Vec<Vec<String>> {
    read(&log.join("order"))
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

fn kinds(log: &Path) -> Vec<String> {
    order(log).into_iter().map(|l| l[0].clone()).collect()
}

fn hook_state(log: &Path, kind: &str) -> Value {
    let text = read(&log.join(format!("{kind}.json")));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{kind} got no state on stdin ({e}): {text:?}"))
}

#[test]
fn every_hook_runs_in_order_at_its_step() {
    let t = Test::new();
    let (b, log) = bundle_with_all_hooks(&t);
    let c = t.create(&b);
    assert_eq!(
        kinds(&log),
        ["prestart", "createRuntime", "createContainer"]
    );

    c.start();
    // poststart is done when start returns; the process may still be
    // writing its own line.
    wait_for_comm(c.pid, "sleep");
    let k = kinds(&log);
    assert_eq!(k.len(), 6, "{k:?}");
    assert_eq!(
        &k[..4],
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer"
        ]
    );
    assert!(
        k[4..].contains(&"process".to_string()) && k[4..].contains(&"poststart".to_string()),
        "{k:?}"
    );

    let id = c.id.clone();
    c.force_delete();
    let k = kinds(&log);
    assert_eq!(k.last().map(String::as_str), Some("poststop"), "{k:?}");
    assert_eq!(k.len(), 7);
    let _ = id;
}

#[test]
fn hooks_run_in_their_namespaces() {
    let t = Test::new();
    let (b, log) = bundle_with_all_hooks(&t);
    let c = t.create(&b);
    let container_uts = ns_of(&c.pid.to_string(), "uts");
    let container_mnt = ns_of(&c.pid.to_string(), "mnt");
    let host_uts = ns_of("self", "uts");
    let host_mnt = ns_of("self", "mnt");
    c.start();
    wait_for_comm(c.pid, "sleep");
    c.force_delete();
    for line in order(&log) {
        let (kind, uts, mnt) = (&line[0], &line[1], &line[2]);
        let inside = matches!(
            kind.as_str(),
            "createContainer" | "startContainer" | "process"
        );
        if inside {
            assert_eq!(
                (uts, mnt),
                (&container_uts, &container_mnt),
                "{kind} ran outside the container"
            );
        } else {
            assert_eq!(
                (uts, mnt),
                (&host_uts, &host_mnt),
                "{kind} ran inside the container"
            );
        }
    }
}

/// config.md: prestart, createRuntime, poststart and poststop run "in the
/// runtime namespace". A runtime that enters a joined pid namespace for its
/// children (so that the init is born there) must leave it again, or its
/// later children, the hooks, are born inside the other container.
#[test]
fn runtime_hooks_stay_in_the_runtime_pid_namespace_when_joining_one() {
    let t = Test::new();
    let other = t.create(&t.bundle(&["sleep", "1000"]));
    other.start();
    let joined = ns_of(&other.pid.to_string(), "pid");
    let host = ns_of("self", "pid");
    let (mut b, log) = bundle_with_all_hooks(&t);
    b.with_ns("pid", Some(&format!("/proc/{}/ns/pid", other.pid)));
    b.sh(PROCESS_MARKER);
    t.run(&b).ok();
    let lines = order(&log);
    assert_eq!(lines.len(), 7, "{lines:?}");
    for line in lines {
        let (kind, pid_ns) = (&line[0], &line[3]);
        let inside = matches!(
            kind.as_str(),
            "createContainer" | "startContainer" | "process"
        );
        let want = if inside { &joined } else { &host };
        assert_eq!(pid_ns, want, "{kind} ran in the wrong pid namespace");
    }
}

#[test]
fn hooks_get_the_state_on_stdin() {
    let t = Test::new();
    let (mut b, log) = bundle_with_all_hooks(&t);
    // Far longer than one channel packet: the container-side hooks get it
    // whole too.
    let big = "x".repeat(40_000);
    b.config["annotations"] = json!({"hook.test": "1", "hook.big": big});
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    let pid = c.pid;
    let id = c.id.clone();
    c.force_delete();
    for (kind, status) in [
        ("prestart", "creating"),
        ("createRuntime", "creating"),
        ("createContainer", "creating"),
        ("startContainer", "created"),
        ("poststart", "running"),
        ("poststop", "stopped"),
    ] {
        let st = hook_state(&log, kind);
        assert_eq!(st["id"], id.as_str(), "{kind}: {st}");
        assert_eq!(st["bundle"], b.dir.to_str().unwrap(), "{kind}: {st}");
        assert!(st["ociVersion"].is_string(), "{kind}: {st}");
        if is_coracle() {
            assert_eq!(st["status"], status, "{kind}");
        }
        assert_eq!(st["annotations"]["hook.test"], "1", "{kind}: {st}");
        assert_eq!(st["annotations"]["hook.big"], big.as_str(), "{kind}");
    }
    // "For hooks executed in the runtime namespace, it is the pid as seen by
    // the runtime."
    for kind in ["prestart", "createRuntime", "poststart"] {
        assert_eq!(hook_state(&log, kind)["pid"], pid, "{kind}");
    }
}

/// runtime.md: "For hooks executed in the container namespace, it is the
/// pid as seen by the container" (runc passes the host pid).
#[test]
fn container_namespace_hooks_see_the_container_pid() {
    let t = Test::new();
    let (b, log) = bundle_with_all_hooks(&t);
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    c.force_delete();
    for kind in ["createContainer", "startContainer"] {
        assert_eq!(hook_state(&log, kind)["pid"], 1, "{kind}");
    }
}

#[test]
fn hook_args_and_env() {
    let t = Test::new();
    let log = t.host_dir("hook-env");
    let mut b = t.bundle(&["true"]);
    b.config["hooks"] = json!({"createRuntime": [{
        "path": "/bin/sh",
        "args": ["custom-argv0", "-c",
                 "tr '\\0' '\\n' < /proc/$$/cmdline > \"$1/args\"; echo \"$HOOK_VAR\" > \"$1/var\"; env > \"$1/env\"",
                 "zero", log],
        "env": ["HOOK_VAR=hook value", PATH_ENV]
    }]});
    b.save();
    let id = t.id();
    let mut cmd = t.command();
    cmd.env("CORACLE_LEAK_CHECK", "leaked");
    cmd.args(["create", "--bundle"]).arg(&b.dir).arg(&id);
    let c = t
        .finish_create(cmd, &b, &id)
        .unwrap_or_else(|o| panic!("{o}"));
    let args = read(&log.join("args"));
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(args.len(), 5, "{args:?}");
    assert_eq!(
        (args[0], args[1], args[3], args[4]),
        ("custom-argv0", "-c", "zero", log.to_str().unwrap())
    );
    assert_eq!(read(&log.join("var")), "hook value\n");
    let env = read(&log.join("env"));
    assert!(
        !env.contains("CORACLE_LEAK_CHECK"),
        "the runtime's environment reached the hook: {env}"
    );
    c.force_delete();
}

#[test]
fn failing_create_runtime_hook_fails_create_and_leaves_nothing() {
    let t = Test::new();
    let log = t.host_dir("fail-log");
    let mut b = t.bundle(&["true"]);
    let cg = t.cgroup_path();
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["hooks"] = json!({
        "createRuntime": [sh_hook("exit 7")],
        "createContainer": [marker_hook("createContainer", log.to_str().unwrap())]
    });
    let out = t
        .try_create(&b, &[])
        .err()
        .expect("create succeeded despite a failing hook");
    out.fails_with("coracle create: hook createRuntime[0] /bin/sh: exited with status 7");
    assert!(t.state_entries().is_empty(), "{:?}", t.state_entries());
    assert!(t.mounts_under_dir().is_empty());
    let left = remove_cgroup_everywhere(&cg);
    assert!(left.is_empty(), "cgroups left: {left:?}");
    assert!(
        kinds(&log).is_empty(),
        "hooks after the failing one ran: {:?}",
        kinds(&log)
    );
}

/// runtime.md lifecycle: a failing createRuntime hook "stop[s] the
/// container, and continue[s] the lifecycle at step 12" — step 13 runs the
/// poststop hooks.
#[test]
fn failing_create_runtime_hook_still_runs_poststop() {
    let t = Test::new();
    let log = t.host_dir("fail-poststop");
    let mut b = t.bundle(&["true"]);
    b.config["hooks"] = json!({
        "createRuntime": [sh_hook("exit 7")],
        "poststop": [marker_hook("poststop", log.to_str().unwrap())]
    });
    t.try_create(&b, &[])
        .err()
        .expect("create succeeded despite a failing hook");
    assert_eq!(kinds(&log), ["poststop"]);
}

#[test]
fn failing_prestart_and_create_container_hooks_fail_create() {
    let t = Test::new();
    for (kind, step) in [
        ("prestart", ""),
        ("createContainer", "createContainer hooks: "),
    ] {
        let mut b = t.bundle(&["true"]);
        let cg = t.cgroup_path();
        b.config["linux"]["cgroupsPath"] = json!(cg);
        b.config["hooks"] = json!({kind: [sh_hook("exit 3")]});
        t.try_create(&b, &[])
            .err()
            .unwrap_or_else(|| panic!("a failing {kind} hook was ignored"))
            .fails_with(&format!(
                "coracle create: {step}hook {kind}[0] /bin/sh: exited with status 3"
            ));
        assert!(t.state_entries().is_empty());
        assert!(
            remove_cgroup_everywhere(&cg).is_empty(),
            "{kind}: cgroups left"
        );
    }
}

#[test]
fn failing_start_container_hook_fails_start() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("echo ran > /out/ran");
    b.config["hooks"] = json!({"startContainer": [sh_hook("exit 5")]});
    let c = t.create(&b);
    c.rt(&["start"], &[])
        .fails_with("coracle start: hook startContainer[0] /bin/sh: exited with status 5");
    assert!(
        !out.join("ran").exists(),
        "the process ran despite the failing hook"
    );
    // start returns once the init has closed the FIFO, maybe before it is
    // gone: wait for that, bounded.
    wait_gone(
        c.pid,
        "the container's init after a failing startContainer hook",
    );
    c.force_delete();
}

#[test]
fn failing_poststart_hook_fails_start_and_stops_the_container() {
    let t = Test::new();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["hooks"] = json!({"poststart": [sh_hook("exit 5")]});
    let c = t.create(&b);
    c.rt(&["start"], &[])
        .fails_with("coracle start: hook poststart[0] /bin/sh: exited with status 5");
    // "stop the container, and continue the lifecycle at step 12".
    wait_gone(c.pid, "the container's init after a failing poststart hook");
}

#[test]
fn failing_poststop_hook_only_warns() {
    let t = Test::new();
    let log = t.host_dir("poststop-log");
    let mut b = t.bundle(&["true"]);
    b.config["hooks"] = json!({"poststop": [
        sh_hook("exit 9"),
        marker_hook("poststop", log.to_str().unwrap())
    ]});
    let c = t.create(&b);
    c.start();
    c.wait_stopped();
    let out = c.delete(); // asserts success and that the state is gone
    assert!(
        !out.stderr.trim().is_empty(),
        "no warning about the failing hook"
    );
    if is_coracle() {
        assert_eq!(
            out.stderr.trim(),
            "coracle delete: warning: hook poststop[0] /bin/sh: exited with status 9"
        );
    }
    assert_eq!(
        kinds(&log),
        ["poststop"],
        "the next poststop hook did not run"
    );
}

#[test]
fn poststop_runs_on_force_delete_of_created_container() {
    let t = Test::new();
    let log = t.host_dir("poststop-created");
    let mut b = t.bundle(&["true"]);
    b.config["hooks"] = json!({"poststop": [marker_hook("poststop", log.to_str().unwrap())]});
    let c = t.create(&b);
    c.force_delete();
    assert_eq!(kinds(&log), ["poststop"]);
}

#[test]
fn hook_timeout_fails_create() {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    let pid_file = t.dir.join("hook.pid");
    let mut hook = sh_hook(&format!(
        "echo $$ > {}; exec sleep 1000",
        pid_file.display()
    ));
    hook["timeout"] = json!(1);
    b.config["hooks"] = json!({"createRuntime": [hook]});
    t.try_create(&b, &[])
        .err()
        .expect("a hook past its timeout was accepted")
        .fails_with("coracle create: hook createRuntime[0] /bin/sh: timed out after 1 s");
    assert!(t.state_entries().is_empty());
    let hook_pid: i32 = read(&pid_file).trim().parse().unwrap();
    assert!(!pid_alive(hook_pid), "the hook past its timeout still runs");
}

#[test]
fn run_runs_every_hook() {
    let t = Test::new();
    let (mut b, log) = bundle_with_all_hooks(&t);
    b.sh("echo process >> /hooks/order");
    t.run(&b).ok();
    let k = kinds(&log);
    assert_eq!(k.len(), 7, "{k:?}");
    assert_eq!(
        &k[..4],
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer"
        ]
    );
    assert_eq!(k.last().map(String::as_str), Some("poststop"));
}
