//! `linux.resources.unified`: cgroup v2 files written verbatim.

use super::{invalid, CgroupError};
use std::collections::BTreeMap;

/// Checks that every key names a file of the container's own cgroup
/// directory: a plain name such as `io.max`, never a path.
pub(crate) fn unified_files(
    unified: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, CgroupError> {
    unified
        .iter()
        .map(|(key, value)| {
            let plain = !key.is_empty()
                && key != "."
                && key != ".."
                && !key.contains(['/', '\0'])
                && key.contains('.');
            if !plain {
                return Err(invalid(
                    &format!("linux.resources.unified.{key}"),
                    "is not the name of a cgroup control file such as \"io.max\"".into(),
                ));
            }
            Ok((key.clone(), value.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_file_names() {
        let map = |k: &str| BTreeMap::from([(k.to_owned(), "1".to_owned())]);
        assert_eq!(
            unified_files(&map("memory.high")).unwrap(),
            [("memory.high".to_owned(), "1".to_owned())]
        );
        for bad in ["", ".", "..", "../x.max", "a/b.max", "x\0.max", "cgroup"] {
            let err = unified_files(&map(bad)).unwrap_err().to_string();
            assert!(
                err.starts_with("linux.resources.unified."),
                "{bad:?}: {err}"
            );
        }
    }
}
