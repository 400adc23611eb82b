//! The cgroup environment of the end-to-end tests, so that one test checks
//! the right files wherever it runs: this host's cgroup v1 hierarchies
//! (`v1`), a pure cgroup v2 hierarchy (`v2`, the v2 guest of
//! scripts/guest), or cgroup v2 under systemd (`systemd`, the systemd guest,
//! where containers are made with `--systemd-cgroup`).
//!
//! `CORACLE_EXPECT_CGROUP=v1|v2|systemd` (set by scripts/guest/test.sh)
//! turns a detected environment that differs into a failure of every test
//! that asks, so a guest that booted wrongly cannot pass by skipping. A
//! test that does not apply calls [`skip_unless_env`], which prints why and
//! appends the test's name to `$CORACLE_TEST_SKIP_LOG` when set, so that the
//! runner counts what really ran.

use super::*;
use std::io::Write as _;
use std::os::unix::fs::FileTypeExt;

/// Whether a cgroup v1 hierarchy carries `controller` on this host.
pub fn v1_hierarchy_mounted(controller: &str) -> bool {
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo.lines().any(|line| {
        let Some((_, after)) = line.split_once(" - ") else {
            return false;
        };
        let mut fields = after.split(' ');
        fields.next() == Some("cgroup")
            && fields
                .nth(1)
                .is_some_and(|options| options.split(',').any(|o| o == controller))
    })
}

/// One mebibyte, for limits.
pub const MIB: u64 = 1 << 20;

/// Where the tests run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgEnv {
    /// cgroup v1 hierarchies, the cgroupfs driver.
    V1,
    /// The unified hierarchy without systemd, the cgroupfs driver.
    V2,
    /// The unified hierarchy with systemd as PID 1, the systemd driver.
    Systemd,
}

impl CgEnv {
    /// The name `CORACLE_EXPECT_CGROUP` uses.
    pub fn name(self) -> &'static str {
        match self {
            CgEnv::V1 => "v1",
            CgEnv::V2 => "v2",
            CgEnv::Systemd => "systemd",
        }
    }

    /// Whether the container's cgroup is one directory of cgroup v2.
    pub fn unified(self) -> bool {
        self != CgEnv::V1
    }
}

/// The environment, detected once; panics when it is not the one
/// `CORACLE_EXPECT_CGROUP` names.
pub fn cg_env() -> CgEnv {
    static ENV: OnceLock<CgEnv> = OnceLock::new();
    *ENV.get_or_init(|| {
        let found = detect_cg_env();
        if let Ok(want) = std::env::var("CORACLE_EXPECT_CGROUP") {
            assert!(
                want.is_empty() || want == found.name(),
                "CORACLE_EXPECT_CGROUP={want} but this is a {} environment",
                found.name()
            );
        }
        found
    })
}

/// v1 when a v1 hierarchy holds a controller (a hybrid host runs the v1
/// driver), else v2, under systemd when systemd is PID 1 (the test of
/// `sd_booted`).
fn detect_cg_env() -> CgEnv {
    let mounts = cgroup_mounts();
    let v1_controller = mounts.iter().any(|(keys, _)| {
        keys.iter()
            .any(|k| !k.is_empty() && !k.starts_with("name="))
    });
    if v1_controller {
        return CgEnv::V1;
    }
    assert!(
        mounts
            .iter()
            .any(|(keys, m)| keys == &[String::new()] && m == Path::new("/sys/fs/cgroup")),
        "no cgroup v1 controller and no cgroup2 at /sys/fs/cgroup: {mounts:?}"
    );
    if Path::new("/run/systemd/system").is_dir() {
        CgEnv::Systemd
    } else {
        CgEnv::V2
    }
}

/// Returns true, after saying why, when the environment is not one of
/// `envs`: the calling test then returns without checking anything.
pub fn skip_unless_env(envs: &[CgEnv], why: &str) -> bool {
    if envs.contains(&cg_env()) {
        return false;
    }
    skip_test(why)
}

/// Says why the calling test checks nothing here and notes it in
/// `$CORACLE_TEST_SKIP_LOG`; returns true.
pub fn skip_test(why: &str) -> bool {
    // libtest names each test's thread after the test.
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    eprintln!("skipped: {test}: {why} (this is {})", cg_env().name());
    if let Some(log) = std::env::var_os("CORACLE_TEST_SKIP_LOG") {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap_or_else(|e| panic!("open {}: {e}", Path::new(&log).display()));
        writeln!(file, "{test}").unwrap();
    }
    true
}

/// The global flags that select the environment's cgroup driver.
pub fn cg_global_flags() -> &'static [&'static str] {
    match cg_env() {
        CgEnv::Systemd => &["--systemd-cgroup"],
        CgEnv::V1 | CgEnv::V2 => &[],
    }
}

/// Where a test puts a container's cgroup.
#[derive(Debug, Clone)]
pub struct CgPlace {
    /// `linux.cgroupsPath`, in the form the driver takes.
    pub cgroups_path: String,
    /// The cgroup's path below each hierarchy's root, as /proc/PID/cgroup
    /// shows it.
    pub path: String,
    /// The systemd scope unit (systemd environment only).
    pub unit: Option<String>,
    /// The highest directory the runtime makes for it (`path` itself, or
    /// the parent of a place made by [`cg_place_in_new_parent`]).
    pub top: String,
}

impl CgPlace {
    /// The host path of `file` of `controller` (`memory`, `pids`…; ignored
    /// on cgroup v2, where every file is in the one directory).
    #[track_caller]
    pub fn file(&self, controller: &str, file: &str) -> PathBuf {
        cg_file_path(&self.path, controller, file)
    }

    /// The trimmed content of a control file, which must exist.
    #[track_caller]
    pub fn read(&self, controller: &str, file: &str) -> String {
        let path = self.file(controller, file);
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
            .trim()
            .to_string()
    }

    /// The container's cgroup directories on the host that exist now (or
    /// those of the parent the runtime made for it).
    pub fn existing_dirs(&self) -> Vec<PathBuf> {
        cgroup_mounts()
            .into_iter()
            .filter(|(keys, _)| cg_env() == CgEnv::V1 || keys == &[String::new()])
            .map(|(_, m)| m.join(self.top.trim_start_matches('/')))
            .filter(|d| d.exists())
            .collect()
    }
}

/// A fresh place: `/coracle-test-…` for the cgroupfs drivers, the scope
/// `coracle-test-….scope` in `system.slice` for systemd.
pub fn cg_place(t: &Test) -> CgPlace {
    match cg_env() {
        CgEnv::V1 | CgEnv::V2 => {
            let path = t.cgroup_path();
            CgPlace {
                cgroups_path: path.clone(),
                top: path.clone(),
                path,
                unit: None,
            }
        }
        CgEnv::Systemd => {
            let name = t.unique("ct");
            let unit = format!("coracle-test-{name}.scope");
            let path = format!("/system.slice/{unit}");
            CgPlace {
                cgroups_path: format!("system.slice:coracle-test:{name}"),
                top: path.clone(),
                path,
                unit: Some(unit),
            }
        }
    }
}

/// A fresh place whose parent the runtime makes too (`/coracle-test-…/ctr`)
/// with the cgroupfs drivers; systemd's scope as [`cg_place`]. Unlike the
/// v2 guest's root, whose init enables every controller, a parent made by
/// the runtime offers its children only the controllers it enables.
pub fn cg_place_in_new_parent(t: &Test) -> CgPlace {
    let mut place = cg_place(t);
    if cg_env() != CgEnv::Systemd {
        place.cgroups_path.push_str("/ctr");
        place.path.push_str("/ctr");
    }
    place
}

/// The host path of `file` of `controller` for the cgroup at `path`.
#[track_caller]
pub fn cg_file_path(path: &str, controller: &str, file: &str) -> PathBuf {
    let hierarchy = if cg_env().unified() { "" } else { controller };
    cgroup_dir(hierarchy, path)
        .unwrap_or_else(|| panic!("no hierarchy for {controller:?}"))
        .join(file)
}

/// The cgroup path of `pid` in the hierarchy of `controller` (the unified
/// one on cgroup v2).
#[track_caller]
pub fn cg_path_of(pid: i32, controller: &str) -> String {
    let hierarchy = if cg_env().unified() { "" } else { controller };
    cgroup_path_of(&pid.to_string(), hierarchy)
        .unwrap_or_else(|| panic!("pid {pid} has no cgroup for {controller:?}"))
}

impl Bundle {
    /// Sets `linux.cgroupsPath` to the place's.
    pub fn cgroup(&mut self, place: &CgPlace) -> &mut Self {
        self.config["linux"]["cgroupsPath"] = json!(place.cgroups_path);
        self
    }

    /// Sets `linux.resources`.
    pub fn resources(&mut self, resources: Value) -> &mut Self {
        self.config["linux"]["resources"] = resources;
        self
    }
}

impl Test {
    /// `create` with the environment's cgroup driver, asserting success.
    #[track_caller]
    pub fn create_cg(&self, bundle: &Bundle) -> Container<'_> {
        self.try_create_cg(bundle)
            .unwrap_or_else(|out| panic!("create failed: {out}"))
    }

    /// `create` with the environment's cgroup driver; on failure the
    /// output, once checked that nothing of the container is left.
    pub fn try_create_cg(&self, bundle: &Bundle) -> Result<Container<'_>, Out> {
        bundle.save();
        let id = self.id();
        let mut cmd = self.command();
        cmd.args(cg_global_flags())
            .arg("create")
            .arg("--bundle")
            .arg(&bundle.dir)
            .arg(&id);
        self.finish_create(cmd, bundle, &id)
    }

    /// `run` in the foreground with the environment's cgroup driver; the
    /// container is force-deleted afterwards in any case.
    pub fn run_cg(&self, bundle: &Bundle) -> Out {
        bundle.save();
        let id = self.id();
        let mut cmd = self.command();
        cmd.args(cg_global_flags())
            .arg("run")
            .arg("--bundle")
            .arg(&bundle.dir)
            .arg(&id);
        let out = self.output(cmd);
        if self.root.join(&id).exists() {
            let _ = self.rt(&["delete", "--force", &id]);
        }
        self.assert_no_container(&id);
        out
    }
}

/// The state letter of `pid` in /proc/PID/stat (`R`, `S`, `D`…).
pub fn proc_state(pid: i32) -> char {
    let stat = read(Path::new(&format!("/proc/{pid}/stat")));
    let after = stat
        .rfind(')')
        .unwrap_or_else(|| panic!("no /proc/{pid}/stat"));
    stat[after + 2..].chars().next().unwrap()
}

/// Polls until `path` holds `needle` (bounded); returns the content.
#[track_caller]
pub fn wait_for_text(path: &Path, needle: &str) -> String {
    let end = Instant::now() + DEADLINE;
    loop {
        let text = read(path);
        if text.contains(needle) {
            return text;
        }
        assert!(
            Instant::now() < end,
            "{} never held {needle:?}; it holds:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `systemctl show UNIT -p P1,P2…` as a map.
pub fn systemctl_show(unit: &str, properties: &[&str]) -> BTreeMap<String, String> {
    let text = host("systemctl", &["show", unit, "-p", &properties.join(",")]);
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A block device to throttle: the root filesystem's, or in a throwaway
/// guest (whose root is not on a block device) loop0, loading the loop
/// module. `None` when there is none.
pub fn test_block_device() -> Option<(u32, u32)> {
    let dev = fs::metadata("/").unwrap().dev();
    if libc::major(dev) != 0 {
        return Some((libc::major(dev), libc::minor(dev)));
    }
    if std::env::var_os("CORACLE_GUEST").is_some() && !Path::new("/dev/loop0").exists() {
        // The guest is thrown away: loading a module there changes nothing.
        let _ = Command::new("busybox").args(["modprobe", "loop"]).status();
    }
    let meta = fs::metadata("/dev/loop0").ok()?;
    meta.file_type()
        .is_block_device()
        .then(|| (libc::major(meta.rdev()), libc::minor(meta.rdev())))
}

/// Whether block device `major:minor` runs BFQ, the I/O scheduler with
/// per-device weights: in a throwaway guest it is put on BFQ first (the
/// guest is thrown away), the host's devices stay as they are.
pub fn on_bfq_in_guest(major: u32, minor: u32) -> bool {
    let device = PathBuf::from(format!("/sys/dev/block/{major}:{minor}"));
    // A partition's queue is its disk's.
    let Some(scheduler) = [device.join("queue"), device.join("../queue")]
        .into_iter()
        .map(|queue| queue.join("scheduler"))
        .find(|file| file.exists())
    else {
        return false;
    };
    if std::env::var_os("CORACLE_GUEST").is_some() {
        let _ = Command::new("busybox").args(["modprobe", "bfq"]).status();
        let _ = fs::write(&scheduler, "bfq");
    }
    read(&scheduler).contains("[bfq]")
}

/// The name of an RDMA device: the first there is, or in a throwaway
/// guest (whose kernel has the rxe driver) a software one made on a dummy
/// network device; `None` without one.
pub fn rdma_device() -> Option<String> {
    static DEVICE: OnceLock<Option<String>> = OnceLock::new();
    let first = || {
        let entry = fs::read_dir("/sys/class/infiniband")
            .ok()?
            .flatten()
            .next()?;
        entry.file_name().into_string().ok()
    };
    DEVICE
        .get_or_init(|| {
            if first().is_none() && std::env::var_os("CORACLE_GUEST").is_some() {
                for step in [
                    "busybox modprobe dummy",
                    "ip link add crdma0 type dummy",
                    "ip link set crdma0 up",
                    // rxe checksums with crc32, which nothing loads for it.
                    "busybox modprobe crc32_generic",
                    "busybox modprobe rdma_rxe",
                    "rdma link add crxe0 type rxe netdev crdma0",
                ] {
                    let args: Vec<&str> = step.split(' ').collect();
                    let _ = Command::new(args[0]).args(&args[1..]).status();
                }
            }
            first()
        })
        .clone()
}

/// The path of a controller's file as the container's `/sys/fs/cgroup`
/// shows it: one directory per hierarchy on v1, flat on v2.
pub fn inside(controller: &str, file: &str) -> String {
    if cg_env().unified() {
        return format!("/sys/fs/cgroup/{file}");
    }
    let mount = cgroup_dir(controller, "").expect("hierarchy of the controller");
    let name = mount.file_name().unwrap().to_string_lossy().into_owned();
    format!("/sys/fs/cgroup/{name}/{file}")
}

/// A read-only cgroup mount at /sys/fs/cgroup, as engines ask for it.
pub fn mount_cgroup(b: &mut Bundle) {
    b.mount(
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                   "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}),
    );
}

/// Plants a device node the container can open: `c 1:11` (kmsg, writable
/// without privileges and not among the default devices) on a tmpfs of the
/// test's own (the guest's /tmp is nodev), bound at /kmsg-node. The mount
/// goes when the returned guard is dropped.
pub fn plant_device(t: &Test, b: &mut Bundle) -> HostMount {
    let mount = HostMount::tmpfs(&t.dir.join(t.unique("devs")));
    let node = mount.0.join("kmsg-node");
    host(
        "mknod",
        &["-m", "666", node.to_str().unwrap(), "c", "1", "11"],
    );
    b.mount(json!({"destination": "/kmsg-node", "type": "bind",
                   "source": node, "options": ["bind", "rw"]}));
    mount
}
