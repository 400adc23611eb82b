//! The systemd cgroup driver (`--systemd-cgroup`) as systemd sees it: the
//! container's scope unit, in the slice `cgroupsPath` names, carries the
//! limits systemd knows (which its own rewrites then keep), follows
//! `update`, and is gone after `delete`.
//! These tests run only where systemd is PID 1 on cgroup v2 (the systemd
//! guest of scripts/guest); elsewhere they say why they are skipped. The
//! rest of the driver's behaviour is checked by the environment-aware
//! tests (cgroups.rs, update_events.rs), which use it there.

mod common;

use common::*;
use serde_json::json;
use std::path::Path;

fn skip() -> bool {
    skip_unless_env(
        &[CgEnv::Systemd],
        "the systemd driver needs systemd as PID 1",
    )
}

/// A name without dashes (a dash in a slice name is a level of slices).
fn plain_name(t: &Test, prefix: &str) -> String {
    t.unique(prefix).replace('-', "_")
}

#[test]
fn scope_unit_follows_the_container() {
    if skip() {
        return;
    }
    let t = Test::new();
    let name = plain_name(&t, "scope");
    let unit = format!("coracle-test-{name}.scope");
    let cgroup = format!("/sys/fs/cgroup/system.slice/{unit}");
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["linux"]["cgroupsPath"] = json!(format!("system.slice:coracle-test:{name}"));
    b.resources(json!({
        "memory": {"limit": 64 * MIB},
        "pids": {"limit": 50},
        "cpu": {"quota": 30000, "period": 60000},
        "blockIO": {"weight": 500},
        "unified": {"memory.high": (48 * MIB).to_string()}
    }));
    let c = t.create_cg(&b);
    let file = |name: &str| read(&Path::new(&cgroup).join(name)).trim().to_string();
    // What systemd writes from its own properties whenever it applies the
    // unit's settings again (a property change, a reload).
    let managed = |stage: &str| {
        assert_eq!(file("cpu.max"), "30000 60000", "{stage}");
        assert_eq!(file("io.weight"), "default 4950", "{stage}");
        assert_eq!(file("memory.high"), (48 * MIB).to_string(), "{stage}");
    };
    managed("after create");
    let props = systemctl_show(
        &unit,
        &[
            "ActiveState",
            "MemoryMax",
            "TasksMax",
            "ControlGroup",
            "Delegate",
        ],
    );
    assert_eq!(props["ActiveState"], "active", "{props:?}");
    assert_eq!(props["MemoryMax"], (64 * MIB).to_string(), "{props:?}");
    assert_eq!(props["TasksMax"], "50", "{props:?}");
    assert_eq!(props["Delegate"], "yes", "{props:?}");
    assert_eq!(
        props["ControlGroup"],
        format!("/system.slice/{unit}"),
        "{props:?}"
    );
    let procs = read(&Path::new(&cgroup).join("cgroup.procs"));
    assert!(
        procs.lines().any(|p| p == c.pid.to_string()),
        "init not in {cgroup}: {procs}"
    );
    assert_eq!(
        read(&Path::new(&cgroup).join("memory.max")).trim(),
        (64 * MIB).to_string()
    );

    // systemd learns of updates (a daemon-reload would restore its view).
    c.rt(&["update", "--memory", "96m", "--pids-limit", "60"], &[])
        .ok();
    let props = systemctl_show(&unit, &["MemoryMax", "TasksMax"]);
    assert_eq!(props["MemoryMax"], (96 * MIB).to_string(), "{props:?}");
    assert_eq!(props["TasksMax"], "60", "{props:?}");
    managed("after an update of other limits");
    // A cpuset set live becomes the unit's AllowedCPUs/AllowedMemoryNodes.
    c.rt(&["update", "--cpuset-cpus", "0", "--cpuset-mems", "0"], &[])
        .ok();
    host("systemctl", &["daemon-reload"]);
    let props = systemctl_show(&unit, &["MemoryMax", "AllowedCPUs", "AllowedMemoryNodes"]);
    assert_eq!(props["MemoryMax"], (96 * MIB).to_string(), "{props:?}");
    assert_eq!(props["AllowedCPUs"], "0", "{props:?}");
    assert_eq!(props["AllowedMemoryNodes"], "0", "{props:?}");
    assert_eq!(file("cpuset.cpus"), "0");
    assert_eq!(file("cpuset.mems"), "0");
    managed("after a reload");
    // A quota alone keeps the period.
    c.rt(&["update", "--cpu-quota", "15000"], &[]).ok();
    assert_eq!(file("cpu.max"), "15000 60000");
    assert_eq!(file("memory.max"), (96 * MIB).to_string());

    c.start();
    c.force_delete();
    let props = systemctl_show(&unit, &["ActiveState", "LoadState"]);
    assert_eq!(props["ActiveState"], "inactive", "{props:?}");
    assert_eq!(props["LoadState"], "not-found", "{props:?}");
    assert!(!Path::new(&cgroup).exists(), "{cgroup} left");
}

#[test]
fn default_scope_name() {
    if skip() {
        return;
    }
    let t = Test::new();
    let b = t.bundle(&["sleep", "1000"]);
    let c = t.create_cg(&b);
    let unit = format!("coracle-{}.scope", c.id);
    assert_eq!(
        cg_path_of(c.pid, ""),
        format!("/system.slice/{unit}"),
        "the default is system.slice:coracle:ID"
    );
    assert_eq!(
        systemctl_show(&unit, &["ActiveState"])["ActiveState"],
        "active"
    );
    c.force_delete();
    assert_eq!(
        systemctl_show(&unit, &["LoadState"])["LoadState"],
        "not-found"
    );
}

/// A slice of several levels (`a-b.slice` is in `a.slice`) and an empty
/// prefix (the scope is `NAME.scope`).
#[test]
fn nested_slice_and_empty_prefix() {
    if skip() {
        return;
    }
    let t = Test::new();
    let slice_part = plain_name(&t, "slice");
    let slice = format!("machine-{slice_part}.slice");
    let name = plain_name(&t, "ct");
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["linux"]["cgroupsPath"] = json!(format!("{slice}::{name}"));
    b.resources(json!({"pids": {"limit": 9}}));
    let created = t.try_create_cg(&b);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let c = created.unwrap_or_else(|out| panic!("create failed: {out}"));
        let path = format!("/machine.slice/{slice}/{name}.scope");
        assert_eq!(cg_path_of(c.pid, ""), path);
        assert_eq!(
            read(
                &Path::new("/sys/fs/cgroup")
                    .join(&path[1..])
                    .join("pids.max")
            )
            .trim(),
            "9"
        );
        let props = systemctl_show(&format!("{name}.scope"), &["Slice", "ActiveState"]);
        assert_eq!(props["Slice"], slice, "{props:?}");
        assert_eq!(props["ActiveState"], "active", "{props:?}");
        c.force_delete();
    }));
    // The slice systemd made for it is the test's to remove.
    let _ = std::process::Command::new("systemctl")
        .args(["stop", &slice])
        .status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    assert!(!Path::new("/sys/fs/cgroup/machine.slice")
        .join(&slice)
        .exists());
}

#[test]
fn bad_cgroups_paths_are_refused() {
    if skip() {
        return;
    }
    let t = Test::new();
    for path in ["/coracle/abs", "system.slice:only-two", "not-a-slice:p:n"] {
        let mut b = t.bundle(&["true"]);
        b.config["linux"]["cgroupsPath"] = json!(path);
        let out = t.try_create_cg(&b).err().expect("create must fail");
        let out = out.fails_with_one_line();
        assert!(out.stderr.contains("linux.cgroupsPath"), "{path}: {out}");
    }
}
