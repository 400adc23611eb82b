//! `linux.resources.devices`: the device access rules, validated once and
//! shared by the drivers (cgroup v1 writes them to `devices.allow` and
//! `devices.deny`; cgroup v2 compiles them into an eBPF program).
//!
//! Every container starts from "deny everything"; the configured rules come
//! next, in the order of the configuration, and the default devices of
//! config-linux.md are allowed last, so that the usual leading "deny all"
//! rule of engines and of `runc spec` cannot take `/dev/null` away (the
//! specification says these devices MUST be supplied).

use super::CgroupError;
use crate::spec;

/// Which devices a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    /// Character and block devices (`a`).
    All,
    /// Character devices (`c`).
    Char,
    /// Block devices (`b`).
    Block,
}

impl DeviceKind {
    /// The letter of the kernel's device rule syntax.
    pub(crate) fn letter(self) -> char {
        match self {
            DeviceKind::All => 'a',
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        }
    }
}

/// Read access (`r`).
pub(crate) const READ: u8 = 1;
/// Write access (`w`).
pub(crate) const WRITE: u8 = 2;
/// Creating the device node (`m`).
pub(crate) const MKNOD: u8 = 4;
/// Every kind of access.
const ALL_ACCESS: u8 = READ | WRITE | MKNOD;

/// One validated device rule; `None` numbers match every number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceRule {
    pub(crate) allow: bool,
    pub(crate) kind: DeviceKind,
    pub(crate) major: Option<u32>,
    pub(crate) minor: Option<u32>,
    /// A set of [`READ`], [`WRITE`] and [`MKNOD`].
    pub(crate) access: u8,
}

/// An allowance of every access to one character device or range.
const fn char_device(major: Option<u32>, minor: Option<u32>, access: u8) -> DeviceRule {
    DeviceRule {
        allow: true,
        kind: DeviceKind::Char,
        major,
        minor,
        access,
    }
}

/// The devices every container may use (config-linux.md, "Default
/// Devices", plus the pseudo-terminals and `mknod` of any device, which
/// grants no access to what is created).
pub(crate) const DEFAULT_ALLOWED: [DeviceRule; 11] = [
    char_device(None, None, MKNOD),
    DeviceRule {
        kind: DeviceKind::Block,
        ..char_device(None, None, MKNOD)
    },
    char_device(Some(1), Some(3), ALL_ACCESS), // /dev/null
    char_device(Some(1), Some(5), ALL_ACCESS), // /dev/zero
    char_device(Some(1), Some(7), ALL_ACCESS), // /dev/full
    char_device(Some(5), Some(0), ALL_ACCESS), // /dev/tty
    char_device(Some(1), Some(8), ALL_ACCESS), // /dev/random
    char_device(Some(1), Some(9), ALL_ACCESS), // /dev/urandom
    char_device(Some(5), Some(1), ALL_ACCESS), // /dev/console
    char_device(Some(136), None, ALL_ACCESS),  // /dev/pts/*
    char_device(Some(5), Some(2), ALL_ACCESS), // /dev/ptmx
];

/// The rules a container gets: its configured `rules` followed by the
/// defaults (the "deny everything" start is implied).
pub(crate) fn effective_rules(
    rules: &[DeviceRule],
) -> impl DoubleEndedIterator<Item = &DeviceRule> {
    rules.iter().chain(DEFAULT_ALLOWED.iter())
}

/// Validates `linux.resources.devices`, in order.
pub(crate) fn device_rules(rules: &[spec::DeviceCgroup]) -> Result<Vec<DeviceRule>, CgroupError> {
    rules
        .iter()
        .enumerate()
        .map(|(i, rule)| device_rule(i, rule))
        .collect()
}

fn device_rule(index: usize, rule: &spec::DeviceCgroup) -> Result<DeviceRule, CgroupError> {
    let field = |name: &str| format!("linux.resources.devices[{index}].{name}");
    let kind = match rule.typ.as_deref() {
        None | Some("a") => DeviceKind::All,
        Some("c") => DeviceKind::Char,
        Some("b") => DeviceKind::Block,
        Some(other) => {
            return Err(invalid(
                field("type"),
                format!("{other:?} is not \"a\", \"c\" or \"b\""),
            ))
        }
    };
    Ok(DeviceRule {
        allow: rule.allow,
        kind,
        major: device_number(rule.major, || field("major"))?,
        minor: device_number(rule.minor, || field("minor"))?,
        access: access_bits(rule.access.as_deref(), || field("access"))?,
    })
}

/// A major or minor number; absent or `-1` matches all.
fn device_number(
    value: Option<i64>,
    field: impl Fn() -> String,
) -> Result<Option<u32>, CgroupError> {
    match value {
        None | Some(-1) => Ok(None),
        Some(n) => u32::try_from(n).map(Some).map_err(|_| {
            invalid(
                field(),
                format!("{n} is neither a device number nor -1 (all)"),
            )
        }),
    }
}

/// `rwm` letters as bits; absent means every access.
fn access_bits(value: Option<&str>, field: impl Fn() -> String) -> Result<u8, CgroupError> {
    let Some(letters) = value else {
        return Ok(ALL_ACCESS);
    };
    let mut bits = 0;
    for letter in letters.chars() {
        bits |= match letter {
            'r' => READ,
            'w' => WRITE,
            'm' => MKNOD,
            _ => {
                return Err(invalid(
                    field(),
                    format!("{letters:?} holds {letter:?}; only r, w and m are accesses"),
                ))
            }
        };
    }
    if bits == 0 {
        return Err(invalid(field(), "\"\" names no access".into()));
    }
    Ok(bits)
}

impl DeviceRule {
    /// The rule as cgroup v1 entries: one rule for every device and access
    /// (type `a`), or rules of type `c` or `b`.
    ///
    /// The v1 kernel reads any entry of type `a` as "every device, every
    /// access" whatever follows, so a rule for all types but a given number
    /// or access becomes two entries, one for `c` and one for `b`.
    pub(crate) fn v1_entries(&self) -> Vec<DeviceRule> {
        let everything = self.major.is_none() && self.minor.is_none() && self.access == ALL_ACCESS;
        match self.kind {
            DeviceKind::All if !everything => [DeviceKind::Char, DeviceKind::Block]
                .iter()
                .map(|&kind| DeviceRule { kind, ..*self })
                .collect(),
            _ => vec![*self],
        }
    }

    /// One v1 entry in the kernel's syntax for `devices.allow` and
    /// `devices.deny`, such as `c 1:3 rwm`, `b 8:* r` or `a`.
    pub(crate) fn v1_line(&self) -> String {
        match self.kind {
            DeviceKind::All => "a".to_owned(),
            kind => format!(
                "{} {}:{} {}",
                kind.letter(),
                number(self.major),
                number(self.minor),
                access_letters(self.access)
            ),
        }
    }
}

/// A device number, `*` for all.
fn number(n: Option<u32>) -> String {
    n.map_or_else(|| "*".to_owned(), |n| n.to_string())
}

/// Access bits as `rwm` letters.
pub(crate) fn access_letters(bits: u8) -> String {
    [(READ, 'r'), (WRITE, 'w'), (MKNOD, 'm')]
        .iter()
        .filter(|(bit, _)| bits & bit != 0)
        .map(|(_, letter)| letter)
        .collect()
}

fn invalid(field: String, reason: String) -> CgroupError {
    CgroupError::Invalid { field, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: &str) -> Result<Vec<DeviceRule>, String> {
        let rules: Vec<spec::DeviceCgroup> = serde_json::from_str(json).unwrap();
        device_rules(&rules).map_err(|e| e.to_string())
    }

    fn lines(json: &str) -> Vec<String> {
        rules(json)
            .unwrap()
            .iter()
            .flat_map(DeviceRule::v1_entries)
            .map(|entry| entry.v1_line())
            .collect()
    }

    #[test]
    fn absent_fields_mean_all() {
        assert_eq!(
            rules(r#"[{"allow":false}]"#).unwrap(),
            [DeviceRule {
                allow: false,
                kind: DeviceKind::All,
                major: None,
                minor: None,
                access: ALL_ACCESS
            }]
        );
        assert_eq!(lines(r#"[{"allow":false,"access":"rwm"}]"#), ["a"]);
        assert_eq!(
            lines(r#"[{"allow":true,"type":"c","major":-1,"minor":-1,"access":"mr"}]"#),
            ["c *:* rm"]
        );
    }

    #[test]
    fn numbers_and_access_are_spelled_as_the_kernel_reads_them() {
        assert_eq!(
            lines(
                r#"[{"allow":true,"type":"c","major":10,"minor":229,"access":"rw"},
                    {"allow":true,"type":"b","major":8,"access":"r"}]"#
            ),
            ["c 10:229 rw", "b 8:* r"]
        );
    }

    #[test]
    fn all_types_with_a_number_or_an_access_becomes_two_lines() {
        // "a 1:3 rw" would read as every device to the v1 kernel.
        assert_eq!(
            lines(r#"[{"allow":true,"type":"a","major":1,"minor":3,"access":"rw"}]"#),
            ["c 1:3 rw", "b 1:3 rw"]
        );
        assert_eq!(
            lines(r#"[{"allow":false,"access":"w"}]"#),
            ["c *:* w", "b *:* w"]
        );
    }

    #[test]
    fn bad_rules_name_the_field() {
        assert_eq!(
            rules(r#"[{"allow":true},{"allow":true,"type":"u"}]"#).unwrap_err(),
            "linux.resources.devices[1].type: \"u\" is not \"a\", \"c\" or \"b\""
        );
        assert!(rules(r#"[{"allow":true,"major":-2}]"#)
            .unwrap_err()
            .starts_with("linux.resources.devices[0].major: "));
        assert!(rules(r#"[{"allow":true,"minor":4294967296}]"#)
            .unwrap_err()
            .starts_with("linux.resources.devices[0].minor: "));
        assert!(rules(r#"[{"allow":true,"access":"rx"}]"#)
            .unwrap_err()
            .starts_with("linux.resources.devices[0].access: "));
        assert!(rules(r#"[{"allow":true,"access":""}]"#)
            .unwrap_err()
            .starts_with("linux.resources.devices[0].access: "));
    }

    #[test]
    fn defaults_come_after_the_configured_rules() {
        let configured = rules(r#"[{"allow":false}]"#).unwrap();
        let all: Vec<String> = effective_rules(&configured)
            .flat_map(DeviceRule::v1_entries)
            .map(|entry| entry.v1_line())
            .collect();
        assert_eq!(all[0], "a");
        assert_eq!(all[1..3], ["c *:* m", "b *:* m"]);
        assert!(all.contains(&"c 1:3 rwm".to_owned()));
        assert!(all.contains(&"c 136:* rwm".to_owned()));
        assert_eq!(all.len(), 1 + DEFAULT_ALLOWED.len());
    }
}
