//! `process.rlimits`: the names of getrlimit(2) and their validation.

use super::{invalid, ProcessError};
use crate::spec;

/// Every resource of getrlimit(2) on Linux, by name (the C libraries
/// disagree on the constants' type: the casts are needed with musl).
#[allow(clippy::unnecessary_cast)]
const RESOURCES: [(&str, u32); 16] = [
    ("RLIMIT_CPU", libc::RLIMIT_CPU as u32),
    ("RLIMIT_FSIZE", libc::RLIMIT_FSIZE as u32),
    ("RLIMIT_DATA", libc::RLIMIT_DATA as u32),
    ("RLIMIT_STACK", libc::RLIMIT_STACK as u32),
    ("RLIMIT_CORE", libc::RLIMIT_CORE as u32),
    ("RLIMIT_RSS", libc::RLIMIT_RSS as u32),
    ("RLIMIT_NPROC", libc::RLIMIT_NPROC as u32),
    ("RLIMIT_NOFILE", libc::RLIMIT_NOFILE as u32),
    ("RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK as u32),
    ("RLIMIT_AS", libc::RLIMIT_AS as u32),
    ("RLIMIT_LOCKS", libc::RLIMIT_LOCKS as u32),
    ("RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING as u32),
    ("RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE as u32),
    ("RLIMIT_NICE", libc::RLIMIT_NICE as u32),
    ("RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO as u32),
    ("RLIMIT_RTTIME", libc::RLIMIT_RTTIME as u32),
];

/// The resource number of `name`, such as `RLIMIT_NOFILE`.
fn number_of(name: &str) -> Option<u32> {
    RESOURCES
        .iter()
        .find(|(known, _)| *known == name)
        .map(|&(_, resource)| resource)
}

/// The name of resource number `resource`, for messages.
pub(super) fn name_of(resource: u32) -> &'static str {
    RESOURCES
        .iter()
        .find(|&&(_, known)| known == resource)
        .map_or("RLIMIT_UNKNOWN", |(name, _)| name)
}

/// Validates `process.rlimits` into `(resource, soft, hard)`: known types,
/// each at most once (config.md requires an error for duplicates), and
/// soft ≤ hard (which setrlimit(2) would refuse later, in the container).
pub(super) fn plan(rlimits: &[spec::Rlimit]) -> Result<Vec<(u32, u64, u64)>, ProcessError> {
    let mut planned: Vec<(u32, u64, u64)> = Vec::with_capacity(rlimits.len());
    for limit in rlimits {
        let name = &limit.typ;
        let resource = number_of(name)
            .ok_or_else(|| invalid("process.rlimits", format!("unknown type {name}")))?;
        if planned.iter().any(|&(known, _, _)| known == resource) {
            return Err(invalid("process.rlimits", format!("duplicate type {name}")));
        }
        if limit.soft > limit.hard {
            let message = format!(
                "{name}: soft limit {} is above hard limit {}",
                limit.soft, limit.hard
            );
            return Err(invalid("process.rlimits", message));
        }
        planned.push((resource, limit.soft, limit.hard));
    }
    Ok(planned)
}
