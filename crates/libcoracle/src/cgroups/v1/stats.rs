//! Resource usage from the cgroup v1 control files of the joined
//! hierarchies.

use super::super::stats::{
    read_flat_keyed, read_list, read_number, read_optional, BlkioEntry, BlkioStats, CpuStats,
    CpusetStats, HugetlbStats, MemoryEntry, MemoryStats, PidsStats, Stats,
};
use super::super::CgroupError;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Nanoseconds per `USER_HZ` tick of `cpuacct.stat` (100 Hz on Linux).
const NANOS_PER_TICK: u64 = 10_000_000;

/// Fills the part of `stats` that the hierarchy of `controller`, joined at
/// `dir`, holds.
pub(super) fn add_stats(
    controller: &str,
    dir: &Path,
    stats: &mut Stats,
) -> Result<(), CgroupError> {
    match controller {
        "cpuacct" => cpuacct(dir, &mut stats.cpu),
        "cpu" => {
            let stat = read_flat_keyed(&dir.join("cpu.stat"))?;
            let throttling = &mut stats.cpu.throttling;
            throttling.periods = stat.get("nr_periods").copied().unwrap_or(0);
            throttling.throttled_periods = stat.get("nr_throttled").copied().unwrap_or(0);
            throttling.throttled_time = stat.get("throttled_time").copied().unwrap_or(0);
            Ok(())
        }
        "cpuset" => cpuset(dir, &mut stats.cpuset),
        "memory" => memory(dir, &mut stats.memory),
        "pids" => {
            stats.pids = PidsStats {
                current: number(dir, "pids.current")?,
                // runc's convention: 0 is "no limit".
                limit: match number(dir, "pids.max")? {
                    u64::MAX => 0,
                    n => n,
                },
            };
            Ok(())
        }
        "blkio" => blkio(dir, &mut stats.blkio),
        "hugetlb" => hugetlb(dir, &mut stats.hugetlb),
        _ => Ok(()),
    }
}

fn cpuacct(dir: &Path, cpu: &mut CpuStats) -> Result<(), CgroupError> {
    let usage = &mut cpu.usage;
    usage.total = number(dir, "cpuacct.usage")?;
    usage.percpu = numbers(dir, "cpuacct.usage_percpu")?;
    usage.percpu_kernel = numbers(dir, "cpuacct.usage_percpu_sys")?;
    usage.percpu_user = numbers(dir, "cpuacct.usage_percpu_user")?;
    match (
        read_number(&dir.join("cpuacct.usage_sys"))?,
        read_number(&dir.join("cpuacct.usage_user"))?,
    ) {
        (Some(kernel), Some(user)) => (usage.kernel, usage.user) = (kernel, user),
        _ => {
            let stat = read_flat_keyed(&dir.join("cpuacct.stat"))?;
            let ticks = |key: &str| stat.get(key).copied().unwrap_or(0) * NANOS_PER_TICK;
            (usage.kernel, usage.user) = (ticks("system"), ticks("user"));
        }
    }
    Ok(())
}

fn cpuset(dir: &Path, cpuset: &mut CpusetStats) -> Result<(), CgroupError> {
    cpuset.cpus = read_list(&dir.join("cpuset.cpus"))?;
    cpuset.mems = read_list(&dir.join("cpuset.mems"))?;
    let flag = |name: &str| number(dir, &format!("cpuset.{name}"));
    cpuset.cpu_exclusive = flag("cpu_exclusive")?;
    cpuset.mem_exclusive = flag("mem_exclusive")?;
    cpuset.mem_hardwall = flag("mem_hardwall")?;
    cpuset.memory_migrate = flag("memory_migrate")?;
    cpuset.memory_spread_page = flag("memory_spread_page")?;
    cpuset.memory_spread_slab = flag("memory_spread_slab")?;
    cpuset.memory_pressure = flag("memory_pressure")?;
    cpuset.sched_load_balance = flag("sched_load_balance")?;
    // The one signed value: -1 is the system's default.
    let level = dir.join("cpuset.sched_relax_domain_level");
    if let Some(text) = read_optional(&level)? {
        cpuset.sched_relax_domain_level = text.trim().parse().map_err(|_| CgroupError::Parse {
            path: level,
            reason: format!("{:?} is not a number", text.trim()),
        })?;
    }
    Ok(())
}

fn memory(dir: &Path, memory: &mut MemoryStats) -> Result<(), CgroupError> {
    memory.usage = memory_entry(dir, "memory")?;
    memory.swap = memory_entry(dir, "memory.memsw")?;
    memory.kernel = memory_entry(dir, "memory.kmem")?;
    memory.kernel_tcp = memory_entry(dir, "memory.kmem.tcp")?;
    memory.raw = read_flat_keyed(&dir.join("memory.stat"))?;
    memory.cache = ["total_cache", "cache"]
        .iter()
        .find_map(|key| memory.raw.get(*key).copied())
        .unwrap_or(0);
    Ok(())
}

/// The four counters of `<prefix>.usage_in_bytes` and its siblings.
fn memory_entry(dir: &Path, prefix: &str) -> Result<MemoryEntry, CgroupError> {
    let counter = |name: &str| number(dir, &format!("{prefix}.{name}"));
    Ok(MemoryEntry {
        limit: counter("limit_in_bytes")?,
        usage: counter("usage_in_bytes")?,
        max: counter("max_usage_in_bytes")?,
        failcnt: counter("failcnt")?,
    })
}

fn blkio(dir: &Path, blkio: &mut BlkioStats) -> Result<(), CgroupError> {
    // CFQ's counters, else BFQ's, else those of the throttling layer, which
    // every kernel has (they count only throttled-capable I/O).
    let first = |name: &str| -> Result<Vec<BlkioEntry>, CgroupError> {
        for prefix in ["blkio", "blkio.bfq", "blkio.throttle"] {
            if let Some(text) = read_optional(&dir.join(format!("{prefix}.{name}")))? {
                return Ok(parse_blkio(&text));
            }
        }
        Ok(Vec::new())
    };
    blkio.io_service_bytes_recursive = first("io_service_bytes_recursive")?;
    blkio.io_serviced_recursive = first("io_serviced_recursive")?;
    Ok(())
}

/// Parses `8:0 Read 4096` lines (the closing `Total N` line has no device).
fn parse_blkio(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (major, minor) = fields.next()?.split_once(':')?;
            Some(BlkioEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op: fields.next()?.to_owned(),
                value: fields.next()?.parse().ok()?,
            })
        })
        .collect()
}

fn hugetlb(dir: &Path, hugetlb: &mut BTreeMap<String, HugetlbStats>) -> Result<(), CgroupError> {
    let entries = fs::read_dir(dir).map_err(|source| CgroupError::Read {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(size) = name
            .to_str()
            .and_then(|n| n.strip_prefix("hugetlb."))
            .and_then(|n| n.strip_suffix(".usage_in_bytes"))
            .filter(|size| !size.contains('.'))
        else {
            continue;
        };
        let counter = |name: &str| number(dir, &format!("hugetlb.{size}.{name}"));
        let stats = HugetlbStats {
            usage: counter("usage_in_bytes")?,
            max: counter("max_usage_in_bytes")?,
            failcnt: counter("failcnt")?,
        };
        hugetlb.insert(size.to_owned(), stats);
    }
    Ok(())
}

/// A one-number file of `dir`; 0 when the kernel lacks it.
fn number(dir: &Path, file: &str) -> Result<u64, CgroupError> {
    Ok(read_number(&dir.join(file))?.unwrap_or(0))
}

/// A file of space-separated numbers; empty when the kernel lacks it.
fn numbers(dir: &Path, file: &str) -> Result<Vec<u64>, CgroupError> {
    let path = dir.join(file);
    let Some(text) = read_optional(&path)? else {
        return Ok(Vec::new());
    };
    text.split_whitespace()
        .map(|n| {
            n.parse().map_err(|_| CgroupError::Parse {
                path: path.clone(),
                reason: format!("{n:?} is not a number"),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blkio_lines_parse() {
        let entries = parse_blkio("8:0 Read 4096\n8:0 Write 0\n254:16 Total 5\nTotal 4101\n");
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[2],
            BlkioEntry {
                major: 254,
                minor: 16,
                op: "Total".into(),
                value: 5
            }
        );
    }
}
