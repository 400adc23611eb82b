//! `linux.resources.network` (the v1 `net_cls` and `net_prio` controllers)
//! and `linux.resources.rdma`.

use super::{invalid, CgroupError};
use crate::spec;
use std::collections::BTreeMap;

/// Validated `linux.resources.network`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NetworkPlan {
    /// `net_cls.classid`.
    pub(crate) class_id: Option<u32>,
    /// Interface names and their `net_prio` priorities.
    pub(crate) priorities: Vec<(String, u32)>,
}

/// The limits of one RDMA device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RdmaLimit {
    pub(crate) device: String,
    pub(crate) hca_handles: Option<u32>,
    pub(crate) hca_objects: Option<u32>,
}

impl RdmaLimit {
    /// The line of `rdma.max`, such as `mlx4_0 hca_handle=2 hca_object=2000`
    /// (an absent limit is left as it is).
    pub(crate) fn line(&self) -> String {
        let mut line = self.device.clone();
        if let Some(handles) = self.hca_handles {
            line.push_str(&format!(" hca_handle={handles}"));
        }
        if let Some(objects) = self.hca_objects {
            line.push_str(&format!(" hca_object={objects}"));
        }
        line
    }
}

/// Validates `linux.resources.network`.
pub(crate) fn network_plan(n: &spec::Network) -> Result<NetworkPlan, CgroupError> {
    let priorities = n
        .priorities
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if !is_name(&p.name) || p.name.len() > 15 {
                return Err(invalid(
                    &format!("linux.resources.network.priorities[{i}].name"),
                    format!("{:?} is not an interface name", p.name),
                ));
            }
            Ok((p.name.clone(), p.priority))
        })
        .collect::<Result<_, _>>()?;
    Ok(NetworkPlan {
        class_id: n.class_id,
        priorities,
    })
}

/// Validates `linux.resources.rdma`.
pub(crate) fn rdma_limits(
    rdma: &BTreeMap<String, spec::Rdma>,
) -> Result<Vec<RdmaLimit>, CgroupError> {
    rdma.iter()
        .map(|(device, limits)| {
            let field = format!("linux.resources.rdma.{device}");
            if !is_name(device) {
                return Err(invalid(&field, "is not a device name".into()));
            }
            if limits.hca_handles.is_none() && limits.hca_objects.is_none() {
                return Err(invalid(
                    &field,
                    "names neither hcaHandles nor hcaObjects".into(),
                ));
            }
            Ok(RdmaLimit {
                device: device.clone(),
                hca_handles: limits.hca_handles,
                hca_objects: limits.hca_objects,
            })
        })
        .collect()
}

/// A name that fits in one field of a control file line.
fn is_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdma_lines_hold_the_limits_given() {
        let rdma: BTreeMap<String, spec::Rdma> = serde_json::from_str(
            r#"{"mlx4_0":{"hcaHandles":2,"hcaObjects":2000},"rxe3":{"hcaObjects":10}}"#,
        )
        .unwrap();
        let lines: Vec<String> = rdma_limits(&rdma)
            .unwrap()
            .iter()
            .map(RdmaLimit::line)
            .collect();
        assert_eq!(
            lines,
            ["mlx4_0 hca_handle=2 hca_object=2000", "rxe3 hca_object=10"]
        );
        let rdma: BTreeMap<String, spec::Rdma> = serde_json::from_str(r#"{"x":{}}"#).unwrap();
        assert_eq!(
            rdma_limits(&rdma).unwrap_err().to_string(),
            "linux.resources.rdma.x: names neither hcaHandles nor hcaObjects"
        );
        let rdma: BTreeMap<String, spec::Rdma> =
            serde_json::from_str(r#"{"a b":{"hcaHandles":1}}"#).unwrap();
        assert!(rdma_limits(&rdma).is_err());
    }

    #[test]
    fn interface_names_are_checked() {
        let network: spec::Network = serde_json::from_str(
            r#"{"classID":1048577,"priorities":[{"name":"eth0","priority":5}]}"#,
        )
        .unwrap();
        let plan = network_plan(&network).unwrap();
        assert_eq!(plan.class_id, Some(1048577));
        assert_eq!(plan.priorities, [("eth0".to_owned(), 5)]);
        let network: spec::Network =
            serde_json::from_str(r#"{"priorities":[{"name":"eth0\n","priority":5}]}"#).unwrap();
        assert!(network_plan(&network)
            .unwrap_err()
            .to_string()
            .starts_with("linux.resources.network.priorities[0].name: "));
    }
}
