//! Root tests of what later commands do to a live v1 cgroup: update, stats
//! and out-of-memory events.

use crate::cgroups::mountinfo::{self, Layout};
use crate::cgroups::test_support::{open_in, read, view_dir, Prober, Scratch};
use crate::cgroups::{Cgroup, OomEvents};
use crate::spec;
use crate::sys;
use std::os::fd::AsFd;

fn update(cgroup: &mut Cgroup, json: &str) -> Result<(), String> {
    let resources: spec::Resources = serde_json::from_str(json).unwrap();
    cgroup.update(&resources).map_err(|e| e.to_string())
}

#[test]
fn update_changes_only_what_it_names() {
    let Some(mut scratch) = Scratch::v1() else {
        return;
    };
    let mut cgroup = Cgroup::create(
        &scratch
            .plan(
                "",
                r#"{"memory":{"limit":67108864,"swap":67108864},"pids":{"limit":50},
                    "devices":[{"allow":false,"access":"rwm"}]}"#,
            )
            .unwrap(),
    )
    .unwrap();
    let memory = view_dir(&cgroup, "memory").unwrap();
    let pids = view_dir(&cgroup, "pids").unwrap();
    // Raising needs memory+swap first, lowering the limit first.
    update(
        &mut cgroup,
        r#"{"memory":{"limit":268435456,"swap":536870912}}"#,
    )
    .unwrap();
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "268435456");
    assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), "536870912");
    update(
        &mut cgroup,
        r#"{"memory":{"limit":33554432,"swap":33554432}}"#,
    )
    .unwrap();
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "33554432");
    assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), "33554432");
    // A swap limit alone is fine on a live cgroup.
    update(&mut cgroup, r#"{"memory":{"swap":67108864}}"#).unwrap();
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "33554432");
    assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), "67108864");
    update(&mut cgroup, r#"{"pids":{"limit":7}}"#).unwrap();
    assert_eq!(read(&pids, "pids.max"), "7");
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "33554432");

    // A controller the host does not mount is refused before anything is
    // written.
    let Ok(Layout::V1(hierarchies)) = mountinfo::discover() else {
        panic!("Scratch::v1 found v1 hierarchies");
    };
    if !hierarchies.iter().any(|h| h.has("net_cls")) {
        let err = update(
            &mut cgroup,
            r#"{"pids":{"limit":9},"network":{"classID":1}}"#,
        );
        assert_eq!(
            err.unwrap_err(),
            "the net_cls cgroup controller is not mounted as a cgroup v1 hierarchy (needed for linux.resources.network.classID)"
        );
        assert_eq!(read(&pids, "pids.max"), "7");
    }

    // A hierarchy the cgroup did not join at create is joined now: its
    // directory gets the values (the rest from the parent), the processes
    // move in, and the record, and so remove, includes it.
    assert!(view_dir(&cgroup, "cpuset").is_none());
    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();
    update(&mut cgroup, r#"{"pids":{"limit":9},"cpu":{"cpus":"0"}}"#).unwrap();
    assert_eq!(read(&pids, "pids.max"), "9");
    let cpuset = view_dir(&cgroup, "cpuset").expect("cpuset joined");
    assert_eq!(read(&cpuset, "cpuset.cpus"), "0");
    assert!(!read(&cpuset, "cpuset.mems").is_empty());
    assert_eq!(read(&cpuset, "cgroup.procs"), pid.to_string());
    let record = Cgroup::from_record(&cgroup.record());
    assert!(view_dir(&record, "cpuset").is_some());
    scratch.children[0].kill().unwrap();
    scratch.children[0].wait().unwrap();

    // New device rules apply to the running cgroup.
    assert_eq!(open_in(&cgroup, "<", "/dev/kmsg"), "denied");
    update(
        &mut cgroup,
        r#"{"devices":[{"allow":false},{"allow":true,"type":"c","major":1,"minor":11,"access":"r"}]}"#,
    )
    .unwrap();
    assert_eq!(open_in(&cgroup, "<", "/dev/kmsg"), "ok");
    assert_eq!(open_in(&cgroup, "<", "/dev/null"), "ok");
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn device_lists_are_predicted() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    // The kernel's devices.list after each rule list is what the update
    // compares with; check the prediction against the kernel itself.
    for rules in [
        "[]",
        r#"[{"allow":false}]"#,
        r#"[{"allow":true,"type":"c","major":1,"minor":3,"access":"r"},
            {"allow":true,"type":"c","major":10,"minor":200,"access":"rw"},
            {"allow":false,"type":"c","major":10,"minor":200,"access":"w"},
            {"allow":true,"type":"a","major":7,"access":"r"}]"#,
        r#"[{"allow":true,"type":"b","major":7,"minor":0,"access":"rw"},
            {"allow":false,"type":"b","major":7,"minor":0,"access":"rw"}]"#,
    ] {
        let mut cgroup = Cgroup::create(
            &scratch
                .plan("", &format!(r#"{{"devices":{rules}}}"#))
                .unwrap(),
        )
        .unwrap();
        let before = read(&view_dir(&cgroup, "devices").unwrap(), "devices.list");
        // Unchanged rules are detected as such: nothing is written (a write
        // would be visible as a changed order of the list).
        update(&mut cgroup, &format!(r#"{{"devices":{rules}}}"#)).unwrap();
        let after = read(&view_dir(&cgroup, "devices").unwrap(), "devices.list");
        assert_eq!(before, after);
        let rules: Vec<spec::DeviceCgroup> = serde_json::from_str(rules).unwrap();
        let rules = crate::cgroups::devices::device_rules(&rules).unwrap();
        assert_eq!(
            crate::cgroups::v1::devices::expected_list(&rules).as_deref(),
            Some(format!("{before}\n").as_str()),
            "{rules:?}"
        );
        cgroup.remove().unwrap();
    }
    assert!(!scratch.anything_left());
}

#[test]
fn stats_read_the_joined_controllers() {
    let Some(mut scratch) = Scratch::v1() else {
        return;
    };
    let cgroup = Cgroup::create(
        &scratch
            .plan(
                "",
                r#"{"memory":{"limit":67108864},"pids":{"limit":20},"cpu":{"quota":50000,"period":100000}}"#,
            )
            .unwrap(),
    )
    .unwrap();
    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();
    let stats = cgroup.stats().unwrap();
    assert_eq!(stats.pids.current, 1);
    assert_eq!(stats.pids.limit, 20);
    assert_eq!(stats.memory.usage.limit, 67108864);
    assert!(stats.memory.raw.contains_key("total_rss"), "{stats:?}");
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["memory"]["usage"]["limit"], 67108864);
    scratch.children[0].kill().unwrap();
    scratch.children[0].wait().unwrap();
    cgroup.remove().unwrap();
}

#[test]
fn out_of_memory_is_reported() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    let cgroup = Cgroup::create(
        &scratch
            .plan("", r#"{"memory":{"limit":8388608,"swap":8388608}}"#)
            .unwrap(),
    )
    .unwrap();
    let mut watcher = cgroup.oom_events().unwrap();
    assert_eq!(watcher.read().unwrap(), OomEvents::default());
    let prober = Prober::spawn(r#"x=$(head -c 50000000 /dev/zero | tr "\0" a); echo survived"#);
    cgroup.add_process(prober.pid()).unwrap();
    assert_eq!(prober.run(), "");
    // A generous bound, not a timing assertion: the event is already due.
    let ready = sys::process::poll_readable(&[watcher.as_fd()], 30_000).unwrap();
    assert!(ready[0]);
    let events = watcher.read().unwrap();
    assert!(events.count >= 1 && !events.gone, "{events:?}");
    cgroup.remove().unwrap();
    let ready = sys::process::poll_readable(&[watcher.as_fd()], 30_000).unwrap();
    assert!(ready[0]);
    assert_eq!(
        watcher.read().unwrap(),
        OomEvents {
            count: 0,
            gone: true
        }
    );
    assert!(!scratch.anything_left());
}

#[test]
fn a_live_join_moves_the_processes_of_nested_cgroups_too() {
    let Some(mut scratch) = Scratch::v1() else {
        return;
    };
    let mut cgroup = Cgroup::create(&scratch.plan("", "{}").unwrap()).unwrap();
    let top = scratch.sleeper();
    cgroup.add_process(top).unwrap();
    // A cgroup the container made below its own, with a process in it.
    let nested = view_dir(&cgroup, "pids").unwrap().join("inner");
    std::fs::create_dir(&nested).unwrap();
    let inner = scratch.sleeper();
    cgroup.add_process(inner).unwrap();
    std::fs::write(nested.join("cgroup.procs"), inner.to_string()).unwrap();
    let mut pids = cgroup.pids().unwrap();
    pids.sort();
    let mut want = vec![top, inner];
    want.sort();
    assert_eq!(pids, want);

    update(&mut cgroup, r#"{"cpu":{"cpus":"0"}}"#).unwrap();
    let cpuset = view_dir(&cgroup, "cpuset").expect("cpuset joined");
    let mut moved: Vec<i32> = read(&cpuset, "cgroup.procs")
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    moved.sort();
    assert_eq!(moved, want);
    for child in &mut scratch.children {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    std::fs::remove_dir(&nested).unwrap();
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}
