//! The descriptors above stdio that a container's process inherits:
//! `--preserve-fds N` and socket activation (`LISTEN_FDS`) pass 3 to
//! 3+N-1 on. Only the ones the runtime's caller really holds may go: a
//! number the caller left free is taken by the runtime's own descriptors
//! (the rootfs, the start FIFO), which must never reach the container.

use crate::sys;
use std::os::fd::{AsRawFd, RawFd};

/// The descriptors above stdio that the runtime's caller left open, noted
/// before the runtime opened any of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerFds {
    /// Sorted.
    open: Vec<RawFd>,
}

impl CallerFds {
    /// Notes the descriptors open now. Call it first thing, before anything
    /// opens a file; when `/proc/self/fd` cannot be read, none count as
    /// passed (a container then gets too few rather than foreign ones).
    pub fn note() -> CallerFds {
        let Ok(dir) = sys::fs::openat(
            None,
            c"/proc/self/fd",
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        ) else {
            return CallerFds::default();
        };
        // The listing holds the descriptor that reads it.
        let own = dir.as_raw_fd();
        let names = sys::mount::read_dir_names(dir).unwrap_or_default();
        let mut open: Vec<RawFd> = names
            .iter()
            .filter_map(|name| name.to_str().ok()?.parse().ok())
            .filter(|&fd| fd > 2 && fd != own)
            .collect();
        open.sort_unstable();
        CallerFds { open }
    }

    /// The ones among 3 to 3+`count`-1: what `--preserve-fds` and
    /// `LISTEN_FDS` of `count` in all really pass.
    pub fn first(&self, count: u32) -> Vec<RawFd> {
        let end = 3 + i64::from(count);
        self.open
            .iter()
            .copied()
            .filter(|&fd| i64::from(fd) < end)
            .collect()
    }
}

/// How many descriptors socket activation passes to the runtime: the
/// `LISTEN_FDS` of systemd's protocol (sd_listen_fds(3)), which counts only
/// when `LISTEN_PID` is this process (runc reads it the same way); they
/// are then passed on to a created container, which learns of them the
/// same way (`LISTEN_FDS`, `LISTEN_PID=1`). 0 without activation.
pub fn listen_fds() -> u32 {
    let ours = std::env::var("LISTEN_PID")
        .ok()
        .and_then(|pid| pid.parse::<i32>().ok())
        .is_some_and(|pid| pid == sys::process::getpid());
    if !ours {
        return 0;
    }
    std::env::var("LISTEN_FDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_descriptors_above_stdio_are_noted() {
        let file = std::fs::File::open("/").unwrap();
        let noted = CallerFds::note();
        assert!(noted.open.contains(&file.as_raw_fd()), "{noted:?}");
        assert!(noted.open.iter().all(|&fd| fd > 2), "{noted:?}");
    }

    #[test]
    fn first_keeps_the_range_only() {
        let fds = CallerFds {
            open: vec![3, 5, 9],
        };
        assert_eq!(fds.first(0), Vec::<RawFd>::new());
        assert_eq!(fds.first(3), [3, 5]);
        assert_eq!(fds.first(u32::MAX), [3, 5, 9]);
    }
}
