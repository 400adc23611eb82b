//! Namespaces (config-linux.md "Namespaces", "User namespace mappings",
//! "Offset for Time Namespace", "Sysctl"), hostname and domainname, each
//! checked from inside the container.

mod common;

use common::*;
use serde_json::json;

#[test]
fn hostname_and_domainname() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["hostname"] = json!("box-name");
    b.config["domainname"] = json!("box.domain");
    b.sh("hostname; cat /proc/sys/kernel/domainname");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "box-name\nbox.domain\n");
    // The host's names are untouched.
    assert_ne!(
        read(std::path::Path::new("/proc/sys/kernel/hostname")).trim(),
        "box-name"
    );
}

#[test]
fn pid_namespace_makes_the_process_pid_1() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("echo $$; ls /proc | grep -c '^[0-9]'");
    let out = t.run(&b).ok();
    let mut lines = out.stdout.lines();
    assert_eq!(lines.next(), Some("1"));
    // sh and the ls/grep it runs: only the container's own processes.
    let n: u32 = lines.next().unwrap().parse().unwrap();
    assert!(n <= 3, "the container sees {n} processes: {}", out.stdout);
}

#[test]
fn new_network_namespace_has_only_lo() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.sh("ls /sys/class/net; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "lo\nlo\n");
}

#[test]
fn join_network_namespace_by_path() {
    let t = Test::new();
    let netns = NetNs::new(&t);
    let mut b = t.bundle(&[]);
    b.with_ns("network", Some(&netns.path()));
    b.sh("readlink /proc/self/ns/net");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout.trim(), netns.ns_link());
    assert_ne!(out.stdout.trim(), ns_of("self", "net"));
}

#[test]
fn no_network_namespace_shares_the_hosts() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.without_ns("network");
    b.sh("readlink /proc/self/ns/net");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout.trim(), ns_of("self", "net"));
}

#[test]
fn new_namespaces_differ_from_the_hosts() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.with_ns("cgroup", None);
    let kinds = ["pid", "net", "ipc", "uts", "mnt", "cgroup"];
    let script: String = kinds
        .iter()
        .map(|k| format!("readlink /proc/self/ns/{k}; "))
        .collect();
    b.sh(&script);
    let out = t.run(&b).ok();
    let inside: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(inside.len(), kinds.len(), "{out}");
    for (k, got) in kinds.iter().zip(inside) {
        assert!(got.starts_with(&format!("{k}:[")), "{got}");
        assert_ne!(got, ns_of("self", k), "{k} namespace is the host's");
    }
}

#[test]
fn cgroup_namespace_hides_the_cgroup_path() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.with_ns("cgroup", None);
    b.config["linux"]["cgroupsPath"] = json!(t.cgroup_path());
    b.sh("cat /proc/self/cgroup");
    let out = t.run(&b).ok();
    for line in out.stdout.lines() {
        assert!(line.ends_with(":/"), "cgroup path visible inside: {line}");
    }
}

#[test]
fn shared_namespaces_when_not_requested() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.without_ns("ipc").without_ns("uts");
    b.config.as_object_mut().unwrap().remove("hostname");
    b.sh("readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts");
    let out = t.run(&b).ok();
    assert_eq!(
        out.stdout,
        format!("{}\n{}\n", ns_of("self", "ipc"), ns_of("self", "uts"))
    );
}

#[test]
fn time_namespace_with_offsets() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.with_ns("time", None);
    // A year of extra monotonic and boot time.
    b.config["linux"]["timeOffsets"] = json!({
        "monotonic": {"secs": 31_536_000, "nanosecs": 0},
        "boottime": {"secs": 31_536_000, "nanosecs": 0}
    });
    b.sh("readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime; cat /proc/1/timens_offsets");
    // The host's uptime, in whole seconds, around the run: the container
    // reads its own in between.
    let host_uptime = || -> u64 {
        read(std::path::Path::new("/proc/uptime"))
            .split('.')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = host_uptime();
    let out = t.run(&b).ok();
    let after = host_uptime();
    let mut lines = out.stdout.lines();
    assert_ne!(lines.next().unwrap(), ns_of("self", "time"));
    let uptime: u64 = lines.next().unwrap().parse().unwrap();
    const OFF: u64 = 31_536_000;
    assert!(
        before + OFF <= uptime && uptime <= after + OFF + 1,
        "uptime {uptime} inside, {before}..{after} outside, offset {OFF}: {out}"
    );
    // The init's time namespace has the offsets (lines "monotonic SECS NSECS",
    // "boottime SECS NSECS").
    let offsets: Vec<&str> = lines.collect();
    for clock in ["monotonic", "boottime"] {
        let line = offsets
            .iter()
            .find(|l| l.split_whitespace().next() == Some(clock))
            .unwrap_or_else(|| panic!("no {clock} line in timens_offsets: {out}"));
        let secs: i64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        assert_eq!(secs, OFF as i64, "{clock} offset: {out}");
    }
}

#[test]
fn user_namespace_with_mappings() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.with_ns("user", None);
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
    b.sh("cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /out/f; readlink /proc/self/ns/user");
    let res = t.run(&b).ok();
    let lines: Vec<Vec<&str>> = res
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["0", "100000", "65536"], "{res}");
    assert_eq!(lines[1], ["0", "200000", "65536"], "{res}");
    assert_eq!(lines[2], ["0"]);
    assert_ne!(lines[3][0], ns_of("self", "user"));
    // Root inside is uid 100000 outside.
    let meta = std::fs::metadata(out.join("f")).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!((meta.uid(), meta.gid()), (100000, 200000));
}

/// A new user namespace without uid or gid mappings is refused with an
/// error that names the missing mappings, and leaves nothing.
#[test]
fn user_namespace_without_mappings_is_refused() {
    let t = Test::new();
    let mapping = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    for (missing, given) in [
        ("linux.uidMappings", "gidMappings"),
        ("linux.gidMappings", "uidMappings"),
    ] {
        let mut b = t.bundle(&["true"]);
        b.with_ns("user", None);
        b.config["linux"][given] = mapping.clone();
        t.try_create(&b, &[])
            .err()
            .expect("a user namespace without mappings was created")
            .fails_with(&format!(
                "coracle create: {missing}: none given, but a new user namespace needs them"
            ));
        assert!(t.state_entries().is_empty());
    }
}

#[test]
fn sysctl_in_own_network_namespace() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["linux"]["sysctl"] = json!({
        "net.ipv4.ip_forward": "1",
        "kernel.msgmax": "4242"
    });
    b.sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax");
    let host_forward = read(std::path::Path::new("/proc/sys/net/ipv4/ip_forward"));
    let host_msgmax = read(std::path::Path::new("/proc/sys/kernel/msgmax"));
    let out = t.run(&b).ok();
    assert_eq!(out.stdout, "1\n4242\n");
    assert_eq!(
        read(std::path::Path::new("/proc/sys/net/ipv4/ip_forward")),
        host_forward
    );
    assert_eq!(
        read(std::path::Path::new("/proc/sys/kernel/msgmax")),
        host_msgmax
    );
}

#[test]
fn network_sysctl_refused_without_own_network_namespace() {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    b.without_ns("network");
    // The host's current value: even a runtime that wrongly wrote it would
    // change nothing on the host.
    let host_forward = read(std::path::Path::new("/proc/sys/net/ipv4/ip_forward"));
    b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": host_forward.trim()});
    t.try_create(&b, &[])
        .err()
        .expect("net sysctl accepted in the host netns")
        .fails_with(
            "coracle create: linux.sysctl net.ipv4.ip_forward: \
             needs the container's own network namespace",
        );
    assert!(t.state_entries().is_empty());
}

/// A network namespace joined by path that is the host's (here the test's
/// own) is no namespace of the container's: its sysctls would be written
/// into the host, and are refused as runc refuses them.
#[test]
fn network_sysctl_refused_in_the_hosts_network_namespace_joined_by_path() {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    b.with_ns(
        "network",
        Some(&format!("/proc/{}/ns/net", std::process::id())),
    );
    let host_forward = read(std::path::Path::new("/proc/sys/net/ipv4/ip_forward"));
    b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": host_forward.trim()});
    let out = t
        .try_create(&b, &[])
        .err()
        .expect("net sysctl accepted in the host netns joined by path")
        .fails_with_one_line();
    assert!(
        out.stderr.contains("not allowed in host network namespace"),
        "{out}"
    );
    assert!(t.state_entries().is_empty());
}

/// The same sysctl in a joined network namespace that is not the host's
/// is set there, and only there.
#[test]
fn sysctl_in_a_joined_network_namespace() {
    let t = Test::new();
    let netns = NetNs::new(&t);
    let mut b = t.bundle(&[]);
    b.with_ns("network", Some(&netns.path()));
    let host_forward = read(std::path::Path::new("/proc/sys/net/ipv4/ip_forward"));
    let want = if host_forward.trim() == "1" { "0" } else { "1" };
    b.config["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": want});
    b.sh("cat /proc/sys/net/ipv4/ip_forward");
    let out = t.run(&b).ok();
    assert_eq!(out.stdout.trim(), want);
    assert_eq!(
        read(std::path::Path::new("/proc/sys/net/ipv4/ip_forward")),
        host_forward
    );
}

#[test]
fn ipc_sysctl_refused_without_own_ipc_namespace() {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    b.without_ns("ipc");
    let host = read(std::path::Path::new("/proc/sys/kernel/msgmax"));
    b.config["linux"]["sysctl"] = json!({"kernel.msgmax": host.trim()});
    t.try_create(&b, &[])
        .err()
        .expect("ipc sysctl accepted in the host ipc ns")
        .fails_with(
            "coracle create: linux.sysctl kernel.msgmax: \
             needs the container's own ipc namespace",
        );
    assert!(t.state_entries().is_empty());
}

#[test]
fn join_namespaces_of_another_container() {
    let t = Test::new();
    let mut b1 = t.bundle(&["sleep", "1000"]);
    b1.config["hostname"] = json!("first");
    let c1 = t.create(&b1);
    c1.start();
    let mut b2 = t.bundle(&[]);
    for (ty, file) in [("network", "net"), ("uts", "uts"), ("ipc", "ipc")] {
        b2.with_ns(ty, Some(&format!("/proc/{}/ns/{file}", c1.pid)));
    }
    b2.config.as_object_mut().unwrap().remove("hostname");
    b2.sh("hostname; readlink /proc/self/ns/net");
    let out = t.run(&b2).ok();
    assert_eq!(
        out.stdout,
        format!("first\n{}\n", ns_of(&c1.pid.to_string(), "net"))
    );
}

/// `linux.uidMappings`/`gidMappings` of a user namespace mapping the
/// container's 0..65536 to the host's 100000.. (uids) and 200000.. (gids).
fn user_ns_maps() -> (serde_json::Value, serde_json::Value) {
    (
        json!([{"containerID": 0, "hostID": 100000, "size": 65536}]),
        json!([{"containerID": 0, "hostID": 200000, "size": 65536}]),
    )
}

/// A started container with a user namespace of its own (see
/// [`user_ns_maps`]) that sleeps: the namespaces to join.
fn user_ns_container(t: &Test) -> Container<'_> {
    let mut b = t.bundle(&["sleep", "1000"]);
    let (uids, gids) = user_ns_maps();
    b.with_ns("user", None);
    b.config["linux"]["uidMappings"] = uids;
    b.config["linux"]["gidMappings"] = gids;
    let c = t.create(&b);
    c.start();
    c
}

/// A bundle joining `other`'s user namespace by path, with the same maps
/// (runc 1.1 wants them even then), reporting to OUT what it is.
fn joining_user_ns(t: &Test, other: &Container<'_>) -> (Bundle, std::path::PathBuf) {
    let mut b = t.bundle(&[]);
    let out = b.out_dir(t);
    b.with_ns("user", Some(&format!("/proc/{}/ns/user", other.pid)));
    let (uids, gids) = user_ns_maps();
    b.config["linux"]["uidMappings"] = uids;
    b.config["linux"]["gidMappings"] = gids;
    b.config["hostname"] = json!("joined-userns");
    (b, out)
}

/// The new namespaces of a container that joins a user namespace by path
/// belong to that user namespace: its root may mount (/proc of its new
/// pid namespace, sysfs of its network namespace), set the hostname, and
/// files it makes belong to the namespace's ids.
#[test]
fn join_a_user_namespace_by_path() {
    let t = Test::new();
    let other = user_ns_container(&t);
    let (mut b, out) = joining_user_ns(&t, &other);
    b.sh(
        "echo $$; id -u; hostname; readlink /proc/self/ns/user; cat /proc/self/uid_map; \
          ls /sys/class/net; touch /out/f",
    );
    let res = t.run(&b).ok();
    let lines: Vec<&str> = res.stdout.lines().collect();
    assert_eq!(lines[..3], ["1", "0", "joined-userns"], "{res}");
    assert_eq!(lines[3], ns_of(&other.pid.to_string(), "user"));
    let map: Vec<&str> = lines[4].split_whitespace().collect();
    assert_eq!(map, ["0", "100000", "65536"]);
    assert_eq!(lines[5], "lo");
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(out.join("f")).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (100000, 200000));
}

/// Joining the user and the pid namespace of another container: no new
/// pid namespace, so the init needs no second fork; the new mount, UTS and
/// other namespaces still belong to the joined user namespace.
#[test]
fn join_a_user_and_a_pid_namespace_by_path() {
    let t = Test::new();
    let other = user_ns_container(&t);
    let (mut b, _) = joining_user_ns(&t, &other);
    b.with_ns("pid", Some(&format!("/proc/{}/ns/pid", other.pid)));
    b.sh("readlink /proc/self/ns/pid; hostname; cat /proc/1/comm");
    let res = t.run(&b).ok();
    let want = format!(
        "{}\njoined-userns\nsleep\n",
        ns_of(&other.pid.to_string(), "pid")
    );
    assert_eq!(res.stdout, want, "{res}");
}

/// Maps that are not those of the user namespace joined by path cannot
/// be honoured: refused, naming the field (runc 1.1 ignores them).
#[test]
fn maps_other_than_the_joined_user_namespaces_are_refused() {
    if skip_unless_coracle("checking the maps of a joined user namespace") {
        return;
    }
    let t = Test::new();
    let other = user_ns_container(&t);
    let (mut b, _) = joining_user_ns(&t, &other);
    b.args(&["true"]);
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 300000, "size": 65536}]);
    let out = t.try_create(&b, &[]).err().expect("other maps accepted");
    let out = out.fails_with_one_line();
    assert!(
        out.stderr.contains("linux.uidMappings: the user namespace joined by path maps 0 100000 65536, not 0 300000 65536"),
        "{out}"
    );
}

/// A process that keeps a mount namespace of its own (a copy of the
/// host's), killed when dropped.
struct MountNsKeeper(std::process::Child);

impl MountNsKeeper {
    fn new() -> MountNsKeeper {
        let child = std::process::Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sleep", "1000"])
            .spawn()
            .expect("spawn unshare");
        let keeper = MountNsKeeper(child);
        let pid = keeper.0.id().to_string();
        let end = std::time::Instant::now() + DEADLINE;
        while ns_of(&pid, "mnt") == ns_of("self", "mnt") {
            assert!(
                std::time::Instant::now() < end,
                "unshare never made its namespace"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        keeper
    }
}

impl Drop for MountNsKeeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A mount namespace joined by path is where the rootfs is set up, as runc
/// does: the container runs in it, on its rootfs, with its mounts, and the
/// host's mount namespace gets none of them.
#[test]
fn join_a_mount_namespace_by_path() {
    let t = Test::new();
    let keeper = MountNsKeeper::new();
    let keeper_mnt = ns_of(&keeper.0.id().to_string(), "mnt");
    let mut b = t.bundle(&[]);
    std::fs::write(b.rootfs().join("marker"), "in the rootfs\n").unwrap();
    b.with_ns("mount", Some(&format!("/proc/{}/ns/mnt", keeper.0.id())));
    b.sh(
        "readlink /proc/self/ns/mnt; cat /marker; grep -c ' /proc .* - proc ' /proc/self/mountinfo",
    );
    let res = t.run(&b).ok();
    assert_eq!(
        res.stdout,
        format!("{keeper_mnt}\nin the rootfs\n1\n"),
        "{res}"
    );
    assert!(
        t.mounts_under_dir().is_empty(),
        "{:?}",
        t.mounts_under_dir()
    );
}

/// Several ranges of uid and gid maps: each id lands where its range says.
#[test]
fn user_namespace_with_several_map_ranges() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.with_ns("user", None);
    b.config["linux"]["uidMappings"] = json!([
        {"containerID": 0, "hostID": 100000, "size": 1000},
        {"containerID": 1000, "hostID": 200000, "size": 10}
    ]);
    b.config["linux"]["gidMappings"] = json!([
        {"containerID": 0, "hostID": 300000, "size": 1000},
        {"containerID": 1000, "hostID": 400000, "size": 10}
    ]);
    for set in ["bounding", "effective", "permitted"] {
        b.config["process"]["capabilities"][set] = json!(["CAP_CHOWN"]);
    }
    b.sh(
        "cat /proc/self/uid_map /proc/self/gid_map; touch /out/root /out/user; \
          chown 1000:1005 /out/user; chown 999:999 /out/root",
    );
    let res = t.run(&b).ok();
    let lines: Vec<Vec<&str>> = res
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        lines,
        [
            ["0", "100000", "1000"],
            ["1000", "200000", "10"],
            ["0", "300000", "1000"],
            ["1000", "400000", "10"]
        ],
        "{res}"
    );
    use std::os::unix::fs::MetadataExt;
    let owner = |name: &str| {
        let meta = std::fs::metadata(out.join(name)).unwrap();
        (meta.uid(), meta.gid())
    };
    assert_eq!(owner("root"), (100999, 300999));
    assert_eq!(owner("user"), (200000, 400005));
}
