//! `run`: create, start, wait for the process (relaying its terminal when
//! there is no console socket), delete — runc's shortcut.

use super::create::Console;
use super::wait::{receive_master, relay_until_exit, wait_forwarding};
use super::{CreateOptions, Error, Runtime};
use std::os::fd::AsFd;

impl Runtime {
    /// Creates and starts the container. With `detach` it returns at once
    /// (0); otherwise it waits for the process, deletes the container
    /// (unless `keep`) and returns the process's exit code (128 + N when
    /// signal N killed it).
    pub fn run(
        &self,
        id: &str,
        options: &CreateOptions,
        detach: bool,
        keep: bool,
    ) -> Result<i32, Error> {
        // In the foreground without a console socket, a terminal is
        // relayed by the runtime itself, as runc does.
        let console = match (&options.console_socket, detach) {
            (None, false) => Console::Relay,
            (path, _) => Console::Socket(path.as_deref()),
        };
        let created = self.create_container(id, options, console)?;
        if let Err(err) = self.start(id) {
            let _ = self.delete(id, true);
            return Err(err);
        }
        if detach {
            return Ok(0);
        }
        let code = match &created.console {
            Some(socket) => receive_master(socket.as_fd())
                .and_then(|master| relay_until_exit(master, created.pid, created.pidfd.as_fd())),
            None => wait_forwarding(created.pid, created.pidfd.as_fd()),
        };
        if !keep {
            self.delete(id, true)?;
        }
        code
    }
}
