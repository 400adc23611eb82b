//! Writing the container's resources into its cgroup v1 directories, one
//! hierarchy at a time, each file only when the configuration asks for it.

use super::super::control::{read_control, set_pair, Setting};
use super::super::resources::{
    BlockIoPlan, CpuPlan, HugepageLimit, Limit, MemoryPlan, ResourcePlan,
};
use super::super::CgroupError;
use super::devices::apply_devices;
use std::path::Path;

/// Writes the resources of the controllers of one hierarchy into `dir`;
/// `live` for a cgroup that may hold values already: a running
/// container's (an update), or one that was there before the create.
pub(super) fn apply(
    dir: &Path,
    controllers: &[String],
    resources: &ResourcePlan,
    live: bool,
) -> Result<(), CgroupError> {
    for controller in controllers {
        match controller.as_str() {
            "memory" => apply_memory(dir, &resources.memory, live)?,
            "cpu" => apply_cpu(dir, &resources.cpu)?,
            "cpuset" => apply_cpuset(dir, &resources.cpu)?,
            "devices" => {
                if let Some(rules) = &resources.devices {
                    apply_devices(dir, rules, live)?;
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
            "blkio" => apply_block_io(dir, &resources.block_io)?,
            "hugetlb" => apply_hugepages(dir, &resources.hugepages)?,
            "net_cls" => {
                if let Some(class_id) = resources.network.class_id {
                    let value = class_id.to_string();
                    Setting::new("net_cls.classid", value, "linux.resources.network.classID")
                        .apply(dir)?;
                }
            }
            "net_prio" => {
                for (interface, priority) in &resources.network.priorities {
                    let value = format!("{interface} {priority}");
                    Setting::new(
                        "net_prio.ifpriomap",
                        value,
                        "linux.resources.network.priorities",
                    )
                    .apply(dir)?;
                }
            }
            "rdma" => {
                for limit in &resources.rdma {
                    Setting::new("rdma.max", limit.line(), "linux.resources.rdma").apply(dir)?;
                }
            }
            _ => {} // joined for its own sake (freezer) or co-mounted
        }
    }
    Ok(())
}

fn apply_memory(dir: &Path, m: &MemoryPlan, live: bool) -> Result<(), CgroupError> {
    const MEMSW: &str = "memory.memsw.limit_in_bytes";
    let setting =
        |file, limit: Option<Limit>, field| limit.map(|l| Setting::new(file, v1_limit(l), field));
    let limit = setting(
        "memory.limit_in_bytes",
        m.limit,
        "linux.resources.memory.limit",
    );
    let swap = match m.swap {
        Some(swap) => setting(MEMSW, Some(swap), "linux.resources.memory.swap"),
        // A new cgroup has no memory+swap limit to lift; without swap
        // accounting (no memsw file) no cgroup has one.
        None if live && m.lifts_swap_too() && dir.join(MEMSW).exists() => setting(
            MEMSW,
            Some(Limit::Unlimited),
            "linux.resources.memory.limit",
        ),
        None => None,
    };
    // The kernel keeps memory <= memory+swap at every write: set_pair
    // writes memory+swap first where the memory limit would be refused.
    set_pair(dir, limit, swap)?;
    let flag = |b: bool| if b { "1" } else { "0" }.to_owned();
    let rest = [
        setting(
            "memory.soft_limit_in_bytes",
            m.reservation,
            "linux.resources.memory.reservation",
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
    rest.into_iter().flatten().try_for_each(|s| s.apply(dir))?;
    m.kernel
        .map_or(Ok(()), |kernel| apply_kernel_memory(dir, kernel))
}

/// Limits kernel memory. Linux 6.1 and later keep the file but ignore what
/// is written to it, so a limit is read back: a container must not run
/// believing in a limit that does not exist.
fn apply_kernel_memory(dir: &Path, kernel: Limit) -> Result<(), CgroupError> {
    const FILE: &str = "memory.kmem.limit_in_bytes";
    const FIELD: &str = "linux.resources.memory.kernel";
    Setting::new(FILE, v1_limit(kernel), FIELD).apply(dir)?;
    let Limit::Value(limit) = kernel else {
        return Ok(());
    };
    let path = dir.join(FILE);
    let text = read_control(&path)?;
    // The kernel rounds a limit down to whole pages.
    match text.trim_end().parse::<u64>() {
        Ok(now) if now <= limit => Ok(()),
        Ok(_) => Err(CgroupError::Ignored { field: FIELD, path }),
        Err(_) => Err(CgroupError::Parse {
            path,
            reason: format!("{text:?} is not a number of bytes"),
        }),
    }
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

fn apply_block_io(dir: &Path, b: &BlockIoPlan) -> Result<(), CgroupError> {
    // CFQ names its weights blkio.weight*, BFQ blkio.bfq.weight*; the kernel
    // has whichever scheduler is in use (none at all with mq-deadline).
    if let Some(weight) = b.weight {
        let value = weight.to_string();
        let field = "linux.resources.blockIO.weight";
        apply_either(dir, ["blkio.weight", "blkio.bfq.weight"], &value, field)?;
    }
    if let Some(weight) = b.leaf_weight {
        let field = "linux.resources.blockIO.leafWeight";
        Setting::new("blkio.leaf_weight", weight.to_string(), field).apply(dir)?;
    }
    for device in &b.weight_devices {
        if let Some(weight) = device.weight {
            let value = format!("{} {weight}", device.device);
            let files = ["blkio.weight_device", "blkio.bfq.weight_device"];
            apply_either(dir, files, &value, "linux.resources.blockIO.weightDevice")?;
        }
        if let Some(weight) = device.leaf_weight {
            let value = format!("{} {weight}", device.device);
            let field = "linux.resources.blockIO.weightDevice";
            Setting::new("blkio.leaf_weight_device", value, field).apply(dir)?;
        }
    }
    let throttles = [
        (
            "read_bps_device",
            &b.read_bps,
            "linux.resources.blockIO.throttleReadBpsDevice",
        ),
        (
            "write_bps_device",
            &b.write_bps,
            "linux.resources.blockIO.throttleWriteBpsDevice",
        ),
        (
            "read_iops_device",
            &b.read_iops,
            "linux.resources.blockIO.throttleReadIOPSDevice",
        ),
        (
            "write_iops_device",
            &b.write_iops,
            "linux.resources.blockIO.throttleWriteIOPSDevice",
        ),
    ];
    for (file, rates, field) in throttles {
        for rate in rates {
            let value = format!("{} {}", rate.device, rate.rate);
            Setting::new(format!("blkio.throttle.{file}"), value, field).apply(dir)?;
        }
    }
    Ok(())
}

/// Writes `value` to `file`, or to `fallback` when the kernel lacks `file`;
/// when it lacks both, the error names `file`.
fn apply_either(
    dir: &Path,
    [file, fallback]: [&'static str; 2],
    value: &str,
    field: &'static str,
) -> Result<(), CgroupError> {
    match Setting::new(file, value.to_owned(), field).apply_if_present(dir)? {
        true => Ok(()),
        false => match Setting::new(fallback, value.to_owned(), field).apply_if_present(dir)? {
            true => Ok(()),
            false => Err(CgroupError::MissingFile {
                field,
                path: dir.join(file),
            }),
        },
    }
}

/// Limits each huge page size, and its reservations where the kernel counts
/// them (`rsvd`, Linux 5.7+), so that a limited task gets `ENOMEM` at `mmap`
/// rather than `SIGBUS` at a page fault.
fn apply_hugepages(dir: &Path, limits: &[HugepageLimit]) -> Result<(), CgroupError> {
    const FIELD: &str = "linux.resources.hugepageLimits";
    for limit in limits {
        let value = limit.limit.to_string();
        let file = format!("hugetlb.{}.limit_in_bytes", limit.size);
        Setting::new(file, value.clone(), FIELD).apply(dir)?;
        let rsvd = format!("hugetlb.{}.rsvd.limit_in_bytes", limit.size);
        Setting::new(rsvd, value, FIELD).apply_if_present(dir)?;
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
