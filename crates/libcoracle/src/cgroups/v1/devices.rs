//! The cgroup v1 devices controller: writing the rules, and predicting what
//! `devices.list` shows after them, so that an update that changes nothing
//! does not reset a running container's device access (the reset starts
//! with "deny everything", which a process opening `/dev/null` at that
//! moment would see).

use super::super::control::read_control;
use super::super::devices::{access_letters, effective_rules, DeviceKind, DeviceRule};
use super::super::CgroupError;
use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Denies every device, then writes the rules in order (each to
/// `devices.allow` or `devices.deny`), the default devices last. With
/// `only_if_changed`, nothing is written when `devices.list` already shows
/// what the rules would make.
pub(super) fn apply_devices(
    dir: &Path,
    rules: &[DeviceRule],
    only_if_changed: bool,
) -> Result<(), CgroupError> {
    if only_if_changed {
        if let Some(expected) = expected_list(rules) {
            if read_control(&dir.join("devices.list"))? == expected {
                return Ok(());
            }
        }
    }
    // Each write(2) is one rule; the two files stay open for all of them.
    let mut allow = RuleFile::new(dir, "devices.allow");
    let mut deny = RuleFile::new(dir, "devices.deny");
    deny.write("a")?;
    for entry in effective_rules(rules).flat_map(DeviceRule::v1_entries) {
        let file = if entry.allow { &mut allow } else { &mut deny };
        file.write(&entry.v1_line())?;
    }
    Ok(())
}

/// `devices.allow` or `devices.deny`, opened at the first rule written.
struct RuleFile {
    file: Option<File>,
    path: PathBuf,
}

impl RuleFile {
    fn new(dir: &Path, name: &str) -> RuleFile {
        RuleFile {
            file: None,
            path: dir.join(name),
        }
    }

    fn write(&mut self, rule: &str) -> Result<(), CgroupError> {
        let written = match &mut self.file {
            Some(file) => file.write_all(rule.as_bytes()),
            None => OpenOptions::new()
                .write(true)
                .open(&self.path)
                .and_then(|file| self.file.insert(file).write_all(rule.as_bytes())),
        };
        written.map_err(|source| CgroupError::Refused {
            field: "linux.resources.devices".into(),
            path: self.path.clone(),
            value: rule.to_owned(),
            source,
        })
    }
}

/// The `devices.list` that writing the rules into a cgroup makes, following
/// the kernel: a default (deny or allow everything) plus exceptions, where an
/// exception matches only an entry of the same type and numbers. `None`
/// when the result allows every device by default: the kernel then lists
/// only `a *:* rwm`, whatever the exceptions.
pub(super) fn expected_list(rules: &[DeviceRule]) -> Option<String> {
    let mut allow_all = false;
    let mut exceptions: Vec<DeviceRule> = Vec::new();
    for entry in effective_rules(rules).flat_map(DeviceRule::v1_entries) {
        if entry.kind == DeviceKind::All {
            allow_all = entry.allow;
            exceptions.clear();
            continue;
        }
        let same =
            |e: &DeviceRule| (e.kind, e.major, e.minor) == (entry.kind, entry.major, entry.minor);
        // An exception is an allowance under "deny all" and a denial under
        // "allow all": a rule of that sense adds to it, the other removes.
        if entry.allow != allow_all {
            match exceptions.iter_mut().find(|e| same(e)) {
                Some(existing) => existing.access |= entry.access,
                None => exceptions.push(entry),
            }
        } else {
            for existing in exceptions.iter_mut().filter(|e| same(e)) {
                existing.access &= !entry.access;
            }
            exceptions.retain(|e| e.access != 0);
        }
    }
    if allow_all {
        return None;
    }
    Some(
        exceptions
            .iter()
            .map(|e| {
                let number = |n: Option<u32>| n.map_or_else(|| "*".to_owned(), |n| n.to_string());
                format!(
                    "{} {}:{} {}\n",
                    e.kind.letter(),
                    number(e.major),
                    number(e.minor),
                    access_letters(e.access)
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::super::devices::device_rules;
    use super::*;

    fn expected(json: &str) -> Option<String> {
        expected_list(&device_rules(&serde_json::from_str::<Vec<_>>(json).unwrap()).unwrap())
    }

    #[test]
    fn predicts_the_kernels_list() {
        let list = expected(
            r#"[{"allow":false},{"allow":true,"type":"c","major":1,"minor":3,"access":"r"},
                {"allow":true,"type":"c","major":10,"minor":200,"access":"rw"},
                {"allow":false,"type":"c","major":10,"minor":200,"access":"w"}]"#,
        )
        .unwrap();
        // 1:3 r merged into the default 1:3 rwm, in its first place.
        assert!(
            list.starts_with("c 1:3 rwm\nc 10:200 r\nc *:* m\nb *:* m\n"),
            "{list}"
        );
        assert!(!list.contains("1:3 rwm\nc 1:3"), "{list}");
        // A denial of an exception's whole access removes it.
        let list = expected(
            r#"[{"allow":true,"type":"c","major":4,"minor":1,"access":"rw"},
                {"allow":false,"type":"c","major":4,"minor":1,"access":"rw"}]"#,
        )
        .unwrap();
        assert!(list.starts_with("c *:* m\n"), "{list}");
        // Allowing everything hides the exceptions.
        assert_eq!(expected(r#"[{"allow":true}]"#), None);
    }
}
