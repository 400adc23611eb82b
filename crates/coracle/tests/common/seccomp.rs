//! Helpers of the seccomp tests: profiles, and small C programs for what
//! busybox cannot do in a container (threads, a raw `syscall(2)`, the i386
//! ABI through `int $0x80`), compiled statically with the host's `cc` into
//! a bundle's rootfs.

use super::*;

/// The signal of the kill and trap actions.
pub const SIGSYS: i32 = 31;

/// What a static helper calls to start, write its output and exit.
const HELPER_SYSCALLS: [&str; 23] = [
    "execve",
    "brk",
    "arch_prctl",
    "set_tid_address",
    "set_robust_list",
    "rseq",
    "prlimit64",
    "readlink",
    "readlinkat",
    "getrandom",
    "mprotect",
    "uname",
    "newfstatat",
    "fstat",
    "write",
    "exit_group",
    "exit",
    "ioctl",
    "mmap",
    "munmap",
    "futex",
    "rt_sigprocmask",
    "rt_sigaction",
];

/// An allow-by-default profile for x86_64, x86 and x32 with `syscalls`.
pub fn allow_but(syscalls: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": syscalls
    })
}

/// An x86_64 profile refusing every call with `EPERM` but those a static
/// helper needs (see [`helper_bundle`]) and `allowed`.
pub fn refuse_but(allowed: &[&str]) -> serde_json::Value {
    let names: Vec<&str> = HELPER_SYSCALLS.iter().chain(allowed).copied().collect();
    serde_json::json!({
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 1,
        "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": names, "action": "SCMP_ACT_ALLOW"}]
    })
}

/// `run` of `b` without its seccomp filter, asserting success: the
/// kernel's own answers, which tell which answers under a filter are the
/// filter's doing.
pub fn run_unfiltered(t: &Test, b: &mut Bundle) -> Out {
    let filter = b.config["linux"].as_object_mut().unwrap().remove("seccomp");
    let out = t.run(b).ok();
    if let Some(filter) = filter {
        b.config["linux"]["seccomp"] = filter;
    }
    out
}

/// A bundle whose process is `/bin/NAME`, the C program `source` compiled
/// statically into its rootfs.
pub fn helper_bundle(t: &Test, name: &str, source: &str) -> Bundle {
    let b = t.bundle(&[name]);
    let src = t.dir.join(format!("{name}.c"));
    fs::write(&src, source).unwrap();
    let out = Command::new("cc")
        .args(["-static", "-O2", "-pthread", "-o"])
        .arg(b.rootfs().join("bin").join(name))
        .arg(&src)
        .output()
        .expect("run cc (the seccomp tests compile small static helpers)");
    assert!(
        out.status.success(),
        "cc {name}.c: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    b
}
