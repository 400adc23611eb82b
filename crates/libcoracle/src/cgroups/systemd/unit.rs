//! systemd's side of a container's cgroup: the `cgroupsPath` form
//! `slice:prefix:name`, unit names, the cgroup path of a slice, and the
//! unit properties that carry the resources systemd knows.

use super::super::resources::{Limit, ResourcePlan};
use super::super::CgroupError;
use super::dbus::Value;

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

/// The properties systemd would otherwise reset on a reload: the main
/// limits, in systemd's units. cgroupfs gets every value anyway.
pub(crate) fn resource_properties(r: &ResourcePlan) -> Vec<(String, Value)> {
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
    if let (Some(Limit::Value(swap)), Some(Limit::Value(limit))) = (r.memory.swap, r.memory.limit) {
        add("MemorySwapMax", swap.saturating_sub(limit));
    }
    if let Some(tasks) = r.pids {
        add("TasksMax", bytes(tasks));
    }
    if let Some(shares) = r.cpu.shares {
        add("CPUWeight", super::super::v2::cpu_weight(shares));
    }
    properties
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
    fn limits_become_properties() {
        let resources: crate::spec::Resources = serde_json::from_str(
            r#"{"memory":{"limit":1048576,"swap":3145728},"pids":{"limit":-1},"cpu":{"shares":1024}}"#,
        )
        .unwrap();
        let plan = ResourcePlan::from_spec(&resources).unwrap();
        let names: Vec<(String, Value)> = resource_properties(&plan);
        assert_eq!(
            names,
            [
                ("MemoryMax".to_owned(), Value::U64(1048576)),
                ("MemorySwapMax".to_owned(), Value::U64(2097152)),
                ("TasksMax".to_owned(), Value::U64(u64::MAX)),
                ("CPUWeight".to_owned(), Value::U64(39)),
            ]
        );
    }
}
