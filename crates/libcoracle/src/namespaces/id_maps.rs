//! User namespace mappings (config-linux.md "User namespace mappings"):
//! written by the runtime into a new user namespace, and compared by the
//! init with those of a user namespace it joins by path.

use super::NamespaceError;
use crate::spec::IdMapping;

/// `linux.uidMappings` and `linux.gidMappings` as the kernel's `uid_map`
/// and `gid_map` take them: one `inside outside count` line a range,
/// written at once (the kernel takes one write).
#[derive(Debug, Default)]
pub(super) struct IdMaps {
    /// The `uid_map` text; empty without `linux.uidMappings`.
    pub(super) uid: String,
    /// The `gid_map` text; empty without `linux.gidMappings`.
    pub(super) gid: String,
}

impl IdMaps {
    /// The maps of the config's `uidMappings` and `gidMappings`.
    pub(super) fn from_spec(uid: &[IdMapping], gid: &[IdMapping]) -> IdMaps {
        IdMaps {
            uid: map_text(uid),
            gid: map_text(gid),
        }
    }

    fn files(&self) -> [(&'static str, &'static str, &str); 2] {
        [
            ("uid_map", "linux.uidMappings", &self.uid),
            ("gid_map", "linux.gidMappings", &self.gid),
        ]
    }

    /// In the runtime, after the clone: writes the maps of the new user
    /// namespace of `pid`.
    pub(super) fn write(&self, pid: i32) -> Result<(), NamespaceError> {
        for (file, _, text) in self.files() {
            std::fs::write(format!("/proc/{pid}/{file}"), text)
                .map_err(|source| NamespaceError::IdMap { file, pid, source })?;
        }
        Ok(())
    }

    /// In the init, right after joining a user namespace by path: the
    /// mappings a config gives too must be that namespace's, which no
    /// config can change (runc checks the same). `/proc/self/*_map` of a
    /// process in the namespace shows them as its parent namespace sees
    /// them, which is how the config gives them.
    pub(super) fn check_joined(&self) -> Result<(), NamespaceError> {
        for (file, field, text) in self.files() {
            if text.is_empty() {
                continue;
            }
            let path = format!("/proc/self/{file}");
            let actual = std::fs::read_to_string(&path)
                .map_err(|source| NamespaceError::JoinedMapsUnreadable { path, source })?;
            if ranges(&actual) != ranges(text) {
                return Err(NamespaceError::JoinedMapsDiffer {
                    field,
                    actual: shown(&actual),
                    wanted: shown(text),
                });
            }
        }
        Ok(())
    }
}

/// The text of `uid_map`/`gid_map`.
fn map_text(mappings: &[IdMapping]) -> String {
    mappings
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// The ranges of a map, in order (the kernel sorts more than five).
fn ranges(text: &str) -> Vec<Vec<u64>> {
    let mut ranges: Vec<Vec<u64>> = text
        .lines()
        .map(|line| {
            line.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .filter(|range: &Vec<u64>| !range.is_empty())
        .collect();
    ranges.sort();
    ranges
}

/// A map on one line, for an error: `0 100000 65536, 1000 200000 10`.
fn shown(text: &str) -> String {
    let ranges: Vec<String> = ranges(text)
        .iter()
        .map(|range| {
            range
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    ranges.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_compare_by_their_ranges_whatever_the_spacing() {
        let kernel = "         0     100000      65536\n      1000     200000         10\n";
        assert_eq!(ranges(kernel), ranges("1000 200000 10\n0 100000 65536\n"));
        assert_ne!(ranges(kernel), ranges("0 100000 65536\n"));
        assert_eq!(shown(kernel), "0 100000 65536, 1000 200000 10");
    }
}
