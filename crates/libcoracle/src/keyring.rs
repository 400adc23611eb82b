//! The container's session keyring (runc's behaviour, and its
//! `--no-new-keyring`).
//!
//! The kernel keeps secrets in keyrings: Kerberos tickets, fscrypt and
//! dm-crypt keys, whatever a tool stored with `keyctl`. A process can use
//! the keys of its session keyring, which it inherits. Unless told
//! otherwise, the init therefore joins a new session keyring named
//! `_ses.ID`, and an `exec`'d process joins that one by name, so that no
//! process of the container holds the caller's.

use crate::sys;
use std::ffi::CString;
use std::io;

/// A keyring step that failed.
#[derive(Debug, thiserror::Error)]
#[error("session keyring {name}: {step}: {source}")]
pub struct KeyringError {
    name: String,
    step: &'static str,
    #[source]
    source: io::Error,
}

/// `KEY_USR_SEARCH` and `KEY_OTH_SEARCH` (linux/key.h).
const USER_SEARCH: u32 = 0x0008_0000;
const OTHER_SEARCH: u32 = 0x0000_0008;

/// The session keyring of one container.
#[derive(Debug, Clone)]
pub struct SessionKeyring {
    name: CString,
}

impl SessionKeyring {
    /// The keyring of container `id`: `_ses.ID`, the name runc gives it.
    pub fn of(id: &str) -> SessionKeyring {
        let name = CString::new(format!("_ses.{id}"))
            .expect("a validated container id holds no NUL (state::validate_id)");
        SessionKeyring { name }
    }

    /// In the init, as the root of the container: joins a new session
    /// keyring and lets the processes `exec` adds find it by name. They
    /// search as the container's root, the keyring's owner, except in a
    /// user namespace: there they still carry the host's uid while they
    /// join, so the keyring must be searchable by others (runc's rule).
    pub fn join_new(&self, user_namespace: bool) -> Result<(), KeyringError> {
        let Some(id) = self.join_or_none()? else {
            return Ok(());
        };
        let search = if user_namespace {
            OTHER_SEARCH
        } else {
            USER_SEARCH
        };
        let perm = sys::keys::key_permissions(id).map_err(self.failed("read its permissions"))?;
        sys::keys::set_key_permissions(id, perm | search).map_err(self.failed("make it searchable"))
    }

    /// In an `exec`'d process, inside the container's namespaces: joins
    /// the container's keyring (or a new one of that name if it is gone).
    pub fn join(&self) -> Result<(), KeyringError> {
        self.join_or_none().map(drop)
    }

    /// Joins the keyring; `None` on a kernel built without keys, where
    /// there is no keyring to inherit either (runc goes on too).
    fn join_or_none(&self) -> Result<Option<i32>, KeyringError> {
        match sys::keys::join_session_keyring(&self.name) {
            Ok(id) => Ok(Some(id)),
            Err(err) if err.raw_os_error() == Some(libc::ENOSYS) => Ok(None),
            Err(err) => Err(self.failed("join")(err)),
        }
    }

    fn failed(&self, step: &'static str) -> impl FnOnce(io::Error) -> KeyringError {
        let name = self.name.to_string_lossy().into_owned();
        move |source| KeyringError { name, step, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyring_is_named_after_the_container_as_runc_names_it() {
        assert_eq!(SessionKeyring::of("web-1").name.as_bytes(), b"_ses.web-1");
    }
}
