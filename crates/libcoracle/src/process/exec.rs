//! The last steps before the container's program runs: the working
//! directory, the executable's lookup, `execve`.

use super::{ProcessError, ProcessPlan};
use crate::sys;
use std::ffi::{CStr, CString, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The `PATH` searched when `process.env` sets none (the one runc and
/// Docker use).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why a file cannot be executed.
enum Unusable {
    /// It cannot be looked at (it does not exist, or a directory on the way
    /// cannot be searched…).
    Os(io::Error),
    /// It is there but is not an executable file.
    Not(&'static str),
}

impl ProcessPlan {
    /// Finds the file to execute for `args[0]`, inside the container (call
    /// after `pivot_root` and [`Self::enter_cwd`], since a relative path is
    /// relative to the working directory). Like `execvp`: a name with a `/`
    /// is used as is; any other is searched in the `PATH` of the process's
    /// environment, or [`DEFAULT_PATH`] (an empty entry is the working
    /// directory). The file must exist, be a regular file and have an
    /// execute bit; whether this user may execute it `execve` checks.
    pub fn resolve_executable(&self) -> Result<CString, ProcessError> {
        let name = self.args[0].as_bytes();
        if name.contains(&b'/') {
            return match executable(name) {
                Ok(()) => Ok(self.args[0].clone()),
                Err(Unusable::Os(source)) => Err(ProcessError::Os {
                    step: format!("process.args[0] {}", lossy(name)),
                    source,
                }),
                Err(Unusable::Not(reason)) => Err(ProcessError::NotExecutable {
                    path: lossy(name),
                    reason,
                }),
            };
        }
        let search = self.env_value(b"PATH").unwrap_or(DEFAULT_PATH.as_bytes());
        search
            .split(|&b| b == b':')
            .map(|dir| if dir.is_empty() { &b"."[..] } else { dir })
            .filter_map(|dir| CString::new([dir, b"/", name].concat()).ok())
            .find(|candidate| executable(candidate.as_bytes()).is_ok())
            .ok_or_else(|| ProcessError::NotFound { name: lossy(name) })
    }

    /// Changes to `process.cwd` and checks that the result is under the
    /// container's root: a path through a descriptor of the host that
    /// leaked in (`/proc/self/fd/N`) leaves the working directory outside,
    /// where `getcwd` cannot name it (CVE-2024-21626).
    ///
    /// Call it after `pivot_root` and before [`Self::become_user`], as root,
    /// who can enter a directory the user could not (a new image's `WORKDIR`
    /// owned by root, mode 0700); if that fails with `EACCES` or `EPERM`
    /// ([`ProcessError::errno`]), call it again after
    /// [`Self::become_user`]: some filesystems (NFS with root squashing) let
    /// the user in and not root.
    pub fn enter_cwd(&self) -> Result<(), ProcessError> {
        let cwd = || lossy(self.cwd.as_bytes());
        sys::fs::chdir(&self.cwd).map_err(|source| ProcessError::Os {
            step: format!("process.cwd {}: chdir", cwd()),
            source,
        })?;
        match std::env::current_dir() {
            Ok(dir) if dir.as_os_str().as_bytes().starts_with(b"/") => Ok(()),
            // The kernel prefixes an unreachable directory with
            // "(unreachable)"; the C library turns that into ENOENT.
            Ok(_) => Err(ProcessError::CwdOutside { cwd: cwd() }),
            Err(err) if err.raw_os_error() == Some(libc::ENOENT) => {
                Err(ProcessError::CwdOutside { cwd: cwd() })
            }
            Err(source) => Err(ProcessError::Os {
                step: format!("process.cwd {}: getcwd", cwd()),
                source,
            }),
        }
    }

    /// Executes `path` (from [`Self::resolve_executable`]) with `args` and
    /// `env`. Returns only on failure, with the error of `execve`.
    pub fn exec(&self, path: &CStr) -> ProcessError {
        let argv = sys::process::pointer_array(&self.args);
        let envp = sys::process::pointer_array(&self.env);
        let source = sys::process::execve(path, &argv, &envp);
        ProcessError::Os {
            step: format!("exec {}", path.to_string_lossy()),
            source,
        }
    }
}

/// Checks that `path` is a regular file with an execute bit.
fn executable(path: &[u8]) -> Result<(), Unusable> {
    let meta = std::fs::metadata(Path::new(OsStr::from_bytes(path))).map_err(Unusable::Os)?;
    if meta.is_dir() {
        Err(Unusable::Not("is a directory"))
    } else if !meta.is_file() {
        Err(Unusable::Not("is not a regular file"))
    } else if meta.permissions().mode() & 0o111 == 0 {
        Err(Unusable::Not(
            "is not executable (no execute permission bit)",
        ))
    } else {
        Ok(())
    }
}

/// `bytes` as text for messages.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
