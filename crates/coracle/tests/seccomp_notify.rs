//! `linux.seccomp` with `SCMP_ACT_NOTIFY` through the binary
//! (config-linux.md "Seccomp", `listenerPath`): the listener and the
//! container process state reach the agent, its answers reach the
//! container, the calls the runtime makes after installing the filter may
//! be notified, TSYNC goes with a listener, and a missing agent fails
//! create.

mod common;

use common::*;
use libcoracle::sys::seccomp::{notif_recv, notif_send, NotifResp};
use libcoracle::sys::socket::recv_with_fd;
use serde_json::{json, Value};
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;

/// Receives a message and the one descriptor sent with it, as an agent
/// does (with the library's agent-side calls).
fn recv_message_and_fd(sock: BorrowedFd<'_>) -> (Vec<u8>, OwnedFd) {
    let mut buf = vec![0u8; 64 * 1024];
    let (n, fd) = recv_with_fd(sock, &mut buf).expect("recvmsg");
    buf.truncate(n);
    (buf, fd.expect("no descriptor came with the message"))
}

/// Waits (bounded) for a notification on `listener` and answers it with a
/// faked success (return value `val`). Returns the syscall number.
fn answer_one(listener: &OwnedFd, val: i64) -> i32 {
    let mut pfd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, DEADLINE.as_millis() as i32) };
    assert_eq!(n, 1, "no notification came");
    let notif = notif_recv(listener.as_fd()).expect("NOTIF_RECV");
    let resp = NotifResp {
        id: notif.id,
        val,
        ..NotifResp::default()
    };
    notif_send(listener.as_fd(), &resp).expect("NOTIF_SEND");
    notif.data.nr
}

#[test]
fn notify_listener_round_trip() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let sock_path = t.dir.join("agent.sock");
    let agent = UnixListener::bind(&sock_path).unwrap();
    let mut profile = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}
    ]));
    profile["listenerPath"] = json!(sock_path);
    profile["listenerMetadata"] = json!("from-the-test");
    b.config["linux"]["seccomp"] = profile;
    b.sh("mkdir /tmp/faked && echo mkdir-succeeded; [ -d /tmp/faked ] || echo but-absent");
    // create returns once the listener reached the agent: accept in a
    // thread, then start the container and answer its one notification.
    let agent_thread = std::thread::spawn(move || {
        let (mut conn, _) = agent.accept().unwrap();
        let (message, listener) = recv_message_and_fd(conn.as_fd());
        let mut rest = Vec::new();
        let _ = conn.read_to_end(&mut rest);
        (message, listener)
    });
    let c = t.create(&b);
    let (message, listener) = agent_thread.join().unwrap();
    let state: Value = serde_json::from_slice(&message).unwrap();
    assert_eq!(state["fds"], json!(["seccompFd"]), "{state}");
    assert_eq!(state["metadata"], json!("from-the-test"), "{state}");
    assert_eq!(state["pid"], json!(c.pid), "{state}");
    assert_eq!(state["state"]["id"], json!(c.id), "{state}");
    assert!(state["ociVersion"].is_string(), "{state}");
    c.start();
    let nr = answer_one(&listener, 0);
    assert!(
        nr == libc::SYS_mkdir as i32 || nr == libc::SYS_mkdirat as i32,
        "{nr}"
    );
    c.wait_stopped();
    assert_eq!(c.stdout(), "mkdir-succeeded\nbut-absent\n");
    assert!(!b.rootfs().join("tmp/faked").exists());
}

/// `SECCOMP_USER_NOTIF_FLAG_CONTINUE`: let the call run as if not notified.
const NOTIF_FLAG_CONTINUE: u32 = 1;

/// An agent at `path` that lets every notified call of every listener it
/// receives go on, until each listener's processes are gone (bounded).
/// Returns how many calls it saw in all.
fn continuing_agent(path: &Path) -> std::thread::JoinHandle<usize> {
    let agent = UnixListener::bind(path).unwrap();
    agent.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + DEADLINE;
        let mut listeners = Vec::new();
        let mut seen = 0;
        while std::time::Instant::now() < deadline
            && (listeners.is_empty() || any_in_use(&listeners))
        {
            if let Ok((conn, _)) = agent.accept() {
                conn.set_nonblocking(false).unwrap();
                listeners.push(recv_message_and_fd(conn.as_fd()).1);
            }
            seen += listeners.iter().map(continue_pending).sum::<usize>();
        }
        seen
    })
}

/// Whether a process still uses one of the listeners' filters.
fn any_in_use(listeners: &[OwnedFd]) -> bool {
    listeners.iter().any(|l| {
        let mut pfd = libc::pollfd {
            fd: l.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut pfd, 1, 0) };
        pfd.revents & libc::POLLHUP == 0
    })
}

/// Lets the calls waiting on `listener` go on; how many there were.
fn continue_pending(listener: &OwnedFd) -> usize {
    let mut count = 0;
    loop {
        let mut pfd = libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        if unsafe { libc::poll(&mut pfd, 1, 10) } != 1 || pfd.revents & libc::POLLIN == 0 {
            return count;
        }
        let Ok(notif) = notif_recv(listener.as_fd()) else {
            continue;
        };
        let resp = NotifResp {
            id: notif.id,
            flags: NOTIF_FLAG_CONTINUE,
            ..NotifResp::default()
        };
        // A call whose process died meanwhile fails: nothing to do then.
        let _ = notif_send(listener.as_fd(), &resp);
        count += 1;
    }
}

#[test]
fn notify_may_apply_to_the_calls_the_init_makes_after_installing() {
    // What the init and an exec'd process do between installing the filter
    // and execve, and what the container's shell does. runc refuses only
    // write (its init hands the listener over with it), coracle sendmsg.
    let mut names = vec![
        "openat",
        "read",
        "close",
        "fcntl",
        "futex",
        "rt_sigprocmask",
        "execve",
        "chdir",
        "close_range",
        "exit_group",
    ];
    if is_coracle() {
        names.push("write");
    }
    for nnp in [true, false] {
        let t = Test::new();
        let mut b = t.bundle(&["sleep", "1000"]);
        let sock_path = t.dir.join("agent.sock");
        let agent = continuing_agent(&sock_path);
        b.config["process"]["noNewPrivileges"] = json!(nnp);
        let mut profile = allow_but(json!([{"names": names, "action": "SCMP_ACT_NOTIFY"}]));
        profile["listenerPath"] = json!(sock_path);
        b.config["linux"]["seccomp"] = profile;
        let c = t.create(&b);
        c.start();
        wait_for_comm(c.pid, "sleep");
        let out = c.exec(&["sh", "-c", "echo through-the-agent"]).ok();
        assert_eq!(out.stdout, "through-the-agent\n", "nnp {nnp}: {out}");
        c.force_delete();
        assert!(
            agent.join().unwrap() > 0,
            "nnp {nnp}: the agent saw no call"
        );
    }
}

#[test]
fn tsync_goes_with_a_notify_listener() {
    if skip_unless_coracle("runc 1.1.5 takes no seccomp flags") {
        return;
    }
    // The kernel takes TSYNC together with a listener only with
    // TSYNC_ESRCH, which the runtime must add.
    let t = Test::new();
    let b = &mut t.bundle(&["sh", "-c", "mkdir /tmp/d && echo made"]);
    let sock_path = t.dir.join("agent.sock");
    let agent = continuing_agent(&sock_path);
    let mut profile = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}
    ]));
    profile["flags"] = json!(["SECCOMP_FILTER_FLAG_TSYNC"]);
    profile["listenerPath"] = json!(sock_path);
    b.config["linux"]["seccomp"] = profile;
    let out = t.run(b).ok();
    assert_eq!(out.stdout, "made\n", "{out}");
    assert_eq!(agent.join().unwrap(), 1);
}

#[test]
fn notify_without_a_listening_agent_fails_create() {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    let mut profile = allow_but(json!([
        {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}
    ]));
    profile["listenerPath"] = json!(t.dir.join("nobody.sock"));
    b.config["linux"]["seccomp"] = profile;
    let out = t.try_create(&b, &[]).err().expect("create must fail");
    let out = out.fails_with_one_line();
    assert!(out.stderr.contains("nobody.sock"), "{out}");
}
