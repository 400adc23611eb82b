//! `exec`: a new process in a running container, with its own args, env,
//! cwd, user, capabilities, terminal, detached with a pid file, or described
//! by a --process file.

mod common;

use common::*;
use serde_json::json;
use std::fs;

/// A running container whose init sleeps.
fn running(t: &Test) -> Container<'_> {
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["hostname"] = json!("exec-host");
    b.config["process"]["env"] = json!([PATH_ENV, "FROM_CONFIG=config-value"]);
    b.root_only_dir("/secret");
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    c
}

#[test]
fn exec_output_and_exit_code() {
    let t = Test::new();
    let c = running(&t);
    let out = c
        .exec(&["sh", "-c", "echo out; echo err >&2; exit 4"])
        .code_is(4);
    assert_eq!(out.stdout, "out\n");
    assert!(out.stderr.contains("err"), "{out}");
    c.exec(&["true"]).code_is(0);
    assert_eq!(c.status(), "running", "exec must not disturb the init");
}

#[test]
fn exec_death_by_signal_is_128_plus_n() {
    let t = Test::new();
    let c = running(&t);
    c.exec(&["sh", "-c", "kill -KILL $$"]).code_is(128 + 9);
}

#[test]
fn exec_joins_the_containers_namespaces_and_cgroups() {
    let t = Test::new();
    let c = running(&t);
    let out = c
        .exec(&[
            "sh",
            "-c",
            "hostname; for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done; \
                 cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup",
        ])
        .ok();
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("exec-host"));
    let init = c.pid.to_string();
    for n in ["pid", "net", "ipc", "uts", "mnt"] {
        assert_eq!(lines.next().unwrap(), ns_of(&init, n), "{n}");
    }
    let rest: Vec<&str> = lines.collect();
    let sep = rest.iter().position(|l| *l == "---").unwrap();
    assert_eq!(
        &rest[..sep],
        &rest[sep + 1..],
        "exec'd process is not in the init's cgroups"
    );
}

#[test]
fn exec_env() {
    let t = Test::new();
    let c = running(&t);
    let out = c
        .rt(
            &[
                "exec",
                "--env",
                "EXTRA=extra value",
                "--env",
                "FROM_CONFIG=overridden",
            ],
            &["sh", "-c", "echo \"$EXTRA|$FROM_CONFIG\""],
        )
        .ok();
    assert_eq!(out.stdout, "extra value|overridden\n");
    let out = c.exec(&["sh", "-c", "echo \"$FROM_CONFIG\""]).ok();
    assert_eq!(
        out.stdout, "config-value\n",
        "exec starts from the config's env"
    );
}

#[test]
fn exec_cwd() {
    let t = Test::new();
    let c = running(&t);
    assert_eq!(
        c.rt(&["exec", "--cwd", "/etc"], &["pwd"]).ok().stdout,
        "/etc\n"
    );
    assert_eq!(c.exec(&["pwd"]).ok().stdout, "/\n");
    let out = c
        .rt(&["exec", "--cwd", "/bin"], &["./echo", "relative"])
        .ok();
    assert_eq!(out.stdout, "relative\n");
    let out = c
        .rt(&["exec", "--cwd", "/secret", "--user", "1000"], &["pwd"])
        .ok();
    assert_eq!(out.stdout, "/secret\n");
}

#[test]
fn exec_user_and_groups() {
    let t = Test::new();
    let c = running(&t);
    let out = c
        .rt(
            &["exec", "--user", "1000:1000", "--additional-gids", "10"],
            &["grep", "-E", "^(Uid|Gid|Groups):", "/proc/self/status"],
        )
        .ok();
    let f = status_fields(&out.stdout);
    assert_eq!(f["Uid"].split_whitespace().collect::<Vec<_>>(), ["1000"; 4]);
    assert_eq!(f["Gid"].split_whitespace().collect::<Vec<_>>(), ["1000"; 4]);
    assert_eq!(f["Groups"], "10");
    let out = c.rt(&["exec", "--user", "1000"], &["id", "-u"]).ok();
    assert_eq!(out.stdout, "1000\n");
}

#[test]
fn exec_user_without_a_group_keeps_the_containers_group() {
    let t = Test::new();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    let out = c
        .rt(
            &["exec", "--user", "1001"],
            &["grep", "-E", "^(Uid|Gid):", "/proc/self/status"],
        )
        .ok();
    let f = status_fields(&out.stdout);
    assert_eq!(f["Uid"].split_whitespace().collect::<Vec<_>>(), ["1001"; 4]);
    assert_eq!(f["Gid"].split_whitespace().collect::<Vec<_>>(), ["1000"; 4]);
}

#[test]
fn exec_cap_adds_a_capability() {
    let t = Test::new();
    let c = running(&t);
    let base = status_fields(&c.exec(&["grep", "^Cap", "/proc/self/status"]).ok().stdout);
    let default = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    assert_eq!(base["CapEff"], cap_mask(&default));
    let out = c
        .rt(
            &["exec", "--cap", "CAP_NET_ADMIN"],
            &["grep", "^Cap", "/proc/self/status"],
        )
        .ok();
    let f = status_fields(&out.stdout);
    let with = [
        "CAP_AUDIT_WRITE",
        "CAP_KILL",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_ADMIN",
    ];
    assert_eq!(f["CapEff"], cap_mask(&with));
    assert_eq!(f["CapBnd"], cap_mask(&with));
}

#[test]
fn exec_no_new_privs() {
    let t = Test::new();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["process"]["noNewPrivileges"] = json!(false);
    let c = t.create(&b);
    c.start();
    assert_eq!(
        c.exec(&["grep", "^NoNewPrivs", "/proc/self/status"])
            .ok()
            .stdout,
        "NoNewPrivs:\t0\n"
    );
    let out = c
        .rt(
            &["exec", "--no-new-privs"],
            &["grep", "^NoNewPrivs", "/proc/self/status"],
        )
        .ok();
    assert_eq!(out.stdout, "NoNewPrivs:\t1\n");
}

/// How engines ask for a terminal: `exec --detach --tty --console-socket`
/// (runc uses the socket only with --detach).
#[test]
fn exec_tty_with_console_socket() {
    let t = Test::new();
    let c = running(&t);
    let sock = ConsoleSocket::new(&t);
    let pid_file = t.dir.join("tty.pid");
    let mut cmd = t.command();
    cmd.args([
        "exec",
        "--detach",
        "--tty",
        "--console-socket",
        &sock.path_str(),
        "--pid-file",
    ])
    .arg(&pid_file)
    .args([
        &c.id,
        "sh",
        "-c",
        "tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo is-tty",
    ]);
    // exec returns once the process started; the pty outlives it.
    let out = t.output(cmd).ok();
    let master = sock.receive();
    let text = read_pty(master);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("/dev/pts/")),
        "{text:?} {out}"
    );
    assert_eq!(lines.get(1), Some(&"is-tty"), "{text:?}");
    assert!(fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse::<i32>()
        .is_ok());
}

/// `exec -t` in the foreground without a console socket relays the
/// terminal itself, as runc does (and as `run` does): the process gets a
/// pty of the container's, input reaches it and its exit code comes back.
#[test]
fn exec_tty_without_console_socket_relays_it() {
    let t = Test::new();
    let c = running(&t);
    let input = t.dir.join("tty-input");
    fs::write(
        &input,
        "tty; [ -t 0 ] && echo in-tty; echo relayed-$((40+2)); exit 6\n",
    )
    .unwrap();
    let mut cmd = in_a_terminal(&t, &["exec", "-t", &c.id, "sh"]);
    cmd.stdin(fs::File::open(&input).unwrap());
    let out = t.output(cmd).code_is(6);
    let lines: Vec<&str> = out.stdout.lines().map(str::trim_end).collect();
    assert!(lines.iter().any(|l| l.starts_with("/dev/pts/")), "{out}");
    assert!(lines.contains(&"in-tty"), "{out}");
    assert!(lines.contains(&"relayed-42"), "{out}");

    // In the background there is nobody to relay it.
    let out = c.rt(&["exec", "-t", "-d"], &["true"]).fails_with_one_line();
    if is_coracle() {
        assert_eq!(
            out.stderr.trim(),
            "coracle exec: exec --detach with a terminal needs --console-socket"
        );
    }
}

#[test]
fn exec_detach_with_pid_file() {
    let t = Test::new();
    let c = running(&t);
    let pid_file = t.dir.join("exec.pid");
    let out = t
        .rt(&[
            "exec",
            "--detach",
            "--pid-file",
            pid_file.to_str().unwrap(),
            &c.id,
            "sleep",
            "999",
        ])
        .ok();
    let pid: i32 = fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(pid), "{out}");
    wait_for_comm(pid, "sleep");
    assert_eq!(
        ns_of(&pid.to_string(), "pid"),
        ns_of(&c.pid.to_string(), "pid")
    );
    assert_eq!(
        ns_of(&pid.to_string(), "mnt"),
        ns_of(&c.pid.to_string(), "mnt")
    );
    // Only stdio reaches the exec'd process.
    let mut fds: Vec<i32> = fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    fds.sort();
    assert_eq!(fds, [0, 1, 2]);
    // Deleting the container takes the exec'd process with it.
    c.force_delete();
    reap(pid);
    assert!(!pid_alive(pid));
}

#[test]
fn exec_whose_pid_file_cannot_be_written_leaves_no_process() {
    let t = Test::new();
    let c = running(&t);
    let pid_file = t.dir.join("no-such-dir/exec.pid");
    for detach in [&["--detach"][..], &[]] {
        let mut args = vec!["exec", "--pid-file", pid_file.to_str().unwrap()];
        args.extend(detach);
        args.extend([c.id.as_str(), "sleep", "777"]);
        t.rt(&args).fails_with_one_line();
        let ps = c.rt(&["ps", "--format", "json"], &[]).ok();
        let pids: Vec<i32> = serde_json::from_str(&ps.stdout).unwrap();
        assert_eq!(pids, [c.pid], "{detach:?}");
    }
}

#[test]
fn exec_process_file() {
    let t = Test::new();
    let c = running(&t);
    let process = json!({
        "terminal": false,
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh", "-c", "echo \"$(id -u) $(pwd) $ONLY_HERE\"; exit 2"],
        "env": [PATH_ENV, "ONLY_HERE=from-process-file"],
        "cwd": "/tmp",
        "capabilities": {"bounding": ["CAP_KILL"], "effective": [], "permitted": []},
        "noNewPrivileges": true
    });
    let file = t.dir.join("process.json");
    fs::write(&file, serde_json::to_vec(&process).unwrap()).unwrap();
    let out = t
        .rt(&["exec", "--process", file.to_str().unwrap(), &c.id])
        .code_is(2);
    assert_eq!(out.stdout, "1000 /tmp from-process-file\n");
}

#[test]
fn exec_into_stopped_container_fails() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let c = t.create(&b);
    c.start();
    c.wait_stopped();
    c.exec(&["true"]).fails_with_one_line();
    t.rt(&["exec", "no-such-container", "true"])
        .fails_with_one_line();
}

#[test]
fn exec_of_missing_program_fails() {
    let t = Test::new();
    let c = running(&t);
    let out = c.exec(&["/no/such/program"]);
    assert!(!out.success(), "{out}");
    assert_eq!(c.status(), "running");
}
