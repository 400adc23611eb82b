//! systemd's side of a container's cgroup: the `cgroupsPath` form
//! `slice:prefix:name`, unit names, the cgroup path of a slice, and the
//! unit properties that carry the resources systemd knows.

use super::super::resources::{Limit, ResourcePlan};
use super::super::CgroupError;
use super::dbus::Value;
use crate::cpulist::CpuList;

/// The field named in errors.
const FIELD: &str = "linux.cgroupsPath";

/// Where systemd puts the container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScopeName {
    /// The slice, such as `system.slice` or `machine-a.slice`.
    pub(crate) slice: String,
    /// The scope unit, such as `coracle-abc.scope`.
    pub(crate) unit: String,
}

impl ScopeName {
    /// Parses `slice:prefix:name` (absent: `system.slice:coracle:<id>`); an
    /// empty slice is `system.slice`, an empty prefix makes `name.scope`.
    pub(crate) fn parse(cgroups_path: Option<&str>, id: &str) -> Result<ScopeName, CgroupError> {
        let default;
        let path = match cgroups_path {
            Some(path) => path,
            None => {
                default = format!("system.slice:coracle:{id}");
                &default
            }
        };
        let mut parts = path.split(':');
        let (Some(slice), Some(prefix), Some(name), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                path,
                "is not \"slice:prefix:name\", the form the systemd cgroup driver takes",
            ));
        };
        let slice = if slice.is_empty() {
            "system.slice"
        } else {
            slice
        };
        if !is_slice(slice) {
            return Err(invalid(
                path,
                "names no valid slice unit (such as \"system.slice\")",
            ));
        }
        if name.ends_with(".slice") {
            return Err(invalid(
                path,
                "names a slice; coracle puts containers in scopes",
            ));
        }
        let unit = match prefix {
            "" => format!("{name}.scope"),
            prefix => format!("{prefix}-{name}.scope"),
        };
        if name.is_empty() || !is_unit_name(&unit) {
            return Err(invalid(
                path,
                "makes no valid unit name (letters, digits, \":\", \"_\", \".\", \"-\" and \"\\\")",
            ));
        }
        Ok(ScopeName {
            slice: slice.to_owned(),
            unit,
        })
    }

    /// The scope's cgroup below the hierarchy's root, such as
    /// `machine.slice/machine-a.slice/coracle-x.scope`.
    pub(crate) fn cgroup_path(&self) -> String {
        let mut path = slice_path(&self.slice);
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(&self.unit);
        path
    }
}

/// The cgroup of a slice: each dash-separated prefix is a parent slice
/// (`a-b.slice` is `a.slice/a-b.slice`); `-.slice` is the root.
fn slice_path(slice: &str) -> String {
    let name = slice.strip_suffix(".slice").unwrap_or(slice);
    if name == "-" {
        return String::new();
    }
    let mut levels = Vec::new();
    for (i, _) in name.match_indices('-') {
        levels.push(format!("{}.slice", &name[..i]));
    }
    levels.push(slice.to_owned());
    levels.join("/")
}

fn is_unit_name(name: &str) -> bool {
    name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":_.-\\".contains(c))
}

/// A slice name: `-.slice`, or dash-separated non-empty parts.
fn is_slice(slice: &str) -> bool {
    let Some(name) = slice.strip_suffix(".slice") else {
        return false;
    };
    name == "-"
        || (is_unit_name(slice) && !name.is_empty() && name.split('-').all(|p| !p.is_empty()))
}

fn invalid(path: &str, why: &str) -> CgroupError {
    CgroupError::Invalid {
        field: FIELD.into(),
        reason: format!("{path:?} {why}"),
    }
}

/// systemd's CFS period when a unit sets none, in microseconds.
const DEFAULT_PERIOD_US: u64 = 100_000;

/// What an update that leaves them alone needs of the scope's current
/// values.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Current {
    /// The CFS period, for a quota updated alone.
    pub(crate) cpu_period: Option<u64>,
    /// `memory.max`, for a memory+swap limit updated alone.
    pub(crate) memory_max: Option<u64>,
}

/// The properties of the resources systemd manages itself. systemd
/// rewrites those control files from its own properties whenever it applies
/// the unit's settings (at any property change, such as an `update`, and on
/// a reload): a value written only to cgroupfs would fall back to systemd's
/// default, or to an older value, then. cgroupfs gets every value anyway.
/// The cpuset lists, which depend on systemd's version, are
/// [`cpuset_properties`].
pub(crate) fn resource_properties(r: &ResourcePlan, current: Current) -> Vec<(String, Value)> {
    let bytes = |limit: Limit| match limit {
        Limit::Unlimited => u64::MAX,
        Limit::Value(n) => n,
    };
    let mut properties = Vec::new();
    let mut add = |name: &str, value: u64| properties.push((name.to_owned(), Value::U64(value)));
    if let Some(limit) = r.memory.limit {
        add("MemoryMax", bytes(limit));
    }
    if let Some(low) = r.memory.reservation {
        add("MemoryLow", bytes(low));
    }
    // systemd's swap limit is swap alone, v2's: the part of memory+swap
    // above the memory limit.
    let limit = match r.memory.limit {
        Some(limit) => Some(bytes(limit)),
        None => current.memory_max,
    };
    let swap = match r.memory.lifts_swap_too() {
        true => Some(Limit::Unlimited),
        false => r.memory.swap,
    };
    match (swap, limit) {
        (Some(Limit::Unlimited), _) => add("MemorySwapMax", u64::MAX),
        (Some(Limit::Value(swap)), Some(limit)) if limit != u64::MAX => {
            add("MemorySwapMax", swap.saturating_sub(limit))
        }
        _ => {}
    }
    if let Some(tasks) = r.pids {
        add("TasksMax", bytes(tasks));
    }
    if let Some(shares) = r.cpu.shares {
        add("CPUWeight", super::super::v2::cpu_weight(shares));
    }
    if let Some(period) = r.cpu.period {
        add("CPUQuotaPeriodUSec", period);
    }
    if let Some(quota) = r.cpu.quota {
        // systemd keeps the quota per second of time, and writes back
        // quota × period / 1 s.
        let period = r
            .cpu
            .period
            .or(current.cpu_period)
            .unwrap_or(DEFAULT_PERIOD_US);
        let per_second = match quota {
            Limit::Unlimited => u64::MAX,
            Limit::Value(quota) => quota.saturating_mul(1_000_000) / period.max(1),
        };
        add("CPUQuotaPerSecUSec", per_second);
    }
    if let Some(weight) = r.block_io.weight {
        add("IOWeight", super::super::v2::io_weight(weight));
    }
    for (key, value) in &r.unified {
        let name = match key.as_str() {
            "memory.high" => "MemoryHigh",
            "memory.low" => "MemoryLow",
            "memory.min" => "MemoryMin",
            "memory.max" => "MemoryMax",
            "memory.swap.max" => "MemorySwapMax",
            "pids.max" => "TasksMax",
            _ => continue,
        };
        // Other spellings stay cgroupfs-only, as any other unified file.
        if let Some(value) = super::super::stats::parse_number(value.trim()) {
            add(name, value);
        }
    }
    properties
}

/// The first systemd with `AllowedCPUs` and `AllowedMemoryNodes`.
const CPUSET_SINCE: u32 = 244;

/// The cpuset lists as bitmasks (`AllowedCPUs`, `AllowedMemoryNodes`) for a
/// systemd of major version `version`. An older systemd would refuse the
/// unknown properties, and start no scope: they are left out (as runc
/// leaves them out), since such a systemd does not manage the cpuset
/// controller either, so the values written to cgroupfs stay. A version that does not read as a number
/// (`None`) gets them: were it old, its refusal says so, whereas leaving
/// them out of a new systemd would let it reset the lists unseen.
pub(crate) fn cpuset_properties(r: &ResourcePlan, version: Option<u32>) -> Vec<(String, Value)> {
    if version.is_some_and(|v| v < CPUSET_SINCE) {
        return Vec::new();
    }
    [
        ("AllowedCPUs", &r.cpu.cpus),
        ("AllowedMemoryNodes", &r.cpu.mems),
    ]
    .into_iter()
    .filter_map(|(name, list)| {
        let list =
            CpuList::parse(list.as_deref()?).expect("the plan refuses lists that do not parse");
        Some((name.to_owned(), Value::Bytes(list.bytes())))
    })
    .collect()
}

/// The major version in systemd's `Version` property: 252 of
/// `252.38-1~deb12u1`, 245 of the `v245-12-gabcdef` of a build from git;
/// `None` when no number leads.
pub(crate) fn major_version(version: &str) -> Option<u32> {
    let version = version.strip_prefix('v').unwrap_or(version);
    let digits = version.bytes().take_while(u8::is_ascii_digit).count();
    version[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(path: Option<&str>) -> Result<(String, String), String> {
        ScopeName::parse(path, "ctr")
            .map(|s| (s.cgroup_path(), s.unit))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn slice_prefix_name() {
        assert_eq!(
            scope(None).unwrap(),
            (
                "system.slice/coracle-ctr.scope".into(),
                "coracle-ctr.scope".into()
            )
        );
        assert_eq!(
            scope(Some("machine-a-b.slice:podman:x1")).unwrap().0,
            "machine.slice/machine-a.slice/machine-a-b.slice/podman-x1.scope"
        );
        assert_eq!(
            scope(Some(":crio:y")).unwrap().0,
            "system.slice/crio-y.scope"
        );
        assert_eq!(scope(Some("-.slice::z")).unwrap().0, "z.scope");
    }

    #[test]
    fn bad_paths_are_refused() {
        for bad in [
            "/a/b",
            "a:b",
            "a:b:c:d",
            "system:p:n",
            "a--b.slice:p:n",
            "-a.slice:p:n",
            "system.slice:p:",
            "system.slice:p:x.slice",
            "system.slice:p:a/b",
            "system.slice:p:a b",
        ] {
            let err = scope(Some(bad)).unwrap_err();
            assert!(err.starts_with("linux.cgroupsPath: "), "{bad}: {err}");
        }
    }

    #[test]
    fn cpuset_lists_go_to_a_systemd_that_knows_them() {
        let resources: crate::spec::Resources =
            serde_json::from_str(r#"{"cpu":{"cpus":"1"}}"#).unwrap();
        let plan = ResourcePlan::for_update(&resources).unwrap();
        let allowed = [("AllowedCPUs".to_owned(), Value::Bytes(vec![0b10]))];
        assert_eq!(cpuset_properties(&plan, Some(252)), allowed);
        assert_eq!(cpuset_properties(&plan, None), allowed);
        assert!(cpuset_properties(&plan, Some(243)).is_empty());
        let without: crate::spec::Resources = serde_json::from_str(r#"{"cpu":{}}"#).unwrap();
        let plan = ResourcePlan::for_update(&without).unwrap();
        assert!(cpuset_properties(&plan, Some(252)).is_empty());
    }

    #[test]
    fn versions_are_their_leading_number() {
        assert_eq!(major_version("252.38-1~deb12u1"), Some(252));
        assert_eq!(major_version("v245-12-gabcdef"), Some(245));
        assert_eq!(major_version("256~rc1"), Some(256));
        assert_eq!(major_version("243"), Some(243));
        assert_eq!(major_version("unknown"), None);
        assert_eq!(major_version(""), None);
    }

    #[test]
    fn limits_become_properties() {
        let plan = |json: &str| {
            let resources: crate::spec::Resources = serde_json::from_str(json).unwrap();
            ResourcePlan::for_update(&resources).unwrap()
        };
        let names: Vec<(String, Value)> = resource_properties(
            &plan(
                r#"{"memory":{"limit":1048576,"swap":3145728},"pids":{"limit":-1},
                    "cpu":{"shares":1024,"quota":50000,"period":200000},
                    "blockIO":{"weight":500},
                    "unified":{"memory.high":"max","memory.min":"4096","io.max":"8:0 rbps=1"}}"#,
            ),
            Current::default(),
        );
        let property = |name: &str, value: u64| (name.to_owned(), Value::U64(value));
        assert_eq!(
            names,
            [
                property("MemoryMax", 1048576),
                property("MemorySwapMax", 2097152),
                property("TasksMax", u64::MAX),
                property("CPUWeight", 39),
                property("CPUQuotaPeriodUSec", 200_000),
                property("CPUQuotaPerSecUSec", 250_000),
                property("IOWeight", 4950),
                property("MemoryHigh", u64::MAX),
                property("MemoryMin", 4096),
            ]
        );
        // cpuset lists as bitmasks (one that does not parse fails the plan).
        let cpuset = plan(r#"{"cpu":{"cpus":"0-1,9","mems":"0"}}"#);
        assert!(resource_properties(&cpuset, Current::default()).is_empty());
        assert_eq!(
            cpuset_properties(&cpuset, Some(244)),
            [
                ("AllowedCPUs".to_owned(), Value::Bytes(vec![0b11, 0b10])),
                ("AllowedMemoryNodes".to_owned(), Value::Bytes(vec![1])),
            ]
        );
        // A quota alone is per the scope's period, else systemd's default.
        let quota = plan(r#"{"cpu":{"quota":20000}}"#);
        let current = Current {
            cpu_period: Some(50_000),
            memory_max: Some(1 << 20),
        };
        assert_eq!(
            resource_properties(&quota, current),
            [property("CPUQuotaPerSecUSec", 400_000)]
        );
        assert_eq!(
            resource_properties(&quota, Current::default()),
            [property("CPUQuotaPerSecUSec", 200_000)]
        );
        assert_eq!(
            resource_properties(&plan(r#"{"cpu":{"quota":-1}}"#), Current::default()),
            [property("CPUQuotaPerSecUSec", u64::MAX)]
        );
        // Swap against the current memory limit; unlimited swap is said.
        assert_eq!(
            resource_properties(&plan(r#"{"memory":{"swap":3145728}}"#), current),
            [property("MemorySwapMax", 2 << 20)]
        );
        for lifted in [
            r#"{"memory":{"limit":-1,"swap":-1}}"#,
            r#"{"memory":{"limit":-1}}"#,
        ] {
            assert_eq!(
                resource_properties(&plan(lifted), current),
                [
                    property("MemoryMax", u64::MAX),
                    property("MemorySwapMax", u64::MAX)
                ],
                "{lifted}"
            );
        }
    }
}
