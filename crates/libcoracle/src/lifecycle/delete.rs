//! `delete`: undoing `create`, then the `poststop` hooks.

use super::start::open_init;
use super::{state_document, wrong_state, Error, Runtime};
use crate::cgroups::Cgroup;
use crate::spec::Status;
use crate::state::StateError;
use crate::sys;
use std::os::fd::AsFd;

/// How long `delete` waits for a killed init to be gone before it goes on.
const KILL_WAIT_MS: i32 = 2_000;

impl Runtime {
    /// Deletes a stopped or created container (a created one's waiting
    /// init is killed), or what a create that died left; a running or
    /// paused one only with `force`, which kills it first.
    pub fn delete(&self, id: &str, force: bool) -> Result<(), Error> {
        let dir = match self.root.open(id) {
            Err(StateError::NotFound(_)) if force => return Ok(()),
            other => other?,
        };
        if !dir.has_record() {
            // A create that died before recording anything: nothing runs.
            dir.remove()?;
            return Ok(());
        }
        let record = dir.load()?;
        let status = self.status_of(&record, dir.fifo_exists());
        let cgroup = Cgroup::from_record(&record.cgroup);
        match status {
            // Still creating, yet the lock was ours: the create that holds
            // it until it is done is gone. Its init left with it (or waits
            // on the FIFO, in the cgroup, which is emptied below).
            Status::Stopped | Status::Creating => {}
            // runtime.md calls deleting a container that is not stopped an
            // error, but runc deletes a created one, and containerd's shim
            // deletes a task that was never started with a plain `delete`.
            Status::Running | Status::Paused if !force => {
                return Err(wrong_state(
                    id,
                    status,
                    "stop it first or delete it with --force",
                ));
            }
            _ => {
                if status == Status::Paused {
                    cgroup.set_frozen(false)?;
                }
                self.kill_and_wait(&record)?;
            }
        }
        // Processes the init left behind in the cgroup go with it (the
        // freeze-kill-thaw sequence is skipped when there are none).
        if !cgroup.pids()?.is_empty() {
            cgroup.signal_all(libc::SIGKILL)?;
        }
        cgroup.remove()?;
        dir.remove()?;
        self.run_poststop(
            &record.hooks.poststop,
            &state_document(&record, Status::Stopped),
        );
        Ok(())
    }

    /// Kills the init and waits, on its pidfd, until it has exited.
    fn kill_and_wait(&self, record: &crate::state::Record) -> Result<(), Error> {
        let Ok(init) = open_init(record) else {
            return Ok(());
        };
        sys::process::pidfd_send_signal(init.as_fd(), libc::SIGKILL)
            .map_err(Error::io("kill the init"))?;
        sys::process::poll_readable(&[init.as_fd()], KILL_WAIT_MS)
            .map_err(Error::io("wait for the init"))?;
        // An init whose pid namespace still holds a zombie that someone
        // else must reap cannot finish exiting; it has left its cgroup all
        // the same, and the cgroup's removal is what must succeed.
        // Reap it if it is ours (`run`); otherwise its parent does.
        let _ = sys::process::wait_pid(record.pid, true);
        Ok(())
    }
}
