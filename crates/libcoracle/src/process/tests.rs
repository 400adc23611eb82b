//! Tests of the process plan: validation (pure) and, as root, the identity
//! change, the working directory and exec in forked children.

use super::*;
use crate::sys;
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn process() -> spec::Process {
    spec::Process {
        args: strings(&["sh", "-c", "true"]),
        env: strings(&["PATH=/usr/bin:/bin", "TERM=xterm"]),
        cwd: "/".into(),
        ..Default::default()
    }
}

fn rlimit(typ: &str, soft: u64, hard: u64) -> spec::Rlimit {
    spec::Rlimit {
        typ: typ.into(),
        soft,
        hard,
    }
}

fn error_of(process: &spec::Process) -> String {
    ProcessPlan::from_spec(process).unwrap_err().to_string()
}

#[test]
fn plan_of_a_valid_process() {
    let mut p = process();
    p.user = spec::User {
        uid: 1000,
        gid: 100,
        umask: Some(0o022),
        additional_gids: vec![5, 6],
        username: None,
    };
    p.rlimits = vec![
        rlimit("RLIMIT_NOFILE", 1024, 4096),
        rlimit("RLIMIT_CORE", 0, 0),
    ];
    p.no_new_privileges = true;
    p.oom_score_adj = Some(-100);
    p.terminal = true;
    p.console_size = Some(spec::ConsoleSize {
        height: 24,
        width: 80,
    });
    let plan = ProcessPlan::from_spec(&p).unwrap();
    assert_eq!(plan.args[0].as_bytes(), b"sh");
    assert_eq!(plan.args.len(), 3);
    assert_eq!(plan.env[1].as_bytes(), b"TERM=xterm");
    assert_eq!(plan.cwd.as_bytes(), b"/");
    assert_eq!((plan.uid, plan.gid, plan.umask), (1000, 100, Some(0o022)));
    assert_eq!(plan.additional_gids, [5, 6]);
    assert_eq!(
        plan.rlimits,
        [(libc::RLIMIT_NOFILE, 1024, 4096), (libc::RLIMIT_CORE, 0, 0)]
    );
    assert!(plan.no_new_privileges && plan.terminal);
    assert_eq!(plan.oom_score_adj, Some(-100));
    assert_eq!(
        plan.console_size.map(|s| (s.height, s.width)),
        Some((24, 80))
    );
    assert_eq!(plan.capabilities.bounding, 0);
}

#[test]
fn console_size_is_ignored_without_terminal() {
    let mut p = process();
    p.console_size = Some(spec::ConsoleSize {
        height: 1 << 20,
        width: 80,
    });
    assert!(ProcessPlan::from_spec(&p).unwrap().console_size.is_none());
    p.terminal = true;
    assert_eq!(
        error_of(&p),
        "process.consoleSize: height 1048576 is larger than 65535"
    );
}

#[test]
fn invalid_args_cwd_env() {
    let mut p = process();
    p.args.clear();
    assert_eq!(error_of(&p), "process.args: must not be empty");
    p.args = strings(&["", "x"]);
    assert_eq!(error_of(&p), "process.args[0]: must not be empty");
    p.args = strings(&["sh", "a\0b"]);
    assert_eq!(error_of(&p), "process.args[1]: must not contain a NUL byte");

    let mut p = process();
    p.cwd = "tmp".into();
    assert_eq!(
        error_of(&p),
        "process.cwd: must be an absolute path (got \"tmp\")"
    );
    p.cwd = String::new();
    assert_eq!(
        error_of(&p),
        "process.cwd: must be an absolute path (got \"\")"
    );
    p.cwd = "/a\0".into();
    assert_eq!(error_of(&p), "process.cwd: must not contain a NUL byte");

    let mut p = process();
    p.env.push("NOVALUE".into());
    assert_eq!(error_of(&p), "process.env[2]: \"NOVALUE\" is not KEY=VALUE");
    p.env[2] = "=x".into();
    assert_eq!(error_of(&p), "process.env[2]: \"=x\" is not KEY=VALUE");
    p.env[2] = "A=\0".into();
    assert_eq!(error_of(&p), "process.env[2]: must not contain a NUL byte");
    p.env[2] = "EMPTY=".into();
    assert!(ProcessPlan::from_spec(&p).is_ok());
}

#[test]
fn invalid_rlimits() {
    let mut p = process();
    p.rlimits = vec![rlimit("RLIMIT_FOO", 1, 1)];
    assert_eq!(error_of(&p), "process.rlimits: unknown type RLIMIT_FOO");
    p.rlimits = vec![rlimit("nofile", 1, 1)];
    assert_eq!(error_of(&p), "process.rlimits: unknown type nofile");
    p.rlimits = vec![
        rlimit("RLIMIT_NOFILE", 1, 2),
        rlimit("RLIMIT_CPU", 1, 2),
        rlimit("RLIMIT_NOFILE", 1, 2),
    ];
    assert_eq!(
        error_of(&p),
        "process.rlimits: duplicate type RLIMIT_NOFILE"
    );
    p.rlimits = vec![rlimit("RLIMIT_NOFILE", 10, 5)];
    assert_eq!(
        error_of(&p),
        "process.rlimits: RLIMIT_NOFILE: soft limit 10 is above hard limit 5"
    );
}

#[test]
fn every_linux_rlimit_is_known() {
    let names = [
        "RLIMIT_CPU",
        "RLIMIT_FSIZE",
        "RLIMIT_DATA",
        "RLIMIT_STACK",
        "RLIMIT_CORE",
        "RLIMIT_RSS",
        "RLIMIT_NPROC",
        "RLIMIT_NOFILE",
        "RLIMIT_MEMLOCK",
        "RLIMIT_AS",
        "RLIMIT_LOCKS",
        "RLIMIT_SIGPENDING",
        "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",
        "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME",
    ];
    let mut p = process();
    p.rlimits = names.iter().map(|name| rlimit(name, 1, 2)).collect();
    let plan = ProcessPlan::from_spec(&p).unwrap();
    for (resource, (number, _, _)) in plan.rlimits.iter().enumerate() {
        assert_eq!(*number, resource as u32, "{}", names[resource]);
        assert_eq!(rlimit::name_of(*number), names[resource]);
    }
}

#[test]
fn unknown_capability_names_its_set() {
    let mut p = process();
    p.capabilities = Some(spec::Capabilities {
        effective: Some(strings(&["CAP_FOO"])),
        ..Default::default()
    });
    assert_eq!(
        error_of(&p),
        "process.capabilities.effective: unknown capability CAP_FOO"
    );
}

#[test]
fn set_env_replaces_or_appends() {
    let mut plan = ProcessPlan::from_spec(&process()).unwrap();
    plan.set_env("LISTEN_FDS", "2");
    plan.set_env("TERM", "dumb");
    plan.set_env("PATHX", "no");
    let env: Vec<&[u8]> = plan.env.iter().map(|e| e.as_bytes()).collect();
    assert_eq!(
        env,
        [
            &b"PATH=/usr/bin:/bin"[..],
            b"LISTEN_FDS=2",
            b"TERM=dumb",
            b"PATHX=no"
        ]
    );
    assert_eq!(plan.env_value(b"PATH"), Some(&b"/usr/bin:/bin"[..]));
    assert_eq!(plan.env_value(b"PAT"), None);
    plan.set_env("X", "a\0b");
    assert_eq!(plan.env.last().unwrap().as_bytes(), b"X=a");
}

fn plan_running(name: &str, path: Option<&str>) -> ProcessPlan {
    let mut p = process();
    p.args = strings(&[name]);
    p.env = path
        .map(|path| vec![format!("PATH={path}")])
        .unwrap_or_default();
    ProcessPlan::from_spec(&p).unwrap()
}

#[test]
fn resolve_searches_path() {
    let plan = plan_running("sh", Some("/nonexistent:/etc:/usr/bin"));
    assert_eq!(
        plan.resolve_executable().unwrap().as_bytes(),
        b"/usr/bin/sh"
    );
    // Without PATH, the default one: /usr/sbin has no sh, /usr/bin has.
    let found = plan_running("sh", None).resolve_executable().unwrap();
    assert!(found.as_bytes().ends_with(b"bin/sh"), "{found:?}");
    let err = plan_running("no-such-program-here", Some("/usr/bin"))
        .resolve_executable()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "process.args[0] no-such-program-here: executable file not found in $PATH"
    );
    assert_eq!(err.errno(), libc::ENOENT);
    // A directory or a file without execute bits in PATH is skipped.
    let err = plan_running("passwd", Some("/etc")).resolve_executable();
    assert!(matches!(err, Err(ProcessError::NotFound { .. })));
}

#[test]
fn resolve_checks_paths_with_a_slash() {
    let found = plan_running("/bin/sh", None).resolve_executable().unwrap();
    assert_eq!(found.as_bytes(), b"/bin/sh");
    let err = plan_running("/etc", None).resolve_executable().unwrap_err();
    assert_eq!(err.to_string(), "process.args[0] /etc: is a directory");
    assert_eq!(err.errno(), libc::EACCES);
    let err = plan_running("/etc/passwd", None)
        .resolve_executable()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "process.args[0] /etc/passwd: is not executable (no execute permission bit)"
    );
    let err = plan_running("/dev/null", None)
        .resolve_executable()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "process.args[0] /dev/null: is not a regular file"
    );
    let err = plan_running("/no/such/file", None)
        .resolve_executable()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "process.args[0] /no/such/file: No such file or directory (os error 2)"
    );
    assert_eq!(err.errno(), libc::ENOENT);
}

#[test]
fn exec_failure_names_the_file() {
    let plan = plan_running("/bin/sh", None);
    let err = plan.exec(c"/no/such/file");
    assert_eq!(
        err.to_string(),
        "exec /no/such/file: No such file or directory (os error 2)"
    );
    assert_eq!(err.errno(), libc::ENOENT);
}

/// A directory of the tests, removed with everything in it when dropped.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    /// A new empty directory, unique to this process and `name`.
    pub(crate) fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("coracle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether the tests run as root (the kernel-level tests need it).
pub(crate) fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Runs `child` in a forked child process, which reports through the pipe
/// it is given; returns what it wrote and how it ended. The child should
/// allocate little: the test harness is multi-threaded.
pub(crate) fn in_child(child: impl FnOnce(BorrowedFd<'_>) -> i32) -> (String, sys::process::Exit) {
    let (read_end, write_end) = sys::fs::pipe().unwrap();
    match sys::process::clone_process(0, None, false).unwrap() {
        sys::process::Forked::Child => {
            drop(read_end);
            let code = child(write_end.as_fd());
            sys::process::exit_now(code)
        }
        sys::process::Forked::Parent { pid, .. } => {
            drop(write_end);
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                match sys::fs::read(read_end.as_fd(), &mut buf).unwrap() {
                    0 => break,
                    n => out.extend_from_slice(&buf[..n]),
                }
            }
            let exit = sys::process::wait_pid(pid, false).unwrap().unwrap();
            (String::from_utf8_lossy(&out).into_owned(), exit)
        }
    }
}

/// Copies the file `path` to `out`, with no allocation.
fn copy_file(path: &CStr, out: BorrowedFd<'_>) {
    let Ok(file) = sys::fs::openat(None, path, libc::O_RDONLY, 0) else {
        return;
    };
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = sys::fs::read(file.as_fd(), &mut buf) {
        let _ = sys::fs::write_all(out, &buf[..n]);
    }
}

/// Writes `err` to `out` and returns the child's failure code.
fn report(out: BorrowedFd<'_>, err: &dyn std::fmt::Display) -> i32 {
    let _ = sys::fs::write_all(out, format!("ERROR {err}\n").as_bytes());
    1
}

/// The value of the `/proc/PID/status` field `key` in `status`.
fn field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {key} in {status}"))
        .trim()
}

/// A process of uid/gid 1000 keeping CAP_KILL and CAP_NET_BIND_SERVICE,
/// the latter also ambient, with CAP_CHOWN left in the bounding set.
fn unprivileged_process() -> spec::Process {
    let mut p = process();
    p.user = spec::User {
        uid: 1000,
        gid: 1000,
        umask: Some(0o027),
        additional_gids: vec![1001, 1002],
        username: None,
    };
    p.capabilities = Some(spec::Capabilities {
        bounding: Some(strings(&["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"])),
        effective: Some(strings(&["CAP_KILL", "CAP_NET_BIND_SERVICE"])),
        permitted: Some(strings(&["CAP_KILL", "CAP_NET_BIND_SERVICE"])),
        inheritable: Some(strings(&["CAP_NET_BIND_SERVICE"])),
        ambient: Some(strings(&["CAP_NET_BIND_SERVICE"])),
    });
    p.rlimits = vec![rlimit("RLIMIT_NOFILE", 100, 200)];
    p.no_new_privileges = true;
    p
}

#[test]
fn become_user_changes_ids_and_capabilities() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let plan = ProcessPlan::from_spec(&unprivileged_process()).unwrap();
    let (out, exit) = in_child(|out| {
        if let Err(err) = plan.apply_rlimits().and_then(|()| plan.become_user()) {
            return report(out, &err);
        }
        copy_file(c"/proc/self/status", out);
        copy_file(c"/proc/self/limits", out);
        0
    });
    assert_eq!(exit, sys::process::Exit::Code(0), "{out}");
    assert_eq!(field(&out, "Uid"), "1000\t1000\t1000\t1000");
    assert_eq!(field(&out, "Gid"), "1000\t1000\t1000\t1000");
    assert_eq!(field(&out, "Groups"), "1001 1002");
    assert_eq!(field(&out, "CapEff"), "0000000000000420");
    assert_eq!(field(&out, "CapPrm"), "0000000000000420");
    assert_eq!(field(&out, "CapInh"), "0000000000000400");
    assert_eq!(field(&out, "CapAmb"), "0000000000000400");
    assert_eq!(field(&out, "CapBnd"), "0000000000000421");
    assert_eq!(field(&out, "NoNewPrivs"), "1");
    assert_eq!(field(&out, "Umask"), "0027");
    let nofile = out
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    assert_eq!(
        nofile.split_whitespace().collect::<Vec<_>>(),
        ["Max", "open", "files", "100", "200", "files"]
    );
}

#[test]
fn exec_as_user_keeps_ambient_capabilities() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let mut p = unprivileged_process();
    p.args = strings(&[
        "sh",
        "-c",
        "grep ^Cap /proc/self/status; pwd; echo \"$MARK\"",
    ]);
    p.env = strings(&["PATH=/nonexistent:/usr/bin:/bin", "MARK=old"]);
    p.cwd = "/tmp".into();
    let mut plan = ProcessPlan::from_spec(&p).unwrap();
    plan.set_env("MARK", "new");
    let (out, exit) = in_child(|out| {
        if let Err(err) = sys::fs::dup2(out, 1) {
            return report(out, &err);
        }
        let prepared = plan
            .enter_cwd()
            .and_then(|()| plan.become_user())
            .and_then(|()| plan.resolve_executable());
        match prepared {
            Ok(path) => report(out, &plan.exec(&path)),
            Err(err) => report(out, &err),
        }
    });
    assert_eq!(exit, sys::process::Exit::Code(0), "{out}");
    // After exec, a non-root process keeps exactly its ambient set.
    assert_eq!(field(&out, "CapEff"), "0000000000000400");
    assert_eq!(field(&out, "CapPrm"), "0000000000000400");
    assert_eq!(field(&out, "CapAmb"), "0000000000000400");
    assert_eq!(field(&out, "CapBnd"), "0000000000000421");
    let tail: Vec<&str> = out.lines().skip(5).collect();
    assert_eq!(tail, ["/tmp", "new"]);
}

#[test]
fn cwd_outside_the_root_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let root = TempDir::new("cwd");
    let mut plan = ProcessPlan::from_spec(&process()).unwrap();
    // What `/proc/self/fd/N` of a leaked host directory amounts to: a
    // working directory that is not below the root.
    plan.cwd = c".".into();
    let (out, exit) = in_child(|out| {
        if let Err(err) = std::os::unix::fs::chroot(&root.0) {
            return report(out, &err);
        }
        match plan.enter_cwd() {
            Ok(()) => 0,
            Err(err) => report(out, &err),
        }
    });
    assert_eq!(exit, sys::process::Exit::Code(1), "{out}");
    assert_eq!(
        out,
        "ERROR process.cwd .: the working directory is outside the container\n"
    );
}
