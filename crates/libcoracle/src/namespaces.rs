//! Linux namespaces (config-linux.md "Namespaces", "User namespace
//! mappings", "Sysctl"): which are new, which are joined by path, the id
//! mappings of a new user namespace, and what is set inside the UTS and
//! network namespaces.

use crate::procfs::{Procfs, ProcfsError};
use crate::spec::{IdMapping, Spec};
use crate::sys;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use thiserror::Error;

/// Errors of namespace handling.
#[derive(Debug, Error)]
pub enum NamespaceError {
    /// `linux.namespaces[i].type` is not a namespace.
    #[error("linux.namespaces[{0}]: unknown namespace type {1:?}")]
    UnknownType(usize, String),
    /// A namespace listed twice.
    #[error("linux.namespaces: {0} namespace listed twice")]
    Duplicate(&'static str),
    /// A namespace path that cannot be used.
    #[error("linux.namespaces: {kind} namespace path {path}: {source}")]
    Path {
        /// The namespace type.
        kind: &'static str,
        /// The path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// A field that needs a namespace the container does not have.
    #[error("{field}: needs a {kind} namespace of the container's own")]
    NeedsNamespace {
        /// The config field.
        field: String,
        /// The namespace type.
        kind: &'static str,
    },
    /// A new user namespace without the id mappings it needs.
    #[error("{0}: none given, but a new user namespace needs them")]
    MissingIdMappings(&'static str),
    /// A sysctl that no namespace of the container's isolates.
    #[error("linux.sysctl: {0} is not namespaced and cannot be set in a container")]
    SysctlNotNamespaced(String),
    /// A malformed sysctl key or value.
    #[error("linux.sysctl: invalid entry {0:?}")]
    SysctlInvalid(String),
    /// Writing a sysctl failed.
    #[error("linux.sysctl: {0}")]
    Sysctl(#[source] ProcfsError),
    /// Joining a namespace failed.
    #[error("join {kind} namespace: {source}")]
    Join {
        /// The namespace type.
        kind: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Writing an id map failed.
    #[error("write {file} of pid {pid}: {source}")]
    IdMap {
        /// `uid_map` or `gid_map`.
        file: &'static str,
        /// The init's pid.
        pid: i32,
        /// The OS error.
        source: io::Error,
    },
    /// `linux.timeOffsets` cannot be used as given.
    #[error("linux.timeOffsets: {0}")]
    TimeOffsets(String),
    /// Making the time namespace with its offsets failed.
    #[error("linux.timeOffsets: {step}: {source}")]
    Time {
        /// The step, such as "unshare the time namespace".
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Writing the offsets failed.
    #[error("linux.timeOffsets: {0}")]
    TimeOffsetsWrite(#[source] ProcfsError),
    /// Setting the host or domain name failed.
    #[error("set {what}: {source}")]
    Uts {
        /// `hostname` or `domainname`.
        what: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl NamespaceError {
    /// The errno behind the error, 0 when there is none.
    pub fn errno(&self) -> i32 {
        match self {
            NamespaceError::Path { source, .. }
            | NamespaceError::Join { source, .. }
            | NamespaceError::IdMap { source, .. }
            | NamespaceError::Uts { source, .. }
            | NamespaceError::Time { source, .. } => source.raw_os_error().unwrap_or(0),
            NamespaceError::TimeOffsetsWrite(err) => err.errno(),
            _ => 0,
        }
    }
}

/// A kind of namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Process ids.
    Pid,
    /// Network devices and stacks.
    Network,
    /// Mounts.
    Mount,
    /// System V IPC and POSIX message queues.
    Ipc,
    /// Host and domain names.
    Uts,
    /// User and group ids.
    User,
    /// The cgroup root.
    Cgroup,
    /// Boot and monotonic clocks.
    Time,
}

/// Every kind, in the order joined namespaces are entered: the user
/// namespace first, so that the others are entered with its privileges.
pub const ALL: [Kind; 8] = [
    Kind::User,
    Kind::Pid,
    Kind::Network,
    Kind::Mount,
    Kind::Ipc,
    Kind::Uts,
    Kind::Cgroup,
    Kind::Time,
];

impl Kind {
    /// The name in config.json.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pid => "pid",
            Kind::Network => "network",
            Kind::Mount => "mount",
            Kind::Ipc => "ipc",
            Kind::Uts => "uts",
            Kind::User => "user",
            Kind::Cgroup => "cgroup",
            Kind::Time => "time",
        }
    }

    /// The file name under `/proc/PID/ns`.
    pub fn proc_name(self) -> &'static str {
        match self {
            Kind::Network => "net",
            Kind::Mount => "mnt",
            other => other.name(),
        }
    }

    /// The `CLONE_NEW*` flag.
    pub fn flag(self) -> i32 {
        match self {
            Kind::Pid => libc::CLONE_NEWPID,
            Kind::Network => libc::CLONE_NEWNET,
            Kind::Mount => libc::CLONE_NEWNS,
            Kind::Ipc => libc::CLONE_NEWIPC,
            Kind::Uts => libc::CLONE_NEWUTS,
            Kind::User => libc::CLONE_NEWUSER,
            Kind::Cgroup => libc::CLONE_NEWCGROUP,
            Kind::Time => libc::CLONE_NEWTIME,
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// A validated namespace configuration.
#[derive(Debug)]
pub struct NamespacePlan {
    new: Vec<Kind>,
    joined: Vec<(Kind, OwnedFd)>,
    uid_map: String,
    gid_map: String,
    hostname: Option<String>,
    domainname: Option<String>,
    sysctl: Vec<(String, String)>,
    /// The text of `timens_offsets`; empty without offsets.
    time_offsets: String,
}

/// The runtime's own time namespace, to return to once the init is born
/// in the new one (see [`NamespacePlan::enter_time_for_children`]).
#[derive(Debug)]
pub struct TimeNamespaceGuard(OwnedFd);

impl Drop for TimeNamespaceGuard {
    /// Puts the runtime back in its own time namespace, so that the hooks
    /// it runs later do not see the container's clocks. Should that fail,
    /// only those hooks' clocks are off: there is no one to tell.
    fn drop(&mut self) {
        let _ = sys::process::setns(self.0.as_fd(), libc::CLONE_NEWTIME);
    }
}

impl NamespacePlan {
    /// Validates `linux.namespaces`, the id mappings, `hostname`,
    /// `domainname` and `linux.sysctl`, and opens the namespaces to join.
    pub fn from_spec(spec: &Spec) -> Result<NamespacePlan, NamespaceError> {
        let linux = spec.linux.clone().unwrap_or_default();
        let mut plan = NamespacePlan {
            new: Vec::new(),
            joined: Vec::new(),
            uid_map: map_text(&linux.uid_mappings),
            gid_map: map_text(&linux.gid_mappings),
            hostname: spec.hostname.clone(),
            domainname: spec.domainname.clone(),
            sysctl: Vec::new(),
            time_offsets: String::new(),
        };
        for (index, entry) in linux.namespaces.iter().enumerate() {
            let kind = Kind::from_name(&entry.typ)
                .ok_or_else(|| NamespaceError::UnknownType(index, entry.typ.clone()))?;
            if plan.has(kind) {
                return Err(NamespaceError::Duplicate(kind.name()));
            }
            match entry.path.as_deref() {
                None | Some("") => plan.new.push(kind),
                Some(path) => plan.joined.push((kind, open_namespace(kind, path)?)),
            }
        }
        plan.check_needs()?;
        plan.time_offsets = plan.check_time_offsets(&linux.time_offsets)?;
        plan.sysctl = linux
            .sysctl
            .iter()
            .map(|(key, value)| plan.check_sysctl(key, value))
            .collect::<Result<_, _>>()?;
        Ok(plan)
    }

    fn check_needs(&self) -> Result<(), NamespaceError> {
        let needs = |field: &str, kind: Kind| NamespaceError::NeedsNamespace {
            field: field.to_string(),
            kind: kind.name(),
        };
        if self.hostname.as_deref().is_some_and(|h| !h.is_empty()) && !self.has(Kind::Uts) {
            return Err(needs("hostname", Kind::Uts));
        }
        if self.domainname.as_deref().is_some_and(|d| !d.is_empty()) && !self.has(Kind::Uts) {
            return Err(needs("domainname", Kind::Uts));
        }
        if !self.uid_map.is_empty() && !self.is_new(Kind::User) {
            return Err(needs("linux.uidMappings", Kind::User));
        }
        if !self.gid_map.is_empty() && !self.is_new(Kind::User) {
            return Err(needs("linux.gidMappings", Kind::User));
        }
        if self.is_new(Kind::User) {
            if self.uid_map.is_empty() {
                return Err(NamespaceError::MissingIdMappings("linux.uidMappings"));
            }
            if self.gid_map.is_empty() {
                return Err(NamespaceError::MissingIdMappings("linux.gidMappings"));
            }
        }
        Ok(())
    }

    /// The `timens_offsets` text of `linux.timeOffsets`: clocks
    /// `monotonic` and `boottime`, nanoseconds below one second, and a new
    /// time namespace to put them in (a joined one has its offsets).
    fn check_time_offsets(
        &self,
        offsets: &std::collections::BTreeMap<String, crate::spec::TimeOffset>,
    ) -> Result<String, NamespaceError> {
        if offsets.is_empty() {
            return Ok(String::new());
        }
        if !self.is_new(Kind::Time) {
            return Err(NamespaceError::TimeOffsets(
                "needs a new time namespace in linux.namespaces".into(),
            ));
        }
        let mut text = String::new();
        for (clock, offset) in offsets {
            if clock != "monotonic" && clock != "boottime" {
                let message = format!("unknown clock {clock:?} (monotonic or boottime)");
                return Err(NamespaceError::TimeOffsets(message));
            }
            if offset.nanosecs >= 1_000_000_000 {
                let message = format!("{clock}: nanosecs {} is not below 1e9", offset.nanosecs);
                return Err(NamespaceError::TimeOffsets(message));
            }
            text.push_str(&format!("{clock} {} {}\n", offset.secs, offset.nanosecs));
        }
        Ok(text)
    }

    /// Which namespace isolates the sysctl `key`, as the kernel defines it;
    /// the container must have that namespace of its own.
    fn check_sysctl(&self, key: &str, value: &str) -> Result<(String, String), NamespaceError> {
        let invalid = || NamespaceError::SysctlInvalid(format!("{key}={value}"));
        if key.is_empty() || key.contains("..") || key.starts_with(['.', '/']) || key.contains('\0')
        {
            return Err(invalid());
        }
        let kind = if key.starts_with("net.") {
            Kind::Network
        } else if key.starts_with("fs.mqueue.")
            || matches!(
                key,
                "kernel.msgmax"
                    | "kernel.msgmnb"
                    | "kernel.msgmni"
                    | "kernel.sem"
                    | "kernel.shmall"
                    | "kernel.shmmax"
                    | "kernel.shmmni"
                    | "kernel.shm_rmid_forced"
            )
        {
            Kind::Ipc
        } else if matches!(key, "kernel.hostname" | "kernel.domainname") {
            Kind::Uts
        } else {
            return Err(NamespaceError::SysctlNotNamespaced(key.to_string()));
        };
        if !self.has(kind) {
            return Err(NamespaceError::NeedsNamespace {
                field: format!("linux.sysctl {key}"),
                kind: kind.name(),
            });
        }
        Ok((format!("sys/{}", key.replace('.', "/")), value.to_string()))
    }

    /// Whether the container gets a new namespace of `kind`.
    pub fn is_new(&self, kind: Kind) -> bool {
        self.new.contains(&kind)
    }

    /// Whether the container has a namespace of `kind` of its own (new or
    /// joined), rather than the runtime's.
    pub fn has(&self, kind: Kind) -> bool {
        self.is_new(kind) || self.joined.iter().any(|(k, _)| *k == kind)
    }

    /// The namespace of `kind` the container joins, if it joins one.
    pub fn joined(&self, kind: Kind) -> Option<BorrowedFd<'_>> {
        self.joined
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, fd)| fd.as_fd())
    }

    /// The `CLONE_NEW*` flags of the namespaces created by the clone.
    /// A new time namespace with offsets is made by
    /// [`Self::enter_time_for_children`] instead.
    pub fn clone_flags(&self) -> u64 {
        self.new
            .iter()
            .filter(|&&kind| kind != Kind::Time || self.time_offsets.is_empty())
            .fold(0, |flags, kind| flags | kind.flag() as u64)
    }

    /// In the runtime, before the clone, with `linux.timeOffsets`: makes
    /// the time namespace for its children and writes the offsets, which
    /// the kernel takes only until a process enters the namespace; the
    /// init is then born in it, with no extra fork. Dropping the guard
    /// (after the clone) puts the runtime back in its own namespace.
    pub fn enter_time_for_children(&self) -> Result<Option<TimeNamespaceGuard>, NamespaceError> {
        if self.time_offsets.is_empty() {
            return Ok(None);
        }
        let own =
            sys::fs::openat(None, c"/proc/self/ns/time", libc::O_RDONLY, 0).map_err(|source| {
                NamespaceError::Time {
                    step: "open the runtime's time namespace",
                    source,
                }
            })?;
        let guard = TimeNamespaceGuard(own);
        sys::process::unshare(libc::CLONE_NEWTIME).map_err(|source| NamespaceError::Time {
            step: "unshare the time namespace",
            source,
        })?;
        let procfs = Procfs::open_private().map_err(NamespaceError::TimeOffsetsWrite)?;
        procfs
            .write("self/timens_offsets", self.time_offsets.as_bytes())
            .map_err(NamespaceError::TimeOffsetsWrite)?;
        Ok(Some(guard))
    }

    /// In the runtime, before the clone: enters a pid namespace to join for
    /// its children only, so that the init is born inside it and no second
    /// fork is needed.
    pub fn enter_pid_for_children(&self) -> Result<(), NamespaceError> {
        for (kind, fd) in &self.joined {
            if *kind == Kind::Pid {
                sys::process::setns(fd.as_fd(), kind.flag()).map_err(|source| {
                    NamespaceError::Join {
                        kind: kind.name(),
                        source,
                    }
                })?;
            }
        }
        Ok(())
    }

    /// In the init: joins the namespaces given by path, the user namespace
    /// first (the pid namespace was entered by the runtime).
    pub fn join(&self) -> Result<(), NamespaceError> {
        for wanted in ALL {
            for (kind, fd) in self
                .joined
                .iter()
                .filter(|(k, _)| *k == wanted && *k != Kind::Pid)
            {
                sys::process::setns(fd.as_fd(), kind.flag()).map_err(|source| {
                    NamespaceError::Join {
                        kind: kind.name(),
                        source,
                    }
                })?;
            }
        }
        Ok(())
    }

    /// Whether the runtime must write id maps for a new user namespace.
    pub fn needs_id_maps(&self) -> bool {
        self.is_new(Kind::User)
    }

    /// In the runtime, after the clone: writes the init's uid and gid maps.
    pub fn write_id_maps(&self, pid: i32) -> Result<(), NamespaceError> {
        for (file, text) in [("uid_map", &self.uid_map), ("gid_map", &self.gid_map)] {
            std::fs::write(format!("/proc/{pid}/{file}"), text)
                .map_err(|source| NamespaceError::IdMap { file, pid, source })?;
        }
        Ok(())
    }

    /// In the init, inside its namespaces: the host and domain names and the
    /// sysctls (written through the init's own, verified procfs).
    pub fn configure(&self, procfs: Option<&Procfs>) -> Result<(), NamespaceError> {
        if let Some(name) = self.hostname.as_deref().filter(|h| !h.is_empty()) {
            sys::process::sethostname(name).map_err(|source| NamespaceError::Uts {
                what: "hostname",
                source,
            })?;
        }
        if let Some(name) = self.domainname.as_deref().filter(|d| !d.is_empty()) {
            sys::process::setdomainname(name).map_err(|source| NamespaceError::Uts {
                what: "domainname",
                source,
            })?;
        }
        if let Some(procfs) = procfs {
            for (file, value) in &self.sysctl {
                procfs
                    .write(file, value.as_bytes())
                    .map_err(NamespaceError::Sysctl)?;
            }
        }
        Ok(())
    }

    /// Whether [`configure`](Self::configure) needs a procfs.
    pub fn needs_procfs(&self) -> bool {
        !self.sysctl.is_empty()
    }
}

/// Opens a namespace file and checks that it is a namespace of `kind`.
fn open_namespace(kind: Kind, path: &str) -> Result<OwnedFd, NamespaceError> {
    let fail = |source| NamespaceError::Path {
        kind: kind.name(),
        path: path.to_string(),
        source,
    };
    let fd = OwnedFd::from(std::fs::File::open(path).map_err(fail)?);
    let typ = sys::process::namespace_type(fd.as_fd()).map_err(fail)?;
    if typ != kind.flag() {
        return Err(fail(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a {} namespace", kind.name()),
        )));
    }
    Ok(fd)
}

/// The text of `uid_map`/`gid_map`: one `inside outside count` line a range.
fn map_text(mappings: &[IdMapping]) -> String {
    mappings
        .iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Linux, Namespace};

    fn spec_with(namespaces: &[(&str, Option<&str>)]) -> Spec {
        Spec {
            linux: Some(Linux {
                namespaces: namespaces
                    .iter()
                    .map(|(typ, path)| Namespace {
                        typ: typ.to_string(),
                        path: path.map(str::to_string),
                    })
                    .collect(),
                ..Linux::default()
            }),
            ..Spec::default()
        }
    }

    #[test]
    fn new_namespaces_become_clone_flags() {
        let plan = NamespacePlan::from_spec(&spec_with(&[
            ("pid", None),
            ("mount", None),
            ("network", None),
        ]))
        .unwrap();
        let expected = (libc::CLONE_NEWPID | libc::CLONE_NEWNS | libc::CLONE_NEWNET) as u64;
        assert_eq!(plan.clone_flags(), expected);
        assert!(plan.has(Kind::Pid) && !plan.has(Kind::User));
    }

    #[test]
    fn unknown_and_duplicate_namespaces_are_refused() {
        let err =
            NamespacePlan::from_spec(&spec_with(&[("pid", None), ("bogus", None)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "linux.namespaces[1]: unknown namespace type \"bogus\""
        );
        let err =
            NamespacePlan::from_spec(&spec_with(&[("uts", None), ("uts", None)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "linux.namespaces: uts namespace listed twice"
        );
    }

    #[test]
    fn a_joined_path_must_be_a_namespace_of_its_type() {
        let plan = NamespacePlan::from_spec(&spec_with(&[("network", Some("/proc/self/ns/net"))]))
            .unwrap();
        assert!(plan.has(Kind::Network) && !plan.is_new(Kind::Network));
        let err = NamespacePlan::from_spec(&spec_with(&[("network", Some("/proc/self/ns/uts"))]))
            .unwrap_err();
        assert!(err.to_string().contains("not a network namespace"), "{err}");
        assert!(NamespacePlan::from_spec(&spec_with(&[("ipc", Some("/nonexistent"))])).is_err());
    }

    #[test]
    fn sysctls_need_the_namespace_that_isolates_them() {
        let mut spec = spec_with(&[("ipc", None)]);
        let linux = spec.linux.as_mut().unwrap();
        linux.sysctl.insert("kernel.shmmax".into(), "1000".into());
        assert!(NamespacePlan::from_spec(&spec).is_ok());
        spec.linux
            .as_mut()
            .unwrap()
            .sysctl
            .insert("net.ipv4.ip_forward".into(), "1".into());
        let err = NamespacePlan::from_spec(&spec).unwrap_err();
        assert_eq!(
            err.to_string(),
            "linux.sysctl net.ipv4.ip_forward: needs a network namespace of the container's own"
        );
        let mut spec = spec_with(&[("network", None)]);
        spec.linux
            .as_mut()
            .unwrap()
            .sysctl
            .insert("vm.swappiness".into(), "1".into());
        assert!(matches!(
            NamespacePlan::from_spec(&spec),
            Err(NamespaceError::SysctlNotNamespaced(_))
        ));
    }

    #[test]
    fn hostname_needs_a_uts_namespace_and_mappings_a_user_namespace() {
        let mut spec = spec_with(&[("pid", None)]);
        spec.hostname = Some("box".into());
        assert!(NamespacePlan::from_spec(&spec)
            .unwrap_err()
            .to_string()
            .starts_with("hostname:"));
        let mut spec = spec_with(&[("user", None)]);
        let mapping = IdMapping {
            container_id: 0,
            host_id: 100000,
            size: 65536,
        };
        spec.linux.as_mut().unwrap().uid_mappings = vec![mapping];
        spec.linux.as_mut().unwrap().gid_mappings = vec![mapping];
        let plan = NamespacePlan::from_spec(&spec).unwrap();
        assert_eq!(plan.uid_map, "0 100000 65536\n");
    }

    #[test]
    fn time_offsets_need_a_new_time_namespace() {
        use crate::spec::TimeOffset;
        let offset = |secs, nanosecs| TimeOffset { secs, nanosecs };
        let mut spec = spec_with(&[("time", None), ("mount", None)]);
        let linux = spec.linux.as_mut().unwrap();
        linux
            .time_offsets
            .insert("boottime".into(), offset(86400, 5));
        linux
            .time_offsets
            .insert("monotonic".into(), offset(-10, 0));
        let plan = NamespacePlan::from_spec(&spec).unwrap();
        assert_eq!(plan.time_offsets, "boottime 86400 5\nmonotonic -10 0\n");
        assert_eq!(plan.clone_flags(), libc::CLONE_NEWNS as u64);
        let mut bad = spec.clone();
        let linux = bad.linux.as_mut().unwrap();
        linux.time_offsets.insert("realtime".into(), offset(1, 0));
        assert!(NamespacePlan::from_spec(&bad).is_err());
        let mut bad = spec.clone();
        let linux = bad.linux.as_mut().unwrap();
        linux
            .time_offsets
            .insert("boottime".into(), offset(1, 1_000_000_000));
        assert!(NamespacePlan::from_spec(&bad).is_err());
        let mut bad = spec;
        bad.linux.as_mut().unwrap().namespaces.remove(0);
        let err = NamespacePlan::from_spec(&bad).unwrap_err().to_string();
        assert_eq!(
            err,
            "linux.timeOffsets: needs a new time namespace in linux.namespaces"
        );
    }
}
