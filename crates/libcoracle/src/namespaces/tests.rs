//! Unit tests of the namespace plan: what is accepted, what is refused and
//! with which message.

use super::*;
use crate::spec::{IdMapping, Linux, Namespace};

fn spec_with(namespaces: &[(&str, Option<&str>)]) -> Spec {
    Spec {
        linux: Some(Linux {
            namespaces: namespaces
                .iter()
                .map(|(typ, path)| Namespace {
                    typ: typ.to_string(),
                    path: path.map(str::to_string),
                })
                .collect(),
            ..Linux::default()
        }),
        ..Spec::default()
    }
}

#[test]
fn new_namespaces_become_clone_flags() {
    let plan = NamespacePlan::from_spec(&spec_with(&[
        ("pid", None),
        ("mount", None),
        ("network", None),
    ]))
    .unwrap();
    let expected = (libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWNET) as u64;
    assert_eq!(plan.clone_flags(), expected);
    assert!(plan.has(Kind::Pid) && !plan.has(Kind::User));
}

#[test]
fn unknown_and_duplicate_namespaces_are_refused() {
    let err = NamespacePlan::from_spec(&spec_with(&[("pid", None), ("bogus", None)])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "linux.namespaces[1]: unknown namespace type \"bogus\""
    );
    let err = NamespacePlan::from_spec(&spec_with(&[("uts", None), ("uts", None)])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "linux.namespaces: uts namespace listed twice"
    );
}

#[test]
fn a_joined_path_must_be_a_namespace_of_its_type() {
    let plan =
        NamespacePlan::from_spec(&spec_with(&[("network", Some("/proc/self/ns/net"))])).unwrap();
    assert!(plan.has(Kind::Network) && !plan.is_new(Kind::Network));
    let err = NamespacePlan::from_spec(&spec_with(&[("network", Some("/proc/self/ns/uts"))]))
        .unwrap_err();
    assert!(err.to_string().contains("not a network namespace"), "{err}");
    assert!(NamespacePlan::from_spec(&spec_with(&[("ipc", Some("/nonexistent"))])).is_err());
}

#[test]
fn sysctls_need_the_namespace_that_isolates_them() {
    let mut spec = spec_with(&[("ipc", None)]);
    let linux = spec.linux.as_mut().unwrap();
    linux.sysctl.insert("kernel.shmmax".into(), "1000".into());
    assert!(NamespacePlan::from_spec(&spec).is_ok());
    spec.linux
        .as_mut()
        .unwrap()
        .sysctl
        .insert("net.ipv4.ip_forward".into(), "1".into());
    let err = NamespacePlan::from_spec(&spec).unwrap_err();
    assert_eq!(
        err.to_string(),
        "linux.sysctl net.ipv4.ip_forward: needs the container's own network namespace"
    );
    let mut spec = spec_with(&[("network", None)]);
    spec.linux
        .as_mut()
        .unwrap()
        .sysctl
        .insert("vm.swappiness".into(), "1".into());
    assert!(matches!(
        NamespacePlan::from_spec(&spec),
        Err(NamespaceError::SysctlNotNamespaced(_))
    ));
}

#[test]
fn sysctls_of_the_runtimes_own_namespace_joined_by_path_are_refused() {
    let mut spec = spec_with(&[("network", Some("/proc/self/ns/net")), ("ipc", None)]);
    let linux = spec.linux.as_mut().unwrap();
    linux.sysctl.insert("kernel.shmmax".into(), "1000".into());
    assert!(NamespacePlan::from_spec(&spec).is_ok());
    let linux = spec.linux.as_mut().unwrap();
    linux
        .sysctl
        .insert("net.ipv4.ip_forward".into(), "1".into());
    let err = NamespacePlan::from_spec(&spec).unwrap_err();
    assert_eq!(
        err.to_string(),
        "linux.sysctl net.ipv4.ip_forward: not allowed in host network namespace (joined by path)"
    );
}

#[test]
fn hostname_needs_a_uts_namespace_and_mappings_a_user_namespace() {
    let mut spec = spec_with(&[("pid", None)]);
    spec.hostname = Some("box".into());
    assert!(NamespacePlan::from_spec(&spec)
        .unwrap_err()
        .to_string()
        .starts_with("hostname:"));
    let mut spec = spec_with(&[("user", None)]);
    let mapping = IdMapping {
        container_id: 0,
        host_id: 100000,
        size: 65536,
    };
    spec.linux.as_mut().unwrap().uid_mappings = vec![mapping];
    spec.linux.as_mut().unwrap().gid_mappings = vec![mapping];
    let plan = NamespacePlan::from_spec(&spec).unwrap();
    assert_eq!(plan.id_maps.uid, "0 100000 65536\n");
}

#[test]
fn a_new_user_namespace_needs_both_maps_a_joined_one_none() {
    let err = NamespacePlan::from_spec(&spec_with(&[("user", None)])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "linux.uidMappings: none given, but a new user namespace needs them"
    );
    assert!(NamespacePlan::from_spec(&spec_with(&[("user", Some("/proc/self/ns/user"))])).is_ok());
    let mut spec = spec_with(&[("user", Some("/proc/self/ns/user"))]);
    let mapping = IdMapping {
        container_id: 0,
        host_id: 0,
        size: 1,
    };
    spec.linux.as_mut().unwrap().uid_mappings = vec![mapping];
    assert!(
        NamespacePlan::from_spec(&spec).is_ok(),
        "the init checks them"
    );
}

#[test]
fn with_a_joined_user_namespace_the_init_makes_the_new_namespaces() {
    let plan = NamespacePlan::from_spec(&spec_with(&[
        ("user", Some("/proc/self/ns/user")),
        ("mount", None),
        ("pid", None),
    ]))
    .unwrap();
    assert_eq!(plan.clone_flags(), 0);
    assert_eq!(plan.unshare_flags(), libc::CLONE_NEWNS | libc::CLONE_NEWPID);
    let plan = NamespacePlan::from_spec(&spec_with(&[("mount", None), ("pid", None)])).unwrap();
    assert_eq!(plan.unshare_flags(), 0);
}

#[test]
fn time_offsets_need_a_new_time_namespace() {
    use crate::spec::TimeOffset;
    let offset = |secs, nanosecs| TimeOffset { secs, nanosecs };
    let mut spec = spec_with(&[("time", None), ("mount", None)]);
    let linux = spec.linux.as_mut().unwrap();
    linux
        .time_offsets
        .insert("boottime".into(), offset(86400, 5));
    linux
        .time_offsets
        .insert("monotonic".into(), offset(-10, 0));
    let plan = NamespacePlan::from_spec(&spec).unwrap();
    assert_eq!(plan.time_offsets, "boottime 86400 5\nmonotonic -10 0\n");
    assert_eq!(plan.clone_flags(), libc::CLONE_NEWNS as u64);
    let mut bad = spec.clone();
    let linux = bad.linux.as_mut().unwrap();
    linux.time_offsets.insert("realtime".into(), offset(1, 0));
    assert!(NamespacePlan::from_spec(&bad).is_err());
    let mut bad = spec.clone();
    let linux = bad.linux.as_mut().unwrap();
    linux
        .time_offsets
        .insert("boottime".into(), offset(1, 1_000_000_000));
    assert!(NamespacePlan::from_spec(&bad).is_err());
    let mut bad = spec;
    bad.linux.as_mut().unwrap().namespaces.remove(0);
    let err = NamespacePlan::from_spec(&bad).unwrap_err().to_string();
    assert_eq!(
        err,
        "linux.timeOffsets: needs a new time namespace in linux.namespaces"
    );
}
