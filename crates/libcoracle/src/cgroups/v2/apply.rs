//! The container's resources as cgroup v2 files: which controllers they
//! need, the values translated from the specification's (cgroup v1) units,
//! and the writes.

use super::super::control::{read_control, Setting};
use super::super::resources::{
    BlockIoPlan, CpuPlan, DeviceNumber, Limit, MemoryPlan, ResourcePlan,
};
use super::super::stats::parse_number;
use super::super::CgroupError;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

/// The controllers `resources` need, each with the field that needs it.
pub(super) fn controllers_used(resources: &ResourcePlan) -> Vec<(String, String)> {
    let c = &resources.cpu;
    let b = &resources.block_io;
    let uses = [
        (
            c.shares.is_some()
                || c.quota.is_some()
                || c.period.is_some()
                || c.burst.is_some()
                || c.idle.is_some(),
            "cpu",
            "linux.resources.cpu",
        ),
        (
            resources.uses_cpuset(),
            "cpuset",
            "linux.resources.cpu.cpus and mems",
        ),
        (resources.uses_memory(), "memory", "linux.resources.memory"),
        (resources.pids.is_some(), "pids", "linux.resources.pids"),
        (!b.is_empty(), "io", "linux.resources.blockIO"),
        (
            !resources.hugepages.is_empty(),
            "hugetlb",
            "linux.resources.hugepageLimits",
        ),
        (!resources.rdma.is_empty(), "rdma", "linux.resources.rdma"),
    ];
    let mut used: Vec<(String, String)> = uses
        .iter()
        .filter(|(used, _, _)| *used)
        .map(|(_, controller, field)| (controller.to_string(), field.to_string()))
        .collect();
    for (key, _) in &resources.unified {
        // `io.max` belongs to io; `cgroup.*` files are the core's own.
        let controller = key.split('.').next().unwrap_or(key);
        if controller != "cgroup" && !used.iter().any(|(c, _)| c == controller) {
            used.push((
                controller.to_owned(),
                format!("linux.resources.unified.{key}"),
            ));
        }
    }
    used
}

/// Refuses what cgroup v2 cannot do, rather than running the container
/// without it. Values that ask for the v2 behaviour anyway (unlimited kernel
/// memory, the OOM killer on, hierarchical accounting) pass.
pub(crate) fn reject_v1_only(resources: &ResourcePlan) -> Result<(), CgroupError> {
    let m = &resources.memory;
    let c = &resources.cpu;
    let limited = |l: Option<Limit>| matches!(l, Some(Limit::Value(_)));
    let v1_only = [
        (
            limited(m.kernel),
            "linux.resources.memory.kernel",
            "cgroup v2 has no kernel memory limit (kernel memory counts in memory.max)",
        ),
        (
            limited(m.kernel_tcp),
            "linux.resources.memory.kernelTCP",
            "cgroup v2 has no kernel TCP buffer limit",
        ),
        (
            m.swappiness.is_some(),
            "linux.resources.memory.swappiness",
            "cgroup v2 has no per-cgroup swappiness",
        ),
        (
            m.disable_oom_killer == Some(true),
            "linux.resources.memory.disableOOMKiller",
            "cgroup v2 cannot disable the OOM killer",
        ),
        (
            m.use_hierarchy == Some(false),
            "linux.resources.memory.useHierarchy",
            "cgroup v2 accounting is always hierarchical",
        ),
        (
            c.realtime_runtime.is_some() || c.realtime_period.is_some(),
            "linux.resources.cpu.realtimeRuntime and realtimePeriod",
            "cgroup v2 has no real-time CPU bandwidth",
        ),
        (
            resources.block_io.leaf_weight.is_some()
                || resources
                    .block_io
                    .weight_devices
                    .iter()
                    .any(|d| d.leaf_weight.is_some()),
            "linux.resources.blockIO leaf weights",
            "cgroup v2 has no leaf weights",
        ),
        (
            resources.network.class_id.is_some() || !resources.network.priorities.is_empty(),
            "linux.resources.network",
            "net_cls and net_prio are cgroup v1 controllers; cgroup v2 has none",
        ),
    ];
    match v1_only.iter().find(|(asked, _, _)| *asked) {
        Some((_, field, reason)) => Err(CgroupError::Invalid {
            field: (*field).into(),
            reason: (*reason).into(),
        }),
        None => Ok(()),
    }
}

/// Writes the resources into the cgroup directory `dir`; `live` for the
/// cgroup of a running container (an update).
pub(super) fn apply(dir: &Path, r: &ResourcePlan, live: bool) -> Result<(), CgroupError> {
    apply_cpu(dir, &r.cpu)?;
    apply_memory(dir, &r.memory, live)?;
    if let Some(limit) = r.pids {
        Setting::new("pids.max", v2_limit(limit), "linux.resources.pids.limit").apply(dir)?;
    }
    apply_io(dir, &r.block_io)?;
    for limit in &r.hugepages {
        const FIELD: &str = "linux.resources.hugepageLimits";
        let value = limit.limit.to_string();
        let file = format!("hugetlb.{}.max", limit.size);
        Setting::new(file, value.clone(), FIELD).apply(dir)?;
        let rsvd = format!("hugetlb.{}.rsvd.max", limit.size);
        Setting::new(rsvd, value, FIELD).apply_if_present(dir)?;
    }
    for limit in &r.rdma {
        Setting::new("rdma.max", limit.line(), "linux.resources.rdma").apply(dir)?;
    }
    // Last: the verbatim files override the translations.
    for (key, value) in &r.unified {
        write_unified(dir, key, value)?;
    }
    Ok(())
}

fn apply_cpu(dir: &Path, c: &CpuPlan) -> Result<(), CgroupError> {
    if let Some(shares) = c.shares {
        let field = "linux.resources.cpu.shares";
        Setting::new("cpu.weight", cpu_weight(shares).to_string(), field).apply(dir)?;
    }
    let max = match (c.quota, c.period) {
        (None, None) => None,
        (Some(quota), None) => Some(v2_limit(quota)),
        (quota, Some(period)) => {
            // cpu.max holds both; keep the quota there when none is given.
            let quota = match quota {
                Some(quota) => v2_limit(quota),
                None => current_first_field(dir, "cpu.max")?,
            };
            Some(format!("{quota} {period}"))
        }
    };
    let settings = [
        max.map(|max| Setting::new("cpu.max", max, "linux.resources.cpu.quota and period")),
        // After cpu.max, which bounds it.
        c.burst
            .map(|b| Setting::new("cpu.max.burst", b.to_string(), "linux.resources.cpu.burst")),
        c.idle
            .map(|i| Setting::new("cpu.idle", i.to_string(), "linux.resources.cpu.idle")),
        c.cpus
            .clone()
            .map(|v| Setting::new("cpuset.cpus", v, "linux.resources.cpu.cpus")),
        c.mems
            .clone()
            .map(|v| Setting::new("cpuset.mems", v, "linux.resources.cpu.mems")),
    ];
    settings
        .into_iter()
        .flatten()
        .try_for_each(|s| s.apply(dir))
}

/// cpu.shares (2 to 262144, default 1024) as cpu.weight (1 to 10000,
/// default 100), the linear map between the two ranges.
pub(crate) fn cpu_weight(shares: u64) -> u64 {
    let shares = shares.clamp(2, 262_144);
    1 + ((shares - 2) * 9999) / 262_142
}

/// A blkio weight (10 to 1000) as an io.weight (1 to 10000).
pub(crate) fn io_weight(weight: u16) -> u64 {
    1 + (u64::from(weight.max(10)) - 10) * 9999 / 990
}

fn apply_memory(dir: &Path, m: &MemoryPlan, live: bool) -> Result<(), CgroupError> {
    if let (true, true, Some(Limit::Value(limit))) = (live, m.check_before_update, m.limit) {
        let current = current_number(dir, "memory.current")?;
        if limit < current {
            return Err(CgroupError::Invalid {
                field: "linux.resources.memory.limit".into(),
                reason: format!(
                    "{limit} is below the current use of {current} bytes (checkBeforeUpdate)"
                ),
            });
        }
    }
    let settings = [
        m.limit
            .map(|l| Setting::new("memory.max", v2_limit(l), "linux.resources.memory.limit")),
        m.reservation.map(|l| {
            let field = "linux.resources.memory.reservation";
            Setting::new("memory.low", v2_limit(l), field)
        }),
    ];
    settings
        .into_iter()
        .flatten()
        .try_for_each(|s| s.apply(dir))?;
    if let Some(swap) = m.swap {
        let value = swap_max(dir, swap, m.limit)?;
        Setting::new("memory.swap.max", value, "linux.resources.memory.swap").apply(dir)?;
    } else if m.lifts_swap_too() {
        // Without swap accounting (no memory.swap.max) nothing to lift.
        let field = "linux.resources.memory.limit";
        Setting::new("memory.swap.max", "max".into(), field).apply_if_present(dir)?;
    }
    Ok(())
}

/// memory.swap.max from the specification's memory+swap limit: the part
/// above the memory limit (the cgroup's current one when the update sets
/// none).
fn swap_max(dir: &Path, swap: Limit, limit: Option<Limit>) -> Result<String, CgroupError> {
    const FIELD: &str = "linux.resources.memory.swap";
    let Limit::Value(swap) = swap else {
        return Ok("max".into());
    };
    let limit = match limit {
        Some(Limit::Value(limit)) => limit,
        Some(Limit::Unlimited) => u64::MAX,
        None => current_number(dir, "memory.max")?,
    };
    match swap.checked_sub(limit) {
        Some(swap_only) => Ok(swap_only.to_string()),
        None if limit == u64::MAX => Err(CgroupError::Invalid {
            field: FIELD.into(),
            reason: "a memory+swap limit needs a memory limit, and the cgroup has none".into(),
        }),
        None => Err(CgroupError::Invalid {
            field: FIELD.into(),
            reason: format!(
                "{swap} is below the memory limit {limit} (swap is the limit of memory plus swap)"
            ),
        }),
    }
}

fn apply_io(dir: &Path, b: &BlockIoPlan) -> Result<(), CgroupError> {
    const WEIGHT: &str = "linux.resources.blockIO.weight";
    // io.weight is io.cost's (1 to 10000); BFQ has io.bfq.weight in the blkio
    // range (1 to 1000).
    if let Some(weight) = b.weight {
        write_weight(dir, None, weight, WEIGHT)?;
    }
    for device in &b.weight_devices {
        if let Some(weight) = device.weight {
            let field = "linux.resources.blockIO.weightDevice";
            write_weight(dir, Some(device.device), weight, field)?;
        }
    }
    for line in io_max_lines(b) {
        Setting::new("io.max", line, "linux.resources.blockIO throttles").apply(dir)?;
    }
    Ok(())
}

fn write_weight(
    dir: &Path,
    device: Option<DeviceNumber>,
    weight: u16,
    field: &'static str,
) -> Result<(), CgroupError> {
    let prefix = device.map_or_else(String::new, |d| format!("{d} "));
    let io_cost = Setting::new("io.weight", format!("{prefix}{}", io_weight(weight)), field);
    let bfq = Setting::new("io.bfq.weight", format!("{prefix}{weight}"), field);
    match io_cost.apply_if_present(dir) {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        // A device's weight takes only where the device runs that policy:
        // one not under io.cost may be under BFQ.
        Err(err) if device.is_some() && unsupported(&err) => {
            return match bfq.apply_if_present(dir) {
                Ok(true) => Ok(()),
                _ => Err(err),
            };
        }
        Err(err) => return Err(err),
    }
    match bfq.apply_if_present(dir)? {
        true => Ok(()),
        false => Err(CgroupError::MissingFile {
            field,
            path: dir.join("io.weight"),
        }),
    }
}

/// Whether the kernel refused a write as unsupported (`EOPNOTSUPP`).
fn unsupported(err: &CgroupError) -> bool {
    matches!(err, CgroupError::Refused { source, .. } if source.raw_os_error() == Some(libc::EOPNOTSUPP))
}

/// One io.max line per device, such as `8:0 rbps=1048576 wiops=120`; a rate
/// of 0 lifts the limit, as it does on cgroup v1.
pub(super) fn io_max_lines(b: &BlockIoPlan) -> Vec<String> {
    let mut devices: BTreeMap<DeviceNumber, String> = BTreeMap::new();
    for (key, rates) in [
        ("rbps", &b.read_bps),
        ("wbps", &b.write_bps),
        ("riops", &b.read_iops),
        ("wiops", &b.write_iops),
    ] {
        for rate in rates {
            let value = match rate.rate {
                0 => "max".to_owned(),
                n => n.to_string(),
            };
            let line = devices
                .entry(rate.device)
                .or_insert_with(|| rate.device.to_string());
            line.push_str(&format!(" {key}={value}"));
        }
    }
    devices.into_values().collect()
}

/// Writes a `linux.resources.unified` value; the file must exist.
fn write_unified(dir: &Path, key: &str, value: &str) -> Result<(), CgroupError> {
    let path = dir.join(key);
    super::super::control::write_control(&path, value).map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            CgroupError::Invalid {
                field: format!("linux.resources.unified.{key}"),
                reason: format!("the kernel has no {}", path.display()),
            }
        } else {
            CgroupError::Refused {
                field: format!("linux.resources.unified.{key}"),
                path,
                value: value.to_owned(),
                source,
            }
        }
    })
}

/// A limit as cgroup v2 files spell it.
fn v2_limit(limit: Limit) -> String {
    match limit {
        Limit::Unlimited => "max".to_owned(),
        Limit::Value(n) => n.to_string(),
    }
}

/// The number in a one-number file (`max` as `u64::MAX`).
fn current_number(dir: &Path, file: &str) -> Result<u64, CgroupError> {
    let path = dir.join(file);
    let text = read_control(&path)?;
    parse_number(text.trim_end()).ok_or_else(|| CgroupError::Parse {
        path,
        reason: format!("{:?} is not a number", text.trim_end()),
    })
}

/// The first field of a file such as cpu.max (`max 100000`).
fn current_first_field(dir: &Path, file: &str) -> Result<String, CgroupError> {
    let text = read_control(&dir.join(file))?;
    Ok(text.split_whitespace().next().unwrap_or("max").to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec;

    fn plan(json: &str) -> ResourcePlan {
        let resources: spec::Resources = serde_json::from_str(json).unwrap();
        ResourcePlan::from_spec(&resources).unwrap()
    }

    #[test]
    fn rdma_limits_are_applied_as_features_says() {
        let used = controllers_used(&plan(r#"{"rdma":{"mlx4_0":{"hcaHandles":2}}}"#));
        let rdma = used.iter().any(|(c, _)| c == "rdma");
        assert_eq!(rdma, crate::cgroups::SUPPORT.rdma);
    }

    #[test]
    fn weights_map_onto_the_v2_ranges() {
        assert_eq!(cpu_weight(2), 1);
        assert_eq!(cpu_weight(1024), 39);
        assert_eq!(cpu_weight(262_144), 10_000);
        assert_eq!(cpu_weight(0), 1);
        assert_eq!(cpu_weight(1 << 20), 10_000);
        assert_eq!(io_weight(10), 1);
        assert_eq!(io_weight(500), 4950);
        assert_eq!(io_weight(1000), 10_000);
    }

    #[test]
    fn io_max_merges_the_limits_of_a_device() {
        let p = plan(
            r#"{"blockIO":{"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],
                "throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":120},
                                           {"major":253,"minor":1,"rate":0}]}}"#,
        );
        assert_eq!(
            io_max_lines(&p.block_io),
            ["8:0 rbps=1048576 wiops=120", "253:1 wiops=max"]
        );
    }

    #[test]
    fn controllers_follow_the_resources_and_unified_keys() {
        let p = plan(
            r#"{"cpu":{"shares":512,"cpus":"0"},"pids":{"limit":3},
                "unified":{"io.max":"8:0 rbps=1","cgroup.freeze":"0","memory.high":"1"}}"#,
        );
        let names: Vec<String> = controllers_used(&p).into_iter().map(|(c, _)| c).collect();
        assert_eq!(names, ["cpu", "cpuset", "pids", "io", "memory"]);
        assert!(controllers_used(&plan(r#"{"devices":[{"allow":false}]}"#)).is_empty());
    }

    #[test]
    fn v1_only_fields_are_refused() {
        let err = |json: &str| reject_v1_only(&plan(json)).unwrap_err().to_string();
        assert!(
            err(r#"{"memory":{"kernel":1048576}}"#).starts_with("linux.resources.memory.kernel: ")
        );
        assert!(err(r#"{"memory":{"swappiness":0}}"#)
            .starts_with("linux.resources.memory.swappiness: "));
        assert!(
            err(r#"{"cpu":{"realtimeRuntime":1000}}"#).starts_with("linux.resources.cpu.realtime")
        );
        assert!(err(r#"{"network":{"classID":1}}"#).starts_with("linux.resources.network: "));
        assert!(
            err(r#"{"blockIO":{"leafWeight":100}}"#).starts_with("linux.resources.blockIO leaf")
        );
        // What v2 does anyway passes.
        reject_v1_only(&plan(
            r#"{"memory":{"kernel":-1,"kernelTCP":-1,"disableOOMKiller":false,"useHierarchy":true}}"#,
        ))
        .unwrap();
    }

    #[test]
    fn swap_is_the_part_above_the_memory_limit() {
        let dir = Path::new("/nonexistent");
        let value = |swap, limit| swap_max(dir, swap, Some(limit));
        assert_eq!(value(Limit::Value(300), Limit::Value(100)).unwrap(), "200");
        assert_eq!(value(Limit::Value(100), Limit::Value(100)).unwrap(), "0");
        assert_eq!(value(Limit::Unlimited, Limit::Value(100)).unwrap(), "max");
        assert!(value(Limit::Value(100), Limit::Unlimited).is_err());
    }
}
