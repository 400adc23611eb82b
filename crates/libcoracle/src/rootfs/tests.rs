//! Root tests with real kernel effects: `mount_all` and `enter` run in a
//! child in new mount and pid namespaces against a tiny rootfs in a
//! temporary directory, and the child checks what the container sees.
//!
//! Each test re-runs itself in a fresh single-test process (the harness's
//! other threads could hold allocator locks across the clone), and the
//! child's mounts vanish with its mount namespace.

use super::*;
use crate::sys::process::{clone_process, execve, exit_now, pointer_array, wait_pid, Forked};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::panic::AssertUnwindSafe;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A temporary bundle directory with an empty `rootfs`, removed on drop.
pub(crate) struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("coracle-rootfs-{}-{n}-{name}", std::process::id()));
        fs::create_dir_all(path.join("rootfs")).unwrap();
        TempDir { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn rootfs(&self) -> PathBuf {
        self.path.join("rootfs")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

const CHILD: &str = "CORACLE_ROOTFS_TEST_CHILD";

/// True in the isolated process; otherwise runs the test `name` in one,
/// checks that it passed, and returns false.
fn isolated(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let status = fs::read_to_string("/proc/self/status").unwrap();
    if !status.lines().any(|l| l.starts_with("Uid:\t0\t")) {
        eprintln!("skipping {name}: needs root");
        return false;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([&format!("rootfs::tests::{name}"), "--exact", "--nocapture"])
        .arg("--test-threads=1")
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "isolated run of {name} failed:\n{stdout}\n{stderr}"
    );
    false
}

/// Runs `body` in a child in new mount and pid namespaces (plus `extra`
/// `CLONE_NEW*` flags); returns its exit code. `body` may also exec.
fn contained(extra: i32, body: impl FnOnce() -> Result<(), String>) -> i32 {
    let flags = (libc::CLONE_NEWNS | libc::CLONE_NEWPID | extra) as u64;
    match clone_process(flags, None, false).unwrap() {
        Forked::Child => {
            let code = match std::panic::catch_unwind(AssertUnwindSafe(body)) {
                Ok(Ok(())) => 0,
                Ok(Err(msg)) => {
                    eprintln!("in the container: {msg}");
                    1
                }
                Err(_) => 2,
            };
            exit_now(code)
        }
        Forked::Parent { pid, .. } => match wait_pid(pid, false).unwrap() {
            Some(exit) => exit.shell_code(),
            None => -1,
        },
    }
}

fn make_plan(bundle: &Path, json: &str, no_pivot: bool) -> RootfsPlan {
    let spec: Spec = serde_json::from_str(json).unwrap();
    RootfsPlan::from_spec(&spec, bundle, RootfsOptions { no_pivot }).unwrap()
}

fn ensure(ok: bool, what: impl std::fmt::Display) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what.to_string())
    }
}

fn errno<T>(result: std::io::Result<T>) -> Option<i32> {
    result.err().and_then(|e| e.raw_os_error())
}

fn meta(path: &str) -> Result<fs::Metadata, String> {
    fs::symlink_metadata(path).map_err(|e| format!("{path}: {e}"))
}

fn char_device(path: &str, major: u32, minor: u32, perm: u32) -> Result<(), String> {
    let m = meta(path)?;
    ensure(
        m.file_type().is_char_device(),
        format!("{path} is not a char device"),
    )?;
    let dev = m.rdev() as libc::dev_t;
    ensure(
        (libc::major(dev), libc::minor(dev)) == (major, minor),
        format!("{path} is {}:{}", libc::major(dev), libc::minor(dev)),
    )?;
    ensure(
        m.mode() & 0o7777 == perm,
        format!("{path} has mode {:o}", m.mode()),
    )
}

fn link_to(path: &str, target: &str) -> Result<(), String> {
    let read = fs::read_link(path).map_err(|e| format!("{path}: {e}"))?;
    ensure(
        read == Path::new(target),
        format!("{path} -> {}", read.display()),
    )
}

fn read_only(path: &str) -> Result<(), String> {
    let err = errno(fs::create_dir(path));
    ensure(
        err == Some(libc::EROFS),
        format!("mkdir {path}: {err:?}, not EROFS"),
    )
}

/// This process's cgroup directory on the host in the v1 hierarchy with
/// `controller`.
fn own_cgroup(controller: &str) -> PathBuf {
    let cgroups = fs::read_to_string("/proc/self/cgroup").unwrap();
    let line = cgroups
        .lines()
        .find(|l| l.split(':').nth(1) == Some(controller))
        .unwrap();
    let path = line.splitn(3, ':').nth(2).unwrap();
    Path::new("/sys/fs/cgroup")
        .join(controller)
        .join(path.trim_start_matches('/'))
}

fn full_spec(tmp: &TempDir) -> String {
    format!(
        r#"{{
        "ociVersion": "1.2.0",
        "root": {{"path": "rootfs", "readonly": true}},
        "mounts": [
            {{"destination": "/proc", "type": "proc", "source": "proc"}},
            {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
              "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}},
            {{"destination": "/dev/pts", "type": "devpts", "source": "devpts",
              "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]}},
            {{"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
              "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}},
            {{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
              "options": ["nosuid", "noexec", "nodev"]}},
            {{"destination": "/sys", "type": "sysfs", "source": "sysfs",
              "options": ["nosuid", "noexec", "nodev", "ro"]}},
            {{"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
              "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}},
            {{"destination": "/etc/hostfile", "type": "bind", "source": "hostfile",
              "options": ["bind", "ro"]}},
            {{"destination": "/data", "source": "{data}", "options": ["rbind", "rro", "nosuid"]}},
            {{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nodev"]}}
        ],
        "linux": {{
            "devices": [
                {{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}},
                {{"path": "/dev/myfifo", "type": "p", "fileMode": 384}}
            ],
            "rootfsPropagation": "shared",
            "maskedPaths": ["/proc/timer_list", "/proc/nonexistent", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
        }}
    }}"#,
        data = tmp.path().join("data").display()
    )
}

#[test]
fn full_container_setup() {
    if !isolated("full_container_setup") {
        return;
    }
    let tmp = TempDir::new("full");
    let rootfs = tmp.rootfs();
    fs::create_dir_all(rootfs.join("bin")).unwrap();
    fs::create_dir_all(rootfs.join("etc")).unwrap();
    fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sh")).unwrap();
    fs::write(tmp.path().join("hostfile"), "hello").unwrap();
    fs::create_dir(tmp.path().join("data")).unwrap();
    fs::write(tmp.path().join("data/f"), "data").unwrap();
    let plan = make_plan(tmp.path(), &full_spec(&tmp), false);
    let views = [
        CgroupView {
            dir_name: "memory".into(),
            fs_options: "memory".into(),
            host_path: own_cgroup("memory"),
        },
        CgroupView {
            dir_name: "cpu,cpuacct".into(),
            fs_options: "cpu,cpuacct".into(),
            host_path: own_cgroup("cpu"),
        },
    ];
    let code = contained(0, || {
        let env = MountEnv {
            cgroup2_dir: None,
            cgroup_views: &views,
            cgroup_ns: false,
        };
        plan.mount_all(&env).map_err(|e| e.to_string())?;
        console_checks(&plan)?;
        plan.enter().map_err(|e| e.to_string())?;
        container_checks()?;
        // Last, a real program of the rootfs runs in it.
        let argv: Vec<CString> = [
            "sh",
            "-c",
            "test -c /dev/null && test -L /dev/ptmx && exit 7",
        ]
        .iter()
        .map(|s| CString::new(*s).unwrap())
        .collect();
        let err = execve(c"/bin/busybox", &pointer_array(&argv), &pointer_array(&[]));
        Err(format!("exec busybox: {err}"))
    });
    assert_eq!(code, 7, "see the container's messages above");
}

fn console_checks(plan: &RootfsPlan) -> Result<(), String> {
    let null = fs::File::open("/dev/null").unwrap();
    let err = plan.bind_console(null.as_fd()).unwrap_err().to_string();
    ensure(err.contains("not a pty on devpts"), &err)?;
    // The multiplexer is on the container's devpts like a pty peer is.
    let ptmx = plan
        .open_in_root("dev/ptmx", libc::O_RDWR | libc::O_NOCTTY)
        .map_err(|e| e.to_string())?;
    plan.bind_console(ptmx.as_fd()).map_err(|e| e.to_string())
}

fn container_checks() -> Result<(), String> {
    ensure(std::process::id() == 1, "not pid 1")?;
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    ensure(cwd == Path::new("/"), format!("cwd {}", cwd.display()))?;
    // Default devices, config devices, links.
    char_device("/dev/null", 1, 3, 0o666)?;
    char_device("/dev/tty", 5, 0, 0o666)?;
    char_device("/dev/urandom", 1, 9, 0o666)?;
    char_device("/dev/fuse", 10, 229, 0o666)?;
    char_device("/dev/console", 5, 2, 0o666)?;
    let fifo = meta("/dev/myfifo")?;
    ensure(
        fifo.file_type().is_fifo() && fifo.mode() & 0o7777 == 0o600,
        "/dev/myfifo",
    )?;
    fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .and_then(|mut f| f.write_all(b"x"))
        .map_err(|e| format!("write /dev/null: {e}"))?;
    link_to("/dev/fd", "/proc/self/fd")?;
    link_to("/dev/stderr", "/proc/self/fd/2")?;
    link_to("/dev/ptmx", "pts/ptmx")?;
    // Masked paths.
    char_device("/proc/timer_list", 1, 3, 0o666)?;
    let mut buf = Vec::new();
    fs::File::open("/proc/timer_list")
        .and_then(|mut f| f.read_to_end(&mut buf))
        .map_err(|e| format!("read /proc/timer_list: {e}"))?;
    ensure(buf.is_empty(), "/proc/timer_list is readable")?;
    let firmware = fs::read_dir("/sys/firmware").map_err(|e| e.to_string())?;
    ensure(firmware.count() == 0, "/sys/firmware is not empty")?;
    read_only("/sys/firmware/x")?;
    // Read-only paths and root.
    let err = errno(
        fs::OpenOptions::new()
            .write(true)
            .open("/proc/sys/kernel/hostname"),
    );
    ensure(
        err == Some(libc::EROFS),
        format!("/proc/sys writable: {err:?}"),
    )?;
    read_only("/newdir")?;
    fs::create_dir("/tmp/x").map_err(|e| format!("/tmp: {e}"))?;
    fs::create_dir("/dev/shm/x").map_err(|e| format!("/dev/shm: {e}"))?;
    // Binds.
    let host = fs::read_to_string("/etc/hostfile").map_err(|e| e.to_string())?;
    ensure(host == "hello", "/etc/hostfile")?;
    let err = errno(fs::OpenOptions::new().write(true).open("/etc/hostfile"));
    ensure(err == Some(libc::EROFS), "/etc/hostfile writable")?;
    ensure(
        fs::read_to_string("/data/f").is_ok_and(|s| s == "data"),
        "/data/f",
    )?;
    read_only("/data/x")?;
    // cgroups: views, links, read-only.
    ensure(
        Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists(),
        "no memory cgroup",
    )?;
    ensure(
        Path::new("/sys/fs/cgroup/cpu,cpuacct/cpu.shares").exists(),
        "no cpu cgroup",
    )?;
    link_to("/sys/fs/cgroup/cpu", "cpu,cpuacct")?;
    link_to("/sys/fs/cgroup/cpuacct", "cpu,cpuacct")?;
    read_only("/sys/fs/cgroup/x")?;
    read_only("/sys/fs/cgroup/memory/x")?;
    read_only("/sys/x")?;
    // rootfsPropagation "shared" and nothing of the host left.
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
    let root_line = mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .ok_or("no / in mountinfo")?;
    ensure(
        root_line.contains(" shared:"),
        format!("/ not shared: {root_line}"),
    )?;
    ensure(
        mountinfo.lines().count() < 30,
        format!("host mounts left:\n{mountinfo}"),
    )
}

#[test]
fn planted_symlinks_stay_inside_the_rootfs() {
    if !isolated("planted_symlinks_stay_inside_the_rootfs") {
        return;
    }
    let tmp = TempDir::new("symlinks");
    let rootfs = tmp.rootfs();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    // An absolute link: /dev of the rootfs names a host directory.
    std::os::unix::fs::symlink(&outside, rootfs.join("dev")).unwrap();
    std::os::unix::fs::symlink(&outside, rootfs.join("mnt")).unwrap();
    std::os::unix::fs::symlink("../../../../../..", rootfs.join("up")).unwrap();
    let json = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"mounts":[
        {"destination":"/mnt/x","type":"tmpfs","source":"tmpfs"},
        {"destination":"/up/escape","type":"tmpfs","source":"tmpfs"}
    ]}"#;
    let plan = make_plan(tmp.path(), json, false);
    let code = contained(0, || {
        let env = MountEnv {
            cgroup2_dir: None,
            cgroup_views: &[],
            cgroup_ns: false,
        };
        let err = plan.mount_all(&env).unwrap_err();
        ensure(
            err.to_string()
                == "open /dev in the rootfs: Too many levels of symbolic links (os error 40)",
            &err,
        )?;
        ensure(err.errno() == libc::ELOOP, "errno")
    });
    assert_eq!(code, 0);
    // The mount points were made inside the rootfs, nothing outside.
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    let inside = rootfs.join(outside.strip_prefix("/").unwrap());
    assert!(inside.join("x").is_dir());
    assert!(rootfs.join("escape").is_dir());

    // A device path through a link is refused too.
    fs::remove_file(rootfs.join("dev")).unwrap();
    let json = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},
        "linux":{"devices":[{"path":"/mnt/evil","type":"c","major":1,"minor":3}]}}"#;
    let plan2 = make_plan(tmp.path(), json, false);
    let code = contained(0, || {
        let env = MountEnv {
            cgroup2_dir: None,
            cgroup_views: &[],
            cgroup_ns: false,
        };
        let err = plan2.mount_all(&env).unwrap_err().to_string();
        ensure(err.starts_with("open the directory of /mnt/evil: "), err)
    });
    assert_eq!(code, 0);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    assert!(
        rootfs.join("dev/null").exists(),
        "defaults still made in a real /dev"
    );
}

#[test]
fn tmpcopyup_file_binds_and_no_pivot() {
    if !isolated("tmpcopyup_file_binds_and_no_pivot") {
        return;
    }
    let tmp = TempDir::new("copyup");
    let rootfs = tmp.rootfs();
    fs::create_dir_all(rootfs.join("etc/sub/dir")).unwrap();
    fs::write(rootfs.join("etc/passwd"), "root:x:0:0").unwrap();
    fs::set_permissions(rootfs.join("etc/passwd"), fs::Permissions::from_mode(0o640)).unwrap();
    fs::write(rootfs.join("etc/sub/dir/file"), "deep").unwrap();
    std::os::unix::fs::symlink("passwd", rootfs.join("etc/link")).unwrap();
    fs::write(tmp.path().join("hostfile"), "bound").unwrap();
    let json = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"mounts":[
        {"destination":"/etc","type":"tmpfs","source":"tmpfs","options":["tmpcopyup","mode=755"]},
        {"destination":"/a/b/c.txt","source":"hostfile","options":["bind"]}
    ]}"#;
    let plan = make_plan(tmp.path(), json, true);
    let code = contained(0, || {
        let env = MountEnv {
            cgroup2_dir: None,
            cgroup_views: &[],
            cgroup_ns: false,
        };
        plan.mount_all(&env).map_err(|e| e.to_string())?;
        plan.enter().map_err(|e| e.to_string())?;
        let passwd = meta("/etc/passwd")?;
        ensure(passwd.mode() & 0o7777 == 0o640, "passwd mode")?;
        ensure(
            fs::read_to_string("/etc/sub/dir/file").is_ok_and(|s| s == "deep"),
            "deep file",
        )?;
        link_to("/etc/link", "passwd")?;
        fs::write("/etc/new", "x").map_err(|e| format!("write /etc/new: {e}"))?;
        ensure(
            fs::read_to_string("/a/b/c.txt").is_ok_and(|s| s == "bound"),
            "file bind",
        )?;
        let host_visible = Path::new("/bin").exists() || Path::new("/proc").exists();
        ensure(!host_visible, "the host's root is visible")?;
        ensure(
            Path::new("/etc").exists() && Path::new("/a").exists(),
            "rootfs",
        )
    });
    assert_eq!(code, 0);
    assert!(!rootfs.join("etc/new").exists(), "the tmpfs wrote through");
    assert!(rootfs.join("a/b/c.txt").is_file());
}

#[test]
fn cgroup_namespace_mounts_own_hierarchy() {
    if !isolated("cgroup_namespace_mounts_own_hierarchy") {
        return;
    }
    let tmp = TempDir::new("cgroupns");
    let json = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},"mounts":[
        {"destination":"/proc","type":"proc","source":"proc"},
        {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid"]}
    ]}"#;
    let plan = make_plan(tmp.path(), json, false);
    let views = [CgroupView {
        dir_name: "memory".into(),
        fs_options: "memory".into(),
        host_path: own_cgroup("memory"),
    }];
    let code = contained(libc::CLONE_NEWCGROUP, || {
        let env = MountEnv {
            cgroup2_dir: None,
            cgroup_views: &views,
            cgroup_ns: true,
        };
        plan.mount_all(&env).map_err(|e| e.to_string())?;
        plan.enter().map_err(|e| e.to_string())?;
        let procs = fs::read_to_string("/sys/fs/cgroup/memory/cgroup.procs")
            .map_err(|e| format!("cgroup.procs: {e}"))?;
        ensure(
            procs.lines().any(|l| l == "1"),
            format!("cgroup.procs: {procs}"),
        )?;
        let own = fs::read_to_string("/proc/self/cgroup").map_err(|e| e.to_string())?;
        ensure(
            own.contains(":memory:/\n"),
            format!("not at the root: {own}"),
        )?;
        read_only("/sys/fs/cgroup/memory/x")
    });
    assert_eq!(code, 0);
}

#[test]
fn open_in_root_before_mount_all() {
    let tmp = TempDir::new("open");
    fs::create_dir(tmp.rootfs().join("etc")).unwrap();
    fs::write(tmp.rootfs().join("etc/hostname"), "box").unwrap();
    std::os::unix::fs::symlink("/etc/hostname", tmp.rootfs().join("name")).unwrap();
    let plan = make_plan(
        tmp.path(),
        r#"{"ociVersion":"1","root":{"path":"rootfs"}}"#,
        false,
    );
    let fd = plan.open_in_root("name", libc::O_RDONLY).unwrap();
    let mut text = String::new();
    fs::File::from(fd).read_to_string(&mut text).unwrap();
    assert_eq!(text, "box");
    let err = plan.open_in_root("nope", libc::O_RDONLY).unwrap_err();
    assert_eq!(
        err.to_string(),
        "open nope in the rootfs: No such file or directory (os error 2)"
    );
    assert_eq!(err.errno(), libc::ENOENT);
    assert!(plan
        .enter()
        .unwrap_err()
        .to_string()
        .contains("mount_all has not run"));
}

/// Like [`contained`], in a new user namespace mapping every id to
/// itself, which the parent writes before letting the child go on.
fn contained_in_userns(body: impl FnOnce() -> Result<(), String>) -> i32 {
    let flags = (libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID) as u64;
    let (ready_r, ready_w) = crate::sys::fs::pipe().unwrap();
    match clone_process(flags, None, false).unwrap() {
        Forked::Child => {
            drop(ready_w);
            let mut buf = [0u8; 1];
            let _ = crate::sys::fs::read(ready_r.as_fd(), &mut buf);
            let code = match std::panic::catch_unwind(AssertUnwindSafe(body)) {
                Ok(Ok(())) => 0,
                Ok(Err(msg)) => {
                    eprintln!("in the container: {msg}");
                    1
                }
                Err(_) => 2,
            };
            exit_now(code)
        }
        Forked::Parent { pid, .. } => {
            drop(ready_r);
            fs::write(format!("/proc/{pid}/uid_map"), "0 0 4294967295").unwrap();
            fs::write(format!("/proc/{pid}/gid_map"), "0 0 4294967295").unwrap();
            crate::sys::fs::write_all(ready_w.as_fd(), b"x").unwrap();
            drop(ready_w);
            match wait_pid(pid, false).unwrap() {
                Some(exit) => exit.shell_code(),
                None => -1,
            }
        }
    }
}

#[test]
fn user_namespace_falls_back_to_binds() {
    if !isolated("user_namespace_falls_back_to_binds") {
        return;
    }
    let tmp = TempDir::new("userns");
    let json = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs","readonly":true},"mounts":[
        {"destination":"/proc","type":"proc","source":"proc"},
        {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]},
        {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]}
    ],"linux":{"maskedPaths":["/proc/timer_list","/proc/acpi"],"readonlyPaths":["/proc/sys"]}}"#;
    let plan = make_plan(tmp.path(), json, false);
    let code = contained_in_userns(|| {
        let env = MountEnv {
            cgroup2_dir: None,
            cgroup_views: &[],
            cgroup_ns: false,
        };
        plan.mount_all(&env).map_err(|e| e.to_string())?;
        plan.enter().map_err(|e| e.to_string())?;
        // mknod is not allowed in a user namespace: the host's nodes.
        let null = meta("/dev/null")?;
        ensure(
            null.file_type().is_char_device() && null.rdev() == libc::makedev(1, 3),
            "/dev/null",
        )?;
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/zero")
            .map_err(|e| format!("open /dev/zero: {e}"))?;
        // sysfs of a network namespace we do not own: the host's, read-only.
        ensure(Path::new("/sys/kernel").is_dir(), "no /sys")?;
        read_only("/sys/x")?;
        char_device("/proc/timer_list", 1, 3, 0o666)?;
        ensure(
            fs::read_dir("/proc/acpi")
                .map_err(|e| e.to_string())?
                .count()
                == 0,
            "acpi",
        )?;
        read_only("/newdir")
    });
    assert_eq!(code, 0);
}
