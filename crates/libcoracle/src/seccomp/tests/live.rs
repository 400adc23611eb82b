//! Filters installed for real. Each test re-runs this test binary on one
//! `helper_*` test in a fresh process, so that filters, threads and forks
//! never touch the harness running the other tests; a helper does nothing
//! unless the environment names it.

use crate::seccomp::arch::X32_SYSCALL_BIT;
use crate::seccomp::SeccompPlan;
use crate::spec::Seccomp;
use crate::sys::process::{clone_process, exit_now, prctl, wait_pid, Exit, Forked};
use crate::sys::seccomp::{notif_id_valid, notif_recv, notif_send, syscall_ints, NotifResp};
use crate::sys::socket::{recv_with_fd, send_with_fds, seqpacket_pair};
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};
use std::sync::mpsc;

const HELPER_ENV: &str = "CORACLE_SECCOMP_HELPER";

/// Runs the helper test `name` alone in a new process.
fn run_helper(name: &str) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            &format!("seccomp::tests::live::{name}"),
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HELPER_ENV, name)
        .output()
        .unwrap()
}

/// Asserts that the helper ran and passed.
fn assert_helper_passes(name: &str) {
    let out = run_helper(name);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name}: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn helper_active(name: &str) -> bool {
    std::env::var(HELPER_ENV).as_deref() == Ok(name)
}

fn plan(json: serde_json::Value) -> SeccompPlan {
    let seccomp: Seccomp = serde_json::from_value(json).unwrap();
    SeccompPlan::from_spec(&seccomp, None).unwrap().0
}

fn no_new_privs() {
    prctl(libc::PR_SET_NO_NEW_PRIVS, 1).unwrap();
}

fn getppid() -> io::Result<i64> {
    syscall_ints(libc::SYS_getppid, [0; 6])
}

fn errno(result: io::Result<i64>) -> Option<i32> {
    result.err().and_then(|e| e.raw_os_error())
}

/// Runs `body` in a forked child that exits with its return value. The
/// child must not allocate (it may be a copy of a multithreaded process).
fn in_child(body: impl FnOnce() -> i32) -> Exit {
    match clone_process(0, None, false).unwrap() {
        Forked::Child => exit_now(body()),
        Forked::Parent { pid, .. } => wait_pid(pid, false).unwrap().unwrap(),
    }
}

#[test]
fn errno_actions_fail_the_call() {
    assert_helper_passes("helper_errno");
}

#[test]
#[ignore = "run by errno_actions_fail_the_call in a fresh process"]
fn helper_errno() {
    if !helper_active("helper_errno") {
        return;
    }
    let dir = super::TempDir::new("errno");
    plan(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"},
        ],
    }))
    .install()
    .unwrap();
    assert_eq!(errno(getppid()), Some(libc::ENOSYS));
    let err = std::fs::create_dir(dir.0.join("d")).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EPERM));
    assert!(syscall_ints(libc::SYS_getpid, [0; 6]).is_ok());
}

#[test]
fn kill_process_kills() {
    let out = run_helper("helper_kill_process");
    assert_eq!(out.status.signal(), Some(libc::SIGSYS), "{out:?}");
}

#[test]
#[ignore = "run by kill_process_kills in a fresh process"]
fn helper_kill_process() {
    if !helper_active("helper_kill_process") {
        return;
    }
    no_new_privs();
    plan(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}],
    }))
    .install()
    .unwrap();
    let _ = getppid();
    unreachable!("getppid should have killed the process");
}

#[test]
fn argument_conditions_select_calls() {
    assert_helper_passes("helper_arguments");
}

#[test]
#[ignore = "run by argument_conditions_select_calls in a fresh process"]
fn helper_arguments() {
    if !helper_active("helper_arguments") {
        return;
    }
    no_new_privs();
    // Only the query personality(0xffffffff) is allowed; a 64-bit value with
    // the same low half is a different value on x86_64.
    plan(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{
            "names": ["personality"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 0xffff_ffffu64, "op": "SCMP_CMP_NE"}],
        }],
    }))
    .install()
    .unwrap();
    let personality = |p: u64| syscall_ints(libc::SYS_personality, [p, 0, 0, 0, 0, 0]);
    assert!(personality(0xffff_ffff).is_ok());
    assert_eq!(errno(personality(0)), Some(libc::EPERM));
    assert_eq!(errno(personality(0x1_ffff_ffff)), Some(libc::EPERM));
}

#[test]
fn unknown_numbers_get_enosys_and_bad_abis_die() {
    assert_helper_passes("helper_unknown_numbers");
}

#[test]
#[ignore = "run by unknown_numbers_get_enosys_and_bad_abis_die in a fresh process"]
fn helper_unknown_numbers() {
    if !helper_active("helper_unknown_numbers") {
        return;
    }
    let refusing = plan(serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [{"names": ["exit", "exit_group"], "action": "SCMP_ACT_ALLOW"}],
    }));
    let status = in_child(|| {
        no_new_privs();
        if refusing.install().is_err() {
            return 1;
        }
        if errno(syscall_ints(1000, [0; 6])) != Some(libc::ENOSYS) {
            return 2;
        }
        if errno(getppid()) != Some(libc::EPERM) {
            return 3;
        }
        0
    });
    assert_eq!(status, Exit::Code(0));

    // An x32 call where the profile lists no x32: a bad arch.
    let native = plan(serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW"}));
    let status = in_child(|| {
        no_new_privs();
        if native.install().is_err() {
            return 1;
        }
        let _ = syscall_ints(i64::from(X32_SYSCALL_BIT) + libc::SYS_getpid, [0; 6]);
        2
    });
    assert_eq!(status, Exit::Signal(libc::SIGSYS));

    // With x32 listed its calls are filtered by their own numbers (the
    // filter runs before the kernel checks whether x32 is enabled).
    let x32 = plan(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"],
        "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77}],
    }));
    let status = in_child(|| {
        no_new_privs();
        if x32.install().is_err() {
            return 1;
        }
        if errno(syscall_ints(
            i64::from(X32_SYSCALL_BIT) + libc::SYS_getpid,
            [0; 6],
        )) != Some(77)
        {
            return 2;
        }
        if errno(syscall_ints(libc::SYS_getpid, [0; 6])) != Some(77) {
            return 3;
        }
        0
    });
    assert_eq!(status, Exit::Code(0));
}

/// Installs a filter refusing getppid with errno 77 on this thread, with
/// or without TSYNC, and returns what another thread, started before,
/// then gets from getppid.
fn other_thread_getppid(tsync: bool) -> Option<i32> {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (res_tx, res_rx) = mpsc::channel();
    let other = std::thread::spawn(move || {
        go_rx.recv().unwrap();
        res_tx.send(errno(getppid())).unwrap();
    });
    let flags: &[&str] = if tsync {
        &["SECCOMP_FILTER_FLAG_TSYNC"]
    } else {
        &[]
    };
    no_new_privs();
    plan(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "flags": flags,
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 77}],
    }))
    .install()
    .unwrap();
    assert_eq!(errno(getppid()), Some(77));
    go_tx.send(()).unwrap();
    let result = res_rx.recv().unwrap();
    other.join().unwrap();
    result
}

#[test]
fn tsync_filters_every_thread() {
    assert_helper_passes("helper_tsync");
    assert_helper_passes("helper_no_tsync");
}

#[test]
#[ignore = "run by tsync_filters_every_thread in a fresh process"]
fn helper_tsync() {
    if helper_active("helper_tsync") {
        assert_eq!(other_thread_getppid(true), Some(77));
    }
}

#[test]
#[ignore = "run by tsync_filters_every_thread in a fresh process"]
fn helper_no_tsync() {
    if helper_active("helper_no_tsync") {
        assert_eq!(other_thread_getppid(false), None);
    }
}

#[test]
fn notifications_round_trip() {
    assert_helper_passes("helper_notify");
}

#[test]
#[ignore = "run by notifications_round_trip in a fresh process"]
fn helper_notify() {
    if !helper_active("helper_notify") {
        return;
    }
    let dir = super::TempDir::new("notify");
    let (target, second) = (dir.0.join("refused"), dir.0.join("faked"));
    let plan = plan(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/unused",
        // TSYNC with a listener needs TSYNC_ESRCH, which install adds.
        "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }));
    assert!(plan.needs_listener());
    let (parent_sock, child_sock) = seqpacket_pair().unwrap();
    let child = match clone_process(0, None, false).unwrap() {
        Forked::Child => {
            // This process is a fork of a helper whose other thread only
            // waits, so allocating here is safe.
            drop(parent_sock);
            no_new_privs();
            let Ok(Some(listener)) = plan.install() else {
                exit_now(1)
            };
            if send_with_fds(child_sock.as_fd(), b"L", &[listener.as_raw_fd()]).is_err() {
                exit_now(2);
            }
            drop(listener);
            let refused = std::fs::create_dir(&target).map_err(|e| e.raw_os_error());
            let faked = std::fs::create_dir(&second);
            exit_now(match (refused, faked) {
                (Err(Some(libc::EROFS)), Ok(())) => 0,
                (Err(_), _) => 3,
                _ => 4,
            });
        }
        Forked::Parent { pid, .. } => pid,
    };
    drop(child_sock);
    let mut buf = [0u8; 8];
    let (_, listener) = recv_with_fd(parent_sock.as_fd(), &mut buf).unwrap();
    let listener = listener.expect("the child sends its listener");

    // First mkdir: refused with EROFS by the agent.
    let notif = notif_recv(listener.as_fd()).unwrap();
    assert_eq!(notif.pid, child as u32);
    assert!([libc::SYS_mkdir, libc::SYS_mkdirat].contains(&i64::from(notif.data.nr)));
    assert_eq!(notif.data.arch, 0xc000_003e);
    assert!(notif_id_valid(listener.as_fd(), notif.id));
    let refuse = NotifResp {
        id: notif.id,
        val: 0,
        error: -libc::EROFS,
        flags: 0,
    };
    notif_send(listener.as_fd(), &refuse).unwrap();
    assert!(!notif_id_valid(listener.as_fd(), notif.id));

    // Second mkdir: reported successful without being made.
    let notif = notif_recv(listener.as_fd()).unwrap();
    let fake = NotifResp {
        id: notif.id,
        val: 0,
        error: 0,
        flags: 0,
    };
    notif_send(listener.as_fd(), &fake).unwrap();

    assert_eq!(wait_pid(child, false).unwrap(), Some(Exit::Code(0)));
    assert!(!target.exists() && !second.exists());
}

#[test]
fn podman_profile_installs() {
    assert_helper_passes("helper_podman");
}

#[test]
#[ignore = "run by podman_profile_installs in a fresh process"]
fn helper_podman() {
    if !helper_active("helper_podman") {
        return;
    }
    let seccomp = super::podman::podman_seccomp(super::podman::PODMAN_DEFAULT_CAPS);
    let plan = SeccompPlan::from_spec(&seccomp, None).unwrap().0;
    let status = in_child(|| {
        no_new_privs();
        if plan.install().is_err() {
            return 1;
        }
        // Allowed, refused without CAP_SYS_ADMIN, past the table.
        if syscall_ints(libc::SYS_getppid, [0; 6]).is_err() {
            return 2;
        }
        if errno(syscall_ints(libc::SYS_bpf, [0; 6])) != Some(libc::EPERM) {
            return 3;
        }
        if errno(syscall_ints(1000, [0; 6])) != Some(libc::ENOSYS) {
            return 4;
        }
        0
    });
    assert_eq!(status, Exit::Code(0));
}
