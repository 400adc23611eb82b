//! `linux.resources`, validated into typed values before any cgroup is
//! touched. Independent of the driver: cgroup v1 and (later) v2 map the same
//! values to their own files.

use super::devices::{device_rules, DeviceRule};
use super::CgroupError;
use crate::spec;

/// A limit that may be lifted (`-1` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    /// No limit.
    Unlimited,
    /// A limit in the field's unit.
    Value(u64),
}

/// Validated `linux.resources.memory`; limits in bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MemoryPlan {
    pub(crate) limit: Option<Limit>,
    pub(crate) reservation: Option<Limit>,
    /// Memory plus swap, as the spec (and cgroup v1) define it.
    pub(crate) swap: Option<Limit>,
    pub(crate) kernel: Option<Limit>,
    pub(crate) kernel_tcp: Option<Limit>,
    pub(crate) swappiness: Option<u64>,
    pub(crate) disable_oom_killer: Option<bool>,
    pub(crate) use_hierarchy: Option<bool>,
}

/// Validated `linux.resources.cpu`; times in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CpuPlan {
    pub(crate) shares: Option<u64>,
    pub(crate) quota: Option<Limit>,
    pub(crate) period: Option<u64>,
    pub(crate) burst: Option<u64>,
    pub(crate) realtime_runtime: Option<Limit>,
    pub(crate) realtime_period: Option<u64>,
    pub(crate) idle: Option<i64>,
    /// A CPU list such as `0-3,7`.
    pub(crate) cpus: Option<String>,
    /// A memory node list.
    pub(crate) mems: Option<String>,
}

/// Everything of `linux.resources` that coracle applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResourcePlan {
    pub(crate) memory: MemoryPlan,
    pub(crate) cpu: CpuPlan,
    /// Maximum number of tasks.
    pub(crate) pids: Option<Limit>,
    /// The configured device rules, in order; `None` leaves the device
    /// access alone (an update without devices). A new cgroup always gets
    /// them, an empty list when the configuration has none.
    pub(crate) devices: Option<Vec<DeviceRule>>,
}

impl ResourcePlan {
    /// Validates `resources`, naming the offending field in the error.
    pub(crate) fn from_spec(resources: &spec::Resources) -> Result<Self, CgroupError> {
        reject_unsupported(resources)?;
        Ok(ResourcePlan {
            memory: resources
                .memory
                .as_ref()
                .map(memory_plan)
                .transpose()?
                .unwrap_or_default(),
            cpu: resources
                .cpu
                .as_ref()
                .map(cpu_plan)
                .transpose()?
                .unwrap_or_default(),
            pids: resources.pids.as_ref().map(pids_limit).transpose()?,
            devices: Some(device_rules(&resources.devices)?),
        })
    }

    /// The plan of a container without `linux.resources`: no limit, and the
    /// device access of every container.
    pub(crate) fn without_resources() -> Self {
        ResourcePlan {
            devices: Some(Vec::new()),
            ..ResourcePlan::default()
        }
    }

    /// Whether anything is asked of the memory controller.
    pub(crate) fn uses_memory(&self) -> bool {
        self.memory != MemoryPlan::default()
    }

    /// Whether anything is asked of the cpu controller.
    pub(crate) fn uses_cpu(&self) -> bool {
        let c = &self.cpu;
        c.shares.is_some()
            || c.quota.is_some()
            || c.period.is_some()
            || c.burst.is_some()
            || c.realtime_runtime.is_some()
            || c.realtime_period.is_some()
            || c.idle.is_some()
    }

    /// Whether anything is asked of the cpuset controller.
    pub(crate) fn uses_cpuset(&self) -> bool {
        self.cpu.cpus.is_some() || self.cpu.mems.is_some()
    }
}

/// Refuses the resources this version does not apply yet, rather than
/// silently running a container without the limits it asked for. Empty
/// objects, which engines send by habit, ask for nothing and pass.
fn reject_unsupported(r: &spec::Resources) -> Result<(), CgroupError> {
    let block_io = r.block_io.as_ref().is_some_and(|b| {
        b.weight.is_some()
            || b.leaf_weight.is_some()
            || !b.weight_device.is_empty()
            || !b.throttle_read_bps_device.is_empty()
            || !b.throttle_write_bps_device.is_empty()
            || !b.throttle_read_iops_device.is_empty()
            || !b.throttle_write_iops_device.is_empty()
    });
    let network = r
        .network
        .as_ref()
        .is_some_and(|n| n.class_id.is_some() || !n.priorities.is_empty());
    let unsupported = [
        ("linux.resources.blockIO", block_io),
        (
            "linux.resources.hugepageLimits",
            !r.hugepage_limits.is_empty(),
        ),
        ("linux.resources.network", network),
        ("linux.resources.rdma", !r.rdma.is_empty()),
        ("linux.resources.unified", !r.unified.is_empty()),
    ];
    match unsupported.iter().find(|(_, asked)| *asked) {
        Some((field, _)) => Err(CgroupError::Invalid {
            field: (*field).into(),
            reason: "not supported yet".into(),
        }),
        None => Ok(()),
    }
}

fn memory_plan(m: &spec::Memory) -> Result<MemoryPlan, CgroupError> {
    let plan = MemoryPlan {
        limit: bytes(m.limit, "linux.resources.memory.limit")?,
        reservation: bytes(m.reservation, "linux.resources.memory.reservation")?,
        swap: bytes(m.swap, "linux.resources.memory.swap")?,
        kernel: bytes(m.kernel, "linux.resources.memory.kernel")?,
        kernel_tcp: bytes(m.kernel_tcp, "linux.resources.memory.kernelTCP")?,
        swappiness: m.swappiness,
        disable_oom_killer: m.disable_oom_killer,
        use_hierarchy: m.use_hierarchy,
        // checkBeforeUpdate needs nothing here: on cgroup v1 the kernel itself
        // refuses a limit below the current usage.
    };
    if let Some(swappiness) = plan.swappiness.filter(|s| *s > 100) {
        return Err(invalid(
            "linux.resources.memory.swappiness",
            format!("{swappiness} is above 100"),
        ));
    }
    if let Some(Limit::Value(swap)) = plan.swap {
        // swap is the limit of memory plus swap, so it cannot be below the
        // memory limit, and it cannot limit anything while memory is unlimited.
        match plan.limit {
            Some(Limit::Value(limit)) if swap < limit => {
                return Err(invalid(
                    "linux.resources.memory.swap",
                    format!(
                        "{swap} is below linux.resources.memory.limit {limit} (swap is the limit of memory plus swap)"
                    ),
                ))
            }
            Some(Limit::Value(_)) => {}
            _ => {
                return Err(invalid(
                    "linux.resources.memory.swap",
                    "a memory+swap limit needs linux.resources.memory.limit".into(),
                ))
            }
        }
    }
    Ok(plan)
}

fn cpu_plan(c: &spec::Cpu) -> Result<CpuPlan, CgroupError> {
    let quota = match c.quota {
        None => None,
        Some(-1) => Some(Limit::Unlimited),
        Some(q) if q > 0 => Some(Limit::Value(q as u64)),
        Some(q) => {
            return Err(invalid(
                "linux.resources.cpu.quota",
                format!("{q} is neither a positive number of microseconds nor -1 (unlimited)"),
            ))
        }
    };
    if let (Some(burst), Some(Limit::Value(quota))) = (c.burst, quota) {
        if burst > quota {
            return Err(invalid(
                "linux.resources.cpu.burst",
                format!("{burst} is above linux.resources.cpu.quota {quota}"),
            ));
        }
    }
    if let Some(idle) = c.idle.filter(|i| !matches!(i, 0 | 1)) {
        return Err(invalid(
            "linux.resources.cpu.idle",
            format!("{idle} is neither 0 nor 1"),
        ));
    }
    Ok(CpuPlan {
        shares: c.shares,
        quota,
        period: positive(c.period, "linux.resources.cpu.period")?,
        burst: c.burst,
        realtime_runtime: micros_or_unlimited(c.realtime_runtime)?,
        realtime_period: positive(c.realtime_period, "linux.resources.cpu.realtimePeriod")?,
        idle: c.idle,
        cpus: cpu_list(c.cpus.as_deref(), "linux.resources.cpu.cpus")?,
        mems: cpu_list(c.mems.as_deref(), "linux.resources.cpu.mems")?,
    })
}

fn pids_limit(p: &spec::Pids) -> Result<Limit, CgroupError> {
    match p.limit {
        // 0 means "no limit" for the engines (Docker sends it so).
        -1 | 0 => Ok(Limit::Unlimited),
        n if n > 0 => Ok(Limit::Value(n as u64)),
        n => Err(invalid(
            "linux.resources.pids.limit",
            format!("{n} is neither a number of tasks nor -1 (unlimited)"),
        )),
    }
}

/// A byte count or `-1` for unlimited.
fn bytes(value: Option<i64>, field: &str) -> Result<Option<Limit>, CgroupError> {
    match value {
        None => Ok(None),
        Some(-1) => Ok(Some(Limit::Unlimited)),
        Some(n) if n >= 0 => Ok(Some(Limit::Value(n as u64))),
        Some(n) => Err(invalid(
            field,
            format!("{n} is neither a number of bytes nor -1 (unlimited)"),
        )),
    }
}

fn micros_or_unlimited(value: Option<i64>) -> Result<Option<Limit>, CgroupError> {
    match value {
        None => Ok(None),
        Some(-1) => Ok(Some(Limit::Unlimited)),
        Some(n) if n >= 0 => Ok(Some(Limit::Value(n as u64))),
        Some(n) => Err(invalid(
            "linux.resources.cpu.realtimeRuntime",
            format!("{n} is neither a number of microseconds nor -1 (unlimited)"),
        )),
    }
}

fn positive(value: Option<u64>, field: &str) -> Result<Option<u64>, CgroupError> {
    match value {
        Some(0) => Err(invalid(field, "0 is not a period".into())),
        other => Ok(other),
    }
}

/// A list such as `0-3,7` (the kernel's list syntax, strides included).
/// An empty string asks for nothing: writing it would empty the cpuset and
/// leave the container nowhere to run.
fn cpu_list(value: Option<&str>, field: &str) -> Result<Option<String>, CgroupError> {
    match value {
        None | Some("") => Ok(None),
        Some(list)
            if list.starts_with(|c: char| c.is_ascii_digit())
                && list
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b",-:/".contains(&b)) =>
        {
            Ok(Some(list.to_owned()))
        }
        Some(list) => Err(invalid(
            field,
            format!("{list:?} is not a list such as \"0-3,7\""),
        )),
    }
}

fn invalid(field: &str, reason: String) -> CgroupError {
    CgroupError::Invalid {
        field: field.into(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Result<ResourcePlan, String> {
        let resources: spec::Resources = serde_json::from_str(json).unwrap();
        ResourcePlan::from_spec(&resources).map_err(|e| e.to_string())
    }

    fn error(json: &str) -> String {
        plan(json).unwrap_err()
    }

    #[test]
    fn empty_resources_use_nothing() {
        let p = plan(r#"{"memory":{},"cpu":{},"blockIO":{},"network":{}}"#).unwrap();
        assert!(!p.uses_memory() && !p.uses_cpu() && !p.uses_cpuset());
        assert_eq!(p.pids, None);
    }

    #[test]
    fn devices_are_always_planned() {
        let p = plan(r#"{"devices":[{"allow":false,"access":"rwm"}]}"#).unwrap();
        assert_eq!(p.devices.map(|d| d.len()), Some(1));
        assert_eq!(plan("{}").unwrap().devices, Some(Vec::new()));
        assert!(error(r#"{"devices":[{"allow":true,"type":"x"}]}"#)
            .starts_with("linux.resources.devices[0].type: "));
    }

    #[test]
    fn memory_values() {
        let p = plan(
            r#"{"memory":{"limit":1048576,"swap":-1,"reservation":0,"swappiness":0,"disableOOMKiller":false}}"#,
        )
        .unwrap();
        assert!(p.uses_memory());
        assert_eq!(p.memory.limit, Some(Limit::Value(1048576)));
        assert_eq!(p.memory.swap, Some(Limit::Unlimited));
        assert_eq!(p.memory.reservation, Some(Limit::Value(0)));
        assert_eq!(p.memory.disable_oom_killer, Some(false));
    }

    #[test]
    fn memory_errors_name_the_field() {
        assert!(error(r#"{"memory":{"limit":2048,"swap":1024}}"#)
            .starts_with("linux.resources.memory.swap: 1024 is below"));
        assert!(error(r#"{"memory":{"swap":1024}}"#).starts_with("linux.resources.memory.swap: "));
        assert!(error(r#"{"memory":{"limit":-1,"swap":1024}}"#)
            .starts_with("linux.resources.memory.swap: "));
        assert_eq!(
            error(r#"{"memory":{"swappiness":101}}"#),
            "linux.resources.memory.swappiness: 101 is above 100"
        );
        assert!(error(r#"{"memory":{"limit":-2}}"#).starts_with("linux.resources.memory.limit: "));
        assert!(error(r#"{"memory":{"kernelTCP":-7}}"#)
            .starts_with("linux.resources.memory.kernelTCP: "));
        plan(r#"{"memory":{"limit":1024,"swap":1024}}"#).unwrap();
    }

    #[test]
    fn cpu_values_and_errors() {
        let p = plan(r#"{"cpu":{"quota":-1,"period":100000,"cpus":"0-1,3"}}"#).unwrap();
        assert!(p.uses_cpu() && p.uses_cpuset());
        assert_eq!(p.cpu.quota, Some(Limit::Unlimited));
        let p = plan(r#"{"cpu":{"cpus":"","mems":""}}"#).unwrap();
        assert!(!p.uses_cpuset() && !p.uses_cpu());
        assert!(error(r#"{"cpu":{"quota":0}}"#).starts_with("linux.resources.cpu.quota: "));
        assert!(error(r#"{"cpu":{"period":0}}"#).starts_with("linux.resources.cpu.period: "));
        assert!(error(r#"{"cpu":{"quota":1000,"burst":2000}}"#)
            .starts_with("linux.resources.cpu.burst: "));
        assert!(error(r#"{"cpu":{"idle":2}}"#).starts_with("linux.resources.cpu.idle: "));
        assert!(error(r#"{"cpu":{"cpus":"0-1 "}}"#).starts_with("linux.resources.cpu.cpus: "));
        assert!(error(r#"{"cpu":{"mems":"x"}}"#).starts_with("linux.resources.cpu.mems: "));
        assert!(error(r#"{"cpu":{"realtimeRuntime":-3}}"#)
            .starts_with("linux.resources.cpu.realtimeRuntime: "));
    }

    #[test]
    fn pids_limits() {
        assert_eq!(
            plan(r#"{"pids":{"limit":0}}"#).unwrap().pids,
            Some(Limit::Unlimited)
        );
        assert_eq!(
            plan(r#"{"pids":{"limit":-1}}"#).unwrap().pids,
            Some(Limit::Unlimited)
        );
        assert_eq!(
            plan(r#"{"pids":{"limit":32}}"#).unwrap().pids,
            Some(Limit::Value(32))
        );
        assert!(error(r#"{"pids":{"limit":-2}}"#).starts_with("linux.resources.pids.limit: "));
    }

    #[test]
    fn unsupported_controllers_are_refused() {
        for (json, field) in [
            (r#"{"blockIO":{"weight":10}}"#, "blockIO"),
            (
                r#"{"hugepageLimits":[{"pageSize":"2MB","limit":0}]}"#,
                "hugepageLimits",
            ),
            (r#"{"network":{"classID":1}}"#, "network"),
            (r#"{"rdma":{"mlx":{"hcaHandles":1}}}"#, "rdma"),
            (r#"{"unified":{"io.max":"x"}}"#, "unified"),
        ] {
            assert_eq!(
                error(json),
                format!("linux.resources.{field}: not supported yet")
            );
        }
    }
}
