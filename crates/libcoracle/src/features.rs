//! `coracle features` (features.md, features-linux.md): what this build
//! recognizes and supports, from the tables the validation itself uses, so
//! that the document cannot drift from the code.

use crate::capabilities;
use crate::cgroups;
use crate::namespaces;
use crate::process;
use crate::rootfs;
use crate::seccomp;
use serde::Serialize;
use std::collections::BTreeMap;

/// The oldest specification version this build accepts.
pub const OCI_VERSION_MIN: &str = "1.0.0";

/// The features document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// The oldest recognized specification version.
    pub oci_version_min: String,
    /// The newest recognized specification version.
    pub oci_version_max: String,
    /// The hooks.
    pub hooks: Vec<&'static str>,
    /// The mount options.
    pub mount_options: Vec<&'static str>,
    /// The Linux features.
    pub linux: LinuxFeatures,
    /// Metadata of the runtime.
    pub annotations: BTreeMap<String, String>,
    /// Annotations of config.json that may change the runtime's behaviour
    /// in ways that could be unsafe: none.
    pub potentially_unsafe_config_annotations: Vec<String>,
}

/// features-linux.md.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxFeatures {
    /// The namespace types.
    pub namespaces: Vec<&'static str>,
    /// The capability names.
    pub capabilities: Vec<&'static str>,
    /// The cgroup managers.
    pub cgroup: cgroups::Support,
    /// Seccomp.
    pub seccomp: SeccompFeatures,
    /// AppArmor.
    pub apparmor: Enabled,
    /// SELinux.
    pub selinux: Enabled,
    /// Intel RDT.
    pub intel_rdt: IntelRdtFeatures,
    /// Mount extensions.
    pub mount_extensions: MountExtensions,
    /// `linux.netDevices`.
    pub net_devices: Enabled,
    /// `linux.memoryPolicy`.
    pub memory_policy: MemoryPolicyFeatures,
}

/// A feature that is there or not.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Enabled {
    /// Whether it is supported.
    pub enabled: bool,
}

/// Seccomp.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeccompFeatures {
    /// Whether seccomp is supported.
    pub enabled: bool,
    /// The action names.
    pub actions: Vec<&'static str>,
    /// The operator names.
    pub operators: Vec<&'static str>,
    /// The architecture names.
    pub archs: Vec<&'static str>,
    /// The filter flags recognized.
    pub known_flags: Vec<&'static str>,
    /// The filter flags the running kernel supports.
    pub supported_flags: Vec<&'static str>,
}

/// Intel RDT.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IntelRdtFeatures {
    /// Whether `linux.intelRdt` is supported.
    pub enabled: bool,
}

/// Mount extensions.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MountExtensions {
    /// Idmapped mounts.
    pub idmap: Enabled,
}

/// `linux.memoryPolicy`.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryPolicyFeatures {
    /// The modes.
    pub modes: Vec<&'static str>,
    /// The flags.
    pub flags: Vec<&'static str>,
}

/// What this build supports (`supportedFlags` asks the running kernel).
pub fn features() -> Features {
    let hooks = [
        "prestart",
        "createRuntime",
        "createContainer",
        "startContainer",
        "poststart",
        "poststop",
    ];
    let annotations = [
        ("org.coracle.version", env!("CARGO_PKG_VERSION")),
        ("org.coracle.seccomp", "own BPF compiler (no libseccomp)"),
    ];
    Features {
        oci_version_min: OCI_VERSION_MIN.into(),
        oci_version_max: crate::spec::OCI_VERSION.into(),
        hooks: hooks.to_vec(),
        mount_options: rootfs::known_mount_options().to_vec(),
        linux: LinuxFeatures {
            namespaces: namespaces::ALL.iter().map(|kind| kind.name()).collect(),
            capabilities: capabilities::known_names().to_vec(),
            cgroup: cgroups::SUPPORT,
            seccomp: SeccompFeatures {
                enabled: true,
                actions: seccomp::known_actions().to_vec(),
                operators: seccomp::known_operators().to_vec(),
                archs: seccomp::known_archs(),
                known_flags: seccomp::known_flags(),
                supported_flags: seccomp::supported_flags(),
            },
            apparmor: Enabled { enabled: true },
            selinux: Enabled { enabled: true },
            intel_rdt: IntelRdtFeatures { enabled: false },
            mount_extensions: MountExtensions {
                idmap: Enabled { enabled: false },
            },
            net_devices: Enabled { enabled: true },
            memory_policy: MemoryPolicyFeatures {
                modes: process::memory_policy_modes(),
                flags: process::memory_policy_flags(),
            },
        },
        annotations: annotations
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        potentially_unsafe_config_annotations: Vec::new(),
    }
}

impl Features {
    /// The document as indented JSON.
    pub fn to_json_pretty(&self) -> String {
        // Plain strings, booleans and lists: serializing cannot fail.
        serde_json::to_string_pretty(self).expect("features serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_validation_tables() {
        let f = features();
        assert_eq!(f.linux.namespaces.len(), 8);
        assert!(f.linux.capabilities.contains(&"CAP_SYS_ADMIN"));
        assert!(f.mount_options.contains(&"rbind") && !f.mount_options.contains(&"idmap"));
        assert!(f.linux.seccomp.actions.contains(&"SCMP_ACT_NOTIFY"));
        assert!(f.linux.memory_policy.modes.contains(&"MPOL_BIND"));
        let json: serde_json::Value = serde_json::from_str(&f.to_json_pretty()).unwrap();
        assert_eq!(json["ociVersionMax"], "1.3.0");
        assert_eq!(json["linux"]["mountExtensions"]["idmap"]["enabled"], false);
        assert_eq!(
            json["linux"]["cgroup"],
            serde_json::json!({"v1": true, "v2": true, "systemd": true, "systemdUser": false, "rdma": true})
        );
    }
}
