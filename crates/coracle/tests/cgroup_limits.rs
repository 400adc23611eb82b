//! The resources that only some kernels or hierarchies have, read back
//! from the host's control files wherever the tests run (see
//! common/cg.rs): where the kernel lacks a file, or refuses a value, the
//! container is refused with the configuration field named, and nothing
//! of it stays.

mod common;

use common::*;
use serde_json::json;

/// Asserts that `create` of `b` fails in one line naming `field`, with
/// every part of `needles` in it, and leaves no cgroup.
#[track_caller]
fn refused(t: &Test, b: &Bundle, place: &CgPlace, field: &str, needles: &[&str]) {
    let out = t.try_create_cg(b).err().expect("create must fail");
    assert_refused(out, place, field, needles);
}

/// Asserts that a failed `create` said so in one line naming `field`,
/// with every part of `needles` in it, and left no cgroup.
#[track_caller]
fn assert_refused(out: Out, place: &CgPlace, field: &str, needles: &[&str]) {
    let out = out.fails_with_one_line();
    assert!(out.stderr.contains(field), "{out}");
    for needle in needles {
        assert!(out.stderr.contains(needle), "{needle:?} in {out}");
    }
    assert!(place.existing_dirs().is_empty(), "cgroup left: {out}");
}

/// kernelTCP and useHierarchy are cgroup v1 files. `useHierarchy: false`
/// is refused by kernels since 5.x (hierarchical accounting only): the
/// error names the field and the kernel's answer.
#[test]
fn memory_kernel_tcp_and_use_hierarchy() {
    if skip_unless_env(
        &[CgEnv::V1],
        "cgroup v2 refuses both (v1_only_memory_fields_are_refused_on_v2)",
    ) {
        return;
    }
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place).resources(json!({"memory": {
        "kernelTCP": 16 * MIB, "useHierarchy": true
    }}));
    let tcp = "memory.kmem.tcp.limit_in_bytes";
    if !cgroup_dir("memory", "").unwrap().join(tcp).exists() {
        refused(&t, &b, &place, "linux.resources.memory.kernelTCP", &[tcp]);
        return;
    }
    let c = t.create_cg(&b);
    assert_eq!(place.read("memory", tcp), (16 * MIB).to_string());
    assert_eq!(place.read("memory", "memory.use_hierarchy"), "1");
    c.force_delete();

    let place = cg_place(&t);
    b.cgroup(&place)
        .resources(json!({"memory": {"useHierarchy": false}}));
    match t.try_create_cg(&b) {
        // An older kernel still takes it.
        Ok(_c) => assert_eq!(place.read("memory", "memory.use_hierarchy"), "0"),
        Err(out) => assert_refused(
            out,
            &place,
            "linux.resources.memory.useHierarchy",
            &["write 0 to ", "/memory.use_hierarchy: Invalid argument"],
        ),
    };
}

/// A device's weight applies only where the device's I/O scheduler has
/// per-device weights (BFQ, or io.cost on cgroup v2); in a throwaway guest
/// the test device is put on BFQ first, the host's stay as they are. Else
/// the kernel's refusal names the field.
#[test]
fn block_io_weight_device() {
    let Some((major, minor)) = test_block_device() else {
        skip_test("no block device here");
        return;
    };
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place).resources(json!({"blockIO": {
        "weightDevice": [{"major": major, "minor": minor, "weight": 200}]
    }}));
    let device = format!("{major}:{minor}");
    let on_bfq = on_bfq_in_guest(major, minor);
    let in_guest = std::env::var_os("CORACLE_GUEST").is_some();
    assert!(
        on_bfq || !in_guest,
        "the guest could not put {device} on BFQ"
    );
    if !on_bfq {
        let field = "linux.resources.blockIO.weightDevice";
        refused(&t, &b, &place, field, &[&device]);
        return;
    }
    let _c = t.create_cg(&b);
    // BFQ's weight is in the blkio range; io.cost's (1..10000) would
    // hold 1920, were the device under io.cost.
    let files = match cg_env() {
        CgEnv::V1 => vec![("blkio.bfq.weight_device", "200")],
        CgEnv::V2 | CgEnv::Systemd => vec![("io.bfq.weight", "200"), ("io.weight", "1920")],
    };
    let found = files.iter().any(|(file, weight)| {
        let path = place.file("blkio", file);
        path.exists()
            && read(&path)
                .lines()
                .any(|l| l == format!("{device} {weight}"))
    });
    assert!(found, "no weight for {device} in {files:?}");
}

/// CFS burst and the idle policy, where the kernel has their files
/// (Linux 5.14 and 5.15): read back, else refused naming the field. Which
/// one is expected is decided from the files of the parent cgroup first.
#[test]
fn cpu_burst_and_idle() {
    let t = Test::new();
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    // No shares: the kernel refuses a weight for an idle cgroup.
    b.cgroup(&place).resources(json!({"cpu": {
        "quota": 50000, "period": 100000, "burst": 10000, "idle": 1
    }}));
    let (quota, burst, idle) = match cg_env() {
        CgEnv::V1 => ("cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.idle"),
        CgEnv::V2 | CgEnv::Systemd => ("cpu.max", "cpu.max.burst", "cpu.idle"),
    };
    let parent = match place.path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((p, _)) => p,
    };
    let mut dir = cg_file_path(parent, "cpu", "");
    // cgroup v2's root has none of the cpu files: look in a child of it.
    let probe = (parent == "/" && cg_env().unified()).then(|| {
        let probe = format!("{}-probe", place.path);
        let d = cg_file_path(&probe, "cpu", "");
        std::fs::create_dir(&d).unwrap_or_else(|e| panic!("mkdir {}: {e}", d.display()));
        dir = d;
        probe
    });
    let (has_quota, has_burst, has_idle) = (
        dir.join(quota).exists(),
        dir.join(burst).exists(),
        dir.join(idle).exists(),
    );
    if let Some(probe) = probe {
        let left = remove_cgroup_everywhere(&probe);
        assert_eq!(left.len(), 1, "probe cgroup {probe}: {left:?}");
        assert!(
            remove_cgroup_everywhere(&probe).is_empty(),
            "probe {probe} left"
        );
    }
    if !has_quota {
        skip_test(&format!(
            "{} has no {quota}: the cpu controller is not enabled there",
            dir.display()
        ));
        return;
    }
    if has_burst && has_idle {
        let _c = t.create_cg(&b);
        assert_eq!(place.read("cpu", burst), "10000");
        assert_eq!(place.read("cpu", idle), "1");
        return;
    }
    // burst is written first, so a kernel without it is refused for it.
    let (field, file) = match has_burst {
        false => ("linux.resources.cpu.burst", burst),
        true => ("linux.resources.cpu.idle", idle),
    };
    refused(&t, &b, &place, field, &["the kernel has no ", file]);
}

/// net_cls and net_prio: cgroup v1 controllers, applied and read back
/// where mounted (the v1 guest), else refused naming the field (a v1 host
/// that does not mount them, as this one; cgroup v2, which has neither).
#[test]
fn network_class_and_priorities() {
    let t = Test::new();
    for (resources, controller, file, want) in [
        (
            json!({"classID": 0x100001}),
            "net_cls",
            "net_cls.classid",
            "1048577",
        ),
        (
            json!({"priorities": [{"name": "lo", "priority": 5}]}),
            "net_prio",
            "net_prio.ifpriomap",
            "lo 5",
        ),
    ] {
        let place = cg_place(&t);
        let mut b = t.bundle(&["sleep", "1000"]);
        b.cgroup(&place).resources(json!({ "network": resources }));
        if cg_env() != CgEnv::V1 || !v1_hierarchy_mounted(controller) {
            refused(&t, &b, &place, "linux.resources.network", &[controller]);
            continue;
        }
        let c = t.create_cg(&b);
        let text = place.read(controller, file);
        assert!(text.lines().any(|l| l == want), "{file}: {text}");
        c.force_delete();
    }
}

/// rdma.max for a device: read back where there is an RDMA device (a
/// throwaway guest makes a software one if its kernel can), else refused
/// naming the field (the kernel has no such device, or no rdma controller
/// for the container: this host's kernel, systemd's scopes).
#[test]
fn rdma_limit() {
    let t = Test::new();
    let device = rdma_device();
    let in_guest = std::env::var_os("CORACLE_GUEST").is_some();
    assert!(
        device.is_some() || !in_guest,
        "the guest made no rdma device"
    );
    let name = device.as_deref().unwrap_or("mlx4_0");
    let place = cg_place(&t);
    let mut b = t.bundle(&["sleep", "1000"]);
    b.cgroup(&place).resources(json!({"rdma": {
        name: {"hcaHandles": 3, "hcaObjects": 100}
    }}));
    match (
        device.is_some() && cg_env() != CgEnv::Systemd,
        t.try_create_cg(&b),
    ) {
        (true, Ok(_c)) => {
            let max = place.read("rdma", "rdma.max");
            let want = format!("{name} hca_handle=3 hca_object=100");
            assert!(max.lines().any(|l| l == want), "{max}");
        }
        (false, Err(out)) => {
            let out = out.fails_with_one_line();
            assert!(out.stderr.contains("linux.resources.rdma"), "{out}");
            assert!(place.existing_dirs().is_empty(), "cgroup left: {out}");
        }
        (true, Err(out)) => panic!("a limit for {name}, which exists, refused: {out}"),
        (false, Ok(_)) => panic!("a limit for {name} accepted, with no rdma device or controller"),
    };
}
