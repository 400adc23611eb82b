//! Bundles: a `config.json` (a `serde_json::Value` the test edits) next
//! to a fresh copy of the busybox rootfs, and the edits tests make often.

use super::*;

/// A bundle: a directory with `rootfs/` and the `config.json` written from
/// [`Bundle::config`] when the container is created.
pub struct Bundle {
    pub dir: PathBuf,
    pub config: Value,
}

/// The default configuration: runc-like namespaces, mounts, masked and
/// read-only paths; root user; writable rootfs; no terminal.
pub fn default_config(args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": [PATH_ENV, "HOME=/root"],
            "cwd": "/",
            "capabilities": {
                "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": "coracle-test",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
             "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
             "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs",
             "options": ["nosuid", "noexec", "nodev", "ro"]}
        ],
        "linux": {
            "namespaces": [
                {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                {"type": "uts"}, {"type": "mount"}
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

impl Bundle {
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// Replaces `process.args`.
    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.config["process"]["args"] = json!(args);
        self
    }

    /// Runs `script` with `sh -c`.
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.args(&["sh", "-c", script])
    }

    /// Appends a mount.
    pub fn mount(&mut self, mount: Value) -> &mut Self {
        self.config["mounts"].as_array_mut().unwrap().push(mount);
        self
    }

    /// Mounts at `dest` a tmpfs owned by root with mode 0700: a directory
    /// only root may enter.
    pub fn root_only_dir(&mut self, dest: &str) -> &mut Self {
        self.mount(json!({
            "destination": dest,
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["mode=700"]
        }))
    }

    /// Bind-mounts host directory `host` at `dest`, read-write.
    pub fn bind(&mut self, host: &Path, dest: &str) -> &mut Self {
        self.mount(json!({
            "destination": dest, "type": "bind", "source": host,
            "options": ["rbind", "rw"]
        }))
    }

    /// Creates a host directory bind-mounted read-write at `/out` and returns
    /// its host path: the container reports what it sees through files there.
    pub fn out_dir(&mut self, t: &Test) -> PathBuf {
        let host = t.host_dir(&t.unique("out"));
        // The mount point exists, so that even a container root that does
        // not own the rootfs (user namespace) needs not create it.
        fs::create_dir_all(self.rootfs().join("out")).unwrap();
        self.bind(&host, "/out");
        host
    }

    /// Removes namespace `ty` from `linux.namespaces`.
    pub fn without_ns(&mut self, ty: &str) -> &mut Self {
        self.config["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .retain(|n| n["type"] != ty);
        self
    }

    /// Adds (or replaces) namespace `ty`, optionally joining `path`.
    pub fn with_ns(&mut self, ty: &str, path: Option<&str>) -> &mut Self {
        self.without_ns(ty);
        let mut ns = json!({"type": ty});
        if let Some(p) = path {
            ns["path"] = json!(p);
        }
        self.config["linux"]["namespaces"]
            .as_array_mut()
            .unwrap()
            .push(ns);
        self
    }

    /// Removes the mount at `dest`.
    pub fn without_mount(&mut self, dest: &str) -> &mut Self {
        self.config["mounts"]
            .as_array_mut()
            .unwrap()
            .retain(|m| m["destination"] != dest);
        self
    }

    /// Writes `config.json`.
    pub fn save(&self) {
        fs::write(
            self.dir.join("config.json"),
            serde_json::to_vec_pretty(&self.config).unwrap(),
        )
        .unwrap();
    }
}
