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
mod bundle;
mod console;
mod hierarchies;
mod mounts;
mod netns;
mod procs;
// Each test binary uses a different part of these.
#[allow(unused_imports)]
pub use {bundle::*, console::*, hierarchies::*, mounts::*, netns::*, procs::*};

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
