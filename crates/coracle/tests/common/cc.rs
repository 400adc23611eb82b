//! Small C programs for what busybox cannot do in a container (threads, a
//! raw `syscall(2)`, the i386 ABI through `int $0x80`): compiled statically
//! with the host's `cc` into a bundle's rootfs.

use super::*;

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
