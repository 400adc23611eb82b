//! `run`: create, start, wait for the process (relaying its terminal when
//! there is no console socket), delete — runc's shortcut.

use super::create::Console;
use super::wait::wait_for;
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
        let console = Console::of(options.console_socket.as_deref(), detach);
        let created = self.create_container(id, options, console)?;
        if let Err(err) = self.start(id) {
            let _ = self.delete(id, true);
            return Err(err);
        }
        if detach {
            return Ok(0);
        }
        let code = wait_for(created.pid, created.pidfd.as_fd(), created.relay.as_ref());
        if !keep {
            self.delete(id, true)?;
        }
        code
    }
}
