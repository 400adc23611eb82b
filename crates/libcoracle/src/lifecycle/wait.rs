//! Waiting for a process the runtime started (`run`, `exec`), passing on
//! the signals the runtime receives meanwhile, as runc does.

use super::Error;
use crate::sys;
use crate::sys::process::Exit;
use std::os::fd::{AsFd, BorrowedFd};

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

/// Waits for the child `pid` (with its pidfd) to end and returns its exit
/// code in the shell's convention; signals sent to the runtime meanwhile
/// are passed on to it.
pub(super) fn wait_forwarding(pid: i32, pidfd: BorrowedFd<'_>) -> Result<i32, Error> {
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
