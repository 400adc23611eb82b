//! Helpers of the seccomp tests: profiles, and small C programs for what
//! busybox cannot do in a container (threads, a raw `syscall(2)`, the i386
//! ABI through `int $0x80`), compiled statically with the host's `cc` into
//! a bundle's rootfs.

use super::*;

/// An allow-by-default profile for x86_64, x86 and x32 with `syscalls`.
pub fn allow_but(syscalls: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": syscalls
    })
}

/// Compiles the C program `source` statically into `/bin/NAME` of the
/// bundle's rootfs.
pub fn compile_helper(t: &Test, b: &Bundle, name: &str, source: &str) {
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
}
