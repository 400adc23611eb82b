//! Loading `config.json` once and validating it into a [`Plan`]: every
//! field checked, every string the container side needs pre-built, so that
//! nothing after the clone parses JSON or meets a malformed value.

use crate::cgroups::{CgroupError, CgroupPlan};
use crate::hooks::{self, HookError};
use crate::lsm::{self, LsmError};
use crate::namespaces::{Kind, NamespaceError, NamespacePlan};
use crate::netdev::{NetDevError, NetDevicePlan};
use crate::process::{ProcessError, ProcessPlan};
use crate::rootfs::{RootfsError, RootfsOptions, RootfsPlan};
use crate::seccomp::{SeccompError, SeccompPlan};
use crate::spec::{Hooks, Spec};
use crate::sys;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors of loading and validating a configuration.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The bundle or its config.json cannot be read.
    #[error("{path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// config.json is not valid JSON of the expected shape.
    #[error("{path}: {source}")]
    Parse {
        /// The path.
        path: PathBuf,
        /// The parser's error, with the field, line and column.
        source: crate::spec::DecodeError,
    },
    /// A required field is missing.
    #[error("config.json: {0} is required")]
    Missing(&'static str),
    /// An ociVersion this build does not implement.
    #[error("config.json: ociVersion {0:?} is not supported (coracle implements 1.x)")]
    Version(String),
    /// A field this build does not implement yet.
    #[error("config.json: {0} is not supported yet")]
    Unsupported(&'static str),
    /// A field this host cannot honour.
    #[error("config.json: {field}: {why}")]
    Unavailable {
        /// The field.
        field: &'static str,
        /// Why.
        why: &'static str,
    },
    /// A security label.
    #[error(transparent)]
    Lsm(#[from] LsmError),
    /// A namespace field.
    #[error(transparent)]
    Namespaces(#[from] NamespaceError),
    /// A root, mount or device field.
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    /// A process field.
    #[error(transparent)]
    Process(#[from] ProcessError),
    /// A cgroup field.
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
    /// A hook field.
    #[error(transparent)]
    Hooks(#[from] HookError),
    /// The seccomp profile.
    #[error(transparent)]
    Seccomp(#[from] SeccompError),
    /// A network device.
    #[error(transparent)]
    NetDevices(#[from] NetDevError),
}

/// How the command line asked for the container to be made.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions<'a> {
    /// The container id (the default cgroup path is derived from it).
    pub id: &'a str,
    /// `--no-pivot`: MS_MOVE and chroot instead of pivot_root.
    pub no_pivot: bool,
    /// `--systemd-cgroup`.
    pub systemd_cgroup: bool,
    /// Where compiled seccomp filters are cached, if anywhere.
    pub seccomp_cache: Option<&'a Path>,
}

/// A validated configuration, ready to be carried out.
pub struct Plan {
    /// The document as read (annotations, hooks and process are kept in
    /// the container's record).
    pub spec: Spec,
    /// The bundle's absolute path.
    pub bundle: PathBuf,
    /// Namespaces to create and join.
    pub namespaces: NamespacePlan,
    /// The root filesystem.
    pub rootfs: RootfsPlan,
    /// The container's process.
    pub process: ProcessPlan,
    /// The container's cgroup.
    pub cgroup: CgroupPlan,
    /// Network devices to move into the container.
    pub net_devices: NetDevicePlan,
    /// The compiled seccomp filter, if the config has one.
    pub seccomp: Option<SeccompPlan>,
    /// Whether the filter came from the cache.
    pub seccomp_cached: bool,
}

impl Plan {
    /// The hooks (empty lists when the config has none).
    pub fn hooks(&self) -> Hooks {
        self.spec.hooks.clone().unwrap_or_default()
    }
}

/// Reads and parses `BUNDLE/config.json`.
pub fn read_spec(bundle: &Path) -> Result<Spec, ConfigError> {
    let path = bundle.join("config.json");
    let bytes = std::fs::read(&path).map_err(|source| ConfigError::Read {
        path: path.clone(),
        source,
    })?;
    crate::spec::decode(&bytes).map_err(|source| ConfigError::Parse { path, source })
}

/// Loads `BUNDLE/config.json` and validates all of it into a plan.
pub fn load(bundle: &Path, options: PlanOptions<'_>) -> Result<Plan, ConfigError> {
    let bundle = std::fs::canonicalize(bundle).map_err(|source| ConfigError::Read {
        path: bundle.to_path_buf(),
        source,
    })?;
    let spec = read_spec(&bundle)?;
    check_version(&spec.oci_version)?;
    check_unsupported(&spec)?;
    let process = spec
        .process
        .as_ref()
        .ok_or(ConfigError::Missing("process"))?;
    if spec.root.is_none() {
        return Err(ConfigError::Missing("root"));
    }
    let namespaces = NamespacePlan::from_spec(&spec)?;
    if !namespaces.has(Kind::Mount) {
        return Err(ConfigError::Missing(
            "a mount namespace (new, or joined by path) in linux.namespaces",
        ));
    }
    let net_devices = NetDevicePlan::from_spec(spec.linux.as_ref(), &namespaces)?;
    let hooks = spec.hooks.clone().unwrap_or_default();
    for (kind, list) in hook_lists(&hooks) {
        hooks::validate(kind, list)?;
    }
    let rootfs = RootfsPlan::from_spec(
        &spec,
        &bundle,
        RootfsOptions {
            no_pivot: options.no_pivot,
        },
    )?;
    let process = ProcessPlan::from_spec(process)?.with_linux(spec.linux.as_ref())?;
    let cgroup = CgroupPlan::from_spec(&spec, options.id, options.systemd_cgroup)?;
    let (seccomp, seccomp_cached) = match spec.linux.as_ref().and_then(|l| l.seccomp.as_ref()) {
        Some(profile) => {
            let (plan, hit) = SeccompPlan::from_spec(profile, options.seccomp_cache)?;
            (Some(plan), hit)
        }
        None => (None, false),
    };
    Ok(Plan {
        spec,
        bundle,
        namespaces,
        rootfs,
        process,
        cgroup,
        net_devices,
        seccomp,
        seccomp_cached,
    })
}

/// Every hook list with its name in config.json.
pub fn hook_lists(hooks: &Hooks) -> [(&'static str, &[crate::spec::Hook]); 6] {
    [
        ("prestart", &hooks.prestart),
        ("createRuntime", &hooks.create_runtime),
        ("createContainer", &hooks.create_container),
        ("startContainer", &hooks.start_container),
        ("poststart", &hooks.poststart),
        ("poststop", &hooks.poststop),
    ]
}

fn check_version(version: &str) -> Result<(), ConfigError> {
    if version.is_empty() {
        return Err(ConfigError::Missing("ociVersion"));
    }
    if version.split('.').next() != Some("1") {
        return Err(ConfigError::Version(version.to_string()));
    }
    Ok(())
}

/// Fields this host or build cannot honour: refused by name rather than
/// silently ignored.
fn check_unsupported(spec: &Spec) -> Result<(), ConfigError> {
    let linux = spec.linux.as_ref();
    lsm::check_mount_label(linux)?;
    if linux.is_some_and(|l| l.intel_rdt.is_some()) {
        return Err(if resctrl_mounted() {
            ConfigError::Unsupported("linux.intelRdt")
        } else {
            ConfigError::Unavailable {
                field: "linux.intelRdt",
                why: "resctrl is not mounted at /sys/fs/resctrl (no Intel RDT on this host)",
            }
        });
    }
    Ok(())
}

/// Whether the resctrl filesystem of Intel RDT is mounted at its place.
fn resctrl_mounted() -> bool {
    const RDTGROUP_SUPER_MAGIC: i64 = 0x0765_5821;
    sys::fs::openat(
        None,
        c"/sys/fs/resctrl",
        libc::O_PATH | libc::O_DIRECTORY,
        0,
    )
    .and_then(|dir| sys::fs::fstatfs_type(dir.as_fd()))
    .is_ok_and(|magic| magic == RDTGROUP_SUPER_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_outside_1_x_are_refused() {
        assert!(check_version("1.0.2").is_ok());
        assert!(check_version("1.3.0").is_ok());
        assert_eq!(
            check_version("").unwrap_err().to_string(),
            "config.json: ociVersion is required"
        );
        assert!(matches!(
            check_version("2.0.0"),
            Err(ConfigError::Version(_))
        ));
    }

    #[test]
    fn malformed_json_names_the_file_and_the_position() {
        let dir = std::env::temp_dir().join(format!("coracle-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("config.json"),
            "{\"ociVersion\": \"1.0.0\",\n \"process\": 3}",
        )
        .unwrap();
        let err = read_spec(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            err.contains("config.json") && err.contains("line 2"),
            "{err}"
        );
    }
}
