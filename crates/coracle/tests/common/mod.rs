//! Shared harness of coracle's end-to-end tests.
//!
//! Every test builds a [`Test`]: a private directory `/tmp/coracle-test-<pid>-<n>`
//! holding the runtime's state root, the bundles and the host directories the
//! containers write into. [`Bundle`] writes a `config.json` (a
//! `serde_json::Value` the test edits freely) next to a copy of a small busybox
//! rootfs built once by `scripts/make-bundle.sh`. [`Container`] is a guard: when
//! dropped it force-deletes the container, reaps its init and checks that its
//! cgroups are gone; dropping the [`Test`] checks that no mount is left under
//! its directory and no container in its state root, then removes it.
//!
//! The runtime under test is `$CORACLE_TEST_RUNTIME` when set (e.g.
//! `/usr/bin/runc`, to validate the tests themselves), otherwise the `coracle`
//! binary cargo built. The test process makes itself a child subreaper: an
//! init started by `create` outlives the runtime and is reparented to us, and
//! on this machine PID 1 does not reap, so the harness reaps the inits it knows
//! (by pid, never `waitpid(-1)`: `std::process::Command` waits for its own
//! children).
//!
//! Nothing here depends on timing: the only waits are bounded polls for state
//! transitions (a generous deadline that only turns a hang into a failure).
// Each test binary uses a different part of the harness.
#![allow(dead_code)]
// A failed create returns its whole output to the test: size does not matter.
#![allow(clippy::result_large_err)]

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

pub use serde_json;

mod cg;
mod seccomp;
// Only the seccomp tests use it.
#[allow(unused_imports)]
pub use seccomp::*;
// Only the cgroup tests use it.
#[allow(unused_imports)]
pub use cg::*;
mod tty;
#[allow(unused_imports)]
pub use tty::*;

/// How long a state transition or a runtime command may take before the
/// test is declared hung. Generous: it only bounds a hang, it asserts nothing.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Environment every container gets unless a test replaces it.
pub const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// ---------------------------------------------------------------------------
// The runtime under test
// ---------------------------------------------------------------------------

/// The runtime binary under test.
pub fn runtime() -> PathBuf {
    match std::env::var_os("CORACLE_TEST_RUNTIME") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_coracle")),
    }
}

/// Whether the runtime under test is coracle (and not runc, crun… used to
/// validate the tests).
pub fn is_coracle() -> bool {
    runtime()
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("coracle"))
}

/// Returns true (and says so) when a coracle-only test must be skipped.
pub fn skip_unless_coracle(why: &str) -> bool {
    if is_coracle() {
        return false;
    }
    eprintln!(
        "skipped: {why} is coracle-specific (runtime is {})",
        runtime().display()
    );
    true
}

// ---------------------------------------------------------------------------
// One-time set-up: subreaper and the cached busybox rootfs
// ---------------------------------------------------------------------------

fn init_process() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: geteuid has no preconditions.
        assert_eq!(
            unsafe { libc::geteuid() },
            0,
            "the end-to-end tests must run as root"
        );
        // SAFETY: PR_SET_CHILD_SUBREAPER takes an integer flag and no pointer.
        let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        assert_eq!(
            rc,
            0,
            "prctl(PR_SET_CHILD_SUBREAPER): {}",
            std::io::Error::last_os_error()
        );
    });
}

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A busybox rootfs built once (per target dir) by scripts/make-bundle.sh.
pub fn cached_rootfs() -> &'static Path {
    static ROOTFS: OnceLock<PathBuf> = OnceLock::new();
    ROOTFS.get_or_init(|| {
        let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("busybox-bundle");
        let rootfs = cache.join("rootfs");
        if rootfs.join("bin/busybox").exists() {
            return rootfs;
        }
        // Build beside it and rename, so concurrent test binaries never see
        // half a rootfs.
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("busybox-bundle.{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        let out = Command::new(workspace().join("scripts/make-bundle.sh"))
            .arg(&tmp)
            .output()
            .expect("run scripts/make-bundle.sh");
        assert!(
            out.status.success(),
            "scripts/make-bundle.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if fs::rename(&tmp, &cache).is_err() {
            // Another test binary won the race.
            fs::remove_dir_all(&tmp).unwrap();
        }
        assert!(rootfs.join("bin/busybox").exists());
        rootfs
    })
}

// ---------------------------------------------------------------------------
// Command output
// ---------------------------------------------------------------------------

/// What a finished command did.
#[derive(Debug)]
pub struct Out {
    /// The command line, for messages.
    pub cmdline: String,
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal, when it was killed.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The files stdout and stderr went to (a container started by the
    /// command may still write to them).
    pub stdout_path: PathBuf,
    pub stderr_path: PathBuf,
}

impl Out {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Asserts the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert!(self.success(), "expected success: {self}");
        self
    }

    /// Asserts the command failed (exited non-zero, not killed).
    #[track_caller]
    pub fn fails(self) -> Self {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "expected a non-zero exit: {self}"
        );
        self
    }

    /// Asserts the command failed with exactly one non-empty line on stderr.
    #[track_caller]
    pub fn fails_with_one_line(self) -> Self {
        let out = self.fails();
        let lines: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(lines.len(), 1, "expected a one-line error: {out}");
        out
    }

    /// Asserts the command failed with one line on stderr, and, against
    /// coracle, that the line is `line`: other runtimes word their errors
    /// differently, so only the one line is checked with them.
    #[track_caller]
    pub fn fails_with(self, line: &str) -> Self {
        let out = self.fails_with_one_line();
        if is_coracle() {
            assert_eq!(out.stderr.trim(), line, "{out}");
        }
        out
    }

    /// Asserts the exit code.
    #[track_caller]
    pub fn code_is(self, code: i32) -> Self {
        assert_eq!(self.code, Some(code), "unexpected exit: {self}");
        self
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` exited {:?} (signal {:?})\n--- stdout ---\n{}--- stderr ---\n{}",
            self.cmdline, self.code, self.signal, self.stdout, self.stderr
        )
    }
}

/// Waits for a child with a deadline, killing it (our own child, by pid) when
/// it hangs.
pub fn wait_child(child: &mut Child, what: &str) -> std::process::ExitStatus {
    let end = Instant::now() + DEADLINE;
    let mut nap = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            return status;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` still running after {DEADLINE:?}: killed");
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

// ---------------------------------------------------------------------------
// The per-test context
// ---------------------------------------------------------------------------

static TEST_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// One test's private world: a directory, a state root, unique names.
pub struct Test {
    /// `/tmp/coracle-test-<pid>-<n>`.
    pub dir: PathBuf,
    /// The runtime's `--root`.
    pub root: PathBuf,
    n: usize,
    seq: AtomicUsize,
}

impl Test {
    pub fn new() -> Test {
        init_process();
        let n = TEST_COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = PathBuf::from(format!("/tmp/coracle-test-{}-{n}", std::process::id()));
        // Left by an earlier run whose pid was ours.
        assert!(remove_test_dir(&dir), "cannot clear {}", dir.display());
        fs::create_dir_all(dir.join("cmd")).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let root = dir.join("state");
        Test {
            dir,
            root,
            n,
            seq: AtomicUsize::new(0),
        }
    }

    /// A name unique on this host: `<prefix>-<pid>-<n>-<k>`.
    pub fn unique(&self, prefix: &str) -> String {
        let k = self.seq.fetch_add(1, Ordering::SeqCst);
        format!("{prefix}-{}-{}-{k}", std::process::id(), self.n)
    }

    /// A fresh container id.
    pub fn id(&self) -> String {
        self.unique("ct")
    }

    /// A fresh absolute cgroups path.
    pub fn cgroup_path(&self) -> String {
        format!("/{}", self.unique("coracle-test"))
    }

    /// Creates a host directory (mode 0777, so any container user can write
    /// to it) and returns its path.
    pub fn host_dir(&self, name: &str) -> PathBuf {
        let p = self.dir.join(name);
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o777)).unwrap();
        p
    }

    /// A bundle running `args`, with a fresh copy of the busybox rootfs.
    pub fn bundle(&self, args: &[&str]) -> Bundle {
        let dir = self.dir.join(self.unique("bundle"));
        fs::create_dir_all(&dir).unwrap();
        let st = Command::new("cp")
            .arg("-a")
            .arg(cached_rootfs())
            .arg(dir.join("rootfs"))
            .status()
            .unwrap();
        assert!(st.success(), "copy the rootfs");
        Bundle {
            dir,
            config: default_config(args),
        }
    }

    /// A runtime command with this test's `--root`; stdin is /dev/null.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(runtime());
        cmd.arg("--root").arg(&self.root).stdin(Stdio::null());
        cmd
    }

    /// Runs the runtime with `args` to completion. Output goes through files,
    /// not pipes, so a container that inherits them cannot keep us waiting.
    pub fn rt(&self, args: &[&str]) -> Out {
        let mut cmd = self.command();
        cmd.args(args);
        self.output(cmd)
    }

    /// Runs any command to completion, capturing its output through files.
    pub fn output(&self, mut cmd: Command) -> Out {
        let (out_path, err_path) = self.output_files();
        cmd.stdout(fs::File::create(&out_path).unwrap());
        cmd.stderr(fs::File::create(&err_path).unwrap());
        let cmdline = describe(&cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn `{cmdline}`: {e}"));
        drop(cmd); // close our copies of the files
        let status = wait_child(&mut child, &cmdline);
        Out {
            cmdline,
            code: status.code(),
            signal: status.signal(),
            stdout: read(&out_path),
            stderr: read(&err_path),
            stdout_path: out_path,
            stderr_path: err_path,
        }
    }

    fn output_files(&self) -> (PathBuf, PathBuf) {
        let k = self.seq.fetch_add(1, Ordering::SeqCst);
        let base = self.dir.join("cmd");
        (base.join(format!("{k}.out")), base.join(format!("{k}.err")))
    }

    /// `create --bundle B ID`, asserting success.
    #[track_caller]
    pub fn create(&self, bundle: &Bundle) -> Container<'_> {
        match self.try_create(bundle, &[]) {
            Ok(c) => c,
            Err(out) => panic!("create failed: {out}"),
        }
    }

    /// `create [extra...] --bundle B ID`; on failure the output, and checks
    /// that nothing of the container is left behind.
    pub fn try_create(&self, bundle: &Bundle, extra: &[&str]) -> Result<Container<'_>, Out> {
        let id = self.id();
        self.try_create_id(bundle, extra, &id)
    }

    /// Like [`Test::try_create`] with a chosen id.
    pub fn try_create_id(
        &self,
        bundle: &Bundle,
        extra: &[&str],
        id: &str,
    ) -> Result<Container<'_>, Out> {
        bundle.save();
        let mut cmd = self.command();
        cmd.arg("create")
            .args(extra)
            .arg("--bundle")
            .arg(&bundle.dir)
            .arg(id);
        self.finish_create(cmd, bundle, id)
    }

    /// Runs a prepared `create` command (the container inherits its output
    /// files) and wraps the result.
    pub fn finish_create(
        &self,
        cmd: Command,
        bundle: &Bundle,
        id: &str,
    ) -> Result<Container<'_>, Out> {
        let out = self.output(cmd);
        if !out.success() {
            self.assert_no_container(id);
            return Err(out);
        }
        let mut c = Container {
            t: self,
            id: id.to_string(),
            bundle: bundle.dir.clone(),
            pid: 0,
            create_out: out,
            cgroups: Vec::new(),
            deleted: false,
        };
        c.pid = c.state()["pid"].as_i64().expect("state.pid after create") as i32;
        own_init(c.pid);
        c.cgroups = container_cgroup_dirs(c.pid);
        Ok(c)
    }

    /// Wraps an existing container (e.g. started by `run --detach`).
    pub fn adopt(&self, id: &str, bundle: &Bundle, out: Out) -> Container<'_> {
        let mut c = Container {
            t: self,
            id: id.to_string(),
            bundle: bundle.dir.clone(),
            pid: 0,
            create_out: out,
            cgroups: Vec::new(),
            deleted: false,
        };
        c.pid = c.state()["pid"].as_i64().expect("state.pid") as i32;
        own_init(c.pid);
        if pid_alive(c.pid) {
            c.cgroups = container_cgroup_dirs(c.pid);
        }
        c
    }

    /// `run --bundle B ID` in the foreground (the runtime waits for the
    /// container); force-deletes the container afterwards in any case.
    pub fn run(&self, bundle: &Bundle) -> Out {
        self.run_with(bundle, &[])
    }

    /// `run [extra...] --bundle B ID`.
    pub fn run_with(&self, bundle: &Bundle, extra: &[&str]) -> Out {
        bundle.save();
        let id = self.id();
        let mut cmd = self.command();
        cmd.arg("run")
            .args(extra)
            .arg("--bundle")
            .arg(&bundle.dir)
            .arg(&id);
        let out = self.output(cmd);
        // `run` deletes the container itself; make sure, without masking the
        // result.
        if self.root.join(&id).exists() {
            let _ = self.rt(&["delete", "--force", &id]);
        }
        self.assert_no_container(&id);
        out
    }

    /// Asserts that no trace of container `id` is in the state root.
    #[track_caller]
    pub fn assert_no_container(&self, id: &str) {
        let left: Vec<String> = fs::read_dir(&self.root)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !id.is_empty() && n.contains(id))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            left.is_empty(),
            "state of {id} left in {}: {left:?}",
            self.root.display()
        );
    }

    /// Entries of the state root (none when it does not exist), but hidden
    /// ones (a runtime's own lock file, say).
    pub fn state_entries(&self) -> Vec<String> {
        fs::read_dir(&self.root)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Mount points at or under this test's directory (host mount namespace).
    pub fn mounts_under_dir(&self) -> Vec<PathBuf> {
        mounts_under(&self.dir)
    }
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

impl Test {
    /// Removes the empty cgroup directories named after this test
    /// ([`Test::cgroup_path`]) in every hierarchy, deepest first.
    fn remove_test_cgroups(&self) {
        let prefix = format!("coracle-test-{}-{}-", std::process::id(), self.n);
        for (_, mnt) in cgroup_mounts() {
            let Ok(entries) = fs::read_dir(&mnt) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(&prefix) {
                    remove_cgroup_tree(&entry.path());
                }
            }
        }
    }
}

/// `rmdir` of a cgroup directory and its children, deepest first (a
/// cgroup's files go with it; a populated one stays).
fn remove_cgroup_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&entry.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

impl Drop for Test {
    fn drop(&mut self) {
        reap_container_orphans();
        let mut problems = Vec::new();
        // Containers the test forgot (or a failed assertion skipped).
        for name in self.state_entries() {
            let out = self.rt(&["delete", "--force", &name]);
            problems.push(format!(
                "container {name} left in the state root ({})",
                out.code.unwrap_or(-1)
            ));
        }
        reap_container_orphans();
        // Parents of nested cgroup paths, which runtimes leave (runc and
        // crun too): each container's own directories are checked apart.
        self.remove_test_cgroups();
        let mounts = self.mounts_under_dir();
        if !mounts.is_empty() {
            problems.push(format!(
                "mounts left under {}: {mounts:?}",
                self.dir.display()
            ));
            // Deepest first, detached: never let remove_dir_all walk into a mount.
            for m in mounts.iter().rev() {
                let _ = umount_detach(m);
            }
        }
        if mounts_under(&self.dir).is_empty() {
            let _ = fs::remove_dir_all(&self.dir);
        } else {
            problems.push(format!(
                "could not unmount everything under {}",
                self.dir.display()
            ));
        }
        if !problems.is_empty() && !std::thread::panicking() {
            panic!("test left things behind: {problems:#?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Bundles
// ---------------------------------------------------------------------------

/// A bundle: a directory with `rootfs/` and the `config.json` written from
/// [`Bundle::config`] when the container is created.
pub struct Bundle {
    pub dir: PathBuf,
    pub config: Value,
}

/// The default configuration: runc-like namespaces, mounts, masked and
/// read-only paths; root user; writable rootfs; no terminal.
pub fn default_config(args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": [PATH_ENV, "HOME=/root"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "coracle-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts"}, {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

impl Bundle {
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// Replaces `process.args`.
    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.config["process"]["args"] = json!(args);
        self
    }

    /// Runs `script` with `sh -c`.
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.args(&["sh", "-c", script])
    }

    /// Appends a mount.
    pub fn mount(&mut self, mount: Value) -> &mut Self {
        self.config["mounts"].as_array_mut().unwrap().push(mount);
        self
    }

    /// Bind-mounts host directory `host` at `dest`, read-write.
    pub fn bind(&mut self, host: &Path, dest: &str) -> &mut Self {
        self.mount(json!({
            "destination": dest, "type": "bind", "source": host,
            "options": ["rbind", "rw"]
        }))
    }

    /// Creates a host directory bind-mounted read-write at `/out` and returns
    /// its host path: the container reports what it sees through files there.
    pub fn out_dir(&mut self, t: &Test) -> PathBuf {
        let host = t.host_dir(&t.unique("out"));
        // The mount point exists, so that even a container root that does
        // not own the rootfs (user namespace) needs not create it.
        fs::create_dir_all(self.rootfs().join("out")).unwrap();
        self.bind(&host, "/out");
        host
    }

    /// Removes namespace `ty` from `linux.namespaces`.
    pub fn without_ns(&mut self, ty: &str) -> &mut Self {
        self.config["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != ty);
        self
    }

    /// Adds (or replaces) namespace `ty`, optionally joining `path`.
    pub fn with_ns(&mut self, ty: &str, path: Option<&str>) -> &mut Self {
        self.without_ns(ty);
        let mut ns = json!({"type": ty});
        if let Some(p) = path {
            ns["path"] = json!(p);
        }
        self.config["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(ns);
        self
    }

    /// Removes the mount at `dest`.
    pub fn without_mount(&mut self, dest: &str) -> &mut Self {
        self.config["mounts"]
            .as_array_mut()
            .unwrap()
            .retain(|m| m["destination"] != dest);
        self
    }

    /// Writes `config.json`.
    pub fn save(&self) {
        fs::write(
            self.dir.join("config.json"),
            serde_json::to_vec_pretty(&self.config).unwrap(),
        )
        .unwrap();
    }
}

// ---------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------

/// A created container; force-deleted, reaped and checked when dropped.
pub struct Container<'t> {
    pub t: &'t Test,
    pub id: String,
    pub bundle: PathBuf,
    /// The init's pid (host pid namespace), from `state` after create.
    pub pid: i32,
    /// The `create` command's output; the container inherited its stdout and
    /// stderr files, see [`Container::stdout`].
    pub create_out: Out,
    /// The init's cgroup directories that are not the test process's own:
    /// `delete` must remove them.
    pub cgroups: Vec<PathBuf>,
    deleted: bool,
}

impl Container<'_> {
    /// `state ID` parsed, asserting success.
    #[track_caller]
    pub fn state(&self) -> Value {
        let out = self.t.rt(&["state", &self.id]).ok();
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("state is not JSON ({e}): {out}"))
    }

    #[track_caller]
    pub fn status(&self) -> String {
        self.state()["status"]
            .as_str()
            .expect("state.status")
            .to_string()
    }

    /// `start ID`, asserting success.
    #[track_caller]
    pub fn start(&self) -> Out {
        self.t.rt(&["start", &self.id]).ok()
    }

    /// Runs `runtime SUBCOMMAND [args...] ID [after...]`.
    pub fn rt(&self, sub: &[&str], after: &[&str]) -> Out {
        let mut args: Vec<&str> = sub.to_vec();
        args.push(&self.id);
        args.extend_from_slice(after);
        self.t.rt(&args)
    }

    /// `exec ID args...`.
    pub fn exec(&self, args: &[&str]) -> Out {
        self.rt(&["exec"], args)
    }

    /// Polls `state` until the status is `want` (bounded by [`DEADLINE`]).
    #[track_caller]
    pub fn wait_status(&self, want: &str) {
        let end = Instant::now() + DEADLINE;
        loop {
            let status = self.status();
            if status == want {
                return;
            }
            assert!(
                Instant::now() < end,
                "{} still {status}, want {want}",
                self.id
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until the container's process has exited.
    #[track_caller]
    pub fn wait_stopped(&self) {
        self.wait_status("stopped");
    }

    /// What the container wrote to its stdout (the `create` command's).
    pub fn stdout(&self) -> String {
        read(&self.create_out.stdout_path)
    }

    /// What the container (and the runtime's `create`) wrote to stderr.
    pub fn stderr(&self) -> String {
        read(&self.create_out.stderr_path)
    }

    /// `delete ID` (asserting success), then checks that the state and the
    /// cgroups are gone and reaps the init.
    #[track_caller]
    pub fn delete(mut self) -> Out {
        let out = self.t.rt(&["delete", &self.id]).ok();
        self.deleted = true;
        self.after_delete();
        out
    }

    /// `delete --force ID` asserting success, with the same checks.
    #[track_caller]
    pub fn force_delete(mut self) -> Out {
        let out = self.t.rt(&["delete", "--force", &self.id]).ok();
        self.deleted = true;
        self.after_delete();
        out
    }

    #[track_caller]
    fn after_delete(&mut self) {
        reap(self.pid);
        disown_init(self.pid);
        self.t.assert_no_container(&self.id);
        let left: Vec<&PathBuf> = self.cgroups.iter().filter(|d| d.exists()).collect();
        if !left.is_empty() {
            let msg = format!("delete left cgroups of {}: {left:?}", self.id);
            for d in self.cgroups.iter().rev() {
                let _ = fs::remove_dir(d);
            }
            self.cgroups.clear();
            panic!("{msg}");
        }
        self.cgroups.clear();
    }
}

impl Drop for Container<'_> {
    fn drop(&mut self) {
        if self.deleted {
            return;
        }
        let out = self.t.rt(&["delete", "--force", &self.id]);
        reap(self.pid);
        disown_init(self.pid);
        let mut problems = Vec::new();
        if !out.success() {
            problems.push(format!("delete --force failed: {out}"));
        }
        for d in self.cgroups.iter().rev() {
            if d.exists() {
                problems.push(format!("cgroup left: {}", d.display()));
                let _ = fs::remove_dir(d);
            }
        }
        if !problems.is_empty() && !std::thread::panicking() {
            panic!("cleanup of {}: {problems:#?}", self.id);
        }
    }
}

// ---------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------

/// Waits (bounded) until `pid` is gone or a zombie; `what` says whose it
/// is when it stays.
#[track_caller]
pub fn wait_gone(pid: i32, what: &str) {
    let end = Instant::now() + DEADLINE;
    while pid_alive(pid) {
        assert!(Instant::now() < end, "{what} (pid {pid}) is still alive");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 2).is_some_and(|s| s != "Z" && s != "X"),
        Err(_) => false,
    }
}

/// Field `n` (0-based: 0 pid, 2 state, 3 ppid…) of a /proc/PID/stat line.
fn stat_field(stat: &str, n: usize) -> Option<String> {
    // comm (field 1) may hold spaces: split after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    match n {
        0 => stat.split_whitespace().next().map(String::from),
        1 => None,
        _ => rest.split_whitespace().nth(n - 2).map(String::from),
    }
}

/// Parent pid of `pid`, if it exists.
pub fn ppid_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 3)?.parse().ok()
}

/// Reaps `pid` if it is our child (a container init reparented to this
/// subreaper), waiting for it to exit (bounded) and killing it past the
/// deadline. Never touches other processes, never blocks without bound.
pub fn reap(pid: i32) {
    if pid <= 0 || ppid_of(pid) != Some(std::process::id() as i32) {
        return;
    }
    let end = Instant::now() + DEADLINE;
    let mut killed = false;
    loop {
        // An exiting init waits until every process of its pid namespace is
        // reaped; the orphans among them (e.g. of `exec --detach`) are ours.
        reap_container_orphans();
        let mut status = 0;
        // SAFETY: waitpid on one specific pid with a valid status pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if rc != 0 {
            return; // reaped, or not ours after all (ECHILD)
        }
        if Instant::now() > end {
            if killed {
                eprintln!("warning: could not reap {pid}");
                return;
            }
            // SAFETY: kill of our own child, which waitpid just confirmed.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Container inits that a live [`Container`] guard owns: only the owner
/// reaps them, so that no other test's sweep frees the pid under its feet.
static OWNED_INITS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn own_init(pid: i32) {
    OWNED_INITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(pid);
}

fn disown_init(pid: i32) {
    OWNED_INITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| *p != pid);
}

/// Reaps our zombie children that lived in a nested pid namespace: they are
/// container processes reparented to us, never a `Command` of ours (those
/// run in our own pid namespace), so reaping them cannot steal a `wait`.
/// Inits owned by a [`Container`] guard are left to it.
pub fn reap_container_orphans() {
    let owned = OWNED_INITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for kid in children_of(std::process::id() as i32) {
        if owned.contains(&kid) {
            continue;
        }
        let status = read(Path::new(&format!("/proc/{kid}/status")));
        let fields = status_fields(&status);
        let zombie = fields.get("State").is_some_and(|s| s.starts_with('Z'));
        let nested = fields
            .get("NSpid")
            .is_some_and(|p| p.split_whitespace().count() > 1);
        if zombie && nested {
            let mut st = 0;
            // SAFETY: waitpid on a specific zombie child of ours.
            unsafe { libc::waitpid(kid, &mut st, libc::WNOHANG) };
        }
    }
}

/// Children of `pid` (all its threads), from /proc.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut kids = Vec::new();
    if let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = fs::read_to_string(t.path().join("children")) {
                kids.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
            }
        }
    }
    kids
}

/// The inode of namespace `ns` of `pid`, as `readlink /proc/PID/ns/NS` prints
/// it (`net:[4026531840]`).
pub fn ns_of(pid: &str, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{ns}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// Polls until `path` exists (bounded): for a container to reach a point.
#[track_caller]
pub fn wait_for_file(path: &Path) {
    let end = Instant::now() + DEADLINE;
    while !path.exists() {
        assert!(Instant::now() < end, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls until process `pid` runs a program named `comm` (bounded).
#[track_caller]
pub fn wait_for_comm(pid: i32, comm: &str) {
    let end = Instant::now() + DEADLINE;
    loop {
        let now = read(Path::new(&format!("/proc/{pid}/comm")));
        if now.trim_end() == comm {
            return;
        }
        assert!(
            Instant::now() < end,
            "process {pid} still runs {now:?}, want {comm}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs a host command, asserting success; returns its stdout.
#[track_caller]
pub fn host(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A file's content, or "" when it does not exist.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Mounts
// ---------------------------------------------------------------------------

/// One line of /proc/PID/mountinfo.
#[derive(Debug, Clone)]
pub struct MountInfo {
    pub mount_point: String,
    pub root: String,
    /// Per-mount options (`rw,nosuid,…`).
    pub options: String,
    /// Optional fields (`shared:N`, `master:N`…).
    pub optional: Vec<String>,
    pub fstype: String,
    pub source: String,
    /// Superblock options (`rw,size=…`).
    pub super_options: String,
}

impl MountInfo {
    /// Whether the per-mount options hold `opt`.
    pub fn has(&self, opt: &str) -> bool {
        self.options.split(',').any(|o| o == opt)
    }

    /// Whether the superblock options hold `opt`.
    pub fn has_super(&self, opt: &str) -> bool {
        self.super_options.split(',').any(|o| o == opt)
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space…).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses the text of a mountinfo file.
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(MountInfo {
                root: unescape(l.get(3)?),
                mount_point: unescape(l.get(4)?),
                options: l.get(5)?.to_string(),
                optional: l[6..].iter().map(|s| s.to_string()).collect(),
                fstype: r.first()?.to_string(),
                source: unescape(r.get(1)?),
                super_options: r.get(2).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// The last (topmost) mount at `mount_point` in a mountinfo text.
#[track_caller]
pub fn mount_at(mountinfo: &str, mount_point: &str) -> MountInfo {
    parse_mountinfo(mountinfo)
        .into_iter()
        .rev()
        .find(|m| m.mount_point == mount_point)
        .unwrap_or_else(|| panic!("no mount at {mount_point} in:\n{mountinfo}"))
}

/// Mount points at or under `dir` in this process's mount namespace, in
/// mount order.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let d = dir.to_string_lossy();
    parse_mountinfo(&text)
        .into_iter()
        .filter(|m| m.mount_point == d || m.mount_point.starts_with(&format!("{d}/")))
        .map(|m| PathBuf::from(m.mount_point))
        .collect()
}

/// Removes a test directory, first detaching every mount under it (deepest
/// first) so that the removal never walks into a mount. False when a mount
/// could not be detached (the directory is then left alone).
pub fn remove_test_dir(dir: &Path) -> bool {
    for m in mounts_under(dir).iter().rev() {
        let _ = umount_detach(m);
    }
    if !mounts_under(dir).is_empty() {
        return false;
    }
    let _ = fs::remove_dir_all(dir);
    true
}

/// `umount2(path, MNT_DETACH)`.
pub fn umount_detach(path: &Path) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: c is a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A mount the test made on the host; detached when dropped.
pub struct HostMount(pub PathBuf);

impl HostMount {
    /// `mount -t tmpfs tmpfs DIR` (DIR created).
    pub fn tmpfs(dir: &Path) -> HostMount {
        fs::create_dir_all(dir).unwrap();
        host(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                "size=1m",
                "tmpfs",
                &dir.to_string_lossy(),
            ],
        );
        HostMount(dir.to_path_buf())
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let _ = umount_detach(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Cgroups (v1 and v2 hierarchies as mounted on the host)
// ---------------------------------------------------------------------------

/// Host cgroup hierarchies: (controllers or name, mount point). For cgroup2
/// the key is "".
pub fn cgroup_mounts() -> Vec<(Vec<String>, PathBuf)> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap();
    parse_mountinfo(&text)
        .into_iter()
        .filter_map(|m| match m.fstype.as_str() {
            "cgroup" => {
                let keys = m
                    .super_options
                    .split(',')
                    .filter(|o| {
                        *o != "rw"
                            && *o != "ro"
                            && !o.starts_with("release_agent")
                            && *o != "clone_children"
                    })
                    .map(String::from)
                    .collect();
                Some((keys, PathBuf::from(m.mount_point)))
            }
            "cgroup2" => Some((vec![String::new()], PathBuf::from(m.mount_point))),
            _ => None,
        })
        .collect()
}

/// The host directory of hierarchy `controllers` (e.g. "memory",
/// "cpu,cpuacct", "name=systemd", "" for cgroup2) for cgroup path `path`.
pub fn cgroup_dir(controllers: &str, path: &str) -> Option<PathBuf> {
    let want: Vec<&str> = controllers.split(',').collect();
    cgroup_mounts()
        .into_iter()
        .find(|(keys, _)| want.iter().all(|w| keys.iter().any(|k| k == w)))
        .map(|(_, mnt)| mnt.join(path.trim_start_matches('/')))
}

/// /proc/PID/cgroup as (controllers, path) pairs.
pub fn cgroups_of(pid: &str) -> Vec<(String, String)> {
    read(Path::new(&format!("/proc/{pid}/cgroup")))
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            Some((it.next()?.to_string(), it.next()?.to_string()))
        })
        .collect()
}

/// The cgroup path of `pid` in the hierarchy holding `controller`.
pub fn cgroup_path_of(pid: &str, controller: &str) -> Option<String> {
    cgroups_of(pid)
        .into_iter()
        .find(|(c, _)| {
            c.split(',').any(|x| x == controller) || (controller.is_empty() && c.is_empty())
        })
        .map(|(_, p)| p)
}

/// Host directories of the cgroups of `pid` that differ from the test
/// process's own (those the runtime created for the container).
fn container_cgroup_dirs(pid: i32) -> Vec<PathBuf> {
    let ours = cgroups_of("self");
    cgroups_of(&pid.to_string())
        .into_iter()
        .filter(|entry| !ours.contains(entry))
        .filter_map(|(c, p)| cgroup_dir(&c, &p))
        .filter(|d| d.exists())
        .collect()
}

/// Removes cgroup directory `path` in every hierarchy where it exists (the
/// test's own leftovers); returns the ones that existed.
pub fn remove_cgroup_everywhere(path: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (_, mnt) in cgroup_mounts() {
        let d = mnt.join(path.trim_start_matches('/'));
        if d.exists() {
            let _ = fs::remove_dir(&d);
            found.push(d);
        }
    }
    found
}

// ---------------------------------------------------------------------------
// Network namespaces
// ---------------------------------------------------------------------------

/// A named network namespace (`ip netns add`), deleted when dropped.
pub struct NetNs {
    pub name: String,
}

impl NetNs {
    pub fn new(t: &Test) -> NetNs {
        let name = t.unique("coracle-netns");
        host("ip", &["netns", "add", &name]);
        NetNs { name }
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `net:[INODE]`, as readlink of /proc/PID/ns/net prints it.
    pub fn ns_link(&self) -> String {
        let ino = fs::metadata(self.path()).unwrap().ino();
        format!("net:[{ino}]")
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

// ---------------------------------------------------------------------------
// Console socket (--console-socket): receive the pty master
// ---------------------------------------------------------------------------

/// A listening unix socket for `--console-socket`.
pub struct ConsoleSocket {
    pub path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    pub fn new(t: &Test) -> ConsoleSocket {
        let path = t.dir.join(format!("{}.sock", t.unique("console")));
        let listener = UnixListener::bind(&path).unwrap();
        ConsoleSocket { path, listener }
    }

    pub fn path_str(&self) -> String {
        self.path.to_string_lossy().into_owned()
    }

    /// Accepts the runtime's connection and receives the pty master it sends
    /// with SCM_RIGHTS (bounded wait).
    #[track_caller]
    pub fn receive(&self) -> OwnedFd {
        self.listener.set_nonblocking(true).unwrap();
        let end = Instant::now() + DEADLINE;
        let stream = loop {
            match self.listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(
                        Instant::now() < end,
                        "nobody connected to the console socket"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("accept on the console socket: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        recv_fd(stream.as_raw_fd()).expect("no fd received on the console socket")
    }
}

/// Receives one fd passed with SCM_RIGHTS on a connected unix socket.
pub fn recv_fd(sock: RawFd) -> Option<OwnedFd> {
    let mut data = [0u8; 4096];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // u64 elements keep the control buffer aligned for cmsghdr.
    let mut control = [0u64; 64];
    // SAFETY: an all-zero msghdr is a valid empty value.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: msg points at live buffers of the declared sizes.
    let n = unsafe { libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC) };
    if n < 0 {
        panic!(
            "recvmsg on the console socket: {}",
            std::io::Error::last_os_error()
        );
    }
    // SAFETY: msg was filled by recvmsg; the CMSG macros walk its control
    // buffer within msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::c_int);
                return Some(OwnedFd::from_raw_fd(fd));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    None
}

/// Reads a pty master until the other side is closed (EIO) or EOF, bounded
/// by [`DEADLINE`]. Returns the text with `\r\n` turned into `\n`.
pub fn read_pty(master: OwnedFd) -> String {
    let mut file = fs::File::from(master);
    let fd = file.as_raw_fd();
    let end = Instant::now() + DEADLINE;
    let mut buf = Vec::new();
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, 100) };
        if rc == 0 {
            assert!(
                Instant::now() < end,
                "pty still open after {DEADLINE:?}; read so far: {:?}",
                String::from_utf8_lossy(&buf)
            );
            continue;
        }
        let mut chunk = [0u8; 4096];
        match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read the pty: {e}"),
        }
    }
    String::from_utf8_lossy(&buf).replace("\r\n", "\n")
}

/// Makes each `(fd, target)` appear as fd `target` (not close-on-exec) in
/// a spawned command. Returns the high close-on-exec copies the child dups
/// from: keep them until the command is spawned.
pub fn pass_fds(cmd: &mut Command, fds: &[(RawFd, RawFd)]) -> Vec<OwnedFd> {
    let mut copies = Vec::new();
    let mut pairs = Vec::new();
    for &(fd, target) in fds {
        // A copy above every target, so that one dup2 cannot clobber the
        // source of the next.
        // SAFETY: F_DUPFD_CLOEXEC on an fd the caller owns.
        let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 1000) };
        assert!(
            high >= 0,
            "dup fd {fd}: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: high is a fresh fd we now own.
        copies.push(unsafe { OwnedFd::from_raw_fd(high) });
        pairs.push((high, target));
    }
    // SAFETY: only dup2, which is async-signal-safe, runs between fork and
    // exec.
    unsafe {
        cmd.pre_exec(move || {
            for &(high, target) in &pairs {
                if libc::dup2(high, target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    copies
}

/// The number of a capability of capabilities(7).
pub fn cap_number(name: &str) -> u32 {
    libcoracle::capabilities::number_of(name).unwrap_or_else(|| panic!("unknown capability {name}"))
}

/// The mask of a set of capability names, as /proc/PID/status prints it.
pub fn cap_mask(names: &[&str]) -> String {
    let mask = names.iter().fold(0u64, |m, n| m | 1 << cap_number(n));
    format!("{mask:016x}")
}

/// The `Key:\tvalue` lines of a /proc/PID/status text.
pub fn status_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}
