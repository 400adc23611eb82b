//! Scheduling and execution attributes of the calling process: I/O
//! priority, scheduling policy, CPU affinity, personality, NUMA memory
//! policy.

use super::check;
use std::io;

/// `ioprio_set(IOPRIO_WHO_PROCESS, 0, value)`: the caller's I/O priority
/// (`value` is `class << 13 | level`).
pub fn ioprio_set_self(value: u16) -> io::Result<()> {
    const IOPRIO_WHO_PROCESS: libc::c_long = 1;
    // SAFETY: ioprio_set takes integers only.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value as i32) })?;
    Ok(())
}

/// The fields of `struct sched_attr` that `sched_setattr` reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SchedAttr {
    /// `SCHED_*` policy.
    pub policy: u32,
    /// `SCHED_FLAG_*` flags.
    pub flags: u64,
    /// Nice value (`SCHED_OTHER`, `SCHED_BATCH`).
    pub nice: i32,
    /// Static priority (`SCHED_FIFO`, `SCHED_RR`).
    pub priority: u32,
    /// `SCHED_DEADLINE` runtime, in nanoseconds.
    pub runtime: u64,
    /// `SCHED_DEADLINE` deadline, in nanoseconds.
    pub deadline: u64,
    /// `SCHED_DEADLINE` period, in nanoseconds.
    pub period: u64,
}

/// `sched_setattr(0, attr, 0)`: the caller's scheduling policy.
pub fn sched_setattr_self(attr: &SchedAttr) -> io::Result<()> {
    /// `struct sched_attr` as of Linux 5.3 (SCHED_ATTR_SIZE_VER1).
    #[repr(C)]
    struct Raw {
        size: u32,
        policy: u32,
        flags: u64,
        nice: i32,
        priority: u32,
        runtime: u64,
        deadline: u64,
        period: u64,
        util_min: u32,
        util_max: u32,
    }
    let raw = Raw {
        size: std::mem::size_of::<Raw>() as u32,
        policy: attr.policy,
        flags: attr.flags,
        nice: attr.nice,
        priority: attr.priority,
        runtime: attr.runtime,
        deadline: attr.deadline,
        period: attr.period,
        util_min: 0,
        util_max: 1024,
    };
    // SAFETY: the kernel reads `raw.size` bytes of a struct we own.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &raw as *const Raw, 0) })?;
    Ok(())
}

/// A set of CPUs, as `sched_setaffinity` takes it.
pub type CpuMask = [u64; 16];

/// `sched_setaffinity(0, mask)`: the CPUs the caller may run on.
pub fn sched_setaffinity_self(mask: &CpuMask) -> io::Result<()> {
    // SAFETY: the pointer and length describe `mask`.
    check(unsafe {
        libc::syscall(
            libc::SYS_sched_setaffinity,
            0,
            std::mem::size_of::<CpuMask>(),
            mask.as_ptr(),
        )
    })?;
    Ok(())
}

/// `personality(persona)`: the caller's execution domain and flags.
pub fn set_personality(persona: u64) -> io::Result<()> {
    // SAFETY: personality takes an integer; it returns the previous
    // persona, or -1 with errno.
    check(unsafe { libc::personality(persona as libc::c_ulong) })?;
    Ok(())
}

/// A set of NUMA nodes, as `set_mempolicy` takes it.
pub type NodeMask = [u64; 16];

/// `set_mempolicy(mode, nodes)`: the caller's NUMA memory policy (`mode`
/// may carry `MPOL_F_*` flags). An empty `nodes` passes no mask.
pub fn set_mempolicy(mode: i32, nodes: &NodeMask) -> io::Result<()> {
    let empty = nodes.iter().all(|&w| w == 0);
    let (ptr, maxnode) = if empty {
        (std::ptr::null(), 0)
    } else {
        // The kernel reads maxnode - 1 bits.
        (nodes.as_ptr(), nodes.len() * 64 + 1)
    };
    // SAFETY: the kernel reads at most maxnode - 1 bits from `nodes`.
    check(unsafe { libc::syscall(libc::SYS_set_mempolicy, mode, ptr, maxnode) })?;
    Ok(())
}
