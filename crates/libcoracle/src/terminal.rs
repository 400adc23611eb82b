//! The container's terminal (`process.terminal`): a pseudo-terminal pair
//! from the container's own devpts, whose master goes to the engine over the
//! console socket and whose peer becomes the process's stdio.
//!
//! The peer is opened through the master (`TIOCGPTPEER`), never by a path
//! the container could swap, and checked to be on devpts (CVE-2025-52565).

use crate::spec;
use crate::sys;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// What went wrong with the terminal.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    /// A system call failed.
    #[error("{step}: {source}")]
    Os {
        /// The step, such as "open the pty peer (TIOCGPTPEER)".
        step: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The peer is not on a devpts filesystem.
    #[error("terminal: the pty peer is not on devpts (filesystem type {0:#x})")]
    NotDevpts(i64),
    /// The size does not fit the kernel's 16-bit one.
    #[error("process.consoleSize: {height}x{width} is larger than 65535x65535")]
    SizeTooLarge {
        /// Rows.
        height: u64,
        /// Columns.
        width: u64,
    },
}

impl TerminalError {
    /// The OS error number, 0 when the error is not an OS error.
    pub fn errno(&self) -> i32 {
        match self {
            TerminalError::Os { source, .. } => source.raw_os_error().unwrap_or(0),
            TerminalError::NotDevpts(_) | TerminalError::SizeTooLarge { .. } => 0,
        }
    }
}

/// A [`TerminalError::Os`] of `step`.
fn os(step: &'static str) -> impl FnOnce(io::Error) -> TerminalError {
    move |source| TerminalError::Os { step, source }
}

/// A pseudo-terminal pair.
#[derive(Debug)]
pub struct Pty {
    /// The master, for the engine.
    pub master: OwnedFd,
    /// The peer (the "slave"), for the container's process.
    pub peer: OwnedFd,
}

/// Opens a new pty pair from `ptmx`, an open `ptmx` of the container's devpts
/// (the caller opens it by descriptor inside the rootfs): unlocks the peer,
/// opens it through the master (`O_RDWR | O_NOCTTY | O_CLOEXEC`) and checks
/// that it is on devpts.
pub fn open_pty(ptmx: OwnedFd) -> Result<Pty, TerminalError> {
    sys::term::unlock_pty(ptmx.as_fd()).map_err(os("unlock the pty (TIOCSPTLCK)"))?;
    let peer =
        sys::term::open_pty_peer(ptmx.as_fd()).map_err(os("open the pty peer (TIOCGPTPEER)"))?;
    let fs_type =
        sys::fs::fstatfs_type(peer.as_fd()).map_err(os("check the pty peer's filesystem"))?;
    if fs_type != libc::DEVPTS_SUPER_MAGIC {
        return Err(TerminalError::NotDevpts(fs_type));
    }
    Ok(Pty { master: ptmx, peer })
}

/// Sets the window size of the terminal `fd` (`TIOCSWINSZ`).
pub fn set_size(fd: BorrowedFd<'_>, size: spec::ConsoleSize) -> Result<(), TerminalError> {
    let too_large = || TerminalError::SizeTooLarge {
        height: size.height,
        width: size.width,
    };
    let rows = u16::try_from(size.height).map_err(|_| too_large())?;
    let columns = u16::try_from(size.width).map_err(|_| too_large())?;
    sys::term::set_window_size(fd, rows, columns).map_err(os("set the terminal size (TIOCSWINSZ)"))
}

/// Sends `master` over the console socket `socket` (a connected unix stream
/// socket) with `SCM_RIGHTS`; the message's bytes name the terminal, such as
/// `/dev/pts/0`, as runc's do.
pub fn send_master(socket: BorrowedFd<'_>, master: &OwnedFd) -> Result<(), TerminalError> {
    let number =
        sys::term::pty_number(master.as_fd()).map_err(os("get the pty number (TIOCGPTN)"))?;
    let name = format!("/dev/pts/{number}");
    sys::socket::send_with_fds(socket, name.as_bytes(), &[master.as_raw_fd()])
        .map_err(os("send the pty master over the console socket"))
}

/// Makes `peer` the controlling terminal and the standard input, output and
/// error of the caller: a new session (`setsid`), `TIOCSCTTY`, then `dup2`
/// onto 0, 1 and 2 (whose copies survive `execve`).
pub fn become_controlling(peer: &OwnedFd) -> Result<(), TerminalError> {
    sys::term::setsid().map_err(os("start a new session (setsid)"))?;
    sys::term::set_controlling_terminal(peer.as_fd())
        .map_err(os("make the pty the controlling terminal (TIOCSCTTY)"))?;
    for (target, step) in [
        (0, "make the pty the standard input (dup2)"),
        (1, "make the pty the standard output (dup2)"),
        (2, "make the pty the standard error (dup2)"),
    ] {
        if peer.as_raw_fd() == target {
            // dup2 onto itself would leave close-on-exec set.
            sys::fs::clear_cloexec(target).map_err(os(step))?;
        } else {
            sys::fs::dup2(peer.as_fd(), target).map_err(os(step))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::tests::{in_child, is_root};

    /// A new pty pair of the host's devpts.
    fn host_pty() -> Pty {
        let flags = libc::O_RDWR | libc::O_NOCTTY;
        let ptmx = sys::fs::openat(None, c"/dev/ptmx", flags, 0).unwrap();
        open_pty(ptmx).unwrap()
    }

    #[test]
    fn pty_pair_and_window_size() {
        if !is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let pty = host_pty();
        let size = spec::ConsoleSize {
            height: 40,
            width: 132,
        };
        set_size(pty.master.as_fd(), size).unwrap();
        assert_eq!(sys::term::window_size(pty.peer.as_fd()).unwrap(), (40, 132));
        // What goes in the master comes out of the peer.
        sys::fs::write_all(pty.master.as_fd(), b"hello\n").unwrap();
        let mut buf = [0u8; 16];
        let n = sys::fs::read(pty.peer.as_fd(), &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hello\n");
    }

    #[test]
    fn size_too_large_or_not_a_terminal() {
        let null = sys::fs::openat(None, c"/dev/null", libc::O_RDONLY, 0).unwrap();
        let size = spec::ConsoleSize {
            height: 24,
            width: 70000,
        };
        let err = set_size(null.as_fd(), size).unwrap_err();
        assert_eq!(
            err.to_string(),
            "process.consoleSize: 24x70000 is larger than 65535x65535"
        );
        let size = spec::ConsoleSize {
            height: 1,
            width: 1,
        };
        let err = set_size(null.as_fd(), size).unwrap_err();
        assert_eq!(
            err.to_string(),
            "set the terminal size (TIOCSWINSZ): Inappropriate ioctl for device (os error 25)"
        );
    }

    #[test]
    fn master_goes_over_the_console_socket() {
        if !is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let pty = host_pty();
        let (ours, theirs) = sys::socket::seqpacket_pair().unwrap();
        send_master(ours.as_fd(), &pty.master).unwrap();
        let mut buf = [0u8; 64];
        let (n, fd) = sys::socket::recv_with_fd(theirs.as_fd(), &mut buf).unwrap();
        let number = sys::term::pty_number(pty.master.as_fd()).unwrap();
        assert_eq!(&buf[..n], format!("/dev/pts/{number}").as_bytes());
        let received = fd.expect("a descriptor");
        assert_eq!(sys::term::pty_number(received.as_fd()).unwrap(), number);
    }

    #[test]
    fn peer_becomes_the_controlling_terminal() {
        if !is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let pty = host_pty();
        let (out, exit) = in_child(|report| {
            if become_controlling(&pty.peer).is_err() {
                return 1;
            }
            // Only a process with a controlling terminal can open /dev/tty.
            if sys::fs::openat(None, c"/dev/tty", libc::O_RDWR, 0).is_err() {
                return 2;
            }
            let device = |fd: BorrowedFd<'_>| sys::fs::fstat(fd).map(|s| s.st_rdev).ok();
            let peer = device(pty.peer.as_fd());
            let stdio = [
                device(std::io::stdin().as_fd()),
                device(std::io::stdout().as_fd()),
                device(std::io::stderr().as_fd()),
            ];
            let same = peer.is_some() && stdio.iter().all(|rdev| *rdev == peer);
            let _ = sys::fs::write_all(report, if same { b"ok" } else { b"no" });
            0
        });
        assert_eq!(exit, sys::process::Exit::Code(0), "{out}");
        assert_eq!(out, "ok");
    }
}
