//! Waiting for a process the runtime started (`run`, `exec`), passing on
//! the signals the runtime receives meanwhile, as runc does; and relaying
//! its terminal when `run` has no console socket to hand it to.

use super::Error;
use crate::sys;
use crate::sys::process::Exit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The signals passed on to the container's process.
const FORWARDED: [i32; 8] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
];

/// Waits for the child `pid` (with its pidfd) of `run` or `exec` to end,
/// relaying its terminal when `relay` is the runtime's end of the console
/// socket pair its pty master comes through; returns its exit code.
pub(super) fn wait_for(
    pid: i32,
    pidfd: BorrowedFd<'_>,
    relay: Option<&OwnedFd>,
) -> Result<i32, Error> {
    match relay {
        Some(socket) => {
            receive_master(socket.as_fd()).and_then(|master| relay_until_exit(master, pid, pidfd))
        }
        None => wait_forwarding(pid, pidfd),
    }
}

/// Waits for the child `pid` (with its pidfd) to end and returns its exit
/// code in the shell's convention; signals sent to the runtime meanwhile
/// are passed on to it.
fn wait_forwarding(pid: i32, pidfd: BorrowedFd<'_>) -> Result<i32, Error> {
    let old_mask = sys::process::sigprocmask_all(true).map_err(Error::io("block signals"))?;
    let result = forward_until_exit(pid, pidfd);
    let _ = sys::process::sigprocmask_set(&old_mask);
    result
}

fn forward_until_exit(pid: i32, pidfd: BorrowedFd<'_>) -> Result<i32, Error> {
    let signals = sys::process::signalfd(&FORWARDED).map_err(Error::io("signalfd"))?;
    loop {
        let ready = sys::process::poll_readable(&[pidfd, signals.as_fd()], -1)
            .map_err(Error::io("wait for the container"))?;
        if ready[1] {
            let signal =
                sys::process::read_signal(signals.as_fd()).map_err(Error::io("read a signal"))?;
            // The process may just have exited: nothing to pass on then.
            let _ = sys::process::pidfd_send_signal(pidfd, signal);
        }
        if ready[0] {
            break;
        }
    }
    match sys::process::wait_pid(pid, false).map_err(Error::io("wait for the container"))? {
        Some(exit) => Ok(exit.shell_code()),
        None => Ok(Exit::Code(0).shell_code()),
    }
}

/// The end-of-file key of a terminal in canonical mode (Ctrl-D).
const EOF_KEY: u8 = 0x04;

/// Receives the pty master the init sends over the console socket pair of
/// a relayed terminal.
fn receive_master(socket: BorrowedFd<'_>) -> Result<OwnedFd, Error> {
    let mut name = [0u8; 64];
    match sys::socket::recv_with_fd(socket, &mut name) {
        Ok((_, Some(master))) => Ok(master),
        Ok((_, None)) => Err(Error::Container("the init sent no terminal".into())),
        Err(err) => Err(Error::io("receive the terminal")(err)),
    }
}

/// `run` with a terminal and no console socket, as runc does it: the
/// runtime's own stdin and stdout are relayed to the pty `master` (stdin in
/// raw mode when it is a terminal, its size passed on, also on SIGWINCH)
/// until the process `pid` exits; other signals are passed on to it.
fn relay_until_exit(master: OwnedFd, pid: i32, pidfd: BorrowedFd<'_>) -> Result<i32, Error> {
    let stdin = std::io::stdin();
    let saved = sys::term::attributes(stdin.as_fd());
    if let Some(attrs) = saved {
        let _ = sys::term::set_attributes(stdin.as_fd(), &sys::term::raw(attrs));
        copy_window_size(stdin.as_fd(), master.as_fd());
    }
    let old_mask = sys::process::sigprocmask_all(true).map_err(Error::io("block signals"))?;
    let result = relay(master.as_fd(), pid, pidfd);
    let _ = sys::process::sigprocmask_set(&old_mask);
    if let Some(attrs) = saved {
        let _ = sys::term::set_attributes(stdin.as_fd(), &attrs);
    }
    result
}

fn relay(master: BorrowedFd<'_>, pid: i32, pidfd: BorrowedFd<'_>) -> Result<i32, Error> {
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let signals = sys::process::signalfd(&FORWARDED).map_err(Error::io("signalfd"))?;
    let mut stdin_open = true;
    let mut buf = [0u8; 8192];
    loop {
        // Once stdin is at its end it stays out of the poll set, as the
        // master does once it hangs up.
        let watched: Vec<BorrowedFd<'_>> = if stdin_open {
            vec![pidfd, signals.as_fd(), master, stdin.as_fd()]
        } else {
            vec![pidfd, signals.as_fd(), master]
        };
        let ready = sys::process::poll_readable(&watched, -1)
            .map_err(Error::io("wait for the container"))?;
        if ready[1] {
            match sys::process::read_signal(signals.as_fd()).map_err(Error::io("read a signal"))? {
                libc::SIGWINCH => copy_window_size(stdin.as_fd(), master),
                signal => drop(sys::process::pidfd_send_signal(pidfd, signal)),
            }
        }
        if ready[2] && !copy(master, stdout.as_fd(), &mut buf) {
            // The pty hung up: the process (and anything holding the
            // terminal) is gone.
            break;
        }
        if stdin_open && ready[3] {
            stdin_open = copy(stdin.as_fd(), master, &mut buf);
            if !stdin_open {
                // The end of our input is the terminal's end-of-file key.
                let _ = sys::fs::write_all(master, &[EOF_KEY]);
            }
        }
        if ready[0] {
            // Exited: what it wrote last is still in the pty.
            while sys::process::poll_readable(&[master], 0).is_ok_and(|r| r[0])
                && copy(master, stdout.as_fd(), &mut buf)
            {}
            break;
        }
    }
    match sys::process::wait_pid(pid, false).map_err(Error::io("wait for the container"))? {
        Some(exit) => Ok(exit.shell_code()),
        None => Ok(0),
    }
}

/// Copies what is there to read from `from` to `to`; false at end of file
/// or on an error (a pty master reads EIO once its peer is closed).
fn copy(from: BorrowedFd<'_>, to: BorrowedFd<'_>, buf: &mut [u8]) -> bool {
    match sys::fs::read(from, buf) {
        Ok(0) | Err(_) => false,
        Ok(n) => sys::fs::write_all(to, &buf[..n]).is_ok(),
    }
}

fn copy_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    if let Ok((rows, columns)) = sys::term::window_size(from) {
        let _ = sys::term::set_window_size(to, rows, columns);
    }
}
