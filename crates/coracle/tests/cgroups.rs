//! Control groups (config-linux.md "Control groups") on this host's cgroup v1
//! hierarchies: where the container goes (absolute, relative, default
//! cgroupsPath), the limits written (read back from the host's files and
//! felt inside), `ps` and `kill --all` over the cgroup, and removal on
//! delete. Every test uses unique paths; the harness checks that delete
//! removed every cgroup directory the container was in.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::Path;

fn cg_file(controller: &str, path: &str, file: &str) -> String {
    let dir = cgroup_dir(controller, path).unwrap_or_else(|| panic!("no {controller} hierarchy"));
    fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("read {}/{file}: {e}", dir.display()))
        .trim()
        .to_string()
}

#[test]
fn absolute_cgroups_path() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&[]);
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["linux"]["resources"] = json!({"pids": {"limit": 100}});
    b.sh("grep -E ':(pids|memory):' /proc/self/cgroup; exec sleep 1000");
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    for ctrl in ["pids", "memory"] {
        let dir = cgroup_dir(ctrl, &cg).unwrap();
        assert!(dir.is_dir(), "{} missing", dir.display());
        let procs = read(&dir.join("cgroup.procs"));
        assert!(
            procs.lines().any(|p| p == c.pid.to_string()),
            "init not in {}: {procs}",
            dir.display()
        );
        assert_eq!(
            cgroup_path_of(&c.pid.to_string(), ctrl).as_deref(),
            Some(cg.as_str())
        );
    }
    let inside = c.stdout();
    assert!(
        inside.lines().any(|l| l.ends_with(&format!(":pids:{cg}"))),
        "{inside}"
    );
    assert!(
        inside
            .lines()
            .any(|l| l.ends_with(&format!(":memory:{cg}"))),
        "{inside}"
    );
    let dirs: Vec<_> = cgroup_mounts()
        .into_iter()
        .map(|(_, m)| m.join(cg.trim_start_matches('/')))
        .filter(|d| d.exists())
        .collect();
    assert!(!dirs.is_empty());
    c.force_delete();
    for d in dirs {
        assert!(!d.exists(), "{} left after delete", d.display());
    }
}

#[test]
fn relative_cgroups_path() {
    let t = Test::new();
    let rel = t.unique("coracle-rel");
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["linux"]["cgroupsPath"] = json!(format!("{rel}/inner"));
    let c = t.create(&b);
    for ctrl in ["pids", "memory", "cpu"] {
        let path = cgroup_path_of(&c.pid.to_string(), ctrl).unwrap();
        assert!(path.ends_with(&format!("/{rel}/inner")), "{ctrl}: {path}");
    }
    assert!(!c.cgroups.is_empty());
    let dirs = c.cgroups.clone();
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
    b.config["linux"]["resources"] = json!({"pids": {"limit": 77}});
    let c = t.create(&b);
    let path = cgroup_path_of(&c.pid.to_string(), "pids").unwrap();
    assert_ne!(
        Some(&path),
        cgroup_path_of("self", "pids").as_ref(),
        "the container shares our cgroup"
    );
    assert_eq!(cg_file("pids", &path, "pids.max"), "77");
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
fn memory_limits() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["linux"]["resources"] = json!({"memory": {
        "limit": 64 << 20,
        "reservation": 32 << 20,
        "swap": 128 << 20,
        "swappiness": 10,
        "disableOOMKiller": true
    }});
    let _c = t.create(&b);
    assert_eq!(
        cg_file("memory", &cg, "memory.limit_in_bytes"),
        (64u64 << 20).to_string()
    );
    assert_eq!(
        cg_file("memory", &cg, "memory.soft_limit_in_bytes"),
        (32u64 << 20).to_string()
    );
    assert_eq!(
        cg_file("memory", &cg, "memory.memsw.limit_in_bytes"),
        (128u64 << 20).to_string()
    );
    assert_eq!(cg_file("memory", &cg, "memory.swappiness"), "10");
    let oom = cg_file("memory", &cg, "memory.oom_control");
    assert!(oom.lines().any(|l| l == "oom_kill_disable 1"), "{oom}");
}

#[test]
fn pids_limit_is_enforced() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["linux"]["resources"] = json!({"pids": {"limit": 3}});
    // sh plus two sleeps reach the limit: the third fork fails (and ash
    // gives up on the script).
    b.sh("sleep 1000 & echo 1 >> /out/n; sleep 1000 & echo 2 >> /out/n; sleep 1000 & echo 3 >> /out/n");
    let res = t.run(&b);
    assert_eq!(read(&out.join("n")), "1\n2\n", "{res}");
    assert!(res.stderr.contains("fork"), "{res}");
    assert!(
        remove_cgroup_everywhere(&cg).is_empty(),
        "cgroups left after run"
    );
}

#[test]
fn cpu_and_cpuset() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&[]);
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["linux"]["resources"] = json!({"cpu": {
        "shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"
    }});
    b.sh("grep Cpus_allowed_list /proc/self/status; exec sleep 1000");
    let c = t.create(&b);
    assert_eq!(cg_file("cpu", &cg, "cpu.shares"), "512");
    assert_eq!(cg_file("cpu", &cg, "cpu.cfs_quota_us"), "50000");
    assert_eq!(cg_file("cpu", &cg, "cpu.cfs_period_us"), "100000");
    assert_eq!(cg_file("cpuset", &cg, "cpuset.cpus"), "0");
    assert_eq!(cg_file("cpuset", &cg, "cpuset.mems"), "0");
    c.start();
    wait_for_comm(c.pid, "sleep");
    assert_eq!(
        c.stdout().split_whitespace().collect::<Vec<_>>(),
        ["Cpus_allowed_list:", "0"]
    );
}

#[test]
fn block_io_throttle() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&["sleep", "1000"]);
    // The device of the root filesystem.
    let dev = {
        use std::os::unix::fs::MetadataExt;
        fs::metadata("/").unwrap().dev()
    };
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["linux"]["resources"] = json!({"blockIO": {
        "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1048576}]
    }});
    if major == 0 {
        eprintln!("skipped: / is not on a block device");
        return;
    }
    let _c = t.create(&b);
    let text = cg_file("blkio", &cg, "blkio.throttle.read_bps_device");
    assert!(
        text.lines()
            .any(|l| l == format!("{major}:{minor} 1048576")),
        "{text}"
    );
}

/// The device allow list: a device node planted in the rootfs (fuse, not
/// among the default devices) opens only when a rule allows it.
#[test]
fn device_allow_list() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let node = b.rootfs().join("fuse-node");
    host(
        "mknod",
        &["-m", "666", node.to_str().unwrap(), "c", "10", "229"],
    );
    b.sh("(exec 3<>/fuse-node) 2>/dev/null && echo opened || echo refused");
    b.config["linux"]["resources"] = json!({"devices": [{"allow": false, "access": "rwm"}]});
    assert_eq!(t.run(&b).ok().stdout, "refused\n");

    b.config["linux"]["resources"] = json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"}
    ]});
    assert_eq!(t.run(&b).ok().stdout, "opened\n");

    // Read access only: opening read-write is refused.
    b.config["linux"]["resources"] = json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"}
    ]});
    assert_eq!(t.run(&b).ok().stdout, "refused\n");
}

#[test]
fn ps_and_kill_all_reach_a_background_child() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.config["linux"]["cgroupsPath"] = json!(cg);
    // pid 1 ignores TERM (no handler), its child does not.
    b.sh("sleep 1000 & : > /out/ready; wait; echo child-gone > /out/result; exec sleep 1000");
    let c = t.create(&b);
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
    wait_for_file(&out.join("result"));
    assert_eq!(read(&out.join("result")), "child-gone\n");
    assert_eq!(
        c.status(),
        "running",
        "pid 1 without a TERM handler must survive"
    );

    c.rt(&["kill", "--all"], &["KILL"]).ok();
    c.wait_stopped();
    assert!(!pid_alive(child));
}

/// A `cgroup` mount shows the container its own cgroups (Podman asks for it).
#[test]
fn cgroup_mount_inside() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&[]);
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["linux"]["resources"] = json!({"pids": {"limit": 42}});
    b.mount(
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                   "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}),
    );
    b.sh("cat /sys/fs/cgroup/pids/pids.max; echo 1 > /sys/fs/cgroup/pids/pids.max 2>/dev/null || echo read-only");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "42\nread-only\n");
    assert!(
        remove_cgroup_everywhere(&cg).is_empty(),
        "cgroups left after run"
    );
}

#[test]
fn delete_removes_the_cgroups() {
    let t = Test::new();
    let cg = t.cgroup_path();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["linux"]["cgroupsPath"] = json!(cg);
    b.config["linux"]["resources"] = json!({"memory": {"limit": 64 << 20}, "pids": {"limit": 50}});
    let c = t.create(&b);
    c.start();
    let existing: Vec<_> = cgroup_mounts()
        .into_iter()
        .map(|(_, m)| m.join(cg.trim_start_matches('/')))
        .filter(|d| d.exists())
        .collect();
    assert!(
        existing
            .iter()
            .any(|d| d.starts_with("/sys/fs/cgroup/memory")),
        "{existing:?}"
    );
    c.force_delete();
    let left = remove_cgroup_everywhere(&cg);
    assert!(left.is_empty(), "left after delete: {left:?}");
    let _ = Path::new("/");
}
