//! Tests of the cgroup v1 driver: planning and naming (pure), and, as root
//! on a cgroup v1 host, real cgroups under unique `/coracle-test-<pid>-<n>`
//! paths that a guard removes whatever happens.

use super::*;
use crate::cgroups::mountinfo::{self, Layout};
use crate::cgroups::test_support::{block_device, open_in, read, skip, view_dir, Scratch};
use crate::cgroups::{Cgroup, CgroupPlan, CgroupRecord};
use crate::spec::Spec;
use std::fs;
use std::os::unix::process::ExitStatusExt;

mod live;

fn hierarchy(controllers: &[&str], mount_point: &str) -> Hierarchy {
    Hierarchy {
        controllers: controllers.iter().map(|c| c.to_string()).collect(),
        mount_point: mount_point.into(),
        own: Some("own".into()),
    }
}

fn sample_hierarchies() -> Vec<Hierarchy> {
    vec![
        hierarchy(&["name=systemd"], "/cg/systemd"),
        hierarchy(&["cpu", "cpuacct"], "/cg/cpu,cpuacct"),
        hierarchy(&["cpuset"], "/cg/cpuset"),
        hierarchy(&["memory"], "/cg/memory"),
        hierarchy(&["pids"], "/cg/pids"),
        hierarchy(&["freezer"], "/cg/freezer"),
        hierarchy(&["devices"], "/cg/devices"),
    ]
}

fn plan_dirs(resources: &str, path: &str) -> Result<Vec<String>, CgroupError> {
    let resources: crate::spec::Resources = serde_json::from_str(resources).unwrap();
    let resources = ResourcePlan::from_spec(&resources)?;
    let path = CgroupsPath::parse(Some(path), "id")?;
    let plan = V1Plan::new(sample_hierarchies(), path, resources)?;
    Ok(plan
        .hierarchies
        .iter()
        .map(|p| p.dir.display().to_string())
        .collect())
}

#[test]
fn rdma_limits_are_applied_as_features_says() {
    let resources: crate::spec::Resources =
        serde_json::from_str(r#"{"rdma":{"mlx4_0":{"hcaHandles":2}}}"#).unwrap();
    let used = controllers_used(&ResourcePlan::from_spec(&resources).unwrap()).unwrap();
    let rdma = used.iter().any(|(c, _)| *c == "rdma");
    assert_eq!(rdma, crate::cgroups::SUPPORT.rdma);
}

#[test]
fn joins_the_required_and_the_accounting_hierarchies_by_default() {
    assert_eq!(
        plan_dirs("{}", "/a/b").unwrap(),
        [
            "/cg/pids/a/b",
            "/cg/freezer/a/b",
            "/cg/devices/a/b",
            "/cg/memory/a/b",
            "/cg/cpu,cpuacct/a/b"
        ]
    );
}

#[test]
fn joins_the_hierarchies_the_resources_use_once() {
    let dirs = plan_dirs(
        r#"{"memory":{"limit":1},"cpu":{"shares":2,"cpus":"0"},"devices":[{"allow":true}]}"#,
        "rel",
    )
    .unwrap();
    assert_eq!(
        dirs,
        [
            "/cg/pids/own/rel",
            "/cg/freezer/own/rel",
            "/cg/devices/own/rel",
            "/cg/memory/own/rel",
            "/cg/cpu,cpuacct/own/rel",
            "/cg/cpuset/own/rel",
        ]
    );
}

#[test]
fn the_other_hierarchies_are_planned_for_later_updates() {
    let path = CgroupsPath::parse(Some("/a"), "id").unwrap();
    let plan = V1Plan::new(sample_hierarchies(), path, ResourcePlan::default()).unwrap();
    let others: Vec<String> = plan_others(&plan.mounted, &plan.hierarchies, &plan.path)
        .iter()
        .map(|p| p.dir.display().to_string())
        .collect();
    // Not the named hierarchy: no update needs it.
    assert_eq!(others, ["/cg/cpuset/a"]);
}

#[test]
fn a_missing_controller_is_named() {
    let hierarchies: Vec<_> = sample_hierarchies()
        .into_iter()
        .filter(|h| !h.has("freezer"))
        .collect();
    let path = CgroupsPath::parse(None, "id").unwrap();
    let err = V1Plan::new(hierarchies, path, ResourcePlan::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the freezer cgroup controller is not mounted as a cgroup v1 hierarchy (needed for pause and kill --all)"
    );
}

#[test]
fn views_name_hierarchies_as_mounts_do() {
    let view = |c: &[&str]| {
        let c: Vec<String> = c.iter().map(|c| c.to_string()).collect();
        let v = view_of(&c, Path::new("/x"));
        (v.dir_name, v.fs_options)
    };
    assert_eq!(
        view(&["cpu", "cpuacct"]),
        ("cpu,cpuacct".into(), "cpu,cpuacct".into())
    );
    assert_eq!(view(&["pids"]), ("pids".into(), "pids".into()));
    assert_eq!(
        view(&["name=systemd"]),
        ("systemd".into(), "none,name=systemd".into())
    );
}

#[test]
fn systemd_driver_needs_cgroup_v2() {
    if !matches!(mountinfo::discover(), Ok(Layout::V1(_))) {
        return crate::cgroups::test_support::skip("this host's cgroups are not v1");
    }
    let err = CgroupPlan::from_spec(&Spec::default(), "id", true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the systemd cgroup driver needs cgroup v2 (this host's controllers are cgroup v1 hierarchies)"
    );
}

#[test]
fn record_is_tagged_json_and_round_trips() {
    let cgroup = V1Cgroup {
        hierarchies: vec![Joined {
            controllers: vec!["pids".into()],
            path: "/cg/pids/a".into(),
            created: 1,
        }],
        unjoined: Vec::new(),
    };
    let record =
        Cgroup::from_record(&CgroupRecord(crate::cgroups::RecordDriver::V1(cgroup))).record();
    let json = serde_json::to_string(&record).unwrap();
    assert_eq!(
        json,
        r#"{"driver":"v1","hierarchies":[{"controllers":["pids"],"path":"/cg/pids/a","created":1}]}"#
    );
    let back: CgroupRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(
        Cgroup::from_record(&back).views()[0].host_path,
        Path::new("/cg/pids/a")
    );
}

// ---- Root tests on the host's cgroup v1 hierarchies. ----

#[test]
fn create_apply_join_kill_remove() {
    let Some(mut scratch) = Scratch::v1() else {
        return;
    };
    let plan = scratch
        .plan(
            "/ctr",
            r#"{
                "memory": {"limit": 67108864, "swap": 134217728, "reservation": 33554432,
                           "swappiness": 10, "disableOOMKiller": false, "kernelTCP": 16777216},
                "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"},
                "pids": {"limit": 50},
                "devices": [{"allow": false, "access": "rwm"}]
            }"#,
        )
        .unwrap();
    let cgroup = Cgroup::create(&plan).unwrap();
    assert!(cgroup.clone_target().is_none());

    let memory = view_dir(&cgroup, "memory").unwrap();
    assert_eq!(read(&memory, "memory.limit_in_bytes"), "67108864");
    assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), "134217728");
    assert_eq!(read(&memory, "memory.soft_limit_in_bytes"), "33554432");
    assert_eq!(read(&memory, "memory.swappiness"), "10");
    assert_eq!(read(&memory, "memory.kmem.tcp.limit_in_bytes"), "16777216");
    let cpu = view_dir(&cgroup, "cpu").unwrap();
    assert_eq!(read(&cpu, "cpu.shares"), "512");
    assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "50000");
    assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");
    let cpuset = view_dir(&cgroup, "cpuset").unwrap();
    assert_eq!(read(&cpuset, "cpuset.cpus"), "0");
    assert_eq!(read(&cpuset, "cpuset.mems"), "0");
    // The parent level made on the way was initialised from its own parent.
    let cpuset_parent = cpuset.parent().unwrap();
    assert_eq!(
        read(cpuset_parent, "cpuset.cpus"),
        read(cpuset_parent.parent().unwrap(), "cpuset.cpus")
    );
    let pids = view_dir(&cgroup, "pids").unwrap();
    assert_eq!(read(&pids, "pids.max"), "50");
    assert!(view_dir(&cgroup, "freezer").is_some());
    let devices = view_dir(&cgroup, "devices").unwrap();
    assert!(read(&devices, "devices.list").starts_with("c *:* m\nb *:* m\nc 1:3 rwm\n"));
    assert!(view_dir(&cgroup, "name=systemd").is_none());

    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();
    assert_eq!(cgroup.pids().unwrap(), [pid]);
    let own = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(
        own.contains(&format!(":memory:/{}/ctr\n", scratch.top)),
        "{own}"
    );

    // Later commands work from the record.
    let again = Cgroup::from_record(&cgroup.record());
    assert_eq!(again.views(), cgroup.views());
    again.signal_all(libc::SIGKILL).unwrap();
    let status = scratch.children[0].wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGKILL));
    assert!(!again.is_frozen().unwrap());

    again.remove().unwrap();
    for view in cgroup.views() {
        assert!(!view.host_path.exists(), "{}", view.host_path.display());
    }
    assert!(
        !scratch.anything_left(),
        "the created parents were not removed"
    );
    // Removing again finds nothing to do.
    again.remove().unwrap();
}

#[test]
fn freeze_thaw_and_signal() {
    let Some(mut scratch) = Scratch::v1() else {
        return;
    };
    let cgroup = Cgroup::create(&scratch.plan("", "{}").unwrap()).unwrap();
    let views = cgroup.views();
    for wanted in ["pids", "freezer", "devices"] {
        assert!(views.iter().any(|v| v.dir_name == wanted), "{views:?}");
    }
    let pid = scratch.sleeper();
    cgroup.add_process(pid).unwrap();

    cgroup.set_frozen(true).unwrap();
    assert!(cgroup.is_frozen().unwrap());
    cgroup.set_frozen(false).unwrap();
    assert!(!cgroup.is_frozen().unwrap());

    cgroup.signal_all(libc::SIGTERM).unwrap();
    let status = scratch.children[0].wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn a_failed_create_leaves_nothing_behind() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    // No such CPU: the kernel refuses the last write, after the directories
    // of every hierarchy exist.
    let plan = scratch
        .plan("/a/b", r#"{"pids":{"limit":5},"cpu":{"cpus":"1023"}}"#)
        .unwrap();
    let err = Cgroup::create(&plan).unwrap_err().to_string();
    assert!(
        err.starts_with("linux.resources.cpu.cpus: write 1023 to ")
            && err.contains("/a/b/cpuset.cpus: "),
        "{err}"
    );
    assert!(!scratch.anything_left());
}

#[test]
fn an_existing_cgroup_with_processes_is_refused() {
    let Some(mut scratch) = Scratch::v1() else {
        return;
    };
    let plan = scratch.plan("/ctr", "{}").unwrap();
    let first = Cgroup::create(&plan).unwrap();
    let pid = scratch.sleeper();
    first.add_process(pid).unwrap();

    let err = Cgroup::create(&plan).unwrap_err().to_string();
    assert!(err.contains("is not empty (it holds pid "), "{err}");
    // The refusal did not touch the first container's cgroup.
    assert_eq!(first.pids().unwrap(), [pid]);

    first.signal_all(libc::SIGKILL).unwrap();
    scratch.children[0].wait().unwrap();
    first.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn lifting_memory_in_a_cgroup_that_was_there_lifts_its_swap_limit_too() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    // Someone else's empty cgroup, with limits of its own.
    let limited = r#"{"memory":{"limit":67108864,"swap":67108864}}"#;
    let before = Cgroup::create(&scratch.plan("/ctr", limited).unwrap()).unwrap();
    let memory = view_dir(&before, "memory").unwrap();
    if !memory.join("memory.memsw.limit_in_bytes").exists() {
        before.remove().unwrap();
        return skip("no swap accounting");
    }
    let plan = scratch.plan("/ctr", r#"{"memory":{"limit":-1}}"#).unwrap();
    let cgroup = Cgroup::create(&plan).unwrap();
    // As the hierarchy's root reads it: unlimited, rounded to pages.
    let root = memory.parent().and_then(Path::parent).unwrap();
    let unlimited = read(root, "memory.limit_in_bytes");
    assert_eq!(read(&memory, "memory.limit_in_bytes"), unlimited);
    assert_eq!(read(&memory, "memory.memsw.limit_in_bytes"), unlimited);
    // The directory is not the second create's: the first one's record
    // removes what it made.
    cgroup.remove().unwrap();
    before.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn shared_parents_stay_while_used() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    let a = Cgroup::create(&scratch.plan("/a", "{}").unwrap()).unwrap();
    let b = Cgroup::create(&scratch.plan("/b", "{}").unwrap()).unwrap();
    // a made the top directory; b's is inside it, so it stays.
    a.remove().unwrap();
    assert!(scratch.anything_left());
    b.remove().unwrap();
    assert!(view_dir(&b, "pids").is_some_and(|d| !d.exists()));
}

#[test]
fn devices_are_denied_unless_allowed() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    // Engines' usual list: deny everything, allow a few devices.
    let cgroup = Cgroup::create(
        &scratch
            .plan(
                "/ctr",
                r#"{"devices":[{"allow":false,"access":"rwm"},
                               {"allow":true,"type":"c","major":1,"minor":11,"access":"r"}]}"#,
            )
            .unwrap(),
    )
    .unwrap();
    let list = read(&view_dir(&cgroup, "devices").unwrap(), "devices.list");
    assert!(list.starts_with("c 1:11 r\nc *:* m\n"), "{list}");
    assert!(!list.contains("a *:*"), "{list}");
    // The default devices stay usable after the "deny all" rule.
    assert_eq!(open_in(&cgroup, ">", "/dev/null"), "ok");
    assert_eq!(open_in(&cgroup, "<", "/dev/zero"), "ok");
    // The rule allows reading /dev/kmsg, not writing it.
    assert_eq!(open_in(&cgroup, "<", "/dev/kmsg"), "ok");
    assert_eq!(open_in(&cgroup, ">", "/dev/kmsg"), "denied");
    // A block device nobody allowed.
    assert_eq!(open_in(&cgroup, "<", "/dev/loop0"), "denied");
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn a_container_without_resources_gets_the_default_devices_only() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    let spec: Spec = serde_json::from_str(&format!(
        r#"{{"ociVersion":"1.2.0","linux":{{"cgroupsPath":"/{}"}}}}"#,
        scratch.top
    ))
    .unwrap();
    let cgroup = Cgroup::create(&CgroupPlan::from_spec(&spec, "x", false).unwrap()).unwrap();
    assert_eq!(open_in(&cgroup, "<", "/dev/urandom"), "ok");
    assert_eq!(open_in(&cgroup, "<", "/dev/kmsg"), "denied");
    cgroup.remove().unwrap();
    assert!(!scratch.anything_left());
}

#[test]
fn block_io_hugetlb_and_missing_features() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    let device = block_device();
    let throttles = match device.as_deref().and_then(|d| d.split_once(':')) {
        Some((major, minor)) => format!(
            r#""throttleReadBpsDevice":[{{"major":{major},"minor":{minor},"rate":1048576}}],
               "throttleWriteIOPSDevice":[{{"major":{major},"minor":{minor},"rate":300}}]"#
        ),
        None => String::new(),
    };
    // A fresh hybrid host keeps hugetlb in cgroup2, not as a v1 hierarchy.
    let hugetlb_mounted = matches!(mountinfo::discover(),
        Ok(Layout::V1(hierarchies)) if hierarchies.iter().any(|h| h.has("hugetlb")));
    let hugepage_limits = if hugetlb_mounted {
        r#","hugepageLimits":[{"pageSize":"2048KB","limit":4194304}]"#
    } else {
        ""
    };
    let mut cgroup = Cgroup::create(
        &scratch
            .plan(
                "/ctr",
                &format!(r#"{{"blockIO":{{{throttles}}}{hugepage_limits}}}"#),
            )
            .unwrap(),
    )
    .unwrap();
    let blkio = view_dir(&cgroup, "blkio").unwrap();
    // A weight file exists with CFQ or BFQ only (a guest may have neither).
    let weight_file = ["blkio.weight", "blkio.bfq.weight"]
        .into_iter()
        .find(|f| blkio.join(f).exists());
    if let Some(file) = weight_file {
        let resources = serde_json::from_str(r#"{"blockIO":{"weight":300}}"#).unwrap();
        cgroup.update(&resources).unwrap();
        let weight = read(&blkio, file);
        assert!(weight.contains("300"), "{weight}");
    }
    if let Some(device) = device {
        assert_eq!(
            read(&blkio, "blkio.throttle.read_bps_device"),
            format!("{device} 1048576")
        );
        assert_eq!(
            read(&blkio, "blkio.throttle.write_iops_device"),
            format!("{device} 300")
        );
    }
    if hugetlb_mounted {
        let hugetlb = view_dir(&cgroup, "hugetlb").unwrap();
        assert_eq!(read(&hugetlb, "hugetlb.2MB.limit_in_bytes"), "4194304");
        if hugetlb.join("hugetlb.2MB.rsvd.limit_in_bytes").exists() {
            assert_eq!(read(&hugetlb, "hugetlb.2MB.rsvd.limit_in_bytes"), "4194304");
        }
    }
    cgroup.remove().unwrap();

    // What this kernel lacks is an error naming the file, and nothing stays.
    let missing = |resources: &str| {
        Cgroup::create(&scratch.plan("/ctr", resources).unwrap())
            .unwrap_err()
            .to_string()
    };
    if weight_file.is_none() {
        let err = missing(r#"{"blockIO":{"weight":300}}"#);
        assert!(
            err.starts_with("linux.resources.blockIO.weight: the kernel has no "),
            "{err}"
        );
    }
    if !blkio.parent().unwrap().join("blkio.leaf_weight").exists() {
        let err = missing(r#"{"blockIO":{"leafWeight":300}}"#);
        assert!(
            err.starts_with("linux.resources.blockIO.leafWeight: the kernel has no ")
                && err.contains("/ctr/blkio.leaf_weight "),
            "{err}"
        );
    }
    if hugetlb_mounted {
        let err = missing(r#"{"hugepageLimits":[{"pageSize":"4MB","limit":0}]}"#);
        assert!(err.contains("/ctr/hugetlb.4MB.limit_in_bytes "), "{err}");
    } else {
        let err = scratch
            .plan(
                "/ctr",
                r#"{"hugepageLimits":[{"pageSize":"2MB","limit":0}]}"#,
            )
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "the hugetlb cgroup controller is not mounted as a cgroup v1 hierarchy (needed for linux.resources.hugepageLimits)"
        );
    }
    let err = missing(r#"{"memory":{"kernel":16777216}}"#);
    assert!(
        err.starts_with("linux.resources.memory.kernel: the kernel ")
            && err.contains("memory.kmem.limit_in_bytes"),
        "{err}"
    );
    assert!(!scratch.anything_left());
}

#[test]
fn controllers_the_host_does_not_mount_are_named() {
    let Some(scratch) = Scratch::v1() else {
        return;
    };
    let err = |resources: &str| scratch.plan("", resources).unwrap_err().to_string();
    assert_eq!(
        err(r#"{"unified":{"memory.high":"1"}}"#),
        "linux.resources.unified: requires cgroup v2 (this host's controllers are cgroup v1 hierarchies)"
    );
    let Ok(Layout::V1(hierarchies)) = mountinfo::discover() else {
        return;
    };
    if !hierarchies.iter().any(|h| h.has("net_cls")) {
        assert_eq!(
            err(r#"{"network":{"classID":1}}"#),
            "the net_cls cgroup controller is not mounted as a cgroup v1 hierarchy (needed for linux.resources.network.classID)"
        );
    }
    if !hierarchies.iter().any(|h| h.has("rdma")) {
        assert!(err(r#"{"rdma":{"mlx4_0":{"hcaHandles":1}}}"#).starts_with("the rdma cgroup"));
    }
}
