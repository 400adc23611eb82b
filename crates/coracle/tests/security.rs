//! What the container must not reach of the host: the runtime's binary
//! (CVE-2019-5736), the caller's session keyring (runc's `_ses.ID` keyring
//! and `--no-new-keyring`), each attempted from inside the container.

mod common;

use common::*;
use serde_json::json;
use std::ffi::CString;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `KEY_POS_ALL`: every permission for the key's possessors, none for its
/// user, group or others. Only a process whose keyrings lead to the key
/// sees it in /proc/keys; the host's root as such does not.
const POSSESSOR_ONLY: u32 = 0x3f00_0000;

/// Gives the calling thread, and so the runtime it spawns, a session
/// keyring of its own holding one key visible only to its possessors;
/// returns the key's description.
fn session_keyring_with_a_secret(t: &Test) -> String {
    let ring = CString::new(t.unique("coracle-test-keyring")).unwrap();
    let secret = t.unique("coracle-test-secret");
    let description = CString::new(secret.clone()).unwrap();
    let payload = b"top secret";
    // SAFETY: keyctl and add_key read the NUL-terminated strings and the
    // payload, which outlive the calls; the credentials of this thread
    // alone change (libtest runs each test on a thread of its own).
    let (ring_id, key_id) = unsafe {
        let ring_id = libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            ring.as_ptr(),
        );
        let key_id = libc::syscall(
            libc::SYS_add_key,
            c"user".as_ptr(),
            description.as_ptr(),
            payload.as_ptr(),
            payload.len(),
            libc::KEY_SPEC_SESSION_KEYRING,
        );
        (ring_id, key_id)
    };
    assert!(
        ring_id > 0 && key_id > 0,
        "keyctl: {}",
        std::io::Error::last_os_error()
    );
    for id in [ring_id, key_id] {
        // SAFETY: KEYCTL_SETPERM takes two integers.
        let rc =
            unsafe { libc::syscall(libc::SYS_keyctl, libc::KEYCTL_SETPERM, id, POSSESSOR_ONLY) };
        assert_eq!(rc, 0, "KEYCTL_SETPERM: {}", std::io::Error::last_os_error());
    }
    assert!(
        read(std::path::Path::new("/proc/keys")).contains(&secret),
        "the test does not see its own key"
    );
    secret
}

/// A bundle whose init writes what it sees in /proc/keys (unmasked) to
/// OUT/keys and sleeps; returns OUT.
fn keys_bundle(t: &Test) -> (Bundle, PathBuf) {
    let mut b = t.bundle(&[]);
    let out = b.out_dir(t);
    b.config["linux"]["maskedPaths"]
        .as_array_mut()
        .unwrap()
        .retain(|p| p != "/proc/keys");
    b.sh("cat /proc/keys > /out/keys; exec sleep 1000");
    (b, out)
}

/// What the init and an `exec`'d process see in /proc/keys.
fn keys_seen(c: &Container<'_>, out: &std::path::Path) -> [String; 2] {
    c.start();
    wait_for_comm(c.pid, "sleep");
    let init = read(&out.join("keys"));
    let exec = c.exec(&["cat", "/proc/keys"]).ok().stdout;
    [init, exec]
}

#[test]
fn the_container_gets_a_session_keyring_of_its_own() {
    let t = Test::new();
    let secret = session_keyring_with_a_secret(&t);
    let (b, out) = keys_bundle(&t);
    let c = t.create(&b);
    for (who, keys) in ["init", "exec"].iter().zip(keys_seen(&c, &out)) {
        assert!(
            !keys.contains(&secret),
            "{who} sees the caller's key:\n{keys}"
        );
        let own = format!("_ses.{}", c.id);
        assert!(keys.contains(&own), "{who} is not in {own}:\n{keys}");
    }
}

/// The serial numbers of the keyrings named `name` in a /proc/keys listing.
fn keyring_serials<'a>(keys: &'a str, name: &str) -> Vec<&'a str> {
    keys.lines()
        .filter(|line| line.ends_with(&format!(" {name}: empty")))
        .filter_map(|line| line.split_whitespace().next())
        .collect()
}

/// In a user namespace an `exec`'d process joins the keyring while it still
/// has the host's uid, which does not own it: the init must have made it
/// searchable for others, or the process gets a new keyring of that name.
/// The host's uid 0 is mapped too (as 65536), so that such a second
/// keyring, owned by it, would show in /proc/keys inside. (runc's exec
/// joins as the container's root, the owner, whose permissions lack the
/// search that runc grants only to others: it gets a second keyring.)
#[test]
fn exec_joins_the_containers_keyring_in_a_user_namespace() {
    if skip_unless_coracle("joining the init's keyring from exec in a user namespace") {
        return;
    }
    let t = Test::new();
    let (mut b, out) = keys_bundle(&t);
    b.with_ns("user", None);
    let map = json!([
        {"containerID": 0, "hostID": 100000, "size": 65536},
        {"containerID": 65536, "hostID": 0, "size": 1}
    ]);
    b.config["linux"]["uidMappings"] = map.clone();
    b.config["linux"]["gidMappings"] = map;
    let c = t.create(&b);
    let own = format!("_ses.{}", c.id);
    let [init, exec] = keys_seen(&c, &out);
    let serials = keyring_serials(&init, &own);
    assert_eq!(serials.len(), 1, "the init is not in {own}:\n{init}");
    assert_eq!(
        keyring_serials(&exec, &own),
        serials,
        "init:\n{init}\nexec:\n{exec}"
    );
}

#[test]
fn no_new_keyring_keeps_the_callers_session_keyring() {
    let t = Test::new();
    let secret = session_keyring_with_a_secret(&t);
    let (b, out) = keys_bundle(&t);
    let c = t
        .try_create(&b, &["--no-new-keyring"])
        .unwrap_or_else(|out| panic!("create failed: {out}"));
    for (who, keys) in ["init", "exec"].iter().zip(keys_seen(&c, &out)) {
        assert!(
            keys.contains(&secret),
            "{who} lost the caller's key:\n{keys}"
        );
    }
}

// ---------------------------------------------------------------------------
// CVE-2019-5736: overwriting the runtime's binary through /proc/PID/exe
// ---------------------------------------------------------------------------

/// A throw-away copy of the runtime under test, which the attacks aim at.
struct RuntimeCopy {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl RuntimeCopy {
    fn new(t: &Test) -> RuntimeCopy {
        let path = t.dir.join(runtime().file_name().unwrap());
        std::fs::copy(runtime(), &path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        RuntimeCopy { path, bytes }
    }

    /// The copy with this test's `--root`.
    fn command(&self, t: &Test) -> Command {
        let mut cmd = Command::new(&self.path);
        cmd.arg("--root")
            .arg(&t.root)
            .stdin(std::process::Stdio::null());
        cmd
    }

    fn run(&self, t: &Test, args: &[&str]) -> Out {
        let mut cmd = self.command(t);
        cmd.args(args);
        t.output(cmd)
    }

    #[track_caller]
    fn assert_unchanged(&self) {
        let now = std::fs::read(&self.path).unwrap();
        assert!(
            now == self.bytes,
            "the container modified the runtime's binary"
        );
    }
}

/// The end of both attacks, in the container's shell, once descriptor 3
/// holds the runtime's binary (read-only) and no runtime process runs it
/// any more: reopen it for writing through /proc/self/fd/3, again while
/// the kernel says it is busy (a runtime process still exiting), and write
/// down in /out/res what came of it.
const WRITE_THROUGH_FD_3: &str = r#"
i=0
while :; do
  if err=$( (echo PWNED >> /proc/self/fd/3) 2>&1); then echo wrote >> /out/res; break; fi
  i=$((i+1))
  case "$err" in
    *busy*) [ $i -lt 1000 ] && { sleep 0.01; continue; };;
  esac
  echo "failed: $err" >> /out/res; break
done
echo done >> /out/res
"#;

/// Waits for the attack's report to end; returns it.
fn attack_report(out: &Path) -> String {
    let res = out.join("res");
    let end = std::time::Instant::now() + DEADLINE;
    loop {
        let text = std::fs::read_to_string(&res).unwrap_or_default();
        if text.ends_with("done\n") {
            return text;
        }
        assert!(
            std::time::Instant::now() < end,
            "the attack never ended: {text:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// The attack got hold of the copy (for coracle, the very file, by inode:
/// a read-only view of it, not a copy) and could not write to it.
#[track_caller]
fn assert_defeated(report: &str, copy: &RuntimeCopy) {
    let opened = report
        .lines()
        .find_map(|line| line.strip_prefix("opened "))
        .unwrap_or_else(|| panic!("the attack never opened the binary: {report}"));
    if is_coracle() {
        let inode = std::fs::metadata(&copy.path).unwrap().ino();
        assert_eq!(opened, inode.to_string(), "opened something else: {report}");
    }
    // EROFS (a read-only mount), EPERM (a sealed memfd), EACCES, or
    // ETXTBSY that never ends.
    let refused = [
        "Read-only file system",
        "Operation not permitted",
        "Permission denied",
        "Text file busy",
    ];
    let failure = report
        .lines()
        .find(|line| line.starts_with("failed: "))
        .unwrap_or_else(|| panic!("the write was not refused: {report}"));
    assert!(refused.iter().any(|why| failure.ends_with(why)), "{report}");
    copy.assert_unchanged();
}

/// The audit's attack without any capability: the rootfs has `/evil`, a
/// script whose interpreter is `/proc/self/exe`. When the runtime's exec'd
/// process runs it, the kernel runs the runtime's own binary inside the
/// container, dumpable (here blocked opening a FIFO as its log, so that no
/// race is needed); the container's init opens its /proc/PID/exe, lets it
/// go, and writes to the binary once it has exited.
#[test]
fn a_script_run_by_exec_cannot_overwrite_the_runtime_binary() {
    // runc's exec cannot run such a script at all: "no such file or
    // directory".
    if skip_unless_coracle("running a script whose interpreter is /proc/self/exe") {
        return;
    }
    let t = Test::new();
    let copy = RuntimeCopy::new(&t);
    let mut b = t.bundle(&["/bin/sh", "/attack"]);
    let out = b.out_dir(&t);
    let rootfs = b.rootfs();
    std::fs::write(rootfs.join("evil"), "#!/proc/self/exe --log=/tmp/f\n").unwrap();
    host("chmod", &["755", &rootfs.join("evil").to_string_lossy()]);
    host("mkfifo", &[&rootfs.join("tmp/f").to_string_lossy()]);
    let find = r#"
while :; do
  for p in /proc/[0-9]*; do
    [ "$(head -c 14 $p/cmdline 2>/dev/null)" = /proc/self/exe ] || continue
    readlink $p/exe > /dev/null 2>&1 || continue
    exec 3< $p/exe
    echo "opened $(stat -L -c %i /proc/self/fd/3)" > /out/res
    break 2
  done
done
cat /tmp/f > /dev/null
while [ -d $p ]; do sleep 0.01; done
"#;
    std::fs::write(
        rootfs.join("attack"),
        format!("{find}{WRITE_THROUGH_FD_3}exec sleep 1000\n"),
    )
    .unwrap();
    b.save();
    let id = t.id();
    let run = copy.run(
        &t,
        &["run", "--detach", "--bundle", &b.dir.to_string_lossy(), &id],
    );
    let _container = t.adopt(&id, &b, run.ok());
    copy.run(&t, &["exec", &id, "/evil"]);
    assert_defeated(&attack_report(&out), &copy);
}

/// The audit's attack with CAP_SYS_PTRACE, which opens the /proc/PID/exe
/// of a non-dumpable process too: a process exec'd into a created
/// container opens /proc/1/exe, the runtime's binary as long as the init
/// waits for `start`, and writes to it once the init runs its program.
#[test]
fn a_ptrace_capable_process_cannot_overwrite_the_runtime_binary_through_the_init() {
    let t = Test::new();
    let copy = RuntimeCopy::new(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    let out = b.out_dir(&t);
    let attack = r#"
exec 3< /proc/1/exe
echo "opened $(stat -L -c %i /proc/self/fd/3)" > /out/res
while [ "$(cat /proc/1/comm)" != sleep ]; do sleep 0.01; done
"#;
    std::fs::write(
        b.rootfs().join("attack"),
        format!("{attack}{WRITE_THROUGH_FD_3}"),
    )
    .unwrap();
    b.save();
    let id = t.id();
    let create = copy.run(&t, &["create", "--bundle", &b.dir.to_string_lossy(), &id]);
    let c = t.adopt(&id, &b, create.ok());
    copy.run(
        &t,
        &[
            "exec",
            "--detach",
            "--cap",
            "CAP_SYS_PTRACE",
            &id,
            "/bin/sh",
            "/attack",
        ],
    )
    .ok();
    wait_for_file(&out.join("res"));
    copy.run(&t, &["start", &id]).ok();
    assert_defeated(&attack_report(&out), &copy);
    drop(c);
}

/// `create`, `run` and `exec` re-execute themselves from a read-only mount
/// of the binary (the init's /proc/PID/exe is the binary, on a read-only
/// mount); the commands that never enter a container do not.
#[test]
fn only_the_commands_that_enter_a_container_re_execute_protected() {
    if skip_unless_coracle("the phase trace of the self-protection") {
        return;
    }
    let t = Test::new();
    let b = t.bundle(&["sleep", "1000"]);
    let log = t.dir.join("debug.log");
    let debug = ["--debug", "--log", log.to_str().unwrap()];
    let reexecuted = |args: &[&str]| {
        let _ = std::fs::remove_file(&log);
        let mut cmd = t.command();
        cmd.args(debug).args(args);
        let out = t.output(cmd);
        let lines = read(&log)
            .matches("re-execute from a read-only mount")
            .count();
        (out, lines)
    };
    let mut cmd = t.command();
    cmd.args(debug).arg("create").arg("--bundle").arg(&b.dir);
    b.save();
    let id = t.id();
    cmd.arg(&id);
    let c = t
        .finish_create(cmd, &b, &id)
        .unwrap_or_else(|out| panic!("{out}"));
    assert_eq!(
        read(&log)
            .matches("re-execute from a read-only mount")
            .count(),
        1
    );
    let exe = std::fs::File::open(format!("/proc/{}/exe", c.pid)).unwrap();
    assert_eq!(
        exe.metadata().unwrap().ino(),
        std::fs::metadata(runtime()).unwrap().ino()
    );
    // SAFETY: statvfs is plain data that fstatvfs fills.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: the descriptor is open and `stat` is ours.
    let rc = unsafe { libc::fstatvfs(std::os::fd::AsRawFd::as_raw_fd(&exe), &mut stat) };
    assert_eq!(rc, 0);
    assert_ne!(
        stat.f_flag & libc::ST_RDONLY,
        0,
        "the init runs from a writable mount"
    );
    for args in [&["state", &id][..], &["start", &id], &["list"]] {
        let (out, lines) = reexecuted(args);
        assert_eq!(lines, 0, "{out}");
    }
    let (out, lines) = reexecuted(&["exec", &id, "true"]);
    assert_eq!(lines, 1, "{out}");
    let (out, lines) = reexecuted(&["kill", &id, "KILL"]);
    assert_eq!(lines, 0, "{out}");
    c.wait_stopped();
}
