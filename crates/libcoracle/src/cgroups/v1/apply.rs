//! Writing the container's resources into its cgroup v1 directories, one
//! hierarchy at a time, each file only when the configuration asks for it.

use super::super::control::{set_pair, write, Setting};
use super::super::devices::{effective_rules, DeviceRule};
use super::super::resources::{CpuPlan, Limit, MemoryPlan, ResourcePlan};
use super::super::CgroupError;
use std::path::Path;

/// Writes the resources of the controllers of one hierarchy into `dir`.
pub(super) fn apply(
    dir: &Path,
    controllers: &[String],
    resources: &ResourcePlan,
) -> Result<(), CgroupError> {
    for controller in controllers {
        match controller.as_str() {
            "memory" => apply_memory(dir, &resources.memory)?,
            "cpu" => apply_cpu(dir, &resources.cpu)?,
            "cpuset" => apply_cpuset(dir, &resources.cpu)?,
            "devices" => {
                if let Some(rules) = &resources.devices {
                    apply_devices(dir, rules)?;
                }
            }
            "pids" => {
                if let Some(limit) = resources.pids {
                    let value = match limit {
                        Limit::Unlimited => "max".to_owned(),
                        Limit::Value(n) => n.to_string(),
                    };
                    Setting::new("pids.max", value, "linux.resources.pids.limit").apply(dir)?;
                }
            }
            _ => {} // joined for its own sake (freezer) or co-mounted
        }
    }
    Ok(())
}

pub(super) fn apply_memory(dir: &Path, m: &MemoryPlan) -> Result<(), CgroupError> {
    let setting =
        |file, limit: Option<Limit>, field| limit.map(|l| Setting::new(file, v1_limit(l), field));
    // The kernel keeps memory <= memory+swap at every write.
    set_pair(
        dir,
        setting(
            "memory.limit_in_bytes",
            m.limit,
            "linux.resources.memory.limit",
        ),
        setting(
            "memory.memsw.limit_in_bytes",
            m.swap,
            "linux.resources.memory.swap",
        ),
    )?;
    let flag = |b: bool| if b { "1" } else { "0" }.to_owned();
    let rest = [
        setting(
            "memory.soft_limit_in_bytes",
            m.reservation,
            "linux.resources.memory.reservation",
        ),
        setting(
            "memory.kmem.limit_in_bytes",
            m.kernel,
            "linux.resources.memory.kernel",
        ),
        setting(
            "memory.kmem.tcp.limit_in_bytes",
            m.kernel_tcp,
            "linux.resources.memory.kernelTCP",
        ),
        m.swappiness.map(|s| {
            Setting::new(
                "memory.swappiness",
                s.to_string(),
                "linux.resources.memory.swappiness",
            )
        }),
        // Written even when false: a new cgroup inherits its parent's setting.
        m.disable_oom_killer.map(|d| {
            Setting::new(
                "memory.oom_control",
                flag(d),
                "linux.resources.memory.disableOOMKiller",
            )
        }),
        m.use_hierarchy.map(|u| {
            Setting::new(
                "memory.use_hierarchy",
                flag(u),
                "linux.resources.memory.useHierarchy",
            )
        }),
    ];
    rest.into_iter().flatten().try_for_each(|s| s.apply(dir))
}

fn apply_cpu(dir: &Path, c: &CpuPlan) -> Result<(), CgroupError> {
    let number =
        |file, value: Option<u64>, field| value.map(|v| Setting::new(file, v.to_string(), field));
    let limit =
        |file, value: Option<Limit>, field| value.map(|v| Setting::new(file, v1_limit(v), field));
    // The kernel checks quota against period (and the parent's bandwidth).
    set_pair(
        dir,
        number("cpu.cfs_period_us", c.period, "linux.resources.cpu.period"),
        limit("cpu.cfs_quota_us", c.quota, "linux.resources.cpu.quota"),
    )?;
    // The kernel keeps runtime <= period.
    set_pair(
        dir,
        number(
            "cpu.rt_period_us",
            c.realtime_period,
            "linux.resources.cpu.realtimePeriod",
        ),
        limit(
            "cpu.rt_runtime_us",
            c.realtime_runtime,
            "linux.resources.cpu.realtimeRuntime",
        ),
    )?;
    let rest = [
        // After the quota, which bounds it.
        number("cpu.cfs_burst_us", c.burst, "linux.resources.cpu.burst"),
        number("cpu.shares", c.shares, "linux.resources.cpu.shares"),
        c.idle
            .map(|i| Setting::new("cpu.idle", i.to_string(), "linux.resources.cpu.idle")),
    ];
    rest.into_iter().flatten().try_for_each(|s| s.apply(dir))
}

fn apply_cpuset(dir: &Path, c: &CpuPlan) -> Result<(), CgroupError> {
    let list =
        |file, value: &Option<String>, field| value.clone().map(|v| Setting::new(file, v, field));
    let settings = [
        list("cpuset.cpus", &c.cpus, "linux.resources.cpu.cpus"),
        list("cpuset.mems", &c.mems, "linux.resources.cpu.mems"),
    ];
    settings
        .into_iter()
        .flatten()
        .try_for_each(|s| s.apply(dir))
}

/// Denies every device, then writes the rules in order (each to
/// `devices.allow` or `devices.deny`), the default devices last.
fn apply_devices(dir: &Path, rules: &[DeviceRule]) -> Result<(), CgroupError> {
    let allow = dir.join("devices.allow");
    let deny = dir.join("devices.deny");
    write(&deny, "a")?;
    for rule in effective_rules(rules) {
        let file = if rule.allow { &allow } else { &deny };
        for line in rule.v1_lines() {
            write(file, &line)?;
        }
    }
    Ok(())
}

/// A limit as cgroup v1 memory and cpu files spell it.
fn v1_limit(limit: Limit) -> String {
    match limit {
        Limit::Unlimited => "-1".to_owned(),
        Limit::Value(n) => n.to_string(),
    }
}
