//! `linux.resources.blockIO`: weights and per-device throttles.

use super::{invalid, CgroupError};
use crate::spec;
use std::fmt;

/// A block device, `major:minor` as cgroup files spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DeviceNumber {
    pub(crate) major: u32,
    pub(crate) minor: u32,
}

impl fmt::Display for DeviceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

/// A weight for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceWeight {
    pub(crate) device: DeviceNumber,
    pub(crate) weight: Option<u16>,
    pub(crate) leaf_weight: Option<u16>,
}

/// A rate limit for one device (bytes or operations per second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceRate {
    pub(crate) device: DeviceNumber,
    pub(crate) rate: u64,
}

/// Validated `linux.resources.blockIO`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BlockIoPlan {
    /// 10 to 1000, the cgroup v1 range.
    pub(crate) weight: Option<u16>,
    pub(crate) leaf_weight: Option<u16>,
    pub(crate) weight_devices: Vec<DeviceWeight>,
    pub(crate) read_bps: Vec<DeviceRate>,
    pub(crate) write_bps: Vec<DeviceRate>,
    pub(crate) read_iops: Vec<DeviceRate>,
    pub(crate) write_iops: Vec<DeviceRate>,
}

impl BlockIoPlan {
    /// Whether the plan asks for anything.
    pub(crate) fn is_empty(&self) -> bool {
        *self == BlockIoPlan::default()
    }
}

const FIELD: &str = "linux.resources.blockIO";

/// Validates `linux.resources.blockIO`.
pub(crate) fn block_io_plan(b: &spec::BlockIo) -> Result<BlockIoPlan, CgroupError> {
    let weight_devices = b
        .weight_device
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let field = format!("{FIELD}.weightDevice[{i}]");
            if d.weight.is_none() && d.leaf_weight.is_none() {
                return Err(invalid(
                    &field,
                    "names neither weight nor leafWeight".into(),
                ));
            }
            Ok(DeviceWeight {
                device: device_number(d.major, d.minor, &field)?,
                weight: weight(d.weight, &format!("{field}.weight"))?,
                leaf_weight: weight(d.leaf_weight, &format!("{field}.leafWeight"))?,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(BlockIoPlan {
        weight: weight(b.weight, &format!("{FIELD}.weight"))?,
        leaf_weight: weight(b.leaf_weight, &format!("{FIELD}.leafWeight"))?,
        weight_devices,
        read_bps: rates(&b.throttle_read_bps_device, "throttleReadBpsDevice")?,
        write_bps: rates(&b.throttle_write_bps_device, "throttleWriteBpsDevice")?,
        read_iops: rates(&b.throttle_read_iops_device, "throttleReadIOPSDevice")?,
        write_iops: rates(&b.throttle_write_iops_device, "throttleWriteIOPSDevice")?,
    })
}

/// A weight in the range the blkio controller takes. Zero means unset:
/// Docker sends `"weight": 0` when no weight was asked for, and runc and
/// crun leave the cgroup's weight alone then.
fn weight(value: Option<u16>, field: &str) -> Result<Option<u16>, CgroupError> {
    match value {
        Some(0) => Ok(None),
        Some(w) if !(10..=1000).contains(&w) => Err(invalid(
            field,
            format!("{w} is outside the weight range 10 to 1000"),
        )),
        other => Ok(other),
    }
}

fn rates(devices: &[spec::ThrottleDevice], name: &str) -> Result<Vec<DeviceRate>, CgroupError> {
    devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            Ok(DeviceRate {
                device: device_number(d.major, d.minor, &format!("{FIELD}.{name}[{i}]"))?,
                rate: d.rate,
            })
        })
        .collect()
}

fn device_number(major: i64, minor: i64, field: &str) -> Result<DeviceNumber, CgroupError> {
    match (u32::try_from(major), u32::try_from(minor)) {
        (Ok(major), Ok(minor)) => Ok(DeviceNumber { major, minor }),
        _ => Err(invalid(
            field,
            format!("{major}:{minor} is not a device number"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Result<BlockIoPlan, String> {
        block_io_plan(&serde_json::from_str(json).unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn values_are_kept() {
        let p = plan(
            r#"{"weight":10,"leafWeight":1000,
                "weightDevice":[{"major":8,"minor":0,"weight":500}],
                "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":600}],
                "throttleWriteIOPSDevice":[{"major":8,"minor":16,"rate":300}]}"#,
        )
        .unwrap();
        assert_eq!((p.weight, p.leaf_weight), (Some(10), Some(1000)));
        assert_eq!(p.weight_devices[0].device.to_string(), "8:0");
        assert_eq!(p.read_bps[0].rate, 600);
        assert_eq!(p.write_iops[0].device.to_string(), "8:16");
        assert!(!p.is_empty());
        assert!(plan("{}").unwrap().is_empty());
        assert!(plan(r#"{"weight":0,"leafWeight":0}"#).unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            plan(r#"{"weight":5}"#).unwrap_err(),
            "linux.resources.blockIO.weight: 5 is outside the weight range 10 to 1000"
        );
        assert_eq!(
            plan(r#"{"weightDevice":[{"major":8,"minor":0}]}"#).unwrap_err(),
            "linux.resources.blockIO.weightDevice[0]: names neither weight nor leafWeight"
        );
        assert!(
            plan(r#"{"weightDevice":[{"major":8,"minor":0,"leafWeight":1001}]}"#)
                .unwrap_err()
                .starts_with("linux.resources.blockIO.weightDevice[0].leafWeight: ")
        );
        assert!(
            plan(r#"{"throttleWriteBpsDevice":[{"major":-1,"minor":0,"rate":1}]}"#)
                .unwrap_err()
                .starts_with("linux.resources.blockIO.throttleWriteBpsDevice[0]: ")
        );
    }
}
