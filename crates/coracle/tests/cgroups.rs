//! Control groups (config-linux.md "Control groups") wherever the tests run
//! (see common/cg.rs): this host's cgroup v1 hierarchies, a guest's pure
//! cgroup v2 hierarchy, or a guest under systemd with `--systemd-cgroup`.
//! Where the container goes, every limit read back from the host's control
//! files (and from inside, through the container's `/sys/fs/cgroup`),
//! device access allowed and denied, freezing, `ps` and `kill --all` over
//! the cgroup, and removal on delete. Every test uses unique paths; the
//! harness checks that delete removed every cgroup directory the container
//! was in.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

#[test]
fn cgroup_is_where_cgroups_path_says() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&[]);
    b.cgroup(&place)
        .resources(json!({"pids": {"limit": 100}, "memory": {"limit": 64 * MIB}}));
    b.sh("cat /proc/self/cgroup; exec sleep 1000");
    let c = t.create_cg(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    for controller in ["pids", "memory"] {
        assert_eq!(cg_path_of(c.pid, controller), place.path, "{controller}");
        let procs = place.read(controller, "cgroup.procs");
        assert!(
            procs.lines().any(|p| p == c.pid.to_string()),
            "init not in {controller}'s cgroup.procs: {procs}"
        );
    }
    // Without a cgroup namespace the container sees the host's paths.
    let seen = c.stdout();
    let want: Vec<String> = match cg_env() {
        CgEnv::V1 => vec![
            format!(":pids:{}", place.path),
            format!(":memory:{}", place.path),
        ],
        CgEnv::V2 | CgEnv::Systemd => vec![format!("0::{}", place.path)],
    };
    for line in want {
        assert!(seen.lines().any(|l| l.ends_with(&line)), "{line} in {seen}");
    }
    if let Some(unit) = &place.unit {
        let props = systemctl_show(unit, &["ActiveState", "ControlGroup"]);
        assert_eq!(props["ActiveState"], "active", "{props:?}");
        assert_eq!(props["ControlGroup"], place.path, "{props:?}");
    }
    let dirs = place.existing_dirs();
    assert!(!dirs.is_empty());
    c.force_delete();
    for d in dirs {
        assert!(!d.exists(), "{} left after delete", d.display());
    }
}

#[test]
fn relative_cgroups_path() {
    if skip_unless_env(
        &[CgEnv::V1, CgEnv::V2],
        "a relative cgroupsPath belongs to the cgroupfs driver",
    ) {
        return;
    }
    let t = Test::new();
    let rel = t.unique("coracle-rel");
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["linux"]["cgroupsPath"] = json!(format!("{rel}/inner"));
    b.resources(json!({"pids": {"limit": 10}}));
    let c = t.create_cg(&b);
    for controller in ["pids", "memory", "cpu"] {
        let ours = cg_path_of(std::process::id() as i32, controller);
        let path = cg_path_of(c.pid, controller);
        let want = format!("{}/{rel}/inner", ours.trim_end_matches('/'));
        assert_eq!(path, want, "{controller}");
    }
    let dirs = c.cgroups.clone();
    assert!(!dirs.is_empty());
    c.force_delete();
    for d in &dirs {
        assert!(!d.exists(), "{} left after delete", d.display());
    }
    // The parent the runtime made on the way may be shared by other
    // containers: removing it is not asked for. Ours, remove it.
    for d in dirs {
        let _ = fs::remove_dir(d.parent().unwrap());
    }
}

#[test]
fn default_cgroups_path_gets_the_limits() {
    let t = Test::new();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.resources(json!({"pids": {"limit": 77}}));
    let c = t.create_cg(&b);
    let path = cg_path_of(c.pid, "pids");
    let want = match cg_env() {
        CgEnv::V1 | CgEnv::V2 => format!("/coracle/{}", c.id),
        CgEnv::Systemd => format!("/system.slice/coracle-{}.scope", c.id),
    };
    assert_eq!(path, want);
    assert_eq!(
        fs::read_to_string(cg_file_path(&path, "pids", "pids.max"))
            .unwrap()
            .trim(),
        "77"
    );
    // The harness checks on delete that this directory is removed.
    assert!(
        c.cgroups
            .iter()
            .any(|d| d.ends_with(path.trim_start_matches('/'))),
        "{:?}",
        c.cgroups
    );
}

#[test]
fn the_default_parent_goes_with_its_last_container() {
    if skip_unless_coracle("/coracle is coracle's default parent")
        || skip_unless_env(
            &[CgEnv::V1, CgEnv::V2],
            "systemd places containers in scopes",
        )
    {
        return;
    }
    let t = Test::new();
    let b = t.bundle(&["sleep", "1000"]);
    // The first container makes /coracle (when no other test's holds it),
    // the second shares it, and the first is deleted first: the second,
    // the last one out, must take /coracle with it.
    let first = t.create_cg(&b);
    let second = t.create_cg(&b);
    first.force_delete();
    second.force_delete();
    // Other tests' containers share /coracle: one may be between making it
    // and making its own directory in it, or between removing the two. An
    // empty /coracle that stays empty is the leak (bounded wait).
    let empty_parents = || -> Vec<PathBuf> {
        cgroup_mounts()
            .into_iter()
            .map(|(_, mount)| mount.join("coracle"))
            .filter(|parent| {
                fs::read_dir(parent).is_ok_and(|entries| {
                    !entries
                        .flatten()
                        .any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                })
            })
            .collect()
    };
    let end = std::time::Instant::now() + DEADLINE;
    loop {
        let empty = empty_parents();
        if empty.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < end, "left empty: {empty:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn memory_limits() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&[]);
    b.cgroup(&place);
    b.with_ns("cgroup", None);
    mount_cgroup(&mut b);
    let limit_file = match cg_env() {
        CgEnv::V1 => "memory.limit_in_bytes",
        CgEnv::V2 | CgEnv::Systemd => "memory.max",
    };
    b.sh(&format!(
        "cat {}; exec sleep 1000",
        inside("memory", limit_file)
    ));
    let mut memory = json!({"limit": 64 * MIB, "reservation": 32 * MIB, "swap": 128 * MIB});
    if cg_env() == CgEnv::V1 {
        memory["swappiness"] = json!(10);
        memory["disableOOMKiller"] = json!(true);
    }
    b.resources(json!({ "memory": memory }));
    let c = t.create_cg(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    assert_eq!(c.stdout().trim(), (64 * MIB).to_string(), "seen inside");
    let read = |file| place.read("memory", file);
    match cg_env() {
        CgEnv::V1 => {
            assert_eq!(read("memory.limit_in_bytes"), (64 * MIB).to_string());
            assert_eq!(read("memory.soft_limit_in_bytes"), (32 * MIB).to_string());
            assert_eq!(read("memory.memsw.limit_in_bytes"), (128 * MIB).to_string());
            assert_eq!(read("memory.swappiness"), "10");
            let oom = read("memory.oom_control");
            assert!(oom.lines().any(|l| l == "oom_kill_disable 1"), "{oom}");
        }
        CgEnv::V2 | CgEnv::Systemd => {
            assert_eq!(read("memory.max"), (64 * MIB).to_string());
            assert_eq!(read("memory.low"), (32 * MIB).to_string());
            // v2 limits swap alone: the part of memory+swap above memory.
            assert_eq!(read("memory.swap.max"), (64 * MIB).to_string());
        }
    }
    if let Some(unit) = &place.unit {
        let props = systemctl_show(unit, &["MemoryMax", "MemoryLow", "MemorySwapMax"]);
        assert_eq!(props["MemoryMax"], (64 * MIB).to_string(), "{props:?}");
        assert_eq!(props["MemoryLow"], (32 * MIB).to_string(), "{props:?}");
        assert_eq!(props["MemorySwapMax"], (64 * MIB).to_string(), "{props:?}");
    }
}

/// What only cgroup v1 can do is refused on cgroup v2 before anything
/// exists, with the field named.
#[test]
fn v1_only_memory_fields_are_refused_on_v2() {
    if skip_unless_env(
        &[CgEnv::V2, CgEnv::Systemd],
        "these fields are honoured on cgroup v1",
    ) {
        return;
    }
    let t = Test::new();
    for (memory, field) in [
        (
            json!({"limit": 64 * MIB, "swappiness": 10}),
            "linux.resources.memory.swappiness",
        ),
        (
            json!({"disableOOMKiller": true}),
            "linux.resources.memory.disableOOMKiller",
        ),
        (json!({"kernel": 64 * MIB}), "linux.resources.memory.kernel"),
    ] {
        let place = cg_place(&t);
        let mut b = t.bundle(&["true"]);
        b.cgroup(&place).resources(json!({ "memory": memory }));
        let out = t.try_create_cg(&b).err().expect("create must fail");
        let out = out.fails_with_one_line();
        assert!(out.stderr.contains(field), "{out}");
        assert!(place.existing_dirs().is_empty(), "cgroup left: {out}");
        if let Some(unit) = &place.unit {
            assert_eq!(
                systemctl_show(unit, &["LoadState"])["LoadState"],
                "not-found"
            );
        }
    }
}

#[test]
fn pids_limit_is_enforced() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.cgroup(&place).resources(json!({"pids": {"limit": 3}}));
    // sh plus two sleeps reach the limit: the third fork fails (and ash
    // gives up on the script).
    b.sh("sleep 1000 & echo 1 >> /out/n; sleep 1000 & echo 2 >> /out/n; sleep 1000 & echo 3 >> /out/n");
    let res = t.run_cg(&b);
    assert_eq!(read(&out.join("n")), "1\n2\n", "{res}");
    assert!(res.stderr.contains("fork"), "{res}");
    assert!(place.existing_dirs().is_empty(), "cgroups left after run");
}

#[test]
fn cpu_and_cpuset() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&[]);
    b.cgroup(&place).resources(json!({"cpu": {
        "shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"
    }}));
    b.sh("grep Cpus_allowed_list /proc/self/status; exec sleep 1000");
    let c = t.create_cg(&b);
    match cg_env() {
        CgEnv::V1 => {
            assert_eq!(place.read("cpu", "cpu.shares"), "512");
            assert_eq!(place.read("cpu", "cpu.cfs_quota_us"), "50000");
            assert_eq!(place.read("cpu", "cpu.cfs_period_us"), "100000");
        }
        CgEnv::V2 | CgEnv::Systemd => {
            // shares 2..262144 map linearly onto weight 1..10000.
            assert_eq!(place.read("cpu", "cpu.weight"), "20");
            assert_eq!(place.read("cpu", "cpu.max"), "50000 100000");
        }
    }
    assert_eq!(place.read("cpuset", "cpuset.cpus"), "0");
    assert_eq!(place.read("cpuset", "cpuset.mems"), "0");
    if let Some(unit) = &place.unit {
        let props = systemctl_show(unit, &["CPUWeight", "AllowedCPUs", "AllowedMemoryNodes"]);
        assert_eq!(props["CPUWeight"], "20", "{props:?}");
        assert_eq!(props["AllowedCPUs"], "0", "{props:?}");
        assert_eq!(props["AllowedMemoryNodes"], "0", "{props:?}");
    }
    c.start();
    wait_for_comm(c.pid, "sleep");
    assert_eq!(
        c.stdout().split_whitespace().collect::<Vec<_>>(),
        ["Cpus_allowed_list:", "0"]
    );
}

/// A cpuset list that does not parse is refused with the configuration,
/// before any cgroup or scope exists (the kernel or systemd would refuse it
/// only later, or systemd not at all).
#[test]
fn unparsable_cpuset_lists_are_refused_before_anything_exists() {
    let t = Test::new();
    for (cpu, error) in [
        (
            json!({"cpus": "3-1"}),
            "linux.resources.cpu.cpus: range 3-1 goes backwards",
        ),
        (
            json!({"mems": "0,,1"}),
            r#"linux.resources.cpu.mems: "0,,1" is not a list such as "0-3,7""#,
        ),
    ] {
        let place = cg_place(&t);
        let mut b = t.bundle(&["true"]);
        b.cgroup(&place).resources(json!({ "cpu": cpu }));
        let out = t.try_create_cg(&b).err().expect("create must fail");
        let out = out.fails_with_one_line();
        assert!(out.stderr.contains(error), "{out}");
        assert!(place.existing_dirs().is_empty(), "cgroup left: {out}");
        if let Some(unit) = &place.unit {
            assert_eq!(
                systemctl_show(unit, &["LoadState"])["LoadState"],
                "not-found"
            );
        }
    }
}

/// Real-time CPU bandwidth: written on cgroup v1, refused on v2 (which has
/// none).
#[test]
fn realtime_cpu() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place)
        .resources(json!({"cpu": {"realtimePeriod": 1000000, "realtimeRuntime": 10000}}));
    if cg_env().unified() {
        let out = t.try_create_cg(&b).err().expect("create must fail");
        let out = out.fails_with_one_line();
        assert!(out.stderr.contains("realtime"), "{out}");
        assert!(place.existing_dirs().is_empty(), "cgroup left: {out}");
        return;
    }
    if !cgroup_dir("cpu", "")
        .unwrap()
        .join("cpu.rt_runtime_us")
        .exists()
    {
        let out = t.try_create_cg(&b).err().expect("create must fail");
        assert!(out.fails_with_one_line().stderr.contains("realtime"));
        return;
    }
    let _c = t.create_cg(&b);
    assert_eq!(place.read("cpu", "cpu.rt_period_us"), "1000000");
    assert_eq!(place.read("cpu", "cpu.rt_runtime_us"), "10000");
}

/// All four throttles, each read back from its own file (v1) or merged
/// into the device's io.max line (v2).
#[test]
fn block_io_throttle() {
    let Some((major, minor)) = test_block_device() else {
        skip_test("no block device to throttle here");
        return;
    };
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    let rate = |rate: u64| json!([{"major": major, "minor": minor, "rate": rate}]);
    b.cgroup(&place).resources(json!({"blockIO": {
        "throttleReadBpsDevice": rate(MIB),
        "throttleWriteBpsDevice": rate(2 * MIB),
        "throttleReadIOPSDevice": rate(100),
        "throttleWriteIOPSDevice": rate(120)
    }}));
    let _c = t.create_cg(&b);
    match cg_env() {
        CgEnv::V1 => {
            for (file, rate) in [
                ("read_bps_device", MIB),
                ("write_bps_device", 2 * MIB),
                ("read_iops_device", 100),
                ("write_iops_device", 120),
            ] {
                let lines = place.read("blkio", &format!("blkio.throttle.{file}"));
                let want = format!("{major}:{minor} {rate}");
                assert!(lines.lines().any(|l| l == want), "{file}: {lines}");
            }
        }
        CgEnv::V2 | CgEnv::Systemd => {
            let max = place.read("io", "io.max");
            let want = format!(
                "{major}:{minor} rbps={MIB} wbps={} riops=100 wiops=120",
                2 * MIB
            );
            assert!(max.lines().any(|l| l == want), "{max}");
        }
    }
}

/// The blkio weight lands in whichever weight file the kernel has; a
/// kernel without one refuses the container, naming the field.
#[test]
fn block_io_weight() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place)
        .resources(json!({"blockIO": {"weight": 500}}));
    let files = match cg_env() {
        CgEnv::V1 => [("blkio.weight", "500"), ("blkio.bfq.weight", "500")],
        // io.weight is io.cost's (1..10000); BFQ keeps the blkio range.
        CgEnv::V2 | CgEnv::Systemd => [
            ("io.weight", "default 4950"),
            ("io.bfq.weight", "default 500"),
        ],
    };
    // The weight files exist in non-root cgroups only: look in one of ours.
    let supported = cg_env().unified() || {
        let probe = cgroup_dir("blkio", &t.cgroup_path()).unwrap();
        fs::create_dir(&probe).unwrap();
        let found = files.iter().any(|(f, _)| probe.join(f).exists());
        fs::remove_dir(&probe).unwrap();
        found
    };
    if !supported {
        let out = t.try_create_cg(&b).err().expect("create must fail");
        let out = out.fails_with_one_line();
        assert!(
            out.stderr.contains("linux.resources.blockIO.weight"),
            "{out}"
        );
        return;
    }
    let _c = t.create_cg(&b);
    let (file, want) = files
        .iter()
        .find(|(f, _)| place.file("blkio", f).exists())
        .expect("a weight file in the container's cgroup");
    assert_eq!(place.read("blkio", file).lines().next().unwrap(), *want);
}

#[test]
fn hugetlb_limit() {
    if !Path::new("/sys/kernel/mm/hugepages/hugepages-2048kB").exists() {
        skip_test("the kernel has no 2 MB huge pages");
        return;
    }
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place)
        .resources(json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MIB}]}));
    if cg_env() == CgEnv::Systemd {
        // systemd delegates no hugetlb controller to its units: refused,
        // and the scope started meanwhile is gone again.
        let out = t.try_create_cg(&b).err().expect("create must fail");
        let out = out.fails_with_one_line();
        assert!(out.stderr.contains("hugetlb"), "{out}");
        assert!(place.existing_dirs().is_empty(), "cgroup left: {out}");
        let unit = place.unit.as_deref().unwrap();
        let state = systemctl_show(unit, &["ActiveState"]);
        assert_ne!(state["ActiveState"], "active", "{out}");
        return;
    }
    if cg_env() == CgEnv::V1 && !v1_hierarchy_mounted("hugetlb") {
        // A hybrid host whose hugetlb controller sits in cgroup2 (this
        // machine, fresh): refused as runc refuses it, and nothing stays.
        let out = t.try_create_cg(&b).err().expect("create must fail");
        let out = out.fails_with_one_line();
        assert!(
            out.stderr.contains("hugetlb") && out.stderr.contains("hugepageLimits"),
            "{out}"
        );
        assert!(place.existing_dirs().is_empty(), "cgroup left: {out}");
        return;
    }
    let _c = t.create_cg(&b);
    let file = match cg_env() {
        CgEnv::V1 => "hugetlb.2MB.limit_in_bytes",
        _ => "hugetlb.2MB.max",
    };
    assert_eq!(place.read("hugetlb", file), (4 * MIB).to_string());
}

/// Writes to the planted node and to the default devices, and reports.
const DEVICE_PROBE: &str = "head -c1 /dev/zero | wc -c; echo x > /dev/null && echo null-ok; \
     (echo 'coracle test: device rule check' > /kmsg-node) 2>&1; echo kmsg=$?";

#[test]
fn device_access_allowed_and_denied() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let _dev = plant_device(&t, &mut b);
    b.sh(DEVICE_PROBE);

    // Only the default devices.
    let out = t.run_cg(&b).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[..2], ["1", "null-ok"], "{out}");
    assert!(out.stdout.contains("Operation not permitted"), "{out}");
    assert!(out.stdout.ends_with("kmsg=1\n"), "{out}");

    // A leading "deny all" cannot take the default devices away; a rule
    // allows the node.
    b.resources(json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}
    ]}));
    let out = t.run_cg(&b).ok();
    assert_eq!(out.stdout, "1\nnull-ok\nkmsg=0\n", "{out}");

    // Read access only: opening for writing is refused.
    b.resources(json!({"devices": [
        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}
    ]}));
    let out = t.run_cg(&b).ok();
    assert!(out.stdout.contains("Operation not permitted"), "{out}");
    assert!(out.stdout.ends_with("kmsg=1\n"), "{out}");
}

/// On cgroup v1 the rules are readable back from devices.list.
#[test]
fn device_rules_in_devices_list() {
    if skip_unless_env(
        &[CgEnv::V1],
        "cgroup v2 device rules are an eBPF program (checked by device_access_allowed_and_denied)",
    ) {
        return;
    }
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place).resources(json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}
    ]}));
    let _c = t.create_cg(&b);
    let list = place.read("devices", "devices.list");
    for rule in ["c 1:11 w", "c 1:3 rwm", "c 1:5 rwm"] {
        assert!(list.lines().any(|l| l == rule), "{rule} in {list}");
    }
    assert!(!list.lines().any(|l| l.starts_with("a ")), "{list}");
}

#[test]
fn pause_and_resume_freeze_the_processes() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&[]);
    b.cgroup(&place);
    // A busy loop is 'R' while it runs and sleeps once frozen.
    b.sh("while :; do :; done");
    let c = t.create_cg(&b);
    c.start();
    let freezer = |frozen: bool| match cg_env() {
        CgEnv::V1 => {
            let want = if frozen { "FROZEN" } else { "THAWED" };
            assert_eq!(place.read("freezer", "freezer.state"), want);
        }
        CgEnv::V2 | CgEnv::Systemd => {
            let want = if frozen { "1" } else { "0" };
            assert_eq!(place.read("", "cgroup.freeze"), want);
            let events = place.read("", "cgroup.events");
            assert!(
                events.lines().any(|l| l == format!("frozen {want}")),
                "{events}"
            );
        }
    };
    wait_for_state(c.pid, &['R']);
    freezer(false);

    c.rt(&["pause"], &[]).ok();
    assert_eq!(c.status(), "paused");
    freezer(true);
    let state = proc_state(c.pid);
    assert!(matches!(state, 'S' | 'D'), "a frozen task is {state}");
    // Pausing twice is refused: it is not running.
    c.rt(&["pause"], &[]).fails_with_one_line();

    c.rt(&["resume"], &[]).ok();
    assert_eq!(c.status(), "running");
    freezer(false);
    wait_for_state(c.pid, &['R']);
    c.rt(&["resume"], &[]).fails_with_one_line();

    // A paused container can be deleted by force.
    c.rt(&["pause"], &[]).ok();
    c.force_delete();
    assert!(place.existing_dirs().is_empty());
}

#[test]
fn a_created_container_can_be_paused_and_resumed() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&[]);
    b.cgroup(&place);
    b.sh("echo started");
    let c = t.create_cg(&b);
    c.rt(&["pause"], &[]).ok();
    assert_eq!(c.status(), "paused");
    // Paused, it cannot start, as in runc.
    c.rt(&["start"], &[]).fails_with_one_line();
    c.rt(&["resume"], &[]).ok();
    assert_eq!(c.status(), "created");
    c.start();
    c.wait_stopped();
    assert_eq!(c.stdout(), "started\n");
}

/// Polls until `pid`'s state is one of `states` (bounded).
#[track_caller]
fn wait_for_state(pid: i32, states: &[char]) {
    let end = std::time::Instant::now() + DEADLINE;
    loop {
        let state = proc_state(pid);
        if states.contains(&state) {
            return;
        }
        assert!(
            std::time::Instant::now() < end,
            "{pid} still {state}, want {states:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn ps_and_kill_all_reach_a_background_child() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.cgroup(&place);
    // pid 1 ignores TERM (no handler), its child does not.
    b.sh("sleep 1000 & : > /out/ready; wait; echo child-gone > /out/result; exec sleep 1000");
    let c = t.create_cg(&b);
    c.start();
    wait_for_file(&out.join("ready"));
    let kids = children_of(c.pid);
    assert_eq!(kids.len(), 1, "{kids:?}");
    let child = kids[0];

    let ps: Value =
        serde_json::from_str(&c.rt(&["ps", "--format", "json"], &[]).ok().stdout).unwrap();
    let pids: Vec<i64> = ps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert!(
        pids.contains(&(c.pid as i64)) && pids.contains(&(child as i64)),
        "{pids:?}"
    );

    c.rt(&["kill", "--all"], &["TERM"]).ok();
    // The file exists a moment before the shell has written the line.
    let result = wait_for_text(&out.join("result"), "\n");
    assert_eq!(result, "child-gone\n");
    assert_eq!(
        c.status(),
        "running",
        "pid 1 without a TERM handler must survive"
    );

    c.rt(&["kill", "--all"], &["KILL"]).ok();
    c.wait_stopped();
    assert!(!pid_alive(child));
}

/// A `cgroup` mount shows the container its own cgroup, read-only, with a
/// cgroup namespace (where /proc/self/cgroup says "/") and without.
#[test]
fn cgroup_mount_inside() {
    let t = Test::new();
    for cgroupns in [true, false] {
        let place = cg_place(&t);
        let mut b = t.bundle(&[]);
        b.cgroup(&place).resources(json!({"pids": {"limit": 42}}));
        if cgroupns {
            b.with_ns("cgroup", None);
        }
        mount_cgroup(&mut b);
        let file = inside("pids", "pids.max");
        let own_line = match cg_env() {
            CgEnv::V1 => "grep :pids: /proc/self/cgroup",
            CgEnv::V2 | CgEnv::Systemd => "cat /proc/self/cgroup",
        };
        b.sh(&format!(
            "cat {file}; echo 1 > {file} 2>/dev/null || echo read-only; {own_line}"
        ));
        let out = t.run_cg(&b).ok();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(
            lines[..2],
            ["42", "read-only"],
            "cgroupns {cgroupns}: {out}"
        );
        // In its own namespace the container's cgroup is the root.
        let path = if cgroupns { "/" } else { place.path.as_str() };
        assert!(lines[2].ends_with(&format!(":{path}")), "{out}");
        assert!(place.existing_dirs().is_empty(), "cgroups left after run");
    }
}

/// On cgroup v1 the cgroup mount shows every hierarchy, as runc's does,
/// also those the container did not join (cpuset without cpus or mems,
/// name=systemd, which systemd in a container needs): each directory is a
/// cgroup mount of the process's own cgroup there (its root in a cgroup
/// namespace), as /proc/self/cgroup says from inside.
#[test]
fn cgroup_mount_shows_every_hierarchy() {
    let t = Test::new();
    if skip_unless_env(&[CgEnv::V1], "cgroup v1 hierarchies") {
        return;
    }
    let hierarchies: Vec<(String, String)> = cgroups_of("self")
        .into_iter()
        .filter(|(controllers, _)| !controllers.is_empty())
        .collect();
    for wanted in ["cpuset", "name=systemd"] {
        assert!(
            hierarchies.iter().any(|(c, _)| c == wanted),
            "{hierarchies:?}"
        );
    }
    for cgroupns in [true, false] {
        let place = cg_place(&t);
        let mut b = t.bundle(&[]);
        b.cgroup(&place).resources(json!({"pids": {"limit": 42}}));
        if cgroupns {
            b.with_ns("cgroup", None);
        }
        mount_cgroup(&mut b);
        b.sh("cat /proc/self/cgroup; cat /proc/self/mountinfo");
        let out = t.run_cg(&b).ok();
        for line in out.stdout.lines().take_while(|l| !l.contains(" - ")) {
            let mut fields = line.splitn(3, ':').skip(1);
            let (Some(controllers), Some(path)) = (fields.next(), fields.next()) else {
                continue;
            };
            if controllers.is_empty() {
                continue;
            }
            let dir = controllers
                .split(',')
                .filter(|c| !c.starts_with("name="))
                .collect::<Vec<_>>()
                .join(",");
            let dir = if dir.is_empty() {
                &controllers["name=".len()..]
            } else {
                &dir
            };
            let m = mount_at(&out.stdout, &format!("/sys/fs/cgroup/{dir}"));
            assert_eq!(
                (m.fstype.as_str(), m.root.as_str()),
                ("cgroup", path),
                "cgroupns {cgroupns}: {m:?}"
            );
            assert!(m.has("ro"), "{m:?}");
        }
        let dirs = ["cpuset", "systemd"].map(|d| format!("/sys/fs/cgroup/{d}"));
        for dir in dirs {
            assert_eq!(mount_at(&out.stdout, &dir).fstype, "cgroup", "{dir}");
        }
        assert!(place.existing_dirs().is_empty(), "cgroups left after run");
    }
}

#[test]
fn delete_removes_the_cgroups() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place)
        .resources(json!({"memory": {"limit": 64 * MIB}, "pids": {"limit": 50}}));
    let c = t.create_cg(&b);
    c.start();
    let existing = place.existing_dirs();
    let memory_dir = place.file("memory", "");
    assert!(
        existing.iter().any(|d| memory_dir.starts_with(d)),
        "{existing:?}"
    );
    c.force_delete();
    let left = place.existing_dirs();
    assert!(left.is_empty(), "left after delete: {left:?}");
    if let Some(unit) = &place.unit {
        let props = systemctl_show(unit, &["ActiveState", "LoadState"]);
        assert_ne!(props["ActiveState"], "active", "{props:?}");
    }
}
