//! Refusals: invalid ids and invalid bundles make `create` fail with a
//! one-line error and leave nothing behind (runtime.md: "generating an error
//! MUST leave the state of the environment as if the operation were never
//! attempted").

mod common;

use common::*;
use serde_json::json;
use std::fs;

/// A bundle in its own cgroup, so a leftover process would be found there.
fn bundle_in_cgroup(t: &Test) -> (Bundle, String) {
    let mut b = t.bundle(&["true"]);
    let cg = t.cgroup_path();
    b.config["linux"]["cgroupsPath"] = json!(cg);
    (b, cg)
}

/// Nothing of a refused container: no state, no mount, no cgroup (hence no
/// process), and the state root holds nothing.
#[track_caller]
fn assert_nothing_left(t: &Test, cg: &str) {
    assert!(
        t.state_entries().is_empty(),
        "state left: {:?}",
        t.state_entries()
    );
    assert!(
        t.mounts_under_dir().is_empty(),
        "mounts left: {:?}",
        t.mounts_under_dir()
    );
    let mut procs = String::new();
    for (_, mnt) in cgroup_mounts() {
        procs += &read(&mnt.join(cg.trim_start_matches('/')).join("cgroup.procs"));
    }
    let left = remove_cgroup_everywhere(cg);
    assert!(
        left.is_empty(),
        "cgroups left: {left:?} (processes: {procs:?})"
    );
}

#[test]
fn invalid_ids_are_refused() {
    let t = Test::new();
    let (b, cg) = bundle_in_cgroup(&t);
    let long = "a".repeat(1024);
    for id in ["../x", "a/b", "", ".", "..", long.as_str(), "x\ny", "/abs"] {
        let err = match t.try_create_id(&b, &[], id) {
            Ok(c) => panic!("id {id:?} accepted (pid {})", c.pid),
            Err(out) => out,
        };
        err.fails_with_one_line();
        assert_nothing_left(&t, &cg);
        assert!(!t.dir.join("x").exists(), "../x escaped the state root");
    }
}

#[test]
fn malformed_config_json() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let id = t.id();
    let mut cmd = t.command();
    fs::write(b.dir.join("config.json"), "{\"ociVersion\": \"1.0.2\", bad").unwrap();
    cmd.args(["create", "--bundle"]).arg(&b.dir).arg(&id);
    let out = t.output(cmd).fails_with_one_line();
    assert!(t.state_entries().is_empty(), "{:?}", t.state_entries());
    if is_coracle() {
        assert!(
            out.stderr.contains("config.json"),
            "the error names the file: {out}"
        );
    }
}

#[test]
fn a_config_field_of_the_wrong_type_is_named() {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    b.config["process"]["user"]["uid"] = json!("x");
    let out = t.try_create(&b, &[]).err().expect("created with uid \"x\"");
    let out = out.fails_with_one_line();
    assert!(t.state_entries().is_empty(), "{:?}", t.state_entries());
    if is_coracle() {
        assert!(
            out.stderr
                .contains("config.json: process.user.uid: invalid type: string \"x\""),
            "the error names the field: {out}"
        );
    }
}

#[test]
fn missing_config_json() {
    let t = Test::new();
    let b = t.bundle(&["true"]);
    let id = t.id();
    let mut cmd = t.command();
    cmd.args(["create", "--bundle"]).arg(&b.dir).arg(&id);
    t.output(cmd).fails_with_one_line();
    assert!(t.state_entries().is_empty());
}

#[test]
fn missing_rootfs() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.config["root"]["path"] = json!("no-such-rootfs");
    let out = t
        .try_create(&b, &[])
        .err()
        .expect("created without a rootfs");
    let out = out.fails_with_one_line();
    assert_nothing_left(&t, &cg);
    if is_coracle() {
        assert!(
            out.stderr.contains("no-such-rootfs"),
            "the error names the path: {out}"
        );
    }
}

#[test]
fn missing_process_args() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.config["process"].as_object_mut().unwrap().remove("args");
    t.try_create(&b, &[])
        .err()
        .expect("created without args")
        .fails_with("coracle create: process.args: must not be empty");
    assert_nothing_left(&t, &cg);

    b.config["process"]["args"] = json!([]);
    t.try_create(&b, &[])
        .err()
        .expect("created with empty args")
        .fails_with("coracle create: process.args: must not be empty");
    assert_nothing_left(&t, &cg);
}

/// coracle refuses a name that is not a capability of capabilities(7) (a
/// typo), like crun. config.md only asks for a warning about capabilities
/// that "cannot be mapped to a relevant kernel interface"; runc warns and
/// drops it, so this is checked for coracle only.
#[test]
fn unknown_capability() {
    if skip_unless_coracle("refusing an unknown capability name") {
        return;
    }
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.config["process"]["capabilities"]["bounding"] = json!(["CAP_KILL", "CAP_BOGUS"]);
    let out = t
        .try_create(&b, &[])
        .err()
        .expect("CAP_BOGUS accepted")
        .fails_with_one_line();
    assert!(out.stderr.contains("CAP_BOGUS"), "{out}");
    assert_nothing_left(&t, &cg);
}

#[test]
fn failing_mount_cleans_up() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.mount(json!({"destination": "/bad", "type": "no-such-fs", "source": "none"}));
    let out = t
        .try_create(&b, &[])
        .err()
        .expect("a mount of an unknown fs type succeeded");
    let out = out.fails_with_one_line();
    assert_nothing_left(&t, &cg);
    if is_coracle() {
        assert!(
            out.stderr.contains("/bad"),
            "the error names the mount: {out}"
        );
    }
}

#[test]
fn bind_of_missing_source_cleans_up() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    let missing = t.dir.join("no-such-dir");
    b.bind(&missing, "/bad");
    t.try_create(&b, &[])
        .err()
        .expect("bind of a missing source succeeded")
        .fails_with(&format!(
            "coracle create: mounts: mounts[{}] (/bad): open bind source {}: \
             No such file or directory (os error 2)",
            b.config["mounts"].as_array().unwrap().len() - 1,
            missing.display()
        ));
    assert_nothing_left(&t, &cg);
}

#[test]
fn unknown_namespace_type() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.with_ns("bogus", None);
    t.try_create(&b, &[])
        .err()
        .expect("namespace bogus accepted")
        .fails_with(&format!(
            "coracle create: linux.namespaces[{}]: unknown namespace type \"bogus\"",
            b.config["linux"]["namespaces"].as_array().unwrap().len() - 1
        ));
    assert_nothing_left(&t, &cg);
}

#[test]
fn unknown_rlimit() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.config["process"]["rlimits"] = json!([{"type": "RLIMIT_BOGUS", "hard": 1, "soft": 1}]);
    t.try_create(&b, &[])
        .err()
        .expect("RLIMIT_BOGUS accepted")
        .fails_with("coracle create: process.rlimits: unknown type RLIMIT_BOGUS");
    assert_nothing_left(&t, &cg);
}

#[test]
fn missing_executable_fails_at_start_or_create() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.args(&["/no/such/program"]);
    match t.try_create(&b, &[]) {
        Err(out) => {
            out.fails_with_one_line();
            assert_nothing_left(&t, &cg);
        }
        Ok(c) => {
            // runc checks at start: start fails and the container stops.
            let out = c.rt(&["start"], &[]);
            if out.success() {
                c.wait_stopped();
            }
            c.force_delete();
            assert_nothing_left(&t, &cg);
        }
    };
}

#[test]
fn cwd_outside_rootfs_is_not_reachable() {
    // CVE-2024-21626: a cwd of /proc/self/fd/N must never land on the host.
    let t = Test::new();
    let mut b = t.bundle(&[]);
    let out = b.out_dir(&t);
    b.sh("pwd > /out/pwd; ls > /out/ls");
    for n in 3..8 {
        b.config["process"]["cwd"] = json!(format!("/proc/self/fd/{n}"));
        let res = t.run(&b);
        if res.success() {
            // Whatever it is, it must be inside the container.
            assert!(
                out.join("pwd").exists(),
                "exit 0 but the container did not run: {res}"
            );
            let ls = read(&out.join("ls"));
            assert!(
                !ls.contains("state") && !ls.contains("cmd"),
                "host dir visible as cwd: {ls}"
            );
        }
    }
}

/// A console socket nobody listens on fails create after the cgroup was
/// made: it goes again with the rest.
#[test]
fn unreachable_console_socket_cleans_up() {
    let t = Test::new();
    let (mut b, cg) = bundle_in_cgroup(&t);
    b.config["process"]["terminal"] = json!(true);
    let socket = t.dir.join("nobody-listens.sock");
    let out = t
        .try_create(&b, &["--console-socket", socket.to_str().unwrap()])
        .err()
        .expect("create connected to a missing console socket")
        .fails_with_one_line();
    assert_nothing_left(&t, &cg);
    if is_coracle() {
        assert_eq!(
            out.stderr.trim(),
            format!(
                "coracle create: connect to console socket {}: No such file or directory (os error 2)",
                socket.display()
            )
        );
    }
}
