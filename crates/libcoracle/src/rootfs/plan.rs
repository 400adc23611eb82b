//! The parent's half: `root`, `mounts`, `linux.devices`,
//! `linux.rootfsPropagation`, `linux.maskedPaths` and
//! `linux.readonlyPaths` checked and turned into ready-to-use values, so
//! that the container side only makes system calls.

use super::options::{self, MountOptions};
use super::paths::InnerPath;
use super::{RootfsError, RootfsOptions, RootfsPlan};
use crate::lsm;
use crate::spec::{Device, Linux, Mount, Spec};
use std::cell::OnceCell;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What a mount entry mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MountKind {
    /// A bind of a host path (absolute, resolved against the bundle).
    Bind { source: CString },
    /// `type: cgroup`: the container's cgroups (see `MountEnv`).
    Cgroup,
    /// A change of flags of what is already mounted at the destination.
    Remount,
    /// A new filesystem instance.
    Filesystem {
        fstype: CString,
        source: Option<CString>,
    },
}

/// One entry of `mounts`, ready to execute.
#[derive(Debug, Clone)]
pub(crate) struct MountPlan {
    /// Its index in `mounts`, for messages.
    pub index: usize,
    /// Where it goes.
    pub dest: InnerPath,
    /// What it mounts.
    pub kind: MountKind,
    /// Its parsed options.
    pub opts: MountOptions,
}

impl MountPlan {
    /// "mounts[3] (/proc)", the prefix of this mount's messages.
    pub fn field(&self) -> String {
        format!("mounts[{}] ({})", self.index, self.dest.shown)
    }
}

/// One device node to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DevicePlan {
    /// Its path in the container.
    pub path: InnerPath,
    /// The directory it is created in, relative to the rootfs (`None`
    /// for the rootfs itself).
    pub parent: Option<CString>,
    /// Its name in that directory.
    pub name: CString,
    /// The same path on the host, bound when `mknod` is not allowed.
    pub host_path: CString,
    /// `S_IFCHR`/`S_IFBLK`/`S_IFIFO`, for `mknod` and for checks.
    pub kind: u32,
    /// Permission bits.
    pub perm: u32,
    /// Device number (0 for a FIFO).
    pub rdev: libc::dev_t,
    /// Owner, when the config names one.
    pub uid: Option<u32>,
    /// Group, when the config names one.
    pub gid: Option<u32>,
}

/// `linux.rootfsPropagation`: how `/` is prepared and what the rootfs
/// finally gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RootPropagation {
    /// Applied recursively to `/` before any mount work: `MS_PRIVATE`, or
    /// `MS_SLAVE` when the config wants host mount events to keep coming.
    pub initial: libc::c_ulong,
    /// Applied to the new `/` after the pivot (`MS_SHARED` or
    /// `MS_UNBINDABLE`, recursive or not); not before, as `pivot_root`
    /// refuses a shared root.
    pub last: Option<(libc::c_ulong, bool)>,
}

/// The default devices of config-linux.md: name, major, minor.
const DEFAULT_DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

pub(super) fn build(
    spec: &Spec,
    bundle: &Path,
    opts: RootfsOptions,
) -> Result<RootfsPlan, RootfsError> {
    let root = spec
        .root
        .as_ref()
        .ok_or_else(|| RootfsError::invalid("root", "missing"))?;
    let root_path = resolve_root(&root.path, bundle)?;
    let mut mounts = spec
        .mounts
        .iter()
        .enumerate()
        .map(|(index, m)| mount_plan(index, m, bundle))
        .collect::<Result<Vec<_>, _>>()?;
    let default = Linux::default();
    let linux = spec.linux.as_ref().unwrap_or(&default);
    if let Some(label) = linux.mount_label.as_deref() {
        label_mounts(&mut mounts, label);
    }
    // A bind of the host's /dev supplies every device already; creating
    // nodes or links there would change the host's /dev.
    let dev_from_host = mounts
        .iter()
        .any(|m| m.dest.shown == "/dev" && matches!(m.kind, MountKind::Bind { .. }));
    let devices = if dev_from_host {
        Vec::new()
    } else {
        device_plans(&linux.devices)?
    };
    let ptmx_link = !dev_from_host && mounts.iter().any(|m| m.dest.shown == "/dev/pts");
    let propagation = root_propagation(linux.rootfs_propagation.as_deref())?;
    Ok(RootfsPlan {
        root_c: CString::new(root_path.as_os_str().as_bytes())
            .map_err(|_| RootfsError::invalid("root.path", "contains a NUL byte"))?,
        root_path,
        readonly: root.readonly,
        no_pivot: opts.no_pivot,
        propagation,
        mounts,
        devices,
        dev_links: !dev_from_host,
        ptmx_link,
        masked: inner_paths("linux.maskedPaths", &linux.masked_paths)?,
        readonly_paths: inner_paths("linux.readonlyPaths", &linux.readonly_paths)?,
        root_fd: OnceCell::new(),
    })
}

fn resolve_root(path: &str, bundle: &Path) -> Result<PathBuf, RootfsError> {
    if path.is_empty() {
        return Err(RootfsError::invalid("root.path", "empty"));
    }
    let joined = bundle.join(path);
    let shown = || format!("root.path {}", joined.display());
    let real = std::fs::canonicalize(&joined).map_err(|e| RootfsError::os(shown(), e))?;
    let meta = std::fs::metadata(&real).map_err(|e| RootfsError::os(shown(), e))?;
    if !meta.is_dir() {
        return Err(RootfsError::os(
            shown(),
            std::io::Error::from_raw_os_error(libc::ENOTDIR),
        ));
    }
    Ok(real)
}

/// `linux.mountLabel` (checked by the configuration: SELinux runs, no NUL
/// byte or quote) on the mounts runc labels: appended to the options of new
/// filesystems ([`lsm::mount_context`]), and to those of the tmpfs that
/// holds the cgroup v1 hierarchies (runc mounts it as a tmpfs too).
fn label_mounts(mounts: &mut [MountPlan], label: &str) {
    for m in mounts {
        let (fstype, base) = match &m.kind {
            MountKind::Filesystem { fstype, .. } => {
                (fstype.to_str().unwrap_or(""), m.opts.data.take())
            }
            MountKind::Cgroup => ("tmpfs", Some(CGROUP_TMPFS_DATA.to_owned())),
            _ => continue,
        };
        let Some(context) = lsm::mount_context(fstype, label) else {
            m.opts.data = base;
            continue;
        };
        let data = match base {
            Some(data) => format!("{},{context}", data.to_string_lossy()),
            None => context,
        };
        // Neither part has a NUL byte (options and label were checked).
        m.opts.data = CString::new(data).ok();
    }
}

/// The options of the tmpfs a cgroup mount gets on a cgroup v1 host, when
/// the mount's own `data` does not say more (a mount label).
pub(crate) const CGROUP_TMPFS_DATA: &std::ffi::CStr = c"mode=755";

fn mount_plan(index: usize, m: &Mount, bundle: &Path) -> Result<MountPlan, RootfsError> {
    let field = || format!("mounts[{index}] ({})", m.destination);
    let dest = InnerPath::parse(&m.destination).ok_or_else(|| {
        let problem = if m.destination.starts_with('/') {
            "destination must not be the root nor contain a NUL byte"
        } else {
            "destination is not an absolute path"
        };
        RootfsError::invalid(field(), problem)
    })?;
    let opts = options::parse(&m.options).map_err(|p| RootfsError::invalid(field(), p))?;
    if !m.uid_mappings.is_empty() || !m.gid_mappings.is_empty() {
        return Err(RootfsError::invalid(
            field(),
            "uidMappings/gidMappings: idmapped mounts are not supported",
        ));
    }
    let fstype = m.typ.as_deref().unwrap_or("");
    let c = |what: &str, s: &str| {
        CString::new(s)
            .map_err(|_| RootfsError::invalid(field(), format!("{what} contains a NUL byte")))
    };
    let kind = if opts.flags & libc::MS_REMOUNT != 0 {
        MountKind::Remount
    } else if opts.bind.is_some() || fstype == "bind" {
        let source = m
            .source
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| RootfsError::invalid(field(), "a bind mount needs a source"))?;
        // Absolute: the init's working directory is not the caller's.
        let source = std::path::absolute(bundle.join(source))
            .map_err(|e| RootfsError::os(format!("{}: source", field()), e))?;
        MountKind::Bind {
            source: CString::new(source.as_os_str().as_bytes())
                .map_err(|_| RootfsError::invalid(field(), "source contains a NUL byte"))?,
        }
    } else if fstype == "cgroup" {
        MountKind::Cgroup
    } else if fstype.is_empty() || fstype == "none" {
        return Err(RootfsError::invalid(
            field(),
            "no filesystem type and not a bind mount",
        ));
    } else {
        MountKind::Filesystem {
            fstype: c("type", fstype)?,
            source: m.source.as_deref().map(|s| c("source", s)).transpose()?,
        }
    };
    if opts.tmpcopyup && fstype != "tmpfs" {
        return Err(RootfsError::invalid(field(), "tmpcopyup needs type tmpfs"));
    }
    let mut opts = opts;
    if kind == MountKind::Cgroup {
        // Its filesystem options are those of the v1 tmpfs (see
        // `label_mounts`), not the entry's, which the kernel never took.
        opts.data = None;
    }
    Ok(MountPlan {
        index,
        dest,
        kind,
        opts,
    })
}

fn device_plans(devices: &[Device]) -> Result<Vec<DevicePlan>, RootfsError> {
    let mut plans = Vec::with_capacity(DEFAULT_DEVICES.len() + devices.len());
    for (name, major, minor) in DEFAULT_DEVICES {
        let Some(path) = InnerPath::parse(&format!("/dev/{name}")) else {
            continue;
        };
        // A device the config lists itself is created as the config says.
        if devices
            .iter()
            .any(|d| InnerPath::parse(&d.path).as_ref() == Some(&path))
        {
            continue;
        }
        let (parent, name) = path.split_last();
        plans.push(DevicePlan {
            host_path: path.host_c(),
            parent,
            name,
            path,
            kind: libc::S_IFCHR,
            perm: 0o666,
            rdev: libc::makedev(major, minor),
            uid: None,
            gid: None,
        });
    }
    for (i, d) in devices.iter().enumerate() {
        plans.push(device_plan(i, d)?);
    }
    Ok(plans)
}

fn device_plan(i: usize, d: &Device) -> Result<DevicePlan, RootfsError> {
    let field = format!("linux.devices[{i}] ({})", d.path);
    let path = InnerPath::parse(&d.path)
        .ok_or_else(|| RootfsError::invalid(&field, "path is not an absolute file path"))?;
    let kind = match d.typ.as_str() {
        "c" | "u" => libc::S_IFCHR,
        "b" => libc::S_IFBLK,
        "p" => libc::S_IFIFO,
        other => {
            return Err(RootfsError::invalid(
                &field,
                format!("unknown type {other:?} (expected c, b, u or p)"),
            ))
        }
    };
    let rdev = if kind == libc::S_IFIFO {
        0
    } else {
        let number = |what: &str, n: Option<i64>| {
            let n = n.ok_or_else(|| RootfsError::invalid(&field, format!("{what} is required")))?;
            u32::try_from(n)
                .map_err(|_| RootfsError::invalid(&field, format!("{what} {n} is out of range")))
        };
        libc::makedev(number("major", d.major)?, number("minor", d.minor)?)
    };
    let (parent, name) = path.split_last();
    Ok(DevicePlan {
        host_path: path.host_c(),
        parent,
        name,
        path,
        kind,
        perm: d.file_mode.map_or(0o666, |m| m & 0o7777),
        rdev,
        uid: d.uid,
        gid: d.gid,
    })
}

fn root_propagation(value: Option<&str>) -> Result<RootPropagation, RootfsError> {
    // Without a value, `/` becomes a recursive slave, as runc makes it:
    // host mounts keep propagating in, nothing propagates out.
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(RootPropagation {
            initial: libc::MS_SLAVE,
            last: None,
        });
    };
    let (kind, recursive) = options::parse_root_propagation(value).ok_or_else(|| {
        RootfsError::invalid(
            "linux.rootfsPropagation",
            format!("unknown value {value:?} (expected shared, slave, private or unbindable)"),
        )
    })?;
    Ok(match kind {
        // Slave and shared roots keep receiving the host's mount events,
        // and nothing done inside goes back to the host.
        libc::MS_SLAVE => RootPropagation {
            initial: libc::MS_SLAVE,
            last: None,
        },
        libc::MS_SHARED => RootPropagation {
            initial: libc::MS_SLAVE,
            last: Some((libc::MS_SHARED, recursive)),
        },
        libc::MS_UNBINDABLE => RootPropagation {
            initial: libc::MS_PRIVATE,
            last: Some((libc::MS_UNBINDABLE, recursive)),
        },
        _ => RootPropagation {
            initial: libc::MS_PRIVATE,
            last: None,
        },
    })
}

fn inner_paths(field: &str, paths: &[String]) -> Result<Vec<InnerPath>, RootfsError> {
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            InnerPath::parse(p).ok_or_else(|| {
                RootfsError::invalid(
                    format!("{field}[{i}] ({p})"),
                    "not an absolute path below /",
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::tests::TempDir;

    fn plan(bundle: &Path, json: &str) -> Result<RootfsPlan, RootfsError> {
        let spec: Spec = serde_json::from_str(json).unwrap();
        RootfsPlan::from_spec(&spec, bundle, RootfsOptions::default())
    }

    fn with_mounts(mounts: &str) -> String {
        format!(r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},"mounts":{mounts}}}"#)
    }

    fn with_linux(linux: &str) -> String {
        format!(r#"{{"ociVersion":"1.2.0","root":{{"path":"rootfs"}},"linux":{linux}}}"#)
    }

    fn error(bundle: &Path, json: &str) -> String {
        plan(bundle, json).unwrap_err().to_string()
    }

    #[test]
    fn the_mount_label_goes_into_the_options_runc_gives_it() {
        let tmp = TempDir::new("plan-label");
        let json = r#"{"ociVersion":"1.2.0","root":{"path":"rootfs"},
            "linux":{"mountLabel":"system_u:object_r:container_file_t:s0:c1,c2"},
            "mounts":[
                {"destination":"/proc","type":"proc","source":"proc"},
                {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","mode=755"]},
                {"destination":"/dev/pts","type":"devpts","source":"devpts"},
                {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue"},
                {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro"]},
                {"destination":"/v","type":"bind","source":"/tmp","options":["rbind"]}]}"#;
        let p = plan(tmp.path(), json).unwrap();
        let data: Vec<Option<&str>> = p
            .mounts
            .iter()
            .map(|m| m.opts.data.as_deref().map(|d| d.to_str().unwrap()))
            .collect();
        let context = r#"context="system_u:object_r:container_file_t:s0:c1,c2""#;
        assert_eq!(
            data,
            [
                None,
                Some(format!("mode=755,{context}").as_str()),
                Some(context),
                None,
                Some(format!("mode=755,{context}").as_str()),
                None,
            ]
        );
        // Without a label the cgroup tmpfs keeps its plain options.
        let p = plan(tmp.path(), &json.replace("mountLabel", "other")).unwrap();
        assert_eq!(p.mounts[4].opts.data, None);
        assert_eq!(p.mounts[1].opts.data.as_deref(), Some(c"mode=755"));
    }

    #[test]
    fn root_path_is_resolved_and_checked() {
        let tmp = TempDir::new("plan-root");
        let p = plan(tmp.path(), &with_mounts("[]")).unwrap();
        assert_eq!(
            p.root_path(),
            tmp.path().join("rootfs").canonicalize().unwrap()
        );
        let abs = format!(
            r#"{{"ociVersion":"1","root":{{"path":"{}"}}}}"#,
            tmp.path().join("rootfs").display()
        );
        assert_eq!(
            plan(Path::new("/"), &abs).unwrap().root_path(),
            p.root_path()
        );
        let err = error(tmp.path(), r#"{"ociVersion":"1","root":{"path":"nope"}}"#);
        assert_eq!(
            err,
            format!(
                "root.path {}/nope: No such file or directory (os error 2)",
                tmp.path().display()
            )
        );
        std::fs::write(tmp.path().join("file"), "").unwrap();
        let err = error(tmp.path(), r#"{"ociVersion":"1","root":{"path":"file"}}"#);
        assert!(err.ends_with("Not a directory (os error 20)"), "{err}");
        assert_eq!(error(tmp.path(), r#"{"ociVersion":"1"}"#), "root: missing");
    }

    #[test]
    fn mounts_are_checked() {
        let tmp = TempDir::new("plan-mounts");
        let cases = [
            (
                r#"[{"destination":"proc","type":"proc"}]"#,
                "mounts[0] (proc): destination is not an absolute path",
            ),
            (
                r#"[{"destination":"/","type":"tmpfs"}]"#,
                "mounts[0] (/): destination must not be the root nor contain a NUL byte",
            ),
            (
                r#"[{"destination":"/x","type":"tmpfs"},{"destination":"/y","type":"tmpfs","options":["ridmap"]}]"#,
                "mounts[1] (/y): option \"ridmap\": idmapped mounts are not supported",
            ),
            (
                r#"[{"destination":"/x","options":["rbind"]}]"#,
                "mounts[0] (/x): a bind mount needs a source",
            ),
            (
                r#"[{"destination":"/x","source":"/y"}]"#,
                "mounts[0] (/x): no filesystem type and not a bind mount",
            ),
            (
                r#"[{"destination":"/x","type":"proc","options":["tmpcopyup"]}]"#,
                "mounts[0] (/x): tmpcopyup needs type tmpfs",
            ),
        ];
        for (mounts, expected) in cases {
            assert_eq!(error(tmp.path(), &with_mounts(mounts)), expected);
        }
    }

    #[test]
    fn mount_kinds() {
        let tmp = TempDir::new("plan-kinds");
        let p = plan(
            tmp.path(),
            &with_mounts(
                r#"[
                {"destination":"/proc","type":"proc","source":"proc"},
                {"destination":"/data/../v","type":"none","source":"vol","options":["rbind","ro"]},
                {"destination":"/h","type":"bind","source":"/etc/hosts"},
                {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro"]},
                {"destination":"/dev/pts","type":"devpts","options":["newinstance","ptmxmode=0666"]}
            ]"#,
            ),
        )
        .unwrap();
        assert_eq!(
            p.mounts[0].kind,
            MountKind::Filesystem {
                fstype: c"proc".to_owned(),
                source: Some(c"proc".to_owned())
            }
        );
        let vol = tmp.path().join("vol");
        assert_eq!(
            p.mounts[1].kind,
            MountKind::Bind {
                source: CString::new(vol.to_str().unwrap()).unwrap()
            }
        );
        assert_eq!(p.mounts[1].dest.shown, "/v");
        assert_eq!(p.mounts[1].field(), "mounts[1] (/v)");
        assert!(matches!(p.mounts[2].kind, MountKind::Bind { .. }));
        assert_eq!(p.mounts[2].opts.bind, None);
        assert_eq!(p.mounts[3].kind, MountKind::Cgroup);
        assert_eq!(
            p.mounts[4].opts.data.as_deref(),
            Some(c"newinstance,ptmxmode=0666")
        );
        assert!(p.ptmx_link && p.dev_links);
    }

    #[test]
    fn host_dev_bind_disables_dev_setup() {
        let tmp = TempDir::new("plan-hostdev");
        let json = with_mounts(r#"[{"destination":"/dev","source":"/dev","options":["rbind"]}]"#);
        let p = plan(tmp.path(), &json).unwrap();
        assert!(p.devices.is_empty() && !p.dev_links && !p.ptmx_link);
    }

    #[test]
    fn devices_are_checked_and_merged_with_defaults() {
        let tmp = TempDir::new("plan-devices");
        let p = plan(
            tmp.path(),
            &with_linux(
                r#"{"devices":[
                {"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0},
                {"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":384},
                {"path":"/run/fifo","type":"p"}
            ]}"#,
            ),
        )
        .unwrap();
        let paths: Vec<&str> = p.devices.iter().map(|d| d.path.shown.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/dev/zero",
                "/dev/full",
                "/dev/random",
                "/dev/urandom",
                "/dev/tty",
                "/dev/fuse",
                "/dev/null",
                "/run/fifo"
            ]
        );
        let null = &p.devices[6];
        assert_eq!(
            (null.kind, null.perm, null.rdev),
            (libc::S_IFCHR, 0o600, libc::makedev(1, 3))
        );
        assert_eq!(p.devices[7].kind, libc::S_IFIFO);
        assert_eq!(p.devices[0].perm, 0o666);
        let cases = [
            (
                r#"{"devices":[{"path":"/dev/x","type":"q","major":1,"minor":1}]}"#,
                "linux.devices[0] (/dev/x): unknown type \"q\" (expected c, b, u or p)",
            ),
            (
                r#"{"devices":[{"path":"/dev/x","type":"b","minor":1}]}"#,
                "linux.devices[0] (/dev/x): major is required",
            ),
            (
                r#"{"devices":[{"path":"/dev/x","type":"c","major":1,"minor":-1}]}"#,
                "linux.devices[0] (/dev/x): minor -1 is out of range",
            ),
            (
                r#"{"devices":[{"path":"dev/x","type":"p"}]}"#,
                "linux.devices[0] (dev/x): path is not an absolute file path",
            ),
        ];
        for (linux, expected) in cases {
            assert_eq!(error(tmp.path(), &with_linux(linux)), expected);
        }
    }

    #[test]
    fn propagation_and_paths_are_checked() {
        let tmp = TempDir::new("plan-prop");
        let p = plan(tmp.path(), &with_linux(r#"{"rootfsPropagation":"shared"}"#)).unwrap();
        assert_eq!(p.propagation.initial, libc::MS_SLAVE);
        assert_eq!(p.propagation.last, Some((libc::MS_SHARED, false)));
        let p = plan(tmp.path(), &with_linux("{}")).unwrap();
        assert_eq!(p.propagation.initial, libc::MS_SLAVE);
        assert_eq!(p.propagation.last, None);
        assert_eq!(
            error(tmp.path(), &with_linux(r#"{"rootfsPropagation":"bogus"}"#)),
            "linux.rootfsPropagation: unknown value \"bogus\" (expected shared, slave, private or unbindable)"
        );
        assert_eq!(
            error(
                tmp.path(),
                &with_linux(r#"{"maskedPaths":["/proc/kcore","proc/x"]}"#)
            ),
            "linux.maskedPaths[1] (proc/x): not an absolute path below /"
        );
        assert_eq!(
            error(tmp.path(), &with_linux(r#"{"readonlyPaths":["/"]}"#)),
            "linux.readonlyPaths[0] (/): not an absolute path below /"
        );
    }
}
