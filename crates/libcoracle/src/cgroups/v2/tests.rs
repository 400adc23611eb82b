//! Tests of the cgroup v2 driver with real cgroups, as root, under unique
//! `/coracle-test-<pid>-<n>` paths. The device program, freezing, killing,
//! nesting and removal run in any cgroup2 hierarchy, the hybrid one of a v1
//! host included; the resources need a cgroup v2 host (the guest of
//! scripts/guest).

use super::*;
use crate::cgroups::mountinfo::Unified;
use crate::cgroups::path::CgroupsPath;
use crate::cgroups::test_support::{block_device, open_in, read, Prober, Scratch};
use crate::cgroups::{Cgroup, CgroupRecord, Driver, OomEvents};
use crate::spec;
use std::os::fd::AsFd;
use std::os::unix::process::ExitStatusExt;

/// Creates a v2 cgroup at `/<top><below>` in `unified`.
fn create(
    scratch: &Scratch,
    unified: &Unified,
    below: &str,
    resources: &str,
) -> Result<Cgroup, CgroupError> {
    let path = format!("/{}{below}", scratch.top);
    let path = CgroupsPath::parse(Some(&path), "unused")?;
    let resources: spec::Resources = serde_json::from_str(resources).unwrap();
    let resources = ResourcePlan::from_spec(&resources)?;
    let plan = V2Plan::new(unified, &path, resources)?;
    Ok(Cgroup {
        driver: Driver::V2(V2Cgroup::create(&plan)?),
    })
}

fn dir_of(cgroup: &Cgroup) -> PathBuf {
    cgroup.unified_path().unwrap().to_owned()
}

fn update(cgroup: &mut Cgroup, json: &str) -> Result<(), String> {
    let resources: spec::Resources = serde_json::from_str(json).unwrap();
    cgroup.update(&resources).map_err(|e| e.to_string())
}

#[test]
fn the_device_program_enforces_the_rules() {
    let Some((scratch, unified)) = Scratch::cgroup2() else {
        return;
    };
    let mut cgroup = create(
        &scratch,
        &unified,
        "/ctr",
        r#"{"devices":[{"allow":false,"access":"rwm"},
                       {"allow":true,"type":"c","major":1,"minor":11,"access":"r"}]}"#,
    )
    .unwrap();
    assert_eq!(open_in(&cgroup, ">", "/dev/null"), "ok");
    assert_eq!(open_in(&cgroup, "<", "/dev/urandom"), "ok");
    assert_eq!(open_in(&cgroup, "<", "/dev/kmsg"), "ok");
    assert_eq!(open_in(&cgroup, ">", "/dev/kmsg"), "denied");
    if Path::new("/dev/loop0").exists() {
        assert_eq!(open_in(&cgroup, "<", "/dev/loop0"), "denied");
    }

    // An update replaces the program: one stays attached.
    update(&mut cgroup, r#"{"devices":[{"allow":false}]}"#).unwrap();
    assert_eq!(open_in(&cgroup, "<", "/dev/kmsg"), "denied");
    assert_eq!(open_in(&cgroup, "<", "/dev/zero"), "ok");
    let dir = open_dir(&dir_of(&cgroup)).unwrap();
    assert_eq!(sys::bpf::device_programs(dir.as_fd()).unwrap().len(), 1);
    // An update without devices leaves them alone.
    update(&mut cgroup, "{}").unwrap();
    assert_eq!(sys::bpf::device_programs(dir.as_fd()).unwrap().len(), 1);
    drop(dir);
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn freeze_kill_and_remove_through_the_record() {
    let Some((mut scratch, unified)) = Scratch::cgroup2() else {
        return;
    };
    let cgroup = create(&scratch, &unified, "/a/ctr", "{}").unwrap();
    assert!(cgroup.clone_target().is_some());
    assert!(cgroup.views().is_empty());
    let json = serde_json::to_string(&cgroup.record()).unwrap();
    assert!(json.starts_with(r#"{"driver":"v2","path":""#), "{json}");
    assert!(json.ends_with(r#","created":3}"#), "{json}");
    let again = Cgroup::from_record(&serde_json::from_str::<CgroupRecord>(&json).unwrap());

    let pid = scratch.sleeper();
    again.add_process(pid).unwrap();
    // A cgroup the container made below its own, with a process in it.
    let nested = dir_of(&cgroup).join("inner");
    fs::create_dir(&nested).unwrap();
    let inner = scratch.sleeper();
    fs::write(nested.join("cgroup.procs"), inner.to_string()).unwrap();
    let mut pids = again.pids().unwrap();
    pids.sort();
    let mut want = vec![pid, inner];
    want.sort();
    assert_eq!(pids, want);

    again.set_frozen(true).unwrap();
    assert!(again.is_frozen().unwrap());
    again.set_frozen(false).unwrap();
    assert!(!again.is_frozen().unwrap());

    again.signal_all(libc::SIGKILL).unwrap();
    for child in &mut scratch.children {
        assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    }
    again.remove().unwrap();
    assert!(!dir_of(&cgroup).exists());
    assert!(!scratch.anything_left(), "the created parent stayed");
    again.remove().unwrap();
}

#[test]
fn a_frozen_cgroup_can_still_be_killed() {
    let Some((mut scratch, unified)) = Scratch::cgroup2() else {
        return;
    };
    let cgroup = create(&scratch, &unified, "", "{}").unwrap();
    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();
    cgroup.set_frozen(true).unwrap();
    cgroup.signal_all(libc::SIGKILL).unwrap();
    assert_eq!(
        scratch.children[0].wait().unwrap().signal(),
        Some(libc::SIGKILL)
    );
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn clone_into_cgroup_starts_the_child_inside() {
    let Some((scratch, unified)) = Scratch::cgroup2() else {
        return;
    };
    let cgroup = create(&scratch, &unified, "", "{}").unwrap();
    let forked = sys::process::clone_process(0, cgroup.clone_target(), false).unwrap();
    let pid = match forked {
        sys::process::Forked::Child => {
            std::thread::sleep(Duration::from_secs(30));
            sys::process::exit_now(0)
        }
        sys::process::Forked::Parent { pid, .. } => pid,
    };
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    sys::process::kill(pid, libc::SIGKILL).unwrap();
    sys::process::wait_pid(pid, false).unwrap();
    assert!(own.contains(&format!("0::/{}", scratch.top)), "{own}");
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn an_existing_cgroup_with_processes_is_refused() {
    let Some((mut scratch, unified)) = Scratch::cgroup2() else {
        return;
    };
    let first = create(&scratch, &unified, "/ctr", "{}").unwrap();
    let pid = scratch.sleeper();
    first.add_process(pid).unwrap();
    let err = create(&scratch, &unified, "/ctr", "{}")
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not empty (it holds pid "), "{err}");
    first.signal_all(libc::SIGKILL).unwrap();
    scratch.children[0].wait().unwrap();
    first.remove().unwrap();
    assert!(!scratch.anything_left());
}

// ---- A cgroup v2 host (the guest): controllers and resources. ----

#[test]
fn resources_are_written_and_controllers_enabled() {
    let Some(scratch) = Scratch::v2() else {
        return;
    };
    let plan = scratch
        .plan(
            "/ctr",
            r#"{"memory":{"limit":67108864,"swap":100663296,"reservation":33554432},
                "cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0"},
                "pids":{"limit":50},
                "unified":{"memory.high":"50331648"}}"#,
        )
        .unwrap();
    let mut cgroup = Cgroup::create(&plan).unwrap();
    let dir = dir_of(&cgroup);
    assert_eq!(read(&dir, "memory.max"), "67108864");
    assert_eq!(read(&dir, "memory.swap.max"), "33554432");
    assert_eq!(read(&dir, "memory.low"), "33554432");
    assert_eq!(read(&dir, "memory.high"), "50331648");
    assert_eq!(read(&dir, "cpu.weight"), "39");
    assert_eq!(read(&dir, "cpu.max"), "50000 100000");
    assert_eq!(read(&dir, "cpuset.cpus"), "0");
    assert_eq!(read(&dir, "pids.max"), "50");
    let parent = read(dir.parent().unwrap(), "cgroup.subtree_control");
    for controller in ["cpu", "cpuset", "memory", "pids"] {
        assert!(parent.split(' ').any(|c| c == controller), "{parent}");
    }

    // Updates: only what is named changes.
    update(&mut cgroup, r#"{"memory":{"swap":134217728}}"#).unwrap();
    assert_eq!(read(&dir, "memory.swap.max"), "67108864");
    assert_eq!(read(&dir, "memory.max"), "67108864");
    update(&mut cgroup, r#"{"cpu":{"period":200000}}"#).unwrap();
    assert_eq!(read(&dir, "cpu.max"), "50000 200000");
    update(&mut cgroup, r#"{"cpu":{"quota":-1},"pids":{"limit":-1}}"#).unwrap();
    assert_eq!(read(&dir, "cpu.max"), "max 200000");
    assert_eq!(read(&dir, "pids.max"), "max");
    let err = update(&mut cgroup, r#"{"unified":{"memory.nope":"1"}}"#).unwrap_err();
    assert!(
        err.starts_with("linux.resources.unified.memory.nope: the kernel has no "),
        "{err}"
    );
    let err = update(&mut cgroup, r#"{"memory":{"swappiness":10}}"#).unwrap_err();
    assert!(
        err.starts_with("linux.resources.memory.swappiness: "),
        "{err}"
    );
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn every_offered_controller_is_enabled_in_the_parents() {
    let Some(scratch) = Scratch::v2() else {
        return;
    };
    // No resources at all: an update may still need any controller.
    let cgroup = Cgroup::create(&scratch.plan("/a/ctr", "{}").unwrap()).unwrap();
    let dir = dir_of(&cgroup);
    let words = |dir: &Path, file: &str| {
        let mut words: Vec<String> = read(dir, file).split(' ').map(str::to_owned).collect();
        words.sort();
        words
    };
    let made = [
        dir.parent().unwrap(),
        dir.parent().unwrap().parent().unwrap(),
    ];
    for level in made {
        let offered = words(level, "cgroup.controllers");
        assert_eq!(words(level, "cgroup.subtree_control"), offered, "{level:?}");
    }
    assert_eq!(
        words(&dir, "cgroup.controllers"),
        words(made[0], "cgroup.controllers")
    );
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn block_io_and_huge_pages() {
    let Some(scratch) = Scratch::v2() else {
        return;
    };
    let device = block_device();
    let throttle = match &device {
        Some(dev) => {
            let (major, minor) = dev.split_once(':').unwrap();
            format!(
                r#","throttleReadBpsDevice":[{{"major":{major},"minor":{minor},"rate":1048576}}]"#
            )
        }
        None => String::new(),
    };
    let plan = scratch
        .plan(
            "",
            &format!(
                r#"{{"blockIO":{{"weight":500{throttle}}},
                    "hugepageLimits":[{{"pageSize":"2MB","limit":4194304}}]}}"#
            ),
        )
        .unwrap();
    let cgroup = Cgroup::create(&plan).unwrap();
    let dir = dir_of(&cgroup);
    if dir.join("io.weight").exists() {
        assert_eq!(read(&dir, "io.weight"), "default 4950");
    }
    assert_eq!(read(&dir, "hugetlb.2MB.max"), "4194304");
    if dir.join("hugetlb.2MB.rsvd.max").exists() {
        assert_eq!(read(&dir, "hugetlb.2MB.rsvd.max"), "4194304");
    }
    if let Some(dev) = device {
        let io_max = read(&dir, "io.max");
        assert!(
            io_max.starts_with(&format!("{} rbps=1048576 ", dev.trim_end())),
            "{io_max}"
        );
    }
    let stats = cgroup.stats().unwrap();
    assert!(stats.hugetlb.contains_key("2MB"), "{stats:?}");
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn a_controller_the_hierarchy_lacks_is_named() {
    let Some(scratch) = Scratch::v2() else {
        return;
    };
    let plan = scratch
        .plan("", r#"{"unified":{"nosuch.max":"1"}}"#)
        .unwrap();
    let err = Cgroup::create(&plan).unwrap_err().to_string();
    assert!(
        err.starts_with("the nosuch cgroup controller is not available in ")
            && err.ends_with("(needed for linux.resources.unified.nosuch.max)"),
        "{err}"
    );
    assert!(!scratch.anything_left());
}

#[test]
fn stats_and_out_of_memory_events() {
    let Some(mut scratch) = Scratch::v2() else {
        return;
    };
    let plan = scratch
        .plan(
            "",
            r#"{"memory":{"limit":8388608,"swap":8388608},"pids":{"limit":20}}"#,
        )
        .unwrap();
    let cgroup = Cgroup::create(&plan).unwrap();
    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();
    let stats = cgroup.stats().unwrap();
    assert_eq!(stats.pids.current, 1);
    assert_eq!(stats.pids.limit, 20);
    assert_eq!(stats.memory.usage.limit, 8388608);
    assert_eq!(stats.memory.swap.limit, 0);
    assert!(stats.memory.raw.contains_key("anon"), "{stats:?}");
    scratch.children[0].kill().unwrap();
    scratch.children[0].wait().unwrap();

    // The watcher starts with the prober waiting inside, as `events` starts
    // with a container's init: "gone" is the populated cgroup emptied, and a
    // watcher made on an empty cgroup may never see it populated.
    let prober = Prober::spawn(r#"x=$(head -c 50000000 /dev/zero | tr "\0" a); echo survived"#);
    cgroup.add_process(prober.pid()).unwrap();
    let mut watcher = cgroup.oom_events().unwrap();
    assert_eq!(watcher.read().unwrap(), OomEvents::default());
    assert_eq!(prober.run(), "");
    // Generous bounds, not timing assertions: the events are already due.
    // The kill and the emptied cgroup come in one read or in two.
    let mut seen = OomEvents::default();
    while !(seen.count >= 1 && seen.gone) {
        let ready = sys::process::poll_readable(&[watcher.as_fd()], 30_000).unwrap();
        assert!(ready[0], "{seen:?}");
        let events = watcher.read().unwrap();
        seen.count += events.count;
        seen.gone |= events.gone;
    }
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}
