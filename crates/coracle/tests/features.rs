//! `features` (features.md, features-linux.md): the document is valid
//! against the specification's schema, and what it lists is what `create`
//! accepts.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const SCHEMA_DIR: &str = "/work/shared/oci-runtime-spec/schema";

fn features(t: &Test) -> Value {
    let out = t.rt(&["features"]).ok();
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn the_document_has_the_shape_of_the_specification() {
    if skip_unless_coracle("the features document's content") {
        return;
    }
    let t = Test::new();
    let f = features(&t);
    assert_eq!(f["ociVersionMin"], "1.0.0");
    assert_eq!(f["ociVersionMax"], "1.3.0");
    assert_eq!(
        strings(&f["hooks"]),
        [
            "prestart",
            "createRuntime",
            "createContainer",
            "startContainer",
            "poststart",
            "poststop"
        ]
    );
    let linux = &f["linux"];
    for list in [
        &f["mountOptions"],
        &linux["namespaces"],
        &linux["capabilities"],
        &linux["seccomp"]["actions"],
        &linux["seccomp"]["operators"],
        &linux["seccomp"]["archs"],
        &linux["seccomp"]["knownFlags"],
        &linux["seccomp"]["supportedFlags"],
        &linux["memoryPolicy"]["modes"],
        &linux["memoryPolicy"]["flags"],
    ] {
        assert!(!strings(list).is_empty(), "{list}");
    }
    // What the code implements, not what this host runs: the v1, v2 and
    // systemd (system bus) drivers, rdma limits in both cgroupfs drivers;
    // AppArmor and SELinux labels; no Intel RDT, no idmapped mounts.
    assert_eq!(
        linux["cgroup"],
        json!({"v1": true, "v2": true, "systemd": true, "systemdUser": false, "rdma": true}),
        "{f}"
    );
    for (flag, value) in [
        (&linux["seccomp"]["enabled"], true),
        (&linux["apparmor"]["enabled"], true),
        (&linux["selinux"]["enabled"], true),
        (&linux["intelRdt"]["enabled"], false),
        (&linux["mountExtensions"]["idmap"]["enabled"], false),
        (&linux["netDevices"]["enabled"], true),
    ] {
        assert_eq!(flag, &json!(value), "{f}");
    }
    let archs = strings(&linux["seccomp"]["archs"]);
    for arch in ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] {
        assert!(archs.iter().any(|a| a == arch), "{arch}: {f}");
    }
    assert!(f["annotations"]["org.coracle.version"].is_string());
    assert_eq!(f["potentiallyUnsafeConfigAnnotations"], json!([]));
    let known = strings(&linux["seccomp"]["knownFlags"]);
    for flag in strings(&linux["seccomp"]["supportedFlags"]) {
        assert!(known.contains(&flag), "{flag}");
    }
}

#[test]
fn the_document_validates_against_the_schema() {
    let schema = Path::new(SCHEMA_DIR).join("features-schema.json");
    let python_has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !schema.exists() || !python_has_jsonschema {
        skip_test("no schema or no python3 jsonschema (the shape test still runs)");
        return;
    }
    let t = Test::new();
    let doc = t.dir.join("features.json");
    std::fs::write(&doc, t.rt(&["features"]).ok().stdout).unwrap();
    let script = "import json, sys, pathlib, warnings, jsonschema\n\
                  warnings.simplefilter('ignore')\n\
                  d = pathlib.Path(sys.argv[1])\n\
                  s = json.load(open(d / 'features-schema.json'))\n\
                  r = jsonschema.RefResolver(base_uri=d.as_uri() + '/', referrer=s)\n\
                  jsonschema.validate(json.load(open(sys.argv[2])), s, resolver=r)\n";
    let mut cmd = Command::new("python3");
    cmd.args(["-c", script, SCHEMA_DIR]).arg(&doc);
    t.output(cmd).ok();
}

#[test]
fn every_listed_namespace_and_capability_is_accepted() {
    if skip_unless_coracle("the features document's content") {
        return;
    }
    let t = Test::new();
    let f = features(&t);
    let namespaces = strings(&f["linux"]["namespaces"]);
    let mut expected = vec![
        "user", "pid", "network", "mount", "ipc", "uts", "cgroup", "time",
    ];
    let mut listed: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    expected.sort();
    listed.sort();
    assert_eq!(listed, expected);
    let mut b = t.bundle(&["sh", "-c", "grep CapBnd /proc/self/status"]);
    b.config["linux"]["namespaces"] = namespaces.iter().map(|n| json!({"type": n})).collect();
    let full = json!([{"containerID": 0, "hostID": 0, "size": 4294967295u32}]);
    b.config["linux"]["uidMappings"] = full.clone();
    b.config["linux"]["gidMappings"] = full;
    let caps = strings(&f["linux"]["capabilities"]);
    b.config["process"]["capabilities"]["bounding"] = json!(caps);
    let out = t.run(&b).ok();
    // Every listed name is a capability the kernel knows, or one newer
    // than this kernel: the bounding set is all the kernel has.
    let last_cap: u32 = std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let bounding = status_fields(&out.stdout)["CapBnd"].clone();
    let mask = u64::from_str_radix(&bounding, 16).unwrap();
    assert_eq!(
        mask.count_ones() as usize,
        caps.len().min(last_cap as usize + 1),
        "{out}"
    );
    b.config["process"]["capabilities"]["bounding"] = json!(["CAP_BOGUS"]);
    let out = t
        .try_create(&b, &[])
        .err()
        .expect("an unknown capability is refused");
    out.fails_with_one_line();
}

#[test]
fn every_listed_seccomp_name_is_accepted() {
    if skip_unless_coracle("the features document's content") {
        return;
    }
    let t = Test::new();
    let f = features(&t);
    let seccomp = &f["linux"]["seccomp"];
    // Rarely used calls, one per action; none is made by `true`.
    let calls = [
        "acct",
        "swapon",
        "swapoff",
        "syslog",
        "vhangup",
        "uselib",
        "pivot_root",
        "quotactl",
    ];
    let actions: Vec<String> = strings(&seccomp["actions"])
        .into_iter()
        .filter(|a| a != "SCMP_ACT_NOTIFY" && a != "SCMP_ACT_ALLOW")
        .collect();
    assert!(actions.len() <= calls.len());
    let mut syscalls: Vec<Value> = actions
        .iter()
        .zip(calls)
        .map(|(action, call)| json!({"names": [call], "action": action}))
        .collect();
    for op in strings(&seccomp["operators"]) {
        syscalls.push(json!({"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 1, "valueTwo": 1, "op": op}]}));
    }
    // The waiting flag only goes with a notify listener.
    let flags: Vec<String> = strings(&seccomp["supportedFlags"])
        .into_iter()
        .filter(|f| f != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
        .collect();
    let mut b = t.bundle(&["true"]);
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": seccomp["archs"],
        "flags": flags,
        "syscalls": syscalls
    });
    t.run(&b).ok();
}
