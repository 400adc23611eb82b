//! The container's resource usage ([`Stats`]), in the JSON shape that
//! `runc events --stats` prints as its `data` (engines parse it), filled by
//! each driver from its own control files. A controller the container did
//! not join, or a counter the kernel lacks, stays 0 or empty.

use super::control::read_control;
use super::CgroupError;
use crate::cpulist::CpuList;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Resource usage of a container's cgroup.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// CPU time.
    pub cpu: CpuStats,
    /// The CPUs and memory nodes the container may use.
    pub cpuset: CpusetStats,
    /// Memory use and limits.
    pub memory: MemoryStats,
    /// Task count.
    pub pids: PidsStats,
    /// Block I/O done.
    pub blkio: BlkioStats,
    /// Huge page use per page size (`2MB`…).
    pub hugetlb: BTreeMap<String, HugetlbStats>,
}

/// CPU time used and throttling suffered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CpuStats {
    /// Time used.
    pub usage: CpuUsage,
    /// Bandwidth throttling.
    pub throttling: Throttling,
}

/// CPU time, in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CpuUsage {
    /// All CPU time.
    pub total: u64,
    /// Per CPU (cgroup v1 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    /// Kernel time per CPU (cgroup v1 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    /// User time per CPU (cgroup v1 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    /// Time in the kernel.
    pub kernel: u64,
    /// Time in user space.
    pub user: u64,
}

/// CFS bandwidth throttling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Throttling {
    /// Enforcement periods elapsed.
    pub periods: u64,
    /// Periods in which the cgroup was throttled.
    #[serde(rename = "throttledPeriods")]
    pub throttled_periods: u64,
    /// Total time throttled, in nanoseconds.
    #[serde(rename = "throttledTime")]
    pub throttled_time: u64,
}

/// The cpuset of the cgroup: the lists expanded (`0-2` as `[0, 1, 2]`)
/// and, on cgroup v1, its flags (which cgroup v2 does not have: they read
/// 0 there, and the lists are the effective ones).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CpusetStats {
    /// The CPUs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u16>,
    /// `cpuset.cpu_exclusive`.
    pub cpu_exclusive: u64,
    /// The memory nodes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mems: Vec<u16>,
    /// `cpuset.mem_hardwall`.
    pub mem_hardwall: u64,
    /// `cpuset.mem_exclusive`.
    pub mem_exclusive: u64,
    /// `cpuset.memory_migrate`.
    pub memory_migrate: u64,
    /// `cpuset.memory_spread_page`.
    pub memory_spread_page: u64,
    /// `cpuset.memory_spread_slab`.
    pub memory_spread_slab: u64,
    /// `cpuset.memory_pressure`.
    pub memory_pressure: u64,
    /// `cpuset.sched_load_balance`.
    pub sched_load_balance: u64,
    /// `cpuset.sched_relax_domain_level` (-1: the system's default).
    pub sched_relax_domain_level: i64,
}

/// Memory use and limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemoryStats {
    /// Page cache, in bytes.
    pub cache: u64,
    /// Memory.
    pub usage: MemoryEntry,
    /// Memory plus swap on cgroup v1, swap alone on cgroup v2.
    pub swap: MemoryEntry,
    /// Kernel memory (cgroup v1 only).
    pub kernel: MemoryEntry,
    /// Kernel TCP buffers (cgroup v1 only).
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    /// Every counter of `memory.stat`.
    pub raw: BTreeMap<String, u64>,
}

/// One memory counter, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MemoryEntry {
    /// The limit; `u64::MAX` when unlimited.
    pub limit: u64,
    /// Current use.
    pub usage: u64,
    /// Highest use seen.
    pub max: u64,
    /// How many times the limit was hit.
    pub failcnt: u64,
}

/// Task count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PidsStats {
    /// Tasks now.
    pub current: u64,
    /// The limit; 0 when unlimited.
    pub limit: u64,
}

/// Block I/O per device and operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlkioStats {
    /// Bytes transferred.
    #[serde(rename = "ioServiceBytesRecursive")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    /// Operations done.
    #[serde(rename = "ioServicedRecursive")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

/// One counter of one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlkioEntry {
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// `Read`, `Write`, `Sync`, `Async`, `Discard` or `Total`.
    pub op: String,
    /// The count.
    pub value: u64,
}

/// Huge page use of one page size, in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HugetlbStats {
    /// Current use.
    pub usage: u64,
    /// Highest use seen (cgroup v1 only).
    pub max: u64,
    /// How many times the limit was hit.
    pub failcnt: u64,
}

/// Reads a control file holding one number; `max` reads as `u64::MAX`.
/// `Ok(None)` when the kernel lacks the file.
pub(crate) fn read_number(path: &Path) -> Result<Option<u64>, CgroupError> {
    let text = match read_optional(path)? {
        Some(text) => text,
        None => return Ok(None),
    };
    parse_number(text.trim_end())
        .map(Some)
        .ok_or_else(|| CgroupError::Parse {
            path: path.to_owned(),
            reason: format!("{:?} is not a number", text.trim_end()),
        })
}

/// A number, or `max` for no limit.
pub(crate) fn parse_number(text: &str) -> Option<u64> {
    match text {
        "max" => Some(u64::MAX),
        _ => text.parse().ok(),
    }
}

/// Reads a CPU or memory-node list file, expanded; empty when the kernel
/// lacks the file.
pub(crate) fn read_list(path: &Path) -> Result<Vec<u16>, CgroupError> {
    let Some(text) = read_optional(path)? else {
        return Ok(Vec::new());
    };
    let list = CpuList::parse(text.trim_end()).map_err(|e| CgroupError::Parse {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(list.numbers().collect())
}

/// Reads a control file of `key value` lines into a map; empty when the
/// kernel lacks the file. Lines that are not `key number` are skipped.
pub(crate) fn read_flat_keyed(path: &Path) -> Result<BTreeMap<String, u64>, CgroupError> {
    Ok(read_optional(path)?
        .map(|text| parse_flat_keyed(&text))
        .unwrap_or_default())
}

/// Parses `key value` lines.
pub(crate) fn parse_flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            Some((key.to_owned(), parse_number(value.trim())?))
        })
        .collect()
}

/// Reads a control file; `None` when it does not exist, or no longer: a
/// file of a cgroup removed while it is read (systemd removes a scope once
/// its last process has left) fails with `ENODEV`.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, CgroupError> {
    match read_control(path) {
        Ok(text) => Ok(Some(text)),
        Err(CgroupError::Read { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound
                || source.raw_os_error() == Some(libc::ENODEV) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_keyed_files_parse() {
        let map = parse_flat_keyed("cache 4096\nrss 0\nbad line x\nlimit max\n");
        assert_eq!(map["cache"], 4096);
        assert_eq!(map["limit"], u64::MAX);
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn json_has_the_names_engines_read() {
        let mut stats = Stats::default();
        stats.hugetlb.insert("2MB".into(), HugetlbStats::default());
        stats.blkio.io_service_bytes_recursive.push(BlkioEntry {
            major: 8,
            minor: 0,
            op: "Read".into(),
            value: 1,
        });
        let json = serde_json::to_value(&stats).unwrap();
        assert_eq!(json["cpu"]["throttling"]["throttledPeriods"], 0);
        assert_eq!(json["memory"]["kernelTCP"]["failcnt"], 0);
        assert_eq!(json["memory"]["usage"]["limit"], 0);
        assert_eq!(json["pids"]["current"], 0);
        assert_eq!(
            json["blkio"]["ioServiceBytesRecursive"][0]["op"],
            serde_json::json!("Read")
        );
        assert_eq!(json["hugetlb"]["2MB"]["failcnt"], 0);
        assert!(json["cpu"]["usage"].get("percpu").is_none());
        // runc's names and order; empty lists are left out.
        let text = serde_json::to_string(&stats).unwrap();
        let at = |key: &str| text.find(&format!(r#""{key}":{{"#)).unwrap();
        assert!(
            at("cpu") < at("cpuset") && at("cpuset") < at("memory"),
            "{text}"
        );
        assert_eq!(json["cpuset"]["sched_relax_domain_level"], 0);
        assert!(json["cpuset"].get("cpus").is_none());
    }
}
