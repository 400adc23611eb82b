//! Tests of the whole module: a BPF interpreter, the differential test
//! against libseccomp, and filters installed in real processes.

mod diff;
mod interp;
mod live;
mod podman;

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory under the temporary directory, removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("coracle-seccomp-{tag}-{}-{n}", std::process::id()));
        fs::create_dir(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

use super::{known_archs, known_flags, supported_flags, SeccompError, SeccompPlan};
use crate::spec::Seccomp;

fn seccomp(json: serde_json::Value) -> Seccomp {
    serde_json::from_value(json).unwrap()
}

#[test]
fn the_cache_is_hit_on_the_second_compile() {
    let dir = TempDir::new("plan-cache");
    let profile = podman::podman_seccomp(podman::PODMAN_DEFAULT_CAPS);
    let (first, hit) = SeccompPlan::from_spec(&profile, Some(&dir.0)).unwrap();
    assert!(!hit);
    let (second, hit) = SeccompPlan::from_spec(&profile, Some(&dir.0)).unwrap();
    assert!(hit);
    assert_eq!(first, second);
    assert_eq!(first, SeccompPlan::from_spec(&profile, None).unwrap().0);
    // A damaged entry is a miss, and is rewritten.
    for entry in fs::read_dir(&dir.0).unwrap() {
        fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    assert!(!SeccompPlan::from_spec(&profile, Some(&dir.0)).unwrap().1);
    assert!(SeccompPlan::from_spec(&profile, Some(&dir.0)).unwrap().1);
}

#[test]
fn listener_fields_only_with_notify() {
    let with = seccomp(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/run/agent.sock",
        "listenerMetadata": "meta",
        "syscalls": [{"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"}],
    }));
    let (plan, _) = SeccompPlan::from_spec(&with, None).unwrap();
    assert!(plan.needs_listener());
    assert_eq!(plan.listener_path(), Some("/run/agent.sock"));
    assert_eq!(plan.listener_metadata(), Some("meta"));
    let without = seccomp(serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "/run/agent.sock",
    }));
    let (plan, _) = SeccompPlan::from_spec(&without, None).unwrap();
    assert!(!plan.needs_listener());
    assert_eq!(plan.listener_path(), None);
}

#[test]
fn oversized_programs_are_refused() {
    // 300 syscalls with five 64-bit conditions each: far past 4096.
    let names: Vec<&str> = super::syscalls::x86_64::BY_NAME
        .iter()
        .take(300)
        .map(|(n, _)| *n)
        .collect();
    let args: Vec<serde_json::Value> = (0..5)
        .map(|i| serde_json::json!({"index": i, "value": i + 1, "op": "SCMP_CMP_GT"}))
        .collect();
    let syscalls: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::json!({"names": [n], "action": "SCMP_ACT_ERRNO", "args": args}))
        .collect();
    let profile =
        seccomp(serde_json::json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": syscalls}));
    let err = SeccompPlan::from_spec(&profile, None).unwrap_err();
    assert!(
        matches!(err, SeccompError::TooLarge(n) if n > 4096),
        "{err}"
    );
}

#[test]
fn features_lists() {
    assert_eq!(known_archs().len(), 23);
    assert_eq!(known_flags().len(), 4);
    // Kernel 6.18 has every flag (WAIT_KILLABLE_RECV came with 5.19).
    assert_eq!(supported_flags(), known_flags());
}

/// Prints how long compiling Podman's profile takes (`cargo test --release
/// -- --ignored --nocapture compile_time`); a measurement, not a test.
#[test]
#[ignore = "a measurement, run by hand"]
fn compile_time_of_podmans_profile() {
    let profile = podman::podman_seccomp(podman::PODMAN_DEFAULT_CAPS);
    let dir = TempDir::new("bench");
    let rounds = 200;
    let time = |cache: Option<&std::path::Path>| {
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(SeccompPlan::from_spec(&profile, cache).unwrap());
        }
        start.elapsed() / rounds
    };
    let compile = time(None);
    SeccompPlan::from_spec(&profile, Some(&dir.0)).unwrap();
    let hit = time(Some(&dir.0));
    let plan = SeccompPlan::from_spec(&profile, None).unwrap().0;
    println!(
        "Podman's profile: {} instructions; compile {compile:?}, cache hit {hit:?}",
        plan.instructions()
    );
}
