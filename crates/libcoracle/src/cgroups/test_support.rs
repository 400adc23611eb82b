//! Helpers of the tests that make real cgroups (as root): a guard that
//! removes a unique test tree from every hierarchy, and shells moved into a
//! cgroup to probe what its limits allow.

use super::mountinfo::{self, Layout, Unified};
use super::{Cgroup, CgroupError, CgroupPlan};
use crate::spec::Spec;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique test cgroup path and the guard that removes its trees from
/// every hierarchy, and kills its processes, when the test ends.
pub(crate) struct Scratch {
    pub(crate) top: String,
    mount_points: Vec<PathBuf>,
    pub(crate) children: Vec<Child>,
}

impl Scratch {
    /// `None` (the test is skipped) unless root on a cgroup v1 host.
    pub(crate) fn v1() -> Option<Scratch> {
        let Ok(Layout::V1(hierarchies)) = mountinfo::discover() else {
            skip("no cgroup v1 hierarchies");
            return None;
        };
        Self::new(hierarchies.iter().map(|h| PathBuf::from(&h.mount_point)))
    }

    /// `None` (the test is skipped) unless root on a cgroup v2 host.
    pub(crate) fn v2() -> Option<Scratch> {
        let Ok(Layout::Unified(unified)) = mountinfo::discover() else {
            skip("not a cgroup v2 host");
            return None;
        };
        Self::new([PathBuf::from(&unified.mount_point)])
    }

    /// A scratch in the cgroup2 hierarchy, on a cgroup v2 host or beside the
    /// v1 hierarchies of a hybrid one (where it has no controller but does
    /// have device programs, freezing, killing and events); `None` (the test
    /// is skipped) without one or when not root.
    pub(crate) fn cgroup2() -> Option<(Scratch, Unified)> {
        let unified = match mountinfo::discover() {
            Ok(Layout::Unified(unified)) => unified,
            _ => {
                let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
                let Some(line) = mountinfo.lines().find(|l| l.contains(" - cgroup2 ")) else {
                    skip("no cgroup2 hierarchy");
                    return None;
                };
                let own = fs::read_to_string("/proc/self/cgroup").ok()?;
                let own = own.lines().find_map(|l| l.strip_prefix("0::/"))?;
                Unified {
                    mount_point: line.split(' ').nth(4)?.to_owned(),
                    own: Some(own.to_owned()),
                }
            }
        };
        let scratch = Self::new([PathBuf::from(&unified.mount_point)])?;
        Some((scratch, unified))
    }

    fn new(mount_points: impl IntoIterator<Item = PathBuf>) -> Option<Scratch> {
        if !is_root() {
            skip("not root");
            return None;
        }
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Some(Scratch {
            top: format!("coracle-test-{}-{n}", std::process::id()),
            mount_points: mount_points.into_iter().collect(),
            children: Vec::new(),
        })
    }

    pub(crate) fn plan(&self, below_top: &str, resources: &str) -> Result<CgroupPlan, CgroupError> {
        let spec: Spec = serde_json::from_str(&format!(
            r#"{{"ociVersion":"1.2.0","linux":{{"cgroupsPath":"/{}{below_top}","resources":{resources}}}}}"#,
            self.top
        ))
        .unwrap();
        CgroupPlan::from_spec(&spec, "unused", false)
    }

    pub(crate) fn sleeper(&mut self) -> i32 {
        let child = Command::new("sleep").arg("100").spawn().unwrap();
        let pid = child.id() as i32;
        self.children.push(child);
        pid
    }

    /// Whether the test's top directory exists in any hierarchy.
    pub(crate) fn anything_left(&self) -> bool {
        self.mount_points.iter().any(|m| m.join(&self.top).exists())
    }
}

/// Says why the calling test checks nothing here, and notes its name in
/// `$CORACLE_TEST_SKIP_LOG` when set (scripts/guest/test.sh counts those
/// tests as skipped, not as passed).
pub(crate) fn skip(why: &str) {
    let thread = std::thread::current();
    // libtest names each test's thread after the test.
    let test = thread.name().unwrap_or("?");
    eprintln!("skipped: {test}: {why}");
    if let Some(log) = std::env::var_os("CORACLE_TEST_SKIP_LOG") {
        let file = fs::OpenOptions::new().create(true).append(true).open(log);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{test}");
        }
    }
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:\t0\t")))
        .unwrap_or(false)
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for mount_point in &self.mount_points {
            rmdir_tree(&mount_point.join(&self.top));
        }
    }
}

/// Removes a cgroup tree, deepest first (cgroup directories go by rmdir).
fn rmdir_tree(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree(&entry.path());
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

/// A block device of this machine as `major:minor` (the first of
/// /sys/block); `None` without one (a guest before loop is loaded).
pub(crate) fn block_device() -> Option<String> {
    let mut names: Vec<PathBuf> = fs::read_dir("/sys/block")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    names.sort();
    let dev = fs::read_to_string(names.first()?.join("dev")).ok()?;
    Some(dev.trim_end().to_owned())
}

pub(crate) fn view_dir(cgroup: &Cgroup, controller: &str) -> Option<PathBuf> {
    cgroup
        .views()
        .into_iter()
        .find(|v| v.fs_options.split(',').any(|o| o == controller))
        .map(|v| v.host_path)
}

pub(crate) fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file))
        .unwrap()
        .trim_end()
        .to_owned()
}

/// A shell that waits for a line on its stdin, then runs `script` and
/// prints its outcome; it is moved into a cgroup before it reads.
pub(crate) struct Prober {
    child: Child,
}

impl Prober {
    pub(crate) fn spawn(script: &str) -> Prober {
        let child = Command::new("sh")
            .args(["-c", &format!("read x || exit; {script}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Prober { child }
    }

    pub(crate) fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Lets the shell go on and returns what it printed.
    pub(crate) fn run(mut self) -> String {
        use std::io::Write as _;
        self.child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        let output = self.child.wait_with_output().unwrap();
        String::from_utf8(output.stdout)
            .unwrap()
            .trim_end()
            .to_owned()
    }
}

/// Opens `file` for reading (`<`) or writing (`>`) in a shell inside
/// `cgroup`, and says whether the kernel let it.
pub(crate) fn open_in(cgroup: &Cgroup, redirect: &str, file: &str) -> String {
    let prober = Prober::spawn(&format!(
        "if true 3{redirect}{file}; then echo ok; else echo denied; fi"
    ));
    cgroup.add_process(prober.pid()).unwrap();
    prober.run()
}
