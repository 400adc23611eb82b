//! Resource usage from the cgroup v2 files of the container's cgroup. The
//! files of a controller that is not enabled there are absent: their
//! counters read 0.

use super::super::stats::{
    read_flat_keyed, read_list, read_number, read_optional, BlkioEntry, BlkioStats, HugetlbStats,
    MemoryEntry, Stats,
};
use super::super::CgroupError;
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Reads the statistics of the cgroup directory `dir`.
pub(super) fn stats(dir: &Path) -> Result<Stats, CgroupError> {
    let mut stats = Stats::default();
    // cpu.stat's usage lines are the core's, present without the controller.
    let cpu = read_flat_keyed(&dir.join("cpu.stat"))?;
    let micros = |key: &str| cpu.get(key).copied().unwrap_or(0).saturating_mul(1000);
    stats.cpu.usage.total = micros("usage_usec");
    stats.cpu.usage.user = micros("user_usec");
    stats.cpu.usage.kernel = micros("system_usec");
    stats.cpu.throttling.periods = cpu.get("nr_periods").copied().unwrap_or(0);
    stats.cpu.throttling.throttled_periods = cpu.get("nr_throttled").copied().unwrap_or(0);
    stats.cpu.throttling.throttled_time = micros("throttled_usec");

    // The effective lists: cpuset.cpus is empty unless the cgroup sets one.
    stats.cpuset.cpus = read_list(&dir.join("cpuset.cpus.effective"))?;
    stats.cpuset.mems = read_list(&dir.join("cpuset.mems.effective"))?;

    let memory = &mut stats.memory;
    memory.usage = memory_entry(dir, "memory")?;
    memory.swap = memory_entry(dir, "memory.swap")?;
    memory.raw = read_flat_keyed(&dir.join("memory.stat"))?;
    memory.cache = memory.raw.get("file").copied().unwrap_or(0);

    stats.pids.current = number(dir, "pids.current")?;
    // runc's convention: 0 is "no limit".
    stats.pids.limit = match number(dir, "pids.max")? {
        u64::MAX => 0,
        n => n,
    };
    if let Some(text) = read_optional(&dir.join("io.stat"))? {
        stats.blkio = parse_io_stat(&text);
    }
    stats.hugetlb = hugetlb(dir)?;
    Ok(stats)
}

/// `<prefix>.current`, `.max`, `.peak` and the `max` count of `.events`.
fn memory_entry(dir: &Path, prefix: &str) -> Result<MemoryEntry, CgroupError> {
    let events = read_flat_keyed(&dir.join(format!("{prefix}.events")))?;
    Ok(MemoryEntry {
        limit: number(dir, &format!("{prefix}.max"))?,
        usage: number(dir, &format!("{prefix}.current"))?,
        max: number(dir, &format!("{prefix}.peak"))?,
        failcnt: events.get("max").copied().unwrap_or(0),
    })
}

/// Parses io.stat lines such as `8:0 rbytes=4096 wbytes=0 rios=1 wios=0`.
fn parse_io_stat(text: &str) -> BlkioStats {
    let mut blkio = BlkioStats::default();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some((major, minor)) = fields.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else {
            continue;
        };
        for field in fields {
            let Some((key, value)) = field.split_once('=') else {
                continue;
            };
            let Ok(value) = value.parse() else {
                continue;
            };
            let (list, op) = match key {
                "rbytes" => (&mut blkio.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut blkio.io_service_bytes_recursive, "Write"),
                "rios" => (&mut blkio.io_serviced_recursive, "Read"),
                "wios" => (&mut blkio.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.to_owned(),
                value,
            });
        }
    }
    blkio
}

fn hugetlb(dir: &Path) -> Result<BTreeMap<String, HugetlbStats>, CgroupError> {
    let entries = fs::read_dir(dir).map_err(|source| CgroupError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut sizes = BTreeMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(size) = name
            .to_str()
            .and_then(|n| n.strip_prefix("hugetlb."))
            .and_then(|n| n.strip_suffix(".current"))
            .filter(|size| !size.contains('.'))
        else {
            continue;
        };
        let events = read_flat_keyed(&dir.join(format!("hugetlb.{size}.events")))?;
        let stats = HugetlbStats {
            usage: number(dir, &format!("hugetlb.{size}.current"))?,
            max: 0,
            failcnt: events.get("max").copied().unwrap_or(0),
        };
        sizes.insert(size.to_owned(), stats);
    }
    Ok(sizes)
}

/// A one-number file of `dir`; 0 when the kernel lacks it.
fn number(dir: &Path, file: &str) -> Result<u64, CgroupError> {
    Ok(read_number(&dir.join(file))?.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_stat_lines_parse() {
        let blkio = parse_io_stat(
            "8:0 rbytes=4096 wbytes=512 rios=1 wios=2 dbytes=0 dios=0\nbad\n254:0 rbytes=1\n",
        );
        let ops: Vec<(u64, &str, u64)> = blkio
            .io_service_bytes_recursive
            .iter()
            .map(|e| (e.major, e.op.as_str(), e.value))
            .collect();
        assert_eq!(
            ops,
            [(8, "Read", 4096), (8, "Write", 512), (254, "Read", 1)]
        );
        assert_eq!(blkio.io_serviced_recursive.len(), 2);
    }
}
