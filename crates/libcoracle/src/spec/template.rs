//! The starting `config.json` that `coracle spec` writes: a minimal, locked-down
//! container running `sh` on a terminal, the same shape as other runtimes'
//! templates so bundles and tutorials carry over.

use super::{
    Capabilities, DeviceCgroup, IdMapping, Linux, Mount, Namespace, Process, Resources, Rlimit,
    Root, Spec, OCI_VERSION,
};

/// The capabilities the template grants: enough for a shell and little else.
const CAPABILITIES: &[&str] = &["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// Kernel interfaces that leak host information or allow host changes;
/// made unreadable.
const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Kernel interfaces the container may read but must not write.
const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The namespaces a container gets by default, in creation order.
const NAMESPACES: &[&str] = &["pid", "network", "ipc", "uts", "mount", "cgroup"];

/// Returns the template configuration; with `rootless`, the variant an
/// unprivileged user can run: a user namespace mapping the caller to root,
/// the host network, `/sys` bound from the host and no cgroup settings.
pub fn default_spec(rootless: bool) -> Spec {
    let mut spec = Spec {
        oci_version: OCI_VERSION.to_string(),
        root: Some(Root {
            path: "rootfs".to_string(),
            readonly: true,
        }),
        process: Some(default_process()),
        hostname: Some("coracle".to_string()),
        mounts: default_mounts(),
        linux: Some(default_linux()),
        ..Spec::default()
    };
    if rootless {
        let (uid, gid) = caller_ids();
        make_rootless(&mut spec, uid, gid);
    }
    spec
}

/// `sh` on a terminal as root, in `/`, with a tiny capability set.
fn default_process() -> Process {
    let caps = Some(strings(CAPABILITIES));
    Process {
        terminal: true,
        args: strings(&["sh"]),
        env: strings(&[
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "TERM=xterm",
        ]),
        cwd: "/".to_string(),
        capabilities: Some(Capabilities {
            bounding: caps.clone(),
            effective: caps.clone(),
            permitted: caps,
            ..Capabilities::default()
        }),
        rlimits: vec![Rlimit {
            typ: "RLIMIT_NOFILE".to_string(),
            soft: 1024,
            hard: 1024,
        }],
        no_new_privileges: true,
        ..Process::default()
    }
}

/// The filesystems every Linux program expects, with restrictive options.
fn default_mounts() -> Vec<Mount> {
    vec![
        mount("/proc", "proc", "proc", &[]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", "ro"],
        ),
    ]
}

/// New namespaces, masked paths and a device cgroup that denies every device
/// (the runtime still provides the default devices).
fn default_linux() -> Linux {
    Linux {
        namespaces: NAMESPACES
            .iter()
            .map(|typ| Namespace {
                typ: typ.to_string(),
                path: None,
            })
            .collect(),
        resources: Some(Resources {
            devices: vec![DeviceCgroup {
                allow: false,
                access: Some("rwm".to_string()),
                ..DeviceCgroup::default()
            }],
            ..Resources::default()
        }),
        masked_paths: strings(MASKED_PATHS),
        readonly_paths: strings(READONLY_PATHS),
        ..Linux::default()
    }
}

/// Turns the template into one an unprivileged `uid`/`gid` can run.
fn make_rootless(spec: &mut Spec, uid: u32, gid: u32) {
    if let Some(linux) = spec.linux.as_mut() {
        // An unprivileged user cannot configure a new network namespace,
        // nor set cgroup limits without a delegated cgroup.
        linux.namespaces.retain(|ns| ns.typ != "network");
        linux.namespaces.push(Namespace {
            typ: "user".to_string(),
            path: None,
        });
        linux.uid_mappings = vec![single_mapping(uid)];
        linux.gid_mappings = vec![single_mapping(gid)];
        linux.resources = None;
    }
    // sysfs can only be mounted by the owner of the network namespace, so
    // bind the host's instead (which also brings /sys/fs/cgroup along).
    spec.mounts.retain(|m| m.destination != "/sys/fs/cgroup");
    for m in &mut spec.mounts {
        if m.destination == "/sys" {
            *m = mount(
                "/sys",
                "none",
                "/sys",
                &["rbind", "nosuid", "noexec", "nodev", "ro"],
            );
        }
        // Only one id is mapped, so no other owner can be named.
        m.options
            .retain(|o| !o.starts_with("uid=") && !o.starts_with("gid="));
    }
}

/// Maps container id 0 to the host id `id`, the one mapping an unprivileged
/// process may write.
fn single_mapping(id: u32) -> IdMapping {
    IdMapping {
        container_id: 0,
        host_id: id,
        size: 1,
    }
}

/// The caller's effective uid and gid, which the kernel lets it map.
///
/// Read from `/proc/self/status` to stay free of `unsafe`; 0 if `/proc` is
/// unavailable (the written file then needs editing, as it says root).
fn caller_ids() -> (u32, u32) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (
        effective_id(&status, "Uid:").unwrap_or(0),
        effective_id(&status, "Gid:").unwrap_or(0),
    )
}

/// The effective id (second column) of the `Uid:` or `Gid:` line of a
/// `/proc/PID/status` text.
fn effective_id(status: &str, key: &str) -> Option<u32> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().nth(1)?.parse().ok()
}

fn mount(destination: &str, typ: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: destination.to_string(),
        typ: Some(typ.to_string()),
        source: Some(source.to_string()),
        options: strings(options),
        ..Mount::default()
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(spec: &Spec) -> Spec {
        let text = serde_json::to_string_pretty(spec).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn namespace_types(spec: &Spec) -> Vec<String> {
        let linux = spec.linux.as_ref().unwrap();
        linux.namespaces.iter().map(|n| n.typ.clone()).collect()
    }

    #[test]
    fn default_spec_round_trips() {
        let spec = round_trip(&default_spec(false));
        assert_eq!(spec.oci_version, OCI_VERSION);
        let process = spec.process.as_ref().unwrap();
        assert!(process.terminal && process.no_new_privileges);
        assert_eq!(process.args, ["sh"]);
        assert_eq!(process.cwd, "/");
        let caps = process.capabilities.as_ref().unwrap();
        assert_eq!(caps.bounding.as_deref(), Some(&strings(CAPABILITIES)[..]));
        assert!(caps.ambient.is_none() && caps.inheritable.is_none());
        assert_eq!(process.rlimits[0].soft, 1024);
        assert_eq!(spec.hostname.as_deref(), Some("coracle"));
        assert!(spec.root.as_ref().unwrap().readonly);
        assert_eq!(spec.mounts.len(), 7);
        assert_eq!(
            namespace_types(&spec),
            ["pid", "network", "ipc", "uts", "mount", "cgroup"]
        );
        let linux = spec.linux.as_ref().unwrap();
        assert!(linux.masked_paths.iter().any(|p| p == "/proc/kcore"));
        assert!(linux.uid_mappings.is_empty());
    }

    #[test]
    fn default_spec_json_has_spec_field_names() {
        let value = serde_json::to_value(default_spec(false)).unwrap();
        assert_eq!(value["process"]["noNewPrivileges"], true);
        assert_eq!(value["linux"]["maskedPaths"][0], "/proc/acpi");
        assert_eq!(value["mounts"][1]["type"], "tmpfs");
        assert_eq!(value["linux"]["resources"]["devices"][0]["access"], "rwm");
    }

    #[test]
    fn rootless_maps_the_caller_and_binds_sys() {
        let mut spec = default_spec(false);
        make_rootless(&mut spec, 1000, 100);
        let spec = round_trip(&spec);
        assert_eq!(
            namespace_types(&spec),
            ["pid", "ipc", "uts", "mount", "cgroup", "user"]
        );
        let linux = spec.linux.as_ref().unwrap();
        assert_eq!(linux.uid_mappings, [single_mapping(1000)]);
        assert_eq!(linux.gid_mappings, [single_mapping(100)]);
        assert!(linux.resources.is_none());
        let sys = spec
            .mounts
            .iter()
            .find(|m| m.destination == "/sys")
            .unwrap();
        assert_eq!(sys.typ.as_deref(), Some("none"));
        assert!(sys.options.iter().any(|o| o == "rbind"));
        assert!(!spec
            .mounts
            .iter()
            .any(|m| m.destination == "/sys/fs/cgroup"));
        let options = spec.mounts.iter().flat_map(|m| &m.options);
        assert!(!options.into_iter().any(|o| o.starts_with("gid=")));
    }

    #[test]
    fn effective_ids_come_from_the_second_column() {
        let status = "Name:\tx\nUid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\n";
        assert_eq!(effective_id(status, "Uid:"), Some(1001));
        assert_eq!(effective_id(status, "Gid:"), Some(6));
        assert_eq!(effective_id("", "Uid:"), None);
    }
}
