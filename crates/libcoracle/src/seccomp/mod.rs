//! `linux.seccomp`: system-call filtering with coracle's own BPF compiler
//! (no libseccomp: one static binary).
//!
//! The parent validates and compiles the profile into a [`SeccompPlan`]
//! (optionally through an on-disk cache); the container process only
//! installs the finished program just before `execve`. With
//! `SCMP_ACT_NOTIFY` rules the installation yields a listener descriptor,
//! which the runtime hands to the agent at `listenerPath` with
//! [`send_listener`].
//!
//! The semantics of the generated filter (how entries combine, `ENOSYS`
//! for syscalls newer than the tables, the differences from libseccomp)
//! are described in compile.rs.

mod arch;
mod bpf;
mod cache;
mod compile;
mod notify;
mod profile;
mod syscalls;
#[cfg(test)]
mod tests;

pub use notify::{listener_message, send_listener};

use crate::spec::Seccomp;
use crate::sys::seccomp::{self as sys, SockFilter};
use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

/// Why a seccomp profile cannot be used or installed.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// A field of `linux.seccomp` is invalid.
    #[error("{field}: {reason}")]
    Invalid {
        /// The JSON path of the field, e.g. `linux.seccomp.syscalls[3].action`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The profile compiles into more instructions than the kernel takes.
    #[error("linux.seccomp: the compiled filter has {0} instructions, more than the kernel's limit of 4096")]
    TooLarge(usize),
    /// seccomp(2) refused the filter.
    #[error("install seccomp filter: {0}")]
    Install(#[source] io::Error),
    /// The listener could not be handed to the agent.
    #[error("send seccomp listener to {path}: {step}: {source}")]
    Listener {
        /// `listenerPath`.
        path: String,
        /// `connect` or `send`.
        step: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

/// A compiled, ready-to-install filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompPlan {
    program: Vec<SockFilter>,
    flags: u32,
    listener_path: Option<String>,
    listener_metadata: Option<String>,
}

impl SeccompPlan {
    /// Parent side: validates and compiles `seccomp`. With `cache_dir`, the
    /// compiled program is looked up there first (keyed by the profile's
    /// canonical serialization) and stored after compiling; the boolean
    /// tells whether it was a cache hit. `cache_dir` must be writable only
    /// by the runtime.
    pub fn from_spec(
        seccomp: &Seccomp,
        cache_dir: Option<&Path>,
    ) -> Result<(SeccompPlan, bool), SeccompError> {
        let listener = profile::uses_notify(seccomp);
        let flags = profile::parse_flags(&seccomp.flags, listener)?;
        let plan = |program| SeccompPlan {
            program,
            flags,
            listener_path: seccomp.listener_path.clone().filter(|_| listener),
            listener_metadata: seccomp.listener_metadata.clone().filter(|_| listener),
        };
        let Some(dir) = cache_dir else {
            return Ok((plan(compile_profile(seccomp)?), false));
        };
        // Serializing the spec's own types cannot fail.
        let key = serde_json::to_vec(seccomp).expect("seccomp profile serializes");
        if let Some(program) = cache::load(dir, &key) {
            return Ok((plan(program), true));
        }
        let program = compile_profile(seccomp)?;
        cache::store(dir, &key, &program);
        Ok((plan(program), false))
    }

    /// Whether the profile uses `SCMP_ACT_NOTIFY`: then [`install`]
    /// returns the listener, to be sent to [`listener_path`].
    ///
    /// [`install`]: SeccompPlan::install
    /// [`listener_path`]: SeccompPlan::listener_path
    pub fn needs_listener(&self) -> bool {
        self.flags & sys::FLAG_NEW_LISTENER != 0
    }

    /// `listenerPath`, when the profile needs a listener.
    pub fn listener_path(&self) -> Option<&str> {
        self.listener_path.as_deref()
    }

    /// `listenerMetadata`, when the profile needs a listener.
    pub fn listener_metadata(&self) -> Option<&str> {
        self.listener_metadata.as_deref()
    }

    /// Number of BPF instructions of the compiled filter.
    pub fn instructions(&self) -> usize {
        self.program.len()
    }

    /// Container side, just before `execve`: installs the filter on the
    /// calling thread (on every thread with `SECCOMP_FILTER_FLAG_TSYNC`).
    /// Returns the listener when [`needs_listener`](Self::needs_listener).
    ///
    /// The caller must have set no_new_privs or still hold `CAP_SYS_ADMIN`;
    /// every syscall it makes afterwards is filtered. Allocates nothing.
    pub fn install(&self) -> Result<Option<OwnedFd>, SeccompError> {
        sys::set_mode_filter(&self.program, self.flags).map_err(SeccompError::Install)
    }
}

fn compile_profile(seccomp: &Seccomp) -> Result<Vec<SockFilter>, SeccompError> {
    compile::compile(&profile::Profile::parse(seccomp)?)
}

/// The action names `linux.seccomp` accepts (for `features`).
pub fn known_actions() -> &'static [&'static str] {
    profile::KNOWN_ACTIONS
}

/// The argument operators `linux.seccomp` accepts (for `features`).
pub fn known_operators() -> &'static [&'static str] {
    profile::KNOWN_OPERATORS
}

/// The architecture names `linux.seccomp` accepts (for `features`); those
/// of other hosts are accepted and have no effect here.
pub fn known_archs() -> Vec<&'static str> {
    arch::KNOWN_ARCHS.iter().map(|(name, _)| *name).collect()
}

/// The filter flags `linux.seccomp` knows (for `features`' `knownFlags`).
pub fn known_flags() -> Vec<&'static str> {
    profile::KNOWN_FLAGS.iter().map(|(name, _)| *name).collect()
}

/// The filter flags the running kernel supports (for `features`'
/// `supportedFlags`).
pub fn supported_flags() -> Vec<&'static str> {
    profile::KNOWN_FLAGS
        .iter()
        .filter(|(_, bit)| profile::flag_supported(*bit))
        .map(|(name, _)| *name)
        .collect()
}
