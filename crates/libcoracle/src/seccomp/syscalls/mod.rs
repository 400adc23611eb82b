//! Syscall tables per ABI (name → number), generated from libseccomp by
//! `scripts/gen-syscalls.sh` so that every name a Podman or Docker profile
//! uses resolves without linking libseccomp.

pub mod x32;
pub mod x86;
pub mod x86_64;
