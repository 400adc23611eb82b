//! coracle: an OCI runtime as a library.
//!
//! Layers, top to bottom (each only uses the ones below it):
//! - [`lifecycle`]: the operations of runtime.md (create, start, state, kill,
//!   delete, exec…), which the `coracle` command line calls;
//! - [`config`] (a validated plan of a `config.json`), [`state`] (the state
//!   root, locks, status) and [`init`] (what runs in the container before
//!   `execve`);
//! - one module per concept of the specification: [`namespaces`],
//!   [`rootfs`], [`cgroups`], [`capabilities`], [`process`], [`hooks`],
//!   [`terminal`], [`procfs`], [`seccomp`], [`lsm`] (security labels),
//!   [`netdev`] (network devices), [`keyring`] (the session keyring),
//!   [`features`], plus [`channel`] and [`trace`], and [`protect`] (the
//!   runtime's defence of its own binary);
//! - [`spec`], the specification's documents as types, [`cpulist`], the
//!   kernel's syntax of CPU and memory-node lists, and [`sys`], the thin
//!   system-call layer and the only place with `unsafe`.

#![deny(unsafe_code)]
#![deny(missing_docs)]

/// The commit this build comes from (see build.rs), "unknown" without git.
pub const BUILD_COMMIT: &str = env!("CORACLE_GIT_COMMIT");

pub mod capabilities;
pub mod cgroups;
pub mod channel;
pub mod config;
pub mod cpulist;
pub mod features;
pub mod hooks;
pub mod init;
pub mod keyring;
pub mod lifecycle;
pub mod lsm;
pub mod namespaces;
pub mod netdev;
pub mod process;
pub mod procfs;
pub mod protect;
pub mod rootfs;
pub mod seccomp;
pub mod spec;
pub mod state;
#[allow(unsafe_code)]
pub mod sys;
pub mod terminal;
pub mod trace;
