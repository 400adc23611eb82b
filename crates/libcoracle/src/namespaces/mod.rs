//! Linux namespaces (config-linux.md "Namespaces", "User namespace
//! mappings", "Sysctl"): which are new, which are joined by path, the id
//! mappings of a new user namespace, and what is set inside the UTS and
//! network namespaces.
//!
//! Every type may be new or joined by path. The new ones come with the
//! init's one clone, but with a user namespace joined by path: a namespace
//! belongs to the user namespace of its creator, so the init joins that one
//! first and creates the others itself (forking once more only for a new
//! pid or time namespace, which only children enter).

mod id_maps;

use crate::procfs::{Procfs, ProcfsError};
use crate::spec::Spec;
use crate::sys;
use id_maps::IdMaps;
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
    #[error("{field}: needs the container's own {kind} namespace")]
    NeedsNamespace {
        /// The config field.
        field: String,
        /// The namespace type.
        kind: &'static str,
    },
    /// A new user namespace without the id mappings it needs.
    #[error("{0}: none given, but a new user namespace needs them")]
    MissingIdMappings(&'static str),
    /// Maps given with a user namespace joined by path that are not its own.
    #[error("{field}: the user namespace joined by path maps {actual}, not {wanted}")]
    JoinedMapsDiffer {
        /// `linux.uidMappings` or `linux.gidMappings`.
        field: &'static str,
        /// The namespace's maps.
        actual: String,
        /// The config's.
        wanted: String,
    },
    /// The maps of the joined user namespace cannot be read.
    #[error("check the maps of the joined user namespace: read {path}: {source}")]
    JoinedMapsUnreadable {
        /// `/proc/self/uid_map` or `/proc/self/gid_map`.
        path: String,
        /// The OS error.
        source: io::Error,
    },
    /// A sysctl that no namespace of the container's isolates.
    #[error("linux.sysctl: {0} is not namespaced and cannot be set in a container")]
    SysctlNotNamespaced(String),
    /// A sysctl of a namespace joined by path that is the runtime's own:
    /// it would change the host (runc refuses it too).
    #[error("linux.sysctl {key}: not allowed in host {kind} namespace (joined by path)")]
    SysctlHostNamespace {
        /// The sysctl.
        key: String,
        /// The namespace type.
        kind: &'static str,
    },
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
    /// Returning to the runtime's own namespace failed.
    #[error("return to the runtime's own {kind} namespace after the clone: {source}")]
    Restore {
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
            | NamespaceError::Restore { source, .. }
            | NamespaceError::JoinedMapsUnreadable { source, .. }
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
    id_maps: IdMaps,
    hostname: Option<String>,
    domainname: Option<String>,
    sysctl: Vec<(String, String)>,
    /// The text of `timens_offsets`; empty without offsets.
    time_offsets: String,
}

/// The runtime's own pid and time namespaces for its children, which it
/// left so that the init is born in the container's (see
/// [`NamespacePlan::enter_for_children`]); [`ChildNamespaces::restore`]
/// returns to them right after the clone.
#[derive(Debug, Default)]
pub struct ChildNamespaces {
    pid: Option<OwnedFd>,
    time: Option<OwnedFd>,
}

impl ChildNamespaces {
    /// Puts the runtime's children back in the runtime's own pid and time
    /// namespaces. The hooks it runs later (prestart, createRuntime,
    /// poststart, poststop) must run "in the runtime namespace" (config.md):
    /// born in the container's pid namespace, a hook running as the host's
    /// root would be visible to, and signalled by, the container.
    pub fn restore(mut self) -> Result<(), NamespaceError> {
        self.restore_each()
    }

    fn restore_each(&mut self) -> Result<(), NamespaceError> {
        for (kind, fd) in [(Kind::Pid, self.pid.take()), (Kind::Time, self.time.take())] {
            if let Some(fd) = fd {
                sys::process::setns(fd.as_fd(), kind.flag()).map_err(|source| {
                    NamespaceError::Restore {
                        kind: kind.name(),
                        source,
                    }
                })?;
            }
        }
        Ok(())
    }
}

impl Drop for ChildNamespaces {
    /// On the error paths that skip [`ChildNamespaces::restore`] (a failed
    /// clone), best effort: the runtime is reporting that error already.
    fn drop(&mut self) {
        let _ = self.restore_each();
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
            id_maps: IdMaps::from_spec(&linux.uid_mappings, &linux.gid_mappings),
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
        // With a user namespace joined by path the maps are optional; given,
        // the init checks that they are the namespace's.
        if !self.id_maps.uid.is_empty() && !self.has(Kind::User) {
            return Err(needs("linux.uidMappings", Kind::User));
        }
        if !self.id_maps.gid.is_empty() && !self.has(Kind::User) {
            return Err(needs("linux.gidMappings", Kind::User));
        }
        if self.is_new(Kind::User) {
            if self.id_maps.uid.is_empty() {
                return Err(NamespaceError::MissingIdMappings("linux.uidMappings"));
            }
            if self.id_maps.gid.is_empty() {
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
    /// the container must have that namespace of its own: new, or joined by
    /// path but not the runtime's (the host's).
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
        if self
            .joined(kind)
            .is_some_and(|fd| is_runtimes_own(kind, fd))
        {
            return Err(NamespaceError::SysctlHostNamespace {
                key: key.to_string(),
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

    /// The `CLONE_NEW*` flags of the namespaces created by the clone: none
    /// with a user namespace joined by path (see [`Self::unshare_flags`]).
    pub fn clone_flags(&self) -> u64 {
        if self.joined(Kind::User).is_some() {
            return 0;
        }
        self.new_flags()
    }

    /// With a user namespace joined by path, the `CLONE_NEW*` flags of the
    /// new namespaces, which the init creates itself once it has joined
    /// that user namespace: a namespace belongs to the user namespace of
    /// the process that creates it, and only its owner's root may mount in
    /// a mount namespace, set a hostname, or mount /proc of a pid namespace.
    pub fn unshare_flags(&self) -> i32 {
        if self.joined(Kind::User).is_none() {
            return 0;
        }
        self.new_flags() as i32
    }

    /// The new namespaces but a time namespace with offsets, which
    /// [`Self::enter_for_children`] makes instead.
    fn new_flags(&self) -> u64 {
        self.new
            .iter()
            .filter(|&&kind| kind != Kind::Time || self.time_offsets.is_empty())
            .fold(0, |flags, kind| flags | kind.flag() as u64)
    }

    /// In the runtime, before the clone: enters a pid namespace to join,
    /// and with `linux.timeOffsets` makes the time namespace and writes the
    /// offsets (which the kernel takes only until a process enters it), for
    /// its children only. The init is then born in both, with no extra
    /// fork; the runtime itself stays where it is, and its later children
    /// too once the returned namespaces are restored.
    pub fn enter_for_children(&self) -> Result<ChildNamespaces, NamespaceError> {
        let mut own = ChildNamespaces::default();
        if let Some(fd) = self.joined(Kind::Pid) {
            own.pid = Some(open_own(Kind::Pid)?);
            sys::process::setns(fd, libc::CLONE_NEWPID).map_err(|source| NamespaceError::Join {
                kind: Kind::Pid.name(),
                source,
            })?;
        }
        if !self.time_offsets.is_empty() {
            own.time = Some(open_own(Kind::Time)?);
            sys::process::unshare(libc::CLONE_NEWTIME).map_err(|source| NamespaceError::Time {
                step: "unshare the time namespace",
                source,
            })?;
            let procfs = Procfs::open_private().map_err(NamespaceError::TimeOffsetsWrite)?;
            procfs
                .write("self/timens_offsets", self.time_offsets.as_bytes())
                .map_err(NamespaceError::TimeOffsetsWrite)?;
        }
        Ok(own)
    }

    /// In the init, first thing: joins the user namespace given by path,
    /// if any, and checks the maps the config gives with it.
    pub fn join_user(&self) -> Result<(), NamespaceError> {
        let Some(fd) = self.joined(Kind::User) else {
            return Ok(());
        };
        sys::process::setns(fd, libc::CLONE_NEWUSER).map_err(|source| NamespaceError::Join {
            kind: Kind::User.name(),
            source,
        })?;
        self.id_maps.check_joined()
    }

    /// In the init: joins the other namespaces given by path (the pid
    /// namespace was entered by the runtime, the user namespace by
    /// [`Self::join_user`]). A joined mount namespace is where the rootfs
    /// is then set up, as runc does.
    pub fn join(&self) -> Result<(), NamespaceError> {
        for wanted in ALL {
            for (kind, fd) in self
                .joined
                .iter()
                .filter(|(k, _)| *k == wanted && !matches!(*k, Kind::Pid | Kind::User))
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
        self.id_maps.write(pid)
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

/// Whether the namespace file `fd` is the runtime's own namespace of `kind`
/// (the same inode as `/proc/self/ns/KIND`).
fn is_runtimes_own(kind: Kind, fd: BorrowedFd<'_>) -> bool {
    use std::os::unix::fs::MetadataExt;
    let own = std::fs::metadata(format!("/proc/self/ns/{}", kind.proc_name()));
    match (sys::fs::fstat(fd), own) {
        (Ok(joined), Ok(own)) => (joined.st_dev, joined.st_ino) == (own.dev(), own.ino()),
        _ => false,
    }
}

/// Opens the namespace of `kind` the runtime's children are born in now
/// (`/proc/self/ns/KIND_for_children`): where they go back to after the clone.
fn open_own(kind: Kind) -> Result<OwnedFd, NamespaceError> {
    let path = format!("/proc/self/ns/{}_for_children", kind.proc_name());
    std::fs::File::open(&path)
        .map(OwnedFd::from)
        .map_err(|source| NamespaceError::Path {
            kind: kind.name(),
            path,
            source,
        })
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

#[cfg(test)]
mod tests;
