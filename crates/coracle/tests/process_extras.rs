//! The rest of the process and Linux specification: `process.ioPriority`,
//! `process.scheduler`, `process.execCPUAffinity`, `linux.personality`,
//! `linux.memoryPolicy`, `linux.timeOffsets`, `linux.netDevices`,
//! `linux.intelRdt`, the security labels (on a host without AppArmor or
//! SELinux), and what `exec` takes from a process.json. Each effect is
//! checked from inside the container.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;

/// The fields of /proc/PID/stat after the command name, numbered as in
/// proc(5) (the first one returned is field 3).
fn stat_fields(stat: &str) -> Vec<String> {
    let after = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let mut fields = vec![String::new(); 3];
    fields.extend(after.split_whitespace().map(str::to_string));
    fields
}

/// A running container whose init sleeps.
fn running(t: &Test, edit: impl FnOnce(&mut Bundle)) -> Container<'_> {
    let mut b = t.bundle(&["sleep", "1000"]);
    edit(&mut b);
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    c
}

/// Runs `exec --process FILE ID` with `process`.
fn exec_process(t: &Test, c: &Container<'_>, process: &Value) -> Out {
    let file = t.dir.join(format!("{}.json", t.unique("process")));
    fs::write(&file, serde_json::to_vec(process).unwrap()).unwrap();
    t.rt(&["exec", "--process", file.to_str().unwrap(), &c.id])
}

/// A process.json running `script` as root with the default capabilities.
fn process_json(script: &str) -> Value {
    json!({
        "terminal": false,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh", "-c", script],
        "env": [PATH_ENV],
        "cwd": "/"
    })
}

#[test]
fn io_priority_is_set() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 6});
    b.sh("ionice -p $$");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "best-effort: prio 6\n", "{out}");
    b.config["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_IDLE", "priority": 0});
    let out = t.run(&b).ok();
    assert!(out.stdout.starts_with("idle"), "{out}");
}

#[test]
fn scheduler_policy_and_nice() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["scheduler"] = json!({"policy": "SCHED_BATCH", "nice": 7});
    b.sh("cat /proc/1/stat");
    let out = t.run(&b).ok();
    let f = stat_fields(&out.stdout);
    assert_eq!((f[19].as_str(), f[41].as_str()), ("7", "3"), "{out}");
    b.config["process"]["scheduler"] = json!({"policy": "SCHED_IDLE"});
    let out = t.run(&b).ok();
    assert_eq!(stat_fields(&out.stdout)[41], "5", "{out}");
    // Reset on fork: the init has a negative nice value (which needs
    // CAP_SYS_NICE, held while the runtime sets it), its children not.
    b.config["process"]["scheduler"] = json!({
        "policy": "SCHED_OTHER", "nice": -5, "flags": ["SCHED_FLAG_RESET_ON_FORK"]
    });
    b.sh("cat /proc/self/stat; cat /proc/1/stat");
    let out = t.run(&b).ok();
    let mut lines = out.stdout.lines();
    assert_eq!(stat_fields(lines.next().unwrap())[19], "0", "{out}");
    assert_eq!(stat_fields(lines.next().unwrap())[19], "-5", "{out}");
}

#[test]
fn exec_cpu_affinity_final_applies_to_exec_not_to_the_init() {
    let t = Test::new();
    let cpus = fs::read_to_string("/sys/devices/system/cpu/online").unwrap();
    if cpus.trim() == "0" {
        skip_test("one CPU online");
        return;
    }
    let c = running(&t, |b| {
        b.config["process"]["execCPUAffinity"] = json!({"initial": "0", "final": "1"});
    });
    let host = status_fields(&read(std::path::Path::new("/proc/self/status")));
    let init = status_fields(&read(std::path::Path::new(&format!(
        "/proc/{}/status",
        c.pid
    ))));
    assert_eq!(init["Cpus_allowed_list"], host["Cpus_allowed_list"]);
    // The container's process, for exec.
    let out = c
        .exec(&["grep", "Cpus_allowed_list", "/proc/self/status"])
        .ok();
    assert_eq!(out.stdout.split_whitespace().last(), Some("1"), "{out}");
    // A process.json of its own.
    let mut process = process_json("grep Cpus_allowed_list /proc/self/status");
    process["execCPUAffinity"] = json!({"final": "0"});
    let out = exec_process(&t, &c, &process).ok();
    assert_eq!(out.stdout.split_whitespace().last(), Some("0"), "{out}");
    // Only initial: the process keeps what it was given at the clone.
    process["execCPUAffinity"] = json!({"initial": "1"});
    let out = exec_process(&t, &c, &process).ok();
    assert_eq!(out.stdout.split_whitespace().last(), Some("1"), "{out}");
}

#[test]
fn personality_linux32() {
    let t = Test::new();
    let mut b = t.bundle(&["uname", "-m"]);
    b.config["linux"]["personality"] = json!({"domain": "LINUX32"});
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "i686\n", "{out}");
    b.config["linux"]["personality"] = json!({"domain": "LINUX"});
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "x86_64\n", "{out}");
}

#[test]
fn memory_policy_is_the_process_policy() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("head -n 1 /proc/self/numa_maps");
    for (policy, shown) in [
        (json!({"mode": "MPOL_BIND", "nodes": "0"}), "bind:0"),
        (
            json!({"mode": "MPOL_INTERLEAVE", "nodes": "0"}),
            "interleave:0",
        ),
        (
            json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}),
            "bind=static:0",
        ),
        (json!({"mode": "MPOL_PREFERRED", "nodes": "0"}), "prefer:0"),
        (json!({"mode": "MPOL_LOCAL"}), "local"),
    ] {
        b.config["linux"]["memoryPolicy"] = policy;
        let out = t.run(&b).ok();
        let field = out.stdout.split_whitespace().nth(1);
        assert_eq!(field, Some(shown), "{out}");
    }
}

/// Asserts that create with `edit` applied fails with one line naming
/// `field`, leaving nothing behind.
#[track_caller]
fn refused(edit: impl FnOnce(&mut Value), field: &str) {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    edit(&mut b.config);
    let out = t.try_create(&b, &[]).err().expect("create must fail");
    let out = out.fails_with_one_line();
    assert!(out.stderr.contains(field), "{field}: {out}");
    assert!(t.state_entries().is_empty());
}

#[test]
fn invalid_fields_are_refused_by_name() {
    refused(
        |c| c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 9}),
        "process.ioPriority",
    );
    refused(
        |c| c["process"]["ioPriority"] = json!({"class": "IOPRIO_CLASS_SOON", "priority": 1}),
        "process.ioPriority",
    );
    refused(
        |c| c["process"]["scheduler"] = json!({"policy": "SCHED_ISO"}),
        "process.scheduler",
    );
    refused(
        |c| c["process"]["scheduler"] = json!({"policy": "SCHED_OTHER", "nice": 40}),
        "process.scheduler",
    );
    refused(
        |c| c["process"]["execCPUAffinity"] = json!({"final": "3-1"}),
        "process.execCPUAffinity.final",
    );
    refused(
        |c| c["linux"]["personality"] = json!({"domain": "PER_BSD"}),
        "linux.personality.domain",
    );
    refused(
        |c| c["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND"}),
        "linux.memoryPolicy.nodes",
    );
    refused(
        |c| c["linux"]["memoryPolicy"] = json!({"mode": "MPOL_DEFAULT", "flags": ["MPOL_F_X"]}),
        "linux.memoryPolicy.flags",
    );
}

#[test]
fn intel_rdt_without_resctrl_is_a_clear_error() {
    if std::path::Path::new("/sys/fs/resctrl/schemata").exists() {
        skip_test("this host has resctrl");
        return;
    }
    refused(
        |c| c["linux"]["intelRdt"] = json!({"closID": "coracle-test"}),
        "linux.intelRdt: resctrl is not mounted",
    );
}

#[test]
fn security_labels_without_the_module_are_refused() {
    let apparmor = std::path::Path::new("/sys/module/apparmor/parameters/enabled").exists();
    let selinux = std::path::Path::new("/sys/fs/selinux/enforce").exists();
    if apparmor && selinux {
        skip_test("this host has both AppArmor and SELinux");
        return;
    }
    if !std::path::Path::new("/sys/module/apparmor/parameters/enabled").exists() {
        refused(
            |c| c["process"]["apparmorProfile"] = json!("docker-default"),
            "process.apparmorProfile: AppArmor is not enabled on this host",
        );
    }
    if !std::path::Path::new("/sys/fs/selinux/enforce").exists() {
        refused(
            |c| c["process"]["selinuxLabel"] = json!("system_u:system_r:container_t:s0:c1,c2"),
            "process.selinuxLabel: SELinux is not enabled on this host",
        );
        refused(
            |c| c["linux"]["mountLabel"] = json!("system_u:object_r:container_file_t:s0"),
            "linux.mountLabel: SELinux is not enabled on this host",
        );
    }
    // Empty labels ask for nothing.
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    b.config["process"]["apparmorProfile"] = json!("");
    b.config["process"]["selinuxLabel"] = json!("");
    t.run(&b).ok();
}

#[test]
fn exec_applies_the_process_files_own_attributes() {
    let t = Test::new();
    let c = running(&t, |_| {});
    let mut process = process_json(
        "grep -E '^(CapBnd|CapEff|NoNewPrivs):' /proc/self/status; ulimit -n; \
         ionice -p $$; cut -d' ' -f19 /proc/$$/stat",
    );
    process["capabilities"] = json!({
        "bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_CHOWN"],
        "permitted": ["CAP_CHOWN"]
    });
    process["noNewPrivileges"] = json!(true);
    process["rlimits"] = json!([{"type": "RLIMIT_NOFILE", "soft": 77, "hard": 77}]);
    process["ioPriority"] = json!({"class": "IOPRIO_CLASS_BE", "priority": 2});
    process["scheduler"] = json!({"policy": "SCHED_OTHER", "nice": 3});
    let out = exec_process(&t, &c, &process).ok();
    let f = status_fields(&out.stdout);
    assert_eq!(f["CapBnd"], cap_mask(&["CAP_KILL", "CAP_CHOWN"]), "{out}");
    assert_eq!(f["CapEff"], cap_mask(&["CAP_CHOWN"]), "{out}");
    assert_eq!(f["NoNewPrivs"], "1", "{out}");
    let rest: Vec<&str> = out.stdout.lines().skip(3).collect();
    assert_eq!(rest, ["77", "best-effort: prio 2", "3"], "{out}");
    // Without noNewPrivileges the exec'd process has none, whatever the
    // container's own process had.
    let process = process_json("grep NoNewPrivs /proc/self/status");
    let out = exec_process(&t, &c, &process).ok();
    assert_eq!(status_fields(&out.stdout)["NoNewPrivs"], "0", "{out}");
}

#[test]
fn exec_without_capabilities_gets_the_containers() {
    let t = Test::new();
    let caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    let c = running(&t, |b| {
        for set in ["bounding", "effective", "permitted"] {
            b.config["process"]["capabilities"][set] = json!(caps);
        }
    });
    // As with runc and crun: a process.json without capabilities runs with
    // the container's; an empty object asks for none.
    let script = "grep -E '^Cap(Bnd|Eff|Prm):' /proc/self/status";
    let out = exec_process(&t, &c, &process_json(script)).ok();
    let f = status_fields(&out.stdout);
    for field in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(f[field], cap_mask(&caps), "{field}: {out}");
    }
    let mut process = process_json(script);
    process["capabilities"] = json!({});
    let out = exec_process(&t, &c, &process).ok();
    let f = status_fields(&out.stdout);
    for field in ["CapBnd", "CapEff", "CapPrm"] {
        assert_eq!(f[field], cap_mask(&[]), "{field}: {out}");
    }
}

#[test]
fn exec_gets_the_containers_personality_and_memory_policy() {
    if skip_unless_coracle("runc 1.1.5 ignores linux.personality and linux.memoryPolicy") {
        return;
    }
    let t = Test::new();
    let c = running(&t, |b| {
        b.config["linux"]["personality"] = json!({"domain": "LINUX32"});
        b.config["linux"]["memoryPolicy"] = json!({"mode": "MPOL_BIND", "nodes": "0"});
    });
    let script = "uname -m; head -n 1 /proc/self/numa_maps | cut -d' ' -f2";
    // From the command line and from a process.json alike, as crun does.
    let out = c.exec(&["sh", "-c", script]).ok();
    assert_eq!(out.stdout, "i686\nbind:0\n", "{out}");
    let out = exec_process(&t, &c, &process_json(script)).ok();
    assert_eq!(out.stdout, "i686\nbind:0\n", "{out}");
}

#[test]
fn exec_labels_without_the_module_fail_cleanly() {
    let t = Test::new();
    let apparmor = std::path::Path::new("/sys/module/apparmor/parameters/enabled").exists();
    let selinux = std::path::Path::new("/sys/fs/selinux/enforce").exists();
    if apparmor && selinux {
        skip_test("this host has both AppArmor and SELinux");
        return;
    }
    let c = running(&t, |_| {});
    if !apparmor {
        let out = c.rt(&["exec", "--apparmor", "unconfined"], &["true"]);
        let out = out.fails_with_one_line();
        assert!(out.stderr.contains("AppArmor is not enabled"), "{out}");
    }
    if !selinux {
        let mut process = process_json("true");
        process["selinuxLabel"] = json!("system_u:system_r:container_t:s0");
        let out = exec_process(&t, &c, &process).fails_with_one_line();
        assert!(out.stderr.contains("SELinux is not enabled"), "{out}");
    }
    assert_eq!(c.status(), "running");
}

/// The first field of /proc/uptime, in whole seconds.
fn uptime_secs(text: &str) -> u64 {
    let first = text.split_whitespace().next().expect("an uptime");
    first.split('.').next().unwrap().parse().unwrap()
}

#[test]
fn time_offsets_shift_the_containers_clocks() {
    let t = Test::new();
    let c = running(&t, |b| {
        b.with_ns("time", None);
        b.config["linux"]["timeOffsets"] = json!({
            "boottime": {"secs": 864000, "nanosecs": 0},
            "monotonic": {"secs": 3600, "nanosecs": 5}
        });
    });
    let host = uptime_secs(&read(std::path::Path::new("/proc/uptime")));
    let out = c
        .exec(&["sh", "-c", "cat /proc/uptime; cat /proc/1/timens_offsets"])
        .ok();
    let mut lines = out.stdout.lines();
    let inside = uptime_secs(lines.next().unwrap());
    // The container booted ten days before the host did.
    assert!(inside >= host + 864000, "{inside} vs host {host}: {out}");
    let offsets: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(
        offsets,
        [["monotonic", "3600", "5"], ["boottime", "864000", "0"]],
        "{out}"
    );
    // The runtime went back to its own time namespace: the init's differs
    // from ours, and the test's (the runtime's parent) is the host's.
    assert_ne!(ns_of(&c.pid.to_string(), "time"), ns_of("self", "time"));
}

#[test]
fn time_offsets_need_a_new_time_namespace() {
    refused(
        |c| c["linux"]["timeOffsets"] = json!({"boottime": {"secs": 1}}),
        "linux.timeOffsets: needs a new time namespace",
    );
    refused(
        |c| {
            c["linux"]["namespaces"]
                .as_array_mut()
                .unwrap()
                .push(json!({"type": "time"}));
            c["linux"]["timeOffsets"] = json!({"realtime": {"secs": 1}});
        },
        "linux.timeOffsets: unknown clock",
    );
}

/// Runs the runtime with `args` inside network namespace `ns` (nsenter
/// changes nothing else, unlike `ip netns exec`, which remounts /sys).
fn rt_in_netns(t: &Test, ns: &NetNs, args: &[&str]) -> Out {
    let mut cmd = std::process::Command::new("nsenter");
    cmd.arg(format!("--net={}", ns.path()))
        .arg(runtime())
        .arg("--root")
        .arg(&t.root)
        .args(args)
        .stdin(std::process::Stdio::null());
    t.output(cmd)
}

/// A veth pair in `ns` whose end `dev` has an IPv4 and an IPv6 address.
fn veth_with_addresses(ns: &NetNs, dev: &str, peer: &str) {
    let ip = |args: &[&str]| {
        let mut full = vec!["-n", ns.name.as_str()];
        full.extend_from_slice(args);
        host("ip", &full);
    };
    ip(&["link", "add", dev, "type", "veth", "peer", "name", peer]);
    ip(&["addr", "add", "10.213.7.1/24", "dev", dev]);
    ip(&["addr", "add", "fd00:213::1/64", "dev", dev, "nodad"]);
}

#[test]
fn net_devices_move_into_the_container_with_their_addresses() {
    let t = Test::new();
    let ns = NetNs::new(&t);
    veth_with_addresses(&ns, "ctdev0", "ctpeer0");
    let mut b = t.bundle(&[]);
    b.config["linux"]["netDevices"] = json!({"ctdev0": {"name": "eth9"}});
    b.sh("ip -o link show eth9; ip -o addr show dev eth9");
    b.save();
    let id = t.id();
    let out = rt_in_netns(&t, &ns, &["run", "--bundle", b.dir.to_str().unwrap(), &id]).ok();
    t.assert_no_container(&id);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert!(first.contains("eth9") && first.contains(",UP"), "{out}");
    assert!(out.stdout.contains("inet 10.213.7.1/24"), "{out}");
    assert!(out.stdout.contains("inet6 fd00:213::1/64"), "{out}");
    // The end is gone from the runtime's namespace (the kernel destroys
    // it with the container's namespace, and the pair with it).
    let links = std::process::Command::new("ip")
        .args(["-n", &ns.name, "-o", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout);
    assert!(!links.contains("ctdev0"), "{links}");
}

#[test]
fn net_device_name_templates_and_defaults() {
    let t = Test::new();
    let ns = NetNs::new(&t);
    veth_with_addresses(&ns, "ctdev1", "ctpeer1");
    let mut b = t.bundle(&[]);
    // A template gets the first free number; no name keeps the host's.
    b.config["linux"]["netDevices"] = json!({"ctdev1": {"name": "ct%d"}, "ctpeer1": {}});
    b.sh("ip -o link show | cut -d: -f2 | cut -d@ -f1 | tr -d ' '");
    b.save();
    let id = t.id();
    let out = rt_in_netns(&t, &ns, &["run", "--bundle", b.dir.to_str().unwrap(), &id]).ok();
    let mut names: Vec<&str> = out.stdout.lines().collect();
    names.sort();
    assert_eq!(names, ["ct0", "ctpeer1", "lo"], "{out}");
}

#[test]
fn net_device_errors_name_the_device_and_leave_nothing() {
    let t = Test::new();
    let ns = NetNs::new(&t);
    veth_with_addresses(&ns, "ctdev2", "ctpeer2");
    let mut b = t.bundle(&["true"]);
    for (devices, expected) in [
        (
            json!({"nodev9": {}}),
            "linux.netDevices: nodev9: no such device",
        ),
        (
            json!({"ctdev2": {"name": "lo"}}),
            "linux.netDevices: ctdev2: check the name inside: File exists",
        ),
        (
            json!({"ctdev2": {"name": "a/b"}}),
            "linux.netDevices: ctdev2: name",
        ),
    ] {
        b.config["linux"]["netDevices"] = devices;
        b.save();
        let id = t.id();
        let out = rt_in_netns(
            &t,
            &ns,
            &["create", "--bundle", b.dir.to_str().unwrap(), &id],
        );
        let out = out.fails_with_one_line();
        assert!(out.stderr.contains(expected), "{out}");
        t.assert_no_container(&id);
    }
    // The device that could not be moved is still where it was.
    host("ip", &["-n", &ns.name, "link", "show", "ctdev2"]);
    // Without a network namespace of its own, nothing can be moved in.
    b.without_ns("network");
    b.config["linux"]["netDevices"] = json!({"ctdev2": {}});
    let out = t.try_create(&b, &[]).err().expect("create must fail");
    assert!(
        out.stderr
            .contains("needs the container's own network namespace"),
        "{out}"
    );
}
