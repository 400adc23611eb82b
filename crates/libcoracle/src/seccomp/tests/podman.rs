//! Podman's default seccomp profile turned into the `linux.seccomp` that
//! Podman would put in config.json on an amd64 host, the way
//! containers/common does it: archMap gives the architectures, and each
//! entry's `includes`/`excludes` (arches, caps) decide whether it applies.

use crate::spec::{Seccomp, SeccompArg, SeccompSyscall};
use serde_json::Value;

/// Where Debian's golang-github-containers-common installs the profile.
pub const PODMAN_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// The capabilities of a default Podman container (containers.conf).
pub const PODMAN_DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// Every capability an entry of the profile mentions, for a privileged
/// container's view.
pub const MANY_CAPS: &[&str] = &[
    "CAP_AUDIT_WRITE",
    "CAP_DAC_READ_SEARCH",
    "CAP_SYS_ADMIN",
    "CAP_SYS_CHROOT",
    "CAP_SYS_MODULE",
    "CAP_SYS_PACCT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_SYS_BOOT",
    "CAP_SYSLOG",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
];

/// The Go name of this host's architecture, as the profile's `arches` use it.
const GOARCH: &str = "amd64";

/// Reads Podman's profile and converts it for a container with `caps`.
pub fn podman_seccomp(caps: &[&str]) -> Seccomp {
    let text = std::fs::read_to_string(PODMAN_PROFILE).unwrap_or_else(|e| {
        panic!("{PODMAN_PROFILE}: {e} (install the golang-github-containers-common package)")
    });
    convert(
        &serde_json::from_str(&text).expect("Podman's profile is JSON"),
        caps,
    )
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn convert(profile: &Value, caps: &[&str]) -> Seccomp {
    let architectures = profile["archMap"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["architecture"] == "SCMP_ARCH_X86_64")
        .map(|m| {
            let mut arches = vec!["SCMP_ARCH_X86_64".to_string()];
            arches.extend(strings(m.get("subArchitectures")));
            arches
        })
        .unwrap_or_default();
    let syscalls = profile["syscalls"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| applies(entry, caps))
        .map(convert_entry)
        .collect();
    Seccomp {
        default_action: profile["defaultAction"].as_str().unwrap().to_string(),
        default_errno_ret: profile["defaultErrnoRet"].as_u64().map(|e| e as u32),
        architectures,
        syscalls,
        ..Seccomp::default()
    }
}

/// containers/common's filter: excluded arches or caps drop an entry, and
/// so do included ones the container lacks.
fn applies(entry: &Value, caps: &[&str]) -> bool {
    let has = |cap: &String| caps.contains(&cap.as_str());
    let excludes = &entry["excludes"];
    let includes = &entry["includes"];
    let ex_arches = strings(excludes.get("arches"));
    let in_arches = strings(includes.get("arches"));
    !ex_arches.iter().any(|a| a == GOARCH)
        && !strings(excludes.get("caps")).iter().any(has)
        && (in_arches.is_empty() || in_arches.iter().any(|a| a == GOARCH))
        && strings(includes.get("caps")).iter().all(has)
}

fn convert_entry(entry: &Value) -> SeccompSyscall {
    let mut names = strings(entry.get("names"));
    if let Some(name) = entry["name"].as_str() {
        names.push(name.to_string());
    }
    let args = entry["args"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| SeccompArg {
            index: a["index"].as_u64().unwrap() as u32,
            value: a["value"].as_u64().unwrap(),
            value_two: a["valueTwo"].as_u64().unwrap_or(0),
            op: a["op"].as_str().unwrap().to_string(),
        })
        .collect();
    SeccompSyscall {
        names,
        action: entry["action"].as_str().unwrap().to_string(),
        errno_ret: entry["errnoRet"].as_u64().map(|e| e as u32),
        args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_select_entries() {
        let default = podman_seccomp(PODMAN_DEFAULT_CAPS);
        assert_eq!(
            default.architectures,
            ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
        );
        let names = |s: &Seccomp, action: &str| -> Vec<String> {
            s.syscalls
                .iter()
                .filter(|e| e.action == action)
                .flat_map(|e| e.names.clone())
                .collect()
        };
        // Without CAP_SYS_ADMIN, bpf is refused; arch_prctl is amd64's.
        assert!(names(&default, "SCMP_ACT_ERRNO").contains(&"bpf".to_string()));
        assert!(names(&default, "SCMP_ACT_ALLOW").contains(&"arch_prctl".to_string()));
        assert!(!names(&default, "SCMP_ACT_ALLOW").contains(&"s390_runtime_instr".to_string()));
        let privileged = podman_seccomp(MANY_CAPS);
        assert!(names(&privileged, "SCMP_ACT_ALLOW").contains(&"bpf".to_string()));
        assert!(!names(&privileged, "SCMP_ACT_ERRNO").contains(&"bpf".to_string()));
    }
}
