//! The container process (config.md "Process", "User", "Linux Process"):
//! args, env, cwd, user and groups, umask, capabilities, rlimits,
//! noNewPrivileges, oomScoreAdj, terminal and console socket, and the file
//! descriptors the process gets.

mod common;

use common::*;
use serde_json::json;
use std::fs;
use std::os::fd::AsRawFd;

#[test]
fn args_env_and_cwd() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.args(&[
        "sh",
        "-c",
        "echo \"[$0] [$1] [$2]\"; echo \"$FOO\"; pwd; env | grep -c ^",
        "zero",
        "a  b",
        "",
    ]);
    b.config["process"]["env"] = json!([PATH_ENV, "FOO=bar baz=qux"]);
    b.config["process"]["cwd"] = json!("/etc");
    let out = t.run(&b).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "[zero] [a  b] []");
    assert_eq!(lines[1], "bar baz=qux");
    assert_eq!(lines[2], "/etc");
    // PATH and FOO, plus what the shell itself adds (PWD, SHLVL…), and no
    // variable of the runtime's own environment.
    let n: usize = lines[3].parse().unwrap();
    assert!(n <= 5, "{out}");
}

#[test]
fn runtime_environment_does_not_leak() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("env");
    b.save();
    let mut cmd = t.command();
    cmd.env("CORACLE_LEAK_CHECK", "leaked");
    cmd.args(["run", "--bundle"]).arg(&b.dir).arg(t.id());
    let out = t.output(cmd).ok();
    assert!(!out.stdout.contains("CORACLE_LEAK_CHECK"), "{out}");
    assert!(out.stdout.contains(PATH_ENV), "{out}");
}

#[test]
fn cwd_is_created_when_missing() {
    let t = Test::new();
    let mut b = t.bundle(&["pwd"]);
    b.config["process"]["cwd"] = json!("/new/work/dir");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "/new/work/dir\n");
    assert!(b.rootfs().join("new/work/dir").is_dir());
}

#[test]
fn cwd_is_created_under_a_read_only_root() {
    let t = Test::new();
    let mut b = t.bundle(&["pwd"]);
    b.config["root"]["readonly"] = json!(true);
    b.config["process"]["cwd"] = json!("/made/before/read-only");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "/made/before/read-only\n");
}

#[test]
fn cwd_is_entered_before_the_user_switch() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.root_only_dir("/secret");
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.config["process"]["cwd"] = json!("/secret");
    b.sh("pwd; id -u; ls . 2>/dev/null || echo cannot-list");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "/secret\n1000\ncannot-list\n");
}

#[test]
fn a_relative_executable_is_found_from_the_cwd() {
    let t = Test::new();
    let mut b = t.bundle(&["./echo", "from-bin"]);
    b.config["process"]["cwd"] = json!("/bin");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "from-bin\n");
}

#[test]
fn user_uid_gid_and_additional_gids() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [10, 20]});
    b.sh("grep -E '^(Uid|Gid|Groups):' /proc/self/status; id -un");
    let out = t.run(&b).ok();
    let f = status_fields(&out.stdout);
    assert_eq!(f["Uid"].split_whitespace().collect::<Vec<_>>(), ["1000"; 4]);
    assert_eq!(f["Gid"].split_whitespace().collect::<Vec<_>>(), ["1000"; 4]);
    assert_eq!(
        f["Groups"].split_whitespace().collect::<Vec<_>>(),
        ["10", "20"]
    );
    assert!(out.stdout.ends_with("user\n"), "{out}");
}

#[test]
fn user_without_additional_gids_drops_the_runtimes_groups() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.sh("grep ^Groups: /proc/self/status");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout.trim_end(), "Groups:", "{out}");
}

#[test]
fn umask() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["user"]["umask"] = json!(0o027);
    b.sh("umask; touch /tmp/f; stat -c %a /tmp/f");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "0027\n640\n");
}

/// Capabilities of the five sets for a non-root user: after execve the
/// permitted and effective sets are the ambient set (no file capabilities).
#[test]
fn capabilities_of_a_non_root_process() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.config["process"]["noNewPrivileges"] = json!(false);
    b.config["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN"],
        "effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
        "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"],
        "inheritable": ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "ambient": ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
    });
    b.sh("grep ^Cap /proc/self/status");
    let out = t.run(&b).ok();
    let f = status_fields(&out.stdout);
    assert_eq!(
        f["CapBnd"],
        cap_mask(&[
            "CAP_CHOWN",
            "CAP_KILL",
            "CAP_NET_BIND_SERVICE",
            "CAP_NET_ADMIN"
        ])
    );
    assert_eq!(f["CapInh"], cap_mask(&["CAP_KILL", "CAP_NET_BIND_SERVICE"]));
    assert_eq!(f["CapAmb"], cap_mask(&["CAP_KILL", "CAP_NET_BIND_SERVICE"]));
    assert_eq!(f["CapPrm"], cap_mask(&["CAP_KILL", "CAP_NET_BIND_SERVICE"]));
    assert_eq!(f["CapEff"], cap_mask(&["CAP_KILL", "CAP_NET_BIND_SERVICE"]));
}

/// For root, execve grants the permitted set from the bounding set (file
/// capabilities are implied), unless no_new_privs keeps the old set.
#[test]
fn capabilities_of_root() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"],
        "effective": ["CAP_KILL"],
        "permitted": ["CAP_KILL"],
        "inheritable": ["CAP_KILL"]
    });
    b.sh("grep ^Cap /proc/self/status");
    b.config["process"]["noNewPrivileges"] = json!(true);
    let out = t.run(&b).ok();
    let f = status_fields(&out.stdout);
    assert_eq!(
        f["CapBnd"],
        cap_mask(&["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"])
    );
    assert_eq!(f["CapInh"], cap_mask(&["CAP_KILL"]));
    assert_eq!(f["CapAmb"], cap_mask(&[]));
    // no_new_privs: execve may not grow the permitted set beyond it.
    assert_eq!(f["CapPrm"], cap_mask(&["CAP_KILL"]));
    assert_eq!(f["CapEff"], cap_mask(&["CAP_KILL"]));

    b.config["process"]["noNewPrivileges"] = json!(false);
    let out = t.run(&b).ok();
    let f = status_fields(&out.stdout);
    assert_eq!(
        f["CapPrm"],
        cap_mask(&["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"])
    );
    assert_eq!(
        f["CapEff"],
        cap_mask(&["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"])
    );
}

#[test]
fn capabilities_take_effect() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["capabilities"] = json!({
        "bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]
    });
    b.sh("touch /tmp/f; chown 1000 /tmp/f && echo chown-ok; hostname other 2>/dev/null || echo hostname-refused");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "chown-ok\nhostname-refused\n");
}

#[test]
fn rlimits() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
        {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096}
    ]);
    b.sh("ulimit -n; ulimit -Hn; grep -E '^Max (open files|processes|core file size)' /proc/self/limits");
    let out = t.run(&b).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(&lines[..2], ["1000", "2000"]);
    let limits = |name: &str| -> Vec<String> {
        let l = lines.iter().find(|l| l.starts_with(name)).unwrap();
        l[name.len()..]
            .split_whitespace()
            .take(2)
            .map(String::from)
            .collect()
    };
    assert_eq!(limits("Max open files"), ["1000", "2000"]);
    assert_eq!(limits("Max processes"), ["500", "600"]);
    assert_eq!(limits("Max core file size"), ["0", "4096"]);
}

#[test]
fn no_new_privileges() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("grep ^NoNewPrivs: /proc/self/status");
    b.config["process"]["noNewPrivileges"] = json!(true);
    assert_eq!(t.run(&b).ok().stdout, "NoNewPrivs:\t1\n");
    b.config["process"]["noNewPrivileges"] = json!(false);
    assert_eq!(t.run(&b).ok().stdout, "NoNewPrivs:\t0\n");
}

#[test]
fn oom_score_adj() {
    let t = Test::new();
    let mut b = t.bundle(&["cat", "/proc/self/oom_score_adj"]);
    b.config["process"]["oomScoreAdj"] = json!(500);
    assert_eq!(t.run(&b).ok().stdout, "500\n");
    // Unset: unchanged, i.e. what the runtime inherited from us.
    b.config["process"]
        .as_object_mut()
        .unwrap()
        .remove("oomScoreAdj");
    let ours = read(std::path::Path::new("/proc/self/oom_score_adj"));
    assert_eq!(t.run(&b).ok().stdout, ours);
}

#[test]
fn terminal_through_console_socket() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["terminal"] = json!(true);
    b.config["process"]["consoleSize"] = json!({"height": 30, "width": 100});
    b.sh(
        "tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty; stat -c %t /dev/console",
    );
    let sock = ConsoleSocket::new(&t);
    let c = t
        .try_create(&b, &["--console-socket", &sock.path_str()])
        .unwrap_or_else(|o| panic!("{o}"));
    let master = sock.receive();
    c.start();
    let text = read_pty(master);
    c.wait_stopped();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(&lines[..3], ["/dev/pts/0", "30 100", "all-tty"], "{text:?}");
    // /dev/console is the pty (major 136 = 0x88).
    assert_eq!(lines[3], "88", "{text:?}");
}

#[test]
fn terminal_without_console_socket_is_refused() {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    b.config["process"]["terminal"] = json!(true);
    t.try_create(&b, &[])
        .err()
        .expect("terminal without --console-socket")
        .fails_with(
            "coracle create: process.terminal is true: \
             --console-socket is required to receive the terminal",
        );
    assert!(t.state_entries().is_empty());
}

/// The fds of a container's process, seen from the host once it runs
/// `sleep` (no shell in between to open its own).
fn fds_of_sleeping_init(c: &Container) -> Vec<i32> {
    wait_for_comm(c.pid, "sleep");
    let mut fds: Vec<i32> = fs::read_dir(format!("/proc/{}/fd", c.pid))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().parse().unwrap())
        .collect();
    fds.sort();
    fds
}

#[test]
fn preserve_fds() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("echo via-3 >&3; echo via-4 >&4; exec sleep 1000");
    b.save();
    let f3 = fs::File::create(t.dir.join("fd3")).unwrap();
    let f4 = fs::File::create(t.dir.join("fd4")).unwrap();
    let id = t.id();
    let mut cmd = t.command();
    cmd.args(["create", "--preserve-fds", "2", "--bundle"])
        .arg(&b.dir)
        .arg(&id);
    let _keep = pass_fds(&mut cmd, &[(f3.as_raw_fd(), 3), (f4.as_raw_fd(), 4)]);
    let c = t
        .finish_create(cmd, &b, &id)
        .unwrap_or_else(|o| panic!("{o}"));
    c.start();
    assert_eq!(fds_of_sleeping_init(&c), [0, 1, 2, 3, 4]);
    assert_eq!(read(&t.dir.join("fd3")), "via-3\n");
    assert_eq!(read(&t.dir.join("fd4")), "via-4\n");
}

/// CVE-2024-21626: nothing but stdio (and preserved fds) reaches the
/// container, even fds the runtime's caller leaked to it.
#[test]
fn no_fd_leaks_into_the_container() {
    let t = Test::new();
    let b = t.bundle(&["sleep", "1000"]);
    b.save();
    let leak = fs::File::open("/").unwrap();
    let id = t.id();
    let mut cmd = t.command();
    cmd.args(["create", "--bundle"]).arg(&b.dir).arg(&id);
    let _keep = pass_fds(&mut cmd, &[(leak.as_raw_fd(), 3), (leak.as_raw_fd(), 7)]);
    let c = t
        .finish_create(cmd, &b, &id)
        .unwrap_or_else(|o| panic!("{o}"));
    c.start();
    assert_eq!(fds_of_sleeping_init(&c), [0, 1, 2]);
}

#[test]
fn stdio_is_the_callers() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("cat; echo to-err >&2");
    b.save();
    let input = t.dir.join("input");
    fs::write(&input, "from-stdin\n").unwrap();
    let mut cmd = t.command();
    cmd.stdin(fs::File::open(&input).unwrap());
    cmd.args(["run", "--bundle"]).arg(&b.dir).arg(t.id());
    let out = t.output(cmd).ok();
    assert_eq!(out.stdout, "from-stdin\n");
    assert!(out.stderr.contains("to-err"), "{out}");
}
