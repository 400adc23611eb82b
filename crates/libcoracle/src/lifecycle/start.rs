//! `start` and `kill`: releasing the init from its FIFO, and signalling.

use super::{state_document, wrong_state, Error, Runtime};
use crate::cgroups::Cgroup;
use crate::hooks;
use crate::spec::Status;
use crate::state::{Record, FIFO};
use crate::sys;
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

impl Runtime {
    /// Starts a created container: its init runs the `startContainer`
    /// hooks and executes the process; then the `poststart` hooks run.
    pub fn start(&self, id: &str) -> Result<(), Error> {
        self.trace.reset();
        let dir = self.root.open(id)?;
        let record = dir.load()?;
        let status = self.status_of(&record, dir.fifo_exists());
        if status != Status::Created {
            return Err(wrong_state(
                id,
                status,
                "only a created container can be started",
            ));
        }
        let init = open_init(&record)?;
        let fifo = open_fifo(dir.path())?;
        let outcome = read_start_report(fifo.as_fd(), init.as_fd());
        dir.remove_fifo()?;
        self.trace.phase("start");
        if let Err(err) = outcome {
            let _ = sys::process::pidfd_send_signal(init.as_fd(), libc::SIGKILL);
            return Err(err);
        }
        if !record.hooks.poststart.is_empty() {
            let state = serde_json::to_string(&state_document(&record, Status::Running))
                .expect("serializes");
            if let Err(err) =
                hooks::run_hooks("poststart", &record.hooks.poststart, state.as_bytes())
            {
                // runtime.md: a failed poststart hook stops the container.
                let _ = sys::process::pidfd_send_signal(init.as_fd(), libc::SIGKILL);
                return Err(err.into());
            }
            self.trace.phase("poststart hooks");
        }
        Ok(())
    }

    /// Sends `signal` to the container's init, or with `all` to every
    /// process in its cgroup.
    pub fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), Error> {
        let dir = self.root.open(id)?;
        let record = dir.load()?;
        let status = self.status_of(&record, dir.fifo_exists());
        if all {
            return Ok(Cgroup::from_record(&record.cgroup).signal_all(signal)?);
        }
        if matches!(status, Status::Stopped | Status::Creating) {
            return Err(wrong_state(id, status, "there is no process to signal"));
        }
        let init = open_init(&record)?;
        sys::process::pidfd_send_signal(init.as_fd(), signal)
            .map_err(Error::io(format!("send signal {signal}")))
    }
}

/// A pidfd of the recorded init, checked to be that process: the pidfd is
/// taken first, then the start time compared, so a pid reused in between
/// cannot be signalled by mistake.
pub(super) fn open_init(record: &Record) -> Result<OwnedFd, Error> {
    let gone = || {
        Error::Container(format!(
            "container {}: its init process has exited",
            record.id
        ))
    };
    let pidfd = sys::process::pidfd_open(record.pid).map_err(|_| gone())?;
    if !record.init_alive() {
        return Err(gone());
    }
    Ok(pidfd)
}

fn open_fifo(dir: &std::path::Path) -> Result<OwnedFd, Error> {
    let path = dir.join(FIFO);
    let cpath = CString::new(path.as_os_str().as_encoded_bytes()).expect("state paths hold no NUL");
    sys::fs::openat(None, &cpath, libc::O_RDONLY | libc::O_NONBLOCK, 0)
        .map_err(Error::io(format!("open {}", path.display())))
}

/// Reads what the init writes to the FIFO: `S` once the startContainer
/// hooks passed, then end of file when `execve` closed its end; or `E` and
/// the error. The init dying without a word is an error too.
fn read_start_report(fifo: BorrowedFd<'_>, init: BorrowedFd<'_>) -> Result<(), Error> {
    let mut report = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let ready = sys::process::poll_readable(&[fifo, init], -1)
            .map_err(Error::io("wait for the init"))?;
        if ready[0] {
            match sys::fs::read(fifo, &mut buf) {
                Ok(0) => break,
                Ok(n) => report.extend_from_slice(&buf[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(Error::io("read the start report")(err)),
            }
        } else if ready[1] {
            // Exited: collect what it wrote, if anything.
            while let Ok(n @ 1..) = sys::fs::read(fifo, &mut buf) {
                report.extend_from_slice(&buf[..n]);
            }
            break;
        }
    }
    match report.split_first() {
        Some((b'S', [])) => Ok(()),
        Some((b'S', [b'E', message @ ..])) | Some((b'E', message)) => Err(Error::Container(
            String::from_utf8_lossy(message).into_owned(),
        )),
        _ => Err(Error::Container(
            "the container's init exited before it started the process".into(),
        )),
    }
}
