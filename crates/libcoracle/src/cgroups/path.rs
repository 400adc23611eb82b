//! `linux.cgroupsPath`: validation, and where it leads in one hierarchy.
//!
//! The path is the same for every hierarchy (the spec has no per-controller
//! paths); only its starting point differs for a relative path, which starts
//! at the caller's own cgroup in each hierarchy.

use super::CgroupError;

/// The field named in errors.
const FIELD: &str = "linux.cgroupsPath";

/// A validated `cgroupsPath`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupsPath {
    /// Starts at each hierarchy's mount point (true) or at the caller's own
    /// cgroup there (false).
    absolute: bool,
    /// The components joined with `/`, without a leading `/`; none of them is
    /// empty, `.` or `..`, so the path cannot leave where it starts.
    components: String,
    /// Whether it is the default, `/coracle/<id>`, whose parent is coracle's.
    default: bool,
}

impl CgroupsPath {
    /// Validates `cgroups_path`; absent means `/coracle/<id>`.
    pub(crate) fn parse(cgroups_path: Option<&str>, id: &str) -> Result<Self, CgroupError> {
        let default;
        let path = match cgroups_path {
            Some(path) => path,
            None => {
                default = format!("/coracle/{id}");
                &default
            }
        };
        let (absolute, components) = match path.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, path),
        };
        if components.is_empty() {
            // The root cgroup is shared by the whole host: never the container's.
            return Err(invalid(path, "names no cgroup below the root"));
        }
        if path.contains('\0') {
            return Err(invalid(path, "contains a NUL byte"));
        }
        for component in components.split('/') {
            if component.is_empty() || component == "." || component == ".." {
                return Err(invalid(
                    path,
                    "has an empty, \".\" or \"..\" component (it must name a cgroup below where it starts)",
                ));
            }
        }
        Ok(CgroupsPath {
            absolute,
            components: components.to_owned(),
            default: cgroups_path.is_none(),
        })
    }

    /// How many levels of the path, from the container's own directory
    /// upwards, are coracle's whoever made them: both of `/coracle/<id>`,
    /// so that the last container out removes `/coracle` too; none of a
    /// path the config gave (only what coracle made of it goes).
    pub(crate) fn owned_levels(&self) -> usize {
        if self.default {
            2
        } else {
            0
        }
    }

    /// The container's cgroup relative to a hierarchy's mount point, given
    /// the caller's own cgroup there (relative to the same mount point, if the
    /// caller's cgroup is visible in that mount).
    pub(crate) fn below_mount(
        &self,
        own: Option<&str>,
        mount_point: &str,
    ) -> Result<String, CgroupError> {
        if self.absolute {
            return Ok(self.components.clone());
        }
        match own {
            Some("") => Ok(self.components.clone()),
            Some(own) => Ok(format!("{own}/{}", self.components)),
            None => Err(CgroupError::Invalid {
                field: FIELD.into(),
                reason: format!(
                    "{:?} is relative to the runtime's own cgroup, which is not visible under {mount_point}",
                    self.components
                ),
            }),
        }
    }
}

/// The error for an unusable `cgroupsPath`.
fn invalid(path: &str, why: &str) -> CgroupError {
    CgroupError::Invalid {
        field: FIELD.into(),
        reason: format!("{path:?} {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn below(path: Option<&str>, own: Option<&str>) -> Result<String, CgroupError> {
        CgroupsPath::parse(path, "ctr")?.below_mount(own, "/sys/fs/cgroup/pids")
    }

    #[test]
    fn absent_path_defaults_to_coracle_id() {
        assert_eq!(below(None, Some("ignored")).unwrap(), "coracle/ctr");
    }

    #[test]
    fn absolute_path_starts_at_the_mount_point() {
        assert_eq!(below(Some("/a/b"), Some("x/y")).unwrap(), "a/b");
    }

    #[test]
    fn relative_path_starts_at_own_cgroup() {
        assert_eq!(
            below(Some("a/b"), Some("user.slice/u")).unwrap(),
            "user.slice/u/a/b"
        );
        assert_eq!(below(Some("a"), Some("")).unwrap(), "a");
    }

    #[test]
    fn relative_path_needs_a_visible_own_cgroup() {
        let err = below(Some("a"), None).unwrap_err().to_string();
        assert!(err.starts_with("linux.cgroupsPath: "), "{err}");
    }

    #[test]
    fn rejects_escapes_and_empty_components() {
        for bad in [
            "", "/", "/a/../b", "..", "a/..", "/a//b", "/a/", "./a", "a/./b", "a\0b",
        ] {
            let err = CgroupsPath::parse(Some(bad), "ctr")
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("linux.cgroupsPath: "), "{bad:?}: {err}");
        }
    }

    #[test]
    fn rejects_an_id_that_escapes_the_default_path() {
        assert!(CgroupsPath::parse(None, "../x").is_err());
    }
}
