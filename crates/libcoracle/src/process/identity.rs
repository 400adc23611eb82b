//! Becoming the container's user: resource limits, groups, ids,
//! capabilities, `no_new_privs` and the umask.

use super::{rlimit, ProcessError, ProcessPlan};
use crate::sys;
use std::io;

impl ProcessPlan {
    /// Applies `process.rlimits`. Raising a hard limit needs
    /// `CAP_SYS_RESOURCE`: call it before [`Self::become_user`].
    pub fn apply_rlimits(&self) -> Result<(), ProcessError> {
        for &(resource, soft, hard) in &self.rlimits {
            sys::process::setrlimit(resource, soft, hard).map_err(|source| ProcessError::Os {
                step: format!(
                    "process.rlimits: setrlimit {} (soft {soft}, hard {hard})",
                    rlimit::name_of(resource)
                ),
                source,
            })?;
        }
        Ok(())
    }

    /// Changes identity, in the order that keeps the privileges each step
    /// needs: drop the bounding set (needs `CAP_SETPCAP`), keep the
    /// permitted set across the uid change (`PR_SET_KEEPCAPS`), set the
    /// supplementary groups, the gid, the uid, then the capability sets
    /// (the uid change emptied the effective one), then `no_new_privs` and
    /// the umask when asked. The caller must be single-threaded: ids and
    /// capabilities change for the calling thread only.
    pub fn become_user(&self) -> Result<(), ProcessError> {
        self.capabilities.drop_bounding()?;
        sys::process::prctl(libc::PR_SET_KEEPCAPS, 1)
            .map_err(|source| os("prctl PR_SET_KEEPCAPS".into(), source))?;
        self.set_groups()?;
        sys::process::setresgid(self.gid)
            .map_err(|source| os(format!("process.user.gid: setresgid {}", self.gid), source))?;
        sys::process::setresuid(self.uid)
            .map_err(|source| os(format!("process.user.uid: setresuid {}", self.uid), source))?;
        self.capabilities.apply()?;
        if self.no_new_privileges {
            sys::process::prctl(libc::PR_SET_NO_NEW_PRIVS, 1).map_err(|source| {
                os(
                    "process.noNewPrivileges: prctl PR_SET_NO_NEW_PRIVS".into(),
                    source,
                )
            })?;
        }
        if let Some(mask) = self.umask {
            sys::process::umask(mask);
        }
        Ok(())
    }

    /// Sets the supplementary groups to exactly `additional_gids`, so that
    /// none of the runtime's leaks in.
    fn set_groups(&self) -> Result<(), ProcessError> {
        match sys::process::setgroups(&self.additional_gids) {
            Ok(()) => Ok(()),
            // A user namespace whose `setgroups` file says "deny" (how an
            // unprivileged user maps its gid) refuses setgroups(2) with
            // EPERM; with no groups asked for there is nothing to set.
            Err(err)
                if err.raw_os_error() == Some(libc::EPERM) && self.additional_gids.is_empty() =>
            {
                Ok(())
            }
            Err(source) => Err(os(
                format!(
                    "process.user.additionalGids: setgroups {:?}",
                    self.additional_gids
                ),
                source,
            )),
        }
    }
}

/// An [`ProcessError::Os`] of `step`.
fn os(step: String, source: io::Error) -> ProcessError {
    ProcessError::Os { step, source }
}
