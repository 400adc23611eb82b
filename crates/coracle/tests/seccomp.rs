//! `linux.seccomp` through the binary (config-linux.md "Seccomp"): errno
//! and kill actions, argument conditions, TSYNC on a threaded process,
//! `ENOSYS` for unknown numbers, the compiled-filter cache, malformed
//! profiles, and Podman's default profile. Notifications are in
//! seccomp_notify.rs, more actions and rules in seccomp_rules.rs.
//!
//! The effects are observed from inside the container. What busybox cannot
//! do (threads, a raw `syscall(1000)`) small C programs do: they are
//! compiled statically with the host's `cc` into the bundle's rootfs.

mod common;

use common::*;
use serde_json::{json, Value};
use std::fs;
use std::path::Path;

#[test]
fn errno_action_fails_the_call_with_its_errno() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}
    ]));
    b.sh("mkdir /tmp/denied; echo rc=$?; [ -d /tmp/denied ] || echo absent; touch /tmp/f && echo touched");
    let out = t.run(&b).ok();
    // 122 is EDQUOT.
    assert!(out.stderr.contains("Disk quota exceeded"), "{out}");
    assert!(out.stdout.contains("rc=1\nabsent\ntouched\n"), "{out}");
}

#[test]
fn errno_action_without_errno_ret_means_eperm() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
    ]));
    b.sh("mkdir /tmp/x 2>&1; true");
    let out = t.run(&b).ok();
    assert!(out.stdout.contains("Operation not permitted"), "{out}");
}

#[test]
fn argument_conditions_select_the_calls() {
    let t = Test::new();
    let mut b = helper_bundle(
        &t,
        "sockets",
        r#"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
int main(void) {
    int inet = socket(AF_INET, SOCK_STREAM, 0);
    printf("inet: %s\n", inet < 0 ? strerror(errno) : "ok");
    int unix_ = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("unix: %s\n", unix_ < 0 ? strerror(errno) : "ok");
    return 0;
}
"#,
    );
    // personality(PER_LINUX32) is refused, personality(PER_LINUX) is not;
    // socket(AF_INET, ...) is refused while socket(AF_UNIX, ...) works.
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
        {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
         "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]}
    ]));
    b.sh("linux64 true && echo linux64-ok; linux32 true 2>/dev/null || echo linux32-refused; sockets");
    let out = t.run(&b).ok();
    assert_eq!(
        out.stdout,
        "linux64-ok\nlinux32-refused\ninet: Address family not supported by protocol\nunix: ok\n",
        "{out}"
    );
}

#[test]
fn masked_and_range_operators() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    // umask(mask) with bit 0o001 set is refused (MASKED_EQ), and so are
    // masks above 0o700 (GT). umask(2) cannot fail: a refused call leaves
    // the mask alone, which /proc shows.
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "args": [{"index": 0, "value": 1, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
         "args": [{"index": 0, "value": 448, "op": "SCMP_CMP_GT"}]}
    ]));
    b.sh("for m in 022 023 066 0750; do umask $m; grep Umask /proc/self/status; done");
    let out = t.run(&b).ok();
    let masks: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert_eq!(masks, ["0022", "0022", "0066", "0066"], "{out}");
}

#[test]
fn kill_actions_kill_with_sigsys() {
    for action in [
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_THREAD",
    ] {
        let t = Test::new();
        let mut b = t.bundle(&["mkdir", "/tmp/never"]);
        b.config["linux"]["seccomp"] = allow_but(json!([
            {"names": ["mkdir", "mkdirat"], "action": action}
        ]));
        let out = t.run(&b);
        assert_eq!(out.code, Some(128 + SIGSYS), "{action}: {out}");
        assert!(!b.rootfs().join("tmp/never").exists());
    }
}

#[test]
fn unknown_syscall_numbers_get_enosys() {
    let t = Test::new();
    let mut b = helper_bundle(
        &t,
        "nosys",
        r#"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    long r = syscall(1000);
    printf("%ld %s\n", r, strerror(errno));
    errno = 0;
    r = syscall(SYS_mkdir, "/tmp/x", 0755);
    printf("%ld %s\n", r, strerror(errno));
    return 0;
}
"#,
    );
    let kernel = run_unfiltered(&t, &mut b);
    let unknown = kernel.stdout.lines().next().unwrap_or_default().to_string();
    // A refusing default: known calls get it, an unknown number ENOSYS.
    b.config["linux"]["seccomp"] = refuse_but(&[]);
    let out = t.run(&b).ok();
    assert_eq!(
        out.stdout, "-1 Function not implemented\n-1 Operation not permitted\n",
        "{out}"
    );
    if unknown == "-1 Function not implemented" {
        // The filter's ENOSYS and the kernel's look alike: what is seen is
        // only that the default action was not applied to the number.
        skip_test("the kernel has no syscall 1000 either (ENOSYS without a filter)");
    }
}

/// The init is single-threaded when it installs the filter, so TSYNC
/// cannot change what a container sees: threads the container's process
/// makes inherit the filter anyway. What the flag does (putting the filter
/// on threads that exist at install time) only the library's live test
/// shows (seccomp/tests/live.rs, `tsync_filters_every_thread`). This one
/// shows that the flag is taken and that the threads are filtered.
#[test]
fn tsync_flag_is_taken_and_the_processs_threads_are_filtered() {
    if skip_unless_coracle("runc 1.1.5 takes no seccomp flags") {
        return;
    }
    let t = Test::new();
    let mut b = helper_bundle(
        &t,
        "threads",
        r#"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
static void *worker(void *arg) {
    (void)arg;
    int r = mkdir("/tmp/from-thread", 0755);
    printf("thread: %d %s\n", r, strerror(errno));
    return NULL;
}
int main(void) {
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL);
    pthread_join(th, NULL);
    int r = mkdir("/tmp/from-main", 0755);
    printf("main: %d %s\n", r, strerror(errno));
    return 0;
}
"#,
    );
    let mut profile = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    ]));
    profile["flags"] = json!([
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
    ]);
    b.config["linux"]["seccomp"] = profile;
    let out = t.run(&b).ok();
    assert_eq!(
        out.stdout, "thread: -1 Permission denied\nmain: -1 Permission denied\n",
        "{out}"
    );
}

#[test]
fn filter_without_no_new_privileges_is_installed_before_the_user_change() {
    let t = Test::new();
    let mut b = t.bundle(&[]);
    b.config["process"]["noNewPrivileges"] = json!(false);
    b.config["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}
    ]));
    b.sh("grep -E '^(Seccomp|NoNewPrivs|Uid):' /proc/self/status; mkdir /tmp/d 2>&1; true");
    let out = t.run(&b).ok();
    let f = status_fields(&out.stdout);
    assert_eq!(f["Seccomp"], "2", "{out}");
    assert_eq!(f["NoNewPrivs"], "0", "{out}");
    assert!(f["Uid"].starts_with("1000"), "{out}");
    assert!(out.stdout.contains("Disk quota exceeded"), "{out}");
}

// ---------------------------------------------------------------------------
// The cache and malformed profiles
// ---------------------------------------------------------------------------

#[test]
fn second_create_takes_the_filter_from_the_cache() {
    if skip_unless_coracle("the seccomp cache") {
        return;
    }
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    // A profile of its own, so that no other test filled the cache entry
    // (each test has its own state root anyway).
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errnoRet": 42}
    ]));
    b.save();
    let bundle = b.dir.to_str().unwrap();
    let first = t.rt(&["--debug", "run", "--bundle", bundle, &t.id()]).ok();
    assert!(first.stderr.contains("seccomp filter compiled"), "{first}");
    let second = t.rt(&["--debug", "run", "--bundle", bundle, &t.id()]).ok();
    assert!(
        second.stderr.contains("seccomp filter from the cache"),
        "{second}"
    );
}

/// `coracle --debug run` of `b`; asserts that the container ran with its
/// filter (mkdir refused with EDQUOT) and returns the trace.
fn debug_run(t: &Test, b: &Bundle) -> String {
    let bundle = b.dir.to_str().unwrap();
    let out = t.rt(&["--debug", "run", "--bundle", bundle, &t.id()]).ok();
    assert!(out.stdout.contains("Disk quota exceeded"), "{out}");
    out.stderr
}

/// A bundle whose container tries mkdir under a profile refusing it with
/// EDQUOT, a profile of its own (so that no other test's entry is found).
fn edquot_bundle(t: &Test, tag: &str) -> Bundle {
    let mut b = t.bundle(&[]);
    b.sh("mkdir /tmp/d 2>&1; true");
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122},
        {"names": [tag], "action": "SCMP_ACT_ERRNO"}
    ]));
    b.save();
    b
}

#[test]
fn exec_takes_the_filter_from_the_cache() {
    if skip_unless_coracle("the seccomp cache") {
        return;
    }
    let t = Test::new();
    let mut b = edquot_bundle(&t, "acct");
    b.args(&["sleep", "1000"]);
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    let out = c.rt(&["--debug", "exec"], &["mkdir", "/tmp/e"]);
    assert!(out.stderr.contains("Disk quota exceeded"), "{out}");
    assert!(
        out.stderr
            .contains("exec plan (seccomp filter from the cache)"),
        "{out}"
    );
}

#[test]
fn cache_entries_others_could_have_written_are_not_used() {
    if skip_unless_coracle("the seccomp cache") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let t = Test::new();
    let b = edquot_bundle(&t, "swapon");
    let compiled = "seccomp filter compiled";
    let cached = "seccomp filter from the cache";
    assert!(debug_run(&t, &b).contains(compiled));
    let dir = t.root.join(".seccomp-cache");
    let entries: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let [entry] = &entries[..] else {
        panic!("one cache entry expected: {entries:?}")
    };
    assert!(debug_run(&t, &b).contains(cached));
    // A damaged entry is compiled again (and rewritten).
    let mut data = fs::read(entry).unwrap();
    let last = data.len() - 1;
    data[last] ^= 0xff;
    fs::write(entry, &data).unwrap();
    assert!(debug_run(&t, &b).contains(compiled));
    assert!(debug_run(&t, &b).contains(cached));
    // An entry of another user, or one the group may write, is not trusted.
    std::os::unix::fs::chown(entry, Some(1000), Some(1000)).unwrap();
    assert!(debug_run(&t, &b).contains(compiled));
    fs::set_permissions(entry, fs::Permissions::from_mode(0o660)).unwrap();
    assert!(debug_run(&t, &b).contains(compiled));
    assert!(debug_run(&t, &b).contains(cached));
    // Nor is anything in a directory others may write to.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    assert!(debug_run(&t, &b).contains(compiled));
    assert!(debug_run(&t, &b).contains(compiled));
}

/// Asserts that create with `seccomp` fails with one line containing
/// `expected`, leaving no state, cgroup or mount behind (the cgroup
/// could only be removed without a process in it).
#[track_caller]
fn refused(seccomp: Value, expected: &str) {
    let t = Test::new();
    let mut b = t.bundle(&["true"]);
    let cgroup = t.cgroup_path();
    b.config["linux"]["cgroupsPath"] = json!(cgroup);
    b.config["linux"]["seccomp"] = seccomp;
    let out = t.try_create(&b, &[]).err().expect("create must fail");
    let out = out.fails_with_one_line();
    assert!(out.stderr.contains(expected), "{out}");
    assert!(t.state_entries().is_empty(), "{:?}", t.state_entries());
    // In every hierarchy, the unified one included.
    let left = remove_cgroup_everywhere(&cgroup);
    assert!(left.is_empty(), "cgroups left: {left:?}");
    assert!(t.mounts_under_dir().is_empty());
}

#[test]
fn malformed_profiles_are_refused_with_one_line() {
    refused(
        allow_but(json!([{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}])),
        "SCMP_ACT_EXPLODE",
    );
    refused(
        allow_but(json!([{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ROUGHLY"}]}])),
        "SCMP_CMP_ROUGHLY",
    );
    let mut bad_arch = allow_but(json!([]));
    bad_arch["architectures"] = json!(["SCMP_ARCH_PDP11"]);
    refused(bad_arch, "SCMP_ARCH_PDP11");
    let mut bad_flag = allow_but(json!([]));
    bad_flag["flags"] = json!(["SECCOMP_FILTER_FLAG_TELEPATHY"]);
    refused(bad_flag, "SECCOMP_FILTER_FLAG_TELEPATHY");
    refused(
        allow_but(json!([{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}])),
        "index",
    );
    refused(
        json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}),
        "listenerPath",
    );
}

// ---------------------------------------------------------------------------
// Podman's default profile
// ---------------------------------------------------------------------------

const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// Strings of a JSON array (empty when absent).
fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether a containers-format entry applies to amd64 with `caps`.
fn applies(entry: &Value, caps: &[&str]) -> bool {
    let arches = strings(&entry["includes"]["arches"]);
    let included = arches.is_empty() || arches.contains(&"amd64");
    let with_caps = strings(&entry["includes"]["caps"])
        .iter()
        .all(|c| caps.contains(c));
    let excluded_arch = strings(&entry["excludes"]["arches"]).contains(&"amd64");
    let excluded_caps = strings(&entry["excludes"]["caps"])
        .iter()
        .any(|c| caps.contains(c));
    included && with_caps && !excluded_arch && !excluded_caps
}

/// Podman's seccomp.json as the linux.seccomp Podman hands a runtime on
/// x86_64 for a container with `caps` (what bench/lib.sh does with jq).
fn podman_seccomp(caps: &[&str]) -> Value {
    let profile: Value = serde_json::from_slice(&fs::read(PODMAN_PROFILE).unwrap()).unwrap();
    let arches = profile["archMap"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["architecture"] == "SCMP_ARCH_X86_64")
        .map(|a| {
            let mut list = vec![a["architecture"].clone()];
            list.extend(
                a["subArchitectures"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default(),
            );
            list
        })
        .unwrap();
    let syscalls: Vec<Value> = profile["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| applies(e, caps))
        .map(|e| {
            let mut out = json!({"names": e["names"], "action": e["action"]});
            if !e["errnoRet"].is_null() {
                out["errnoRet"] = e["errnoRet"].clone();
            }
            if e["args"].as_array().is_some_and(|a| !a.is_empty()) {
                out["args"] = e["args"].clone();
            }
            out
        })
        .collect();
    let mut seccomp = json!({
        "defaultAction": profile["defaultAction"],
        "architectures": arches,
        "syscalls": syscalls
    });
    if !profile["defaultErrnoRet"].is_null() {
        seccomp["defaultErrnoRet"] = profile["defaultErrnoRet"].clone();
    }
    seccomp
}

#[test]
fn podmans_default_profile_runs_a_container_and_denies_what_it_should() {
    if !Path::new(PODMAN_PROFILE).exists() {
        skip_test(&format!(
            "{PODMAN_PROFILE} is missing (golang-github-containers-common)"
        ));
        return;
    }
    let t = Test::new();
    let mut b = t.bundle(&[]);
    // The container holds CAP_SYS_ADMIN, but its profile is the one for the
    // default capabilities: sethostname is refused by the filter alone.
    let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
    for set in ["bounding", "effective", "permitted"] {
        b.config["process"]["capabilities"][set] = json!([
            "CAP_AUDIT_WRITE",
            "CAP_KILL",
            "CAP_NET_BIND_SERVICE",
            "CAP_SYS_ADMIN"
        ]);
    }
    let script = "echo start; ls / >/dev/null && cat /proc/self/status >/dev/null && echo fine; \
                  hostname renamed 2>&1 || echo hostname-refused; \
                  swapoff /nonexistent 2>&1 || echo swapoff-refused; \
                  grep ^Seccomp: /proc/self/status";
    b.sh(script);
    let out = t.run(&b).ok();
    assert!(
        !out.stdout.contains("hostname-refused"),
        "without a filter: {out}"
    );
    assert!(
        !out.stdout.contains("Seccomp:\t2"),
        "without a filter: {out}"
    );
    b.config["linux"]["seccomp"] = podman_seccomp(&caps);
    let out = t.run(&b).ok();
    assert!(out.stdout.contains("fine\n"), "{out}");
    assert!(out.stdout.contains("Operation not permitted"), "{out}");
    assert!(out.stdout.contains("hostname-refused\n"), "{out}");
    assert!(out.stdout.contains("swapoff-refused\n"), "{out}");
    assert!(
        !out.stdout.contains("No such file"),
        "swapoff got past the filter: {out}"
    );
    assert!(out.stdout.contains("Seccomp:\t2\n"), "{out}");
}

#[test]
fn exec_gets_the_containers_filter() {
    let t = Test::new();
    let mut b = t.bundle(&["sleep", "1000"]);
    b.config["linux"]["seccomp"] = allow_but(json!([
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}
    ]));
    let c = t.create(&b);
    c.start();
    wait_for_comm(c.pid, "sleep");
    let out = c
        .exec(&[
            "sh",
            "-c",
            "grep ^Seccomp: /proc/self/status; mkdir /tmp/e 2>&1; true",
        ])
        .ok();
    assert!(out.stdout.starts_with("Seccomp:\t2\n"), "{out}");
    assert!(out.stdout.contains("Disk quota exceeded"), "{out}");
    // A process.json without noNewPrivileges: the filter goes in before
    // its user change.
    let process = json!({
        "user": {"uid": 1000, "gid": 1000},
        "args": ["sh", "-c", "mkdir /tmp/e2 2>&1; id -u"],
        "env": [PATH_ENV],
        "cwd": "/"
    });
    let file = t.dir.join("process.json");
    fs::write(&file, serde_json::to_vec(&process).unwrap()).unwrap();
    let out = t
        .rt(&["exec", "--process", file.to_str().unwrap(), &c.id])
        .ok();
    assert!(out.stdout.contains("Disk quota exceeded"), "{out}");
    assert!(out.stdout.ends_with("1000\n"), "{out}");
}
