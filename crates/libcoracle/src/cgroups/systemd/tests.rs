//! Tests of the systemd driver against a real systemd (the systemd guest
//! of scripts/guest): scopes under unique names that a guard stops.

use crate::cgroups::test_support::{open_in, read, skip, Scratch};
use crate::cgroups::{Cgroup, CgroupPlan, CgroupRecord};
use crate::spec::{self, Spec};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

/// The state of a unit as `systemctl is-active` says it.
fn unit_state(unit: &str) -> String {
    let out = Command::new("systemctl")
        .args(["is-active", unit])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Stops the test's scope whatever happens.
struct StopScope(String);

impl Drop for StopScope {
    fn drop(&mut self) {
        let _ = Command::new("systemctl").args(["stop", &self.0]).output();
        let _ = Command::new("systemctl")
            .args(["reset-failed", &self.0])
            .output();
    }
}

/// A plan for the systemd driver, `None` (skipped) without a systemd bus on
/// a cgroup v2 host.
fn plan(name: &str, resources: &str) -> Option<CgroupPlan> {
    if !Path::new("/run/systemd/system").exists()
        || !Path::new("/run/dbus/system_bus_socket").exists()
    {
        skip("systemd is not running");
        return None;
    }
    let spec: Spec = serde_json::from_str(&format!(
        r#"{{"ociVersion":"1.2.0","linux":{{"cgroupsPath":"system.slice:coracle-test:{name}","resources":{resources}}}}}"#
    ))
    .unwrap();
    Some(CgroupPlan::from_spec(&spec, "unused", true).unwrap())
}

#[test]
fn a_scope_holds_the_container() {
    // Scratch only for the root check, the sleepers and the prober helpers.
    let Some((mut scratch, _)) = Scratch::cgroup2() else {
        return;
    };
    let name = scratch.top.clone();
    let Some(plan) = plan(
        &name,
        r#"{"memory":{"limit":67108864},"pids":{"limit":40},
            "devices":[{"allow":false,"access":"rwm"}]}"#,
    ) else {
        return;
    };
    let unit = format!("coracle-test-{name}.scope");
    let _guard = StopScope(unit.clone());
    let cgroup = Cgroup::create(&plan).unwrap();
    assert!(cgroup.clone_target().is_none());
    let dir = cgroup.unified_path().unwrap().to_owned();
    assert_eq!(dir, Path::new("/sys/fs/cgroup/system.slice").join(&unit));
    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();
    assert_eq!(unit_state(&unit), "active");
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert_eq!(own.trim_end(), format!("0::/system.slice/{unit}"));
    assert_eq!(read(&dir, "memory.max"), "67108864");
    assert_eq!(read(&dir, "pids.max"), "40");
    // The device program is in place; later processes join the scope.
    assert_eq!(open_in(&cgroup, "<", "/dev/kmsg"), "denied");
    assert_eq!(open_in(&cgroup, "<", "/dev/null"), "ok");

    // Later commands work from the record.
    let json = serde_json::to_string(&cgroup.record()).unwrap();
    assert!(
        json.starts_with(r#"{"driver":"systemd","unit":""#),
        "{json}"
    );
    let mut again = Cgroup::from_record(&serde_json::from_str::<CgroupRecord>(&json).unwrap());
    let resources: spec::Resources =
        serde_json::from_str(r#"{"memory":{"limit":33554432}}"#).unwrap();
    again.update(&resources).unwrap();
    assert_eq!(read(&dir, "memory.max"), "33554432");
    let shown = Command::new("systemctl")
        .args(["show", "-p", "MemoryMax", &unit])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout).trim(),
        "MemoryMax=33554432"
    );
    assert_eq!(again.pids().unwrap(), [pid]);
    again.set_frozen(true).unwrap();
    assert!(again.is_frozen().unwrap());
    again.set_frozen(false).unwrap();
    again.signal_all(libc::SIGKILL).unwrap();
    assert_eq!(
        scratch.children[0].wait().unwrap().signal(),
        Some(libc::SIGKILL)
    );
    again.remove().unwrap();
    assert!(!dir.exists());
    assert_ne!(unit_state(&unit), "active");
    // Its name can be used again.
    let cgroup = Cgroup::create(&plan).unwrap();
    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();
    cgroup.signal_all(libc::SIGKILL).unwrap();
    scratch.children[1].wait().unwrap();
    cgroup.remove().unwrap();
}

#[test]
fn a_failed_start_is_reported() {
    let Some((scratch, _)) = Scratch::cgroup2() else {
        return;
    };
    let Some(plan) = plan(&scratch.top, "{}") else {
        return;
    };
    let _guard = StopScope(format!("coracle-test-{}.scope", scratch.top));
    let cgroup = Cgroup::create(&plan).unwrap();
    // No such process: systemd refuses the scope.
    let err = cgroup.add_process(i32::MAX).unwrap_err().to_string();
    assert!(err.starts_with("systemd: start coracle-test-"), "{err}");
}
