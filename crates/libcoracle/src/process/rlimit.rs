//! `process.rlimits`: the names of getrlimit(2) and their validation.

use super::{invalid, ProcessError};
use crate::spec;

/// Every resource of getrlimit(2) on Linux, by name.
const RESOURCES: [(&str, u32); 16] = [
    ("RLIMIT_CPU", libc::RLIMIT_CPU),
    ("RLIMIT_FSIZE", libc::RLIMIT_FSIZE),
    ("RLIMIT_DATA", libc::RLIMIT_DATA),
    ("RLIMIT_STACK", libc::RLIMIT_STACK),
    ("RLIMIT_CORE", libc::RLIMIT_CORE),
    ("RLIMIT_RSS", libc::RLIMIT_RSS),
    ("RLIMIT_NPROC", libc::RLIMIT_NPROC),
    ("RLIMIT_NOFILE", libc::RLIMIT_NOFILE),
    ("RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK),
    ("RLIMIT_AS", libc::RLIMIT_AS),
    ("RLIMIT_LOCKS", libc::RLIMIT_LOCKS),
    ("RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING),
    ("RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE),
    ("RLIMIT_NICE", libc::RLIMIT_NICE),
    ("RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO),
    ("RLIMIT_RTTIME", libc::RLIMIT_RTTIME),
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
