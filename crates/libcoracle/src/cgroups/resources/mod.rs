//! `linux.resources`, validated into typed values before any cgroup is
//! touched. Independent of the driver: cgroup v1 and v2 map the same values
//! to their own files.

mod block_io;
mod hugetlb;
mod network;
mod unified;

pub(crate) use block_io::{BlockIoPlan, DeviceNumber};
pub(crate) use hugetlb::HugepageLimit;
pub(crate) use network::{NetworkPlan, RdmaLimit};

use super::devices::{device_rules, DeviceRule};
use super::CgroupError;
use crate::cpulist::CpuList;
use crate::spec;
use block_io::block_io_plan;
use hugetlb::hugepage_limits;
use network::{network_plan, rdma_limits};
use unified::unified_files;

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
    /// Refuse a limit below the current use (cgroup v2 updates; cgroup v1
    /// refuses it anyway).
    pub(crate) check_before_update: bool,
}

impl MemoryPlan {
    /// Whether the memory+swap limit goes too, unasked: runc's rule, which
    /// engines rely on, is that lifting the memory limit (`-1`) without a
    /// word about swap lifts both, since memory+swap cannot stay below an
    /// unlimited memory. Drivers apply it only where the kernel accounts
    /// swap at all.
    pub(crate) fn lifts_swap_too(&self) -> bool {
        self.limit == Some(Limit::Unlimited) && self.swap.is_none()
    }
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
    pub(crate) block_io: BlockIoPlan,
    pub(crate) hugepages: Vec<HugepageLimit>,
    pub(crate) network: NetworkPlan,
    pub(crate) rdma: Vec<RdmaLimit>,
    /// cgroup v2 files and their values, written last.
    pub(crate) unified: Vec<(String, String)>,
}

impl ResourcePlan {
    /// Validates `resources` for a new cgroup, naming the offending field in
    /// the error.
    pub(crate) fn from_spec(resources: &spec::Resources) -> Result<Self, CgroupError> {
        let mut plan = Self::validate(resources, Check::Create)?;
        plan.devices.get_or_insert_with(Vec::new);
        Ok(plan)
    }

    /// Validates `resources` for an update of a live cgroup: only what is
    /// present changes, and values are checked alone rather than against the
    /// rest of a configuration (a swap limit without a memory limit is fine,
    /// the cgroup has one). An empty device list leaves the devices alone.
    pub(crate) fn for_update(resources: &spec::Resources) -> Result<Self, CgroupError> {
        Self::validate(resources, Check::Update)
    }

    /// The plan of a container without `linux.resources`: no limit, and the
    /// device access of every container.
    pub(crate) fn without_resources() -> Self {
        ResourcePlan {
            devices: Some(Vec::new()),
            ..ResourcePlan::default()
        }
    }

    fn validate(r: &spec::Resources, check: Check) -> Result<Self, CgroupError> {
        Ok(ResourcePlan {
            memory: r
                .memory
                .as_ref()
                .map(|m| memory_plan(m, check))
                .transpose()?
                .unwrap_or_default(),
            cpu: r
                .cpu
                .as_ref()
                .map(cpu_plan)
                .transpose()?
                .unwrap_or_default(),
            pids: r.pids.as_ref().map(pids_limit).transpose()?,
            devices: match r.devices.is_empty() {
                true => None,
                false => Some(device_rules(&r.devices)?),
            },
            block_io: r
                .block_io
                .as_ref()
                .map(block_io_plan)
                .transpose()?
                .unwrap_or_default(),
            hugepages: hugepage_limits(&r.hugepage_limits)?,
            network: r
                .network
                .as_ref()
                .map(network_plan)
                .transpose()?
                .unwrap_or_default(),
            rdma: rdma_limits(&r.rdma)?,
            unified: unified_files(&r.unified)?,
        })
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

/// Which checks a validation makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// A whole configuration, for a new cgroup.
    Create,
    /// Part of one, for a live cgroup.
    Update,
}

fn memory_plan(m: &spec::Memory, check: Check) -> Result<MemoryPlan, CgroupError> {
    let plan = MemoryPlan {
        limit: bytes(m.limit, "linux.resources.memory.limit")?,
        reservation: bytes(m.reservation, "linux.resources.memory.reservation")?,
        swap: bytes(m.swap, "linux.resources.memory.swap")?,
        kernel: bytes(m.kernel, "linux.resources.memory.kernel")?,
        kernel_tcp: bytes(m.kernel_tcp, "linux.resources.memory.kernelTCP")?,
        swappiness: m.swappiness,
        disable_oom_killer: m.disable_oom_killer,
        use_hierarchy: m.use_hierarchy,
        check_before_update: m.check_before_update.unwrap_or(false),
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
            None if check == Check::Update => {} // the cgroup's limit stays
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

// Engines fill every field they know and send 0 for "not asked for"
// (Docker's `update` sends `"cpu":{"shares":0,"quota":0,"period":0}` and
// `"memory":{"reservation":0,"kernel":0}`), and runc and crun leave the
// cgroup's value alone then: so does coracle, for every field where 0 could
// only be a wrong value (a period, a share, a byte limit).

fn cpu_plan(c: &spec::Cpu) -> Result<CpuPlan, CgroupError> {
    let quota = match c.quota {
        None | Some(0) => None,
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
        shares: c.shares.filter(|s| *s != 0),
        quota,
        period: period(c.period),
        burst: c.burst,
        realtime_runtime: micros_or_unlimited(c.realtime_runtime)?,
        realtime_period: period(c.realtime_period),
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

/// A byte count or `-1` for unlimited; 0 for unset.
fn bytes(value: Option<i64>, field: &str) -> Result<Option<Limit>, CgroupError> {
    match value {
        None | Some(0) => Ok(None),
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
        None | Some(0) => Ok(None),
        Some(-1) => Ok(Some(Limit::Unlimited)),
        Some(n) if n >= 0 => Ok(Some(Limit::Value(n as u64))),
        Some(n) => Err(invalid(
            "linux.resources.cpu.realtimeRuntime",
            format!("{n} is neither a number of microseconds nor -1 (unlimited)"),
        )),
    }
}

/// A period in microseconds; 0 for unset.
fn period(value: Option<u64>) -> Option<u64> {
    value.filter(|p| *p != 0)
}

/// A list such as `0-3,7` (the kernel's list syntax, strides included),
/// parsed here so that a bad one fails the plan rather than a write, and
/// every driver (systemd's bitmask too) may rely on it. An empty string
/// asks for nothing: writing it would empty the cpuset and leave the
/// container nowhere to run.
fn cpu_list(value: Option<&str>, field: &str) -> Result<Option<String>, CgroupError> {
    match value {
        None | Some("") => Ok(None),
        Some(list) => match CpuList::parse(list) {
            Ok(_) => Ok(Some(list.to_owned())),
            Err(e) => Err(invalid(field, e.to_string())),
        },
    }
}

pub(super) fn invalid(field: &str, reason: String) -> CgroupError {
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
        assert_eq!(p.memory.reservation, None);
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
        assert!(error(r#"{"cpu":{"quota":-2}}"#).starts_with("linux.resources.cpu.quota: "));
        assert!(error(r#"{"cpu":{"quota":1000,"burst":2000}}"#)
            .starts_with("linux.resources.cpu.burst: "));
        assert!(error(r#"{"cpu":{"idle":2}}"#).starts_with("linux.resources.cpu.idle: "));
        assert!(error(r#"{"cpu":{"cpus":"0-1 "}}"#).starts_with("linux.resources.cpu.cpus: "));
        assert!(error(r#"{"cpu":{"mems":"x"}}"#).starts_with("linux.resources.cpu.mems: "));
        // Parsed, not only made of the right characters: no systemd
        // property or cgroup write meets a list that does not parse.
        assert_eq!(
            error(r#"{"cpu":{"cpus":"3-1"}}"#),
            "linux.resources.cpu.cpus: range 3-1 goes backwards"
        );
        assert_eq!(
            error(r#"{"cpu":{"mems":"0,,1"}}"#),
            r#"linux.resources.cpu.mems: "0,,1" is not a list such as "0-3,7""#
        );
        plan(r#"{"cpu":{"cpus":"0-7:2/4","mems":"0"}}"#).unwrap();
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
    fn every_controller_is_planned() {
        let p = plan(
            r#"{"blockIO":{"weight":10},"hugepageLimits":[{"pageSize":"2MB","limit":0}],
                "network":{"classID":1},"rdma":{"mlx":{"hcaHandles":1}},
                "unified":{"io.max":"x"}}"#,
        )
        .unwrap();
        assert_eq!(p.block_io.weight, Some(10));
        assert_eq!(p.hugepages[0].size, "2MB");
        assert_eq!(p.network.class_id, Some(1));
        assert_eq!(p.rdma[0].line(), "mlx hca_handle=1");
        assert_eq!(p.unified, [("io.max".to_owned(), "x".to_owned())]);
    }

    #[test]
    fn zero_asks_for_nothing() {
        // What Docker's `update --memory 128m --memory-swap 256m` sends.
        let p = plan(
            r#"{"memory":{"limit":134217728,"reservation":0,"swap":268435456,"kernel":0,"kernelTCP":0},
                "cpu":{"shares":0,"quota":0,"period":0,"realtimeRuntime":0,"realtimePeriod":0},
                "blockIO":{"weight":0}}"#,
        )
        .unwrap();
        assert_eq!(p.memory.limit, Some(Limit::Value(134217728)));
        assert_eq!((p.memory.reservation, p.memory.kernel), (None, None));
        assert_eq!(p.memory.kernel_tcp, None);
        assert!(!p.uses_cpu());
        assert!(p.block_io.is_empty());
    }

    #[test]
    fn unlimited_memory_without_swap_lifts_swap_too() {
        let memory = |json: &str| plan(json).unwrap().memory;
        assert!(memory(r#"{"memory":{"limit":-1}}"#).lifts_swap_too());
        assert!(!memory(r#"{"memory":{"limit":-1,"swap":-1}}"#).lifts_swap_too());
        assert!(!memory(r#"{"memory":{"limit":1024}}"#).lifts_swap_too());
        assert!(!memory(r#"{"memory":{}}"#).lifts_swap_too());
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let resources: spec::Resources =
            serde_json::from_str(r#"{"memory":{"swap":1024}}"#).unwrap();
        let p = ResourcePlan::for_update(&resources).unwrap();
        assert_eq!(p.memory.swap, Some(Limit::Value(1024)));
        assert_eq!(p.memory.limit, None);
        assert_eq!(p.devices, None);
        assert!(!p.uses_cpu());
    }
}
