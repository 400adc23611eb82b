//! Out-of-memory notifications of a container's cgroup, for `events`.
//!
//! cgroup v1 signals an eventfd registered on `memory.oom_control` through
//! `cgroup.event_control`; cgroup v2 counts kills in `memory.events`, which
//! is watched with inotify. Either way the caller polls one descriptor.

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

/// What an [`OomWatcher`] saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OomEvent {
    /// The cgroup ran out of memory this many times since the last read.
    Oom(u64),
    /// Nothing new (the descriptor woke for another reason).
    Nothing,
    /// The cgroup was removed: no event will come any more.
    Removed,
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
    /// An inotify watch on the v2 `memory.events` file, and the last
    /// `oom_kill` count seen.
    V2 { events: PathBuf, kills: u64 },
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

    /// Watches the `memory.events` file of the v2 cgroup `dir`.
    pub(crate) fn v2(dir: &Path) -> Result<OomWatcher, CgroupError> {
        let events = dir.join("memory.events");
        let fd = notify::inotify().map_err(|source| watch_error(&events, source))?;
        let path = CString::new(events.as_os_str().as_bytes()).map_err(|_| CgroupError::Parse {
            path: events.clone(),
            reason: "holds a NUL byte".into(),
        })?;
        notify::inotify_watch(fd.as_fd(), &path, libc::IN_MODIFY)
            .map_err(|source| watch_error(&events, source))?;
        let kills = oom_kills(&events)?;
        Ok(OomWatcher {
            fd,
            kind: Kind::V2 { events, kills },
        })
    }

    /// Says what happened since the last read; call it when the descriptor
    /// is readable. Never blocks.
    pub fn read(&mut self) -> Result<OomEvent, CgroupError> {
        match &mut self.kind {
            Kind::V1 { dir } => {
                let count = notify::read_eventfd(self.fd.as_fd())
                    .map_err(|source| watch_error(dir, source))?;
                // Removing the cgroup signals the eventfd too.
                if !dir.join("cgroup.event_control").exists() {
                    return Ok(OomEvent::Removed);
                }
                Ok(count.map_or(OomEvent::Nothing, OomEvent::Oom))
            }
            Kind::V2 { events, kills } => {
                let masks = notify::read_inotify(self.fd.as_fd())
                    .map_err(|source| watch_error(events, source))?;
                if !events.exists() || masks.iter().any(|m| m & libc::IN_IGNORED != 0) {
                    return Ok(OomEvent::Removed);
                }
                let now = oom_kills(events)?;
                let new = now.saturating_sub(*kills);
                *kills = now;
                Ok(if new > 0 {
                    OomEvent::Oom(new)
                } else {
                    OomEvent::Nothing
                })
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

/// The `oom_kill` count of a v2 `memory.events` file.
fn oom_kills(events: &Path) -> Result<u64, CgroupError> {
    Ok(read_flat_keyed(events)?
        .get("oom_kill")
        .copied()
        .unwrap_or(0))
}

fn watch_error(path: &Path, source: io::Error) -> CgroupError {
    CgroupError::Watch {
        path: path.to_owned(),
        source,
    }
}
