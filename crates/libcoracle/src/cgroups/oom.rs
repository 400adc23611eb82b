//! Out-of-memory notifications of a container's cgroup, for `events`.
//!
//! cgroup v1 signals an eventfd registered on `memory.oom_control` through
//! `cgroup.event_control` (and again when the cgroup is removed); cgroup v2
//! counts kills in `memory.events` and whether processes are left in
//! `cgroup.events`, both watched with inotify (a removal raises nothing
//! there). Either way the caller polls one descriptor.

use super::control::write;
use super::stats::read_flat_keyed;
use super::CgroupError;
use crate::sys::notify;
use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// What an [`OomWatcher`] saw since the last read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OomEvents {
    /// How many times the cgroup ran out of memory (0: the descriptor woke
    /// for something else).
    pub count: u64,
    /// The cgroup is gone (cgroup v1: removed; cgroup v2: its last process
    /// left): no event will come any more.
    pub gone: bool,
}

/// A descriptor that becomes readable when the container's cgroup runs out
/// of memory (or is removed); [`OomWatcher::read`] says which.
#[derive(Debug)]
pub struct OomWatcher {
    fd: OwnedFd,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// An eventfd registered on the v1 memory cgroup `dir`.
    V1 { dir: PathBuf },
    /// Inotify watches on the v2 `memory.events` and `cgroup.events` files
    /// of `dir`, the last `oom_kill` count seen, and whether the cgroup held
    /// processes at the last look.
    V2 {
        dir: PathBuf,
        kills: u64,
        populated: bool,
    },
}

impl OomWatcher {
    /// Registers an eventfd for the OOM events of the v1 memory cgroup `dir`.
    pub(crate) fn v1(dir: &Path) -> Result<OomWatcher, CgroupError> {
        let oom_control = dir.join("memory.oom_control");
        let fd = notify::eventfd().map_err(|source| watch_error(&oom_control, source))?;
        let control = File::open(&oom_control).map_err(|source| CgroupError::Read {
            path: oom_control.clone(),
            source,
        })?;
        // The kernel holds the event from here on; the control file can close.
        let registration = format!("{} {}", fd.as_raw_fd(), control.as_raw_fd());
        write(&dir.join("cgroup.event_control"), &registration)?;
        Ok(OomWatcher {
            fd,
            kind: Kind::V1 {
                dir: dir.to_owned(),
            },
        })
    }

    /// Watches the `memory.events` and `cgroup.events` files of the v2
    /// cgroup `dir`.
    pub(crate) fn v2(dir: &Path) -> Result<OomWatcher, CgroupError> {
        let fd = notify::inotify().map_err(|source| watch_error(dir, source))?;
        for file in ["memory.events", "cgroup.events"] {
            let path = dir.join(file);
            let c_path =
                CString::new(path.as_os_str().as_bytes()).map_err(|_| CgroupError::Parse {
                    path: path.clone(),
                    reason: "holds a NUL byte".into(),
                })?;
            notify::inotify_watch(fd.as_fd(), &c_path, libc::IN_MODIFY)
                .map_err(|source| watch_error(&path, source))?;
        }
        Ok(OomWatcher {
            fd,
            kind: Kind::V2 {
                dir: dir.to_owned(),
                kills: oom_kills(dir)?,
                populated: populated(dir)?,
            },
        })
    }

    /// Says what happened since the last read; call it when the descriptor
    /// is readable. Never blocks.
    pub fn read(&mut self) -> Result<OomEvents, CgroupError> {
        match &mut self.kind {
            Kind::V1 { dir } => {
                let count = notify::read_eventfd(self.fd.as_fd())
                    .map_err(|source| watch_error(dir, source))?;
                // Removing the cgroup signals the eventfd too, once.
                let gone = !dir.join("cgroup.event_control").exists();
                Ok(OomEvents {
                    count: count.unwrap_or(0).saturating_sub(u64::from(gone)),
                    gone,
                })
            }
            Kind::V2 {
                dir,
                kills,
                populated: was_populated,
            } => {
                notify::read_inotify(self.fd.as_fd()).map_err(|source| watch_error(dir, source))?;
                if !dir.join("cgroup.events").exists() {
                    return Ok(OomEvents {
                        count: 0,
                        gone: true,
                    });
                }
                let now = oom_kills(dir)?;
                let count = now.saturating_sub(*kills);
                *kills = now;
                let is_populated = populated(dir)?;
                // Emptied once it had processes; an empty cgroup waiting for
                // its first process is not gone.
                let gone = *was_populated && !is_populated;
                *was_populated |= is_populated;
                Ok(OomEvents { count, gone })
            }
        }
    }
}

impl AsFd for OomWatcher {
    /// The descriptor to poll for readability.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The `oom_kill` count of a v2 cgroup.
fn oom_kills(dir: &Path) -> Result<u64, CgroupError> {
    Ok(read_flat_keyed(&dir.join("memory.events"))?
        .get("oom_kill")
        .copied()
        .unwrap_or(0))
}

/// Whether a v2 cgroup (or one below it) holds a process.
fn populated(dir: &Path) -> Result<bool, CgroupError> {
    Ok(read_flat_keyed(&dir.join("cgroup.events"))?.get("populated") == Some(&1))
}

fn watch_error(path: &Path, source: io::Error) -> CgroupError {
    CgroupError::Watch {
        path: path.to_owned(),
        source,
    }
}
