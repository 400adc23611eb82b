//! Mounts as the tests see them: /proc/PID/mountinfo parsed, what is
//! mounted under a directory, and host tmpfs mounts removed on drop.

use super::*;

/// One line of /proc/PID/mountinfo.
#[derive(Debug, Clone)]
pub struct MountInfo {
    pub mount_point: String,
    pub root: String,
    /// Per-mount options (`rw,nosuid,…`).
    pub options: String,
    /// Optional fields (`shared:N`, `master:N`…).
    pub optional: Vec<String>,
    pub fstype: String,
    pub source: String,
    /// Superblock options (`rw,size=…`).
    pub super_options: String,
}

impl MountInfo {
    /// Whether the per-mount options hold `opt`.
    pub fn has(&self, opt: &str) -> bool {
        self.options.split(',').any(|o| o == opt)
    }

    /// Whether the superblock options hold `opt`.
    pub fn has_super(&self, opt: &str) -> bool {
        self.super_options.split(',').any(|o| o == opt)
    }
}

/// Undoes mountinfo's octal escapes (`\040` for a space…).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses the text of a mountinfo file.
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let l: Vec<&str> = left.split(' ').collect();
            let r: Vec<&str> = right.split(' ').collect();
            Some(MountInfo {
                root: unescape(l.get(3)?),
                mount_point: unescape(l.get(4)?),
                options: l.get(5)?.to_string(),
                optional: l[6..].iter().map(|s| s.to_string()).collect(),
                fstype: r.first()?.to_string(),
                source: unescape(r.get(1)?),
                super_options: r.get(2).unwrap_or(&"").to_string(),
            })
        })
        .collect()
}

/// The last (topmost) mount at `mount_point` in a mountinfo text.
#[track_caller]
pub fn mount_at(mountinfo: &str, mount_point: &str) -> MountInfo {
    parse_mountinfo(mountinfo)
        .into_iter()
        .rev()
        .find(|m| m.mount_point == mount_point)
        .unwrap_or_else(|| panic!("no mount at {mount_point} in:\n{mountinfo}"))
}

/// Mount points at or under `dir` in this process's mount namespace, in
/// mount order.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let d = dir.to_string_lossy();
    parse_mountinfo(&text)
        .into_iter()
        .filter(|m| m.mount_point == d || m.mount_point.starts_with(&format!("{d}/")))
        .map(|m| PathBuf::from(m.mount_point))
        .collect()
}

/// Removes a test directory, first detaching every mount under it (deepest
/// first) so that the removal never walks into a mount. False when a mount
/// could not be detached (the directory is then left alone).
pub fn remove_test_dir(dir: &Path) -> bool {
    for m in mounts_under(dir).iter().rev() {
        let _ = umount_detach(m);
    }
    if !mounts_under(dir).is_empty() {
        return false;
    }
    let _ = fs::remove_dir_all(dir);
    true
}

/// `umount2(path, MNT_DETACH)`.
pub fn umount_detach(path: &Path) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: c is a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A mount the test made on the host; detached when dropped.
pub struct HostMount(pub PathBuf);

impl HostMount {
    /// `mount -t tmpfs tmpfs DIR` (DIR created).
    pub fn tmpfs(dir: &Path) -> HostMount {
        fs::create_dir_all(dir).unwrap();
        host(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                "size=1m",
                "tmpfs",
                &dir.to_string_lossy(),
            ],
        );
        HostMount(dir.to_path_buf())
    }
}

impl Drop for HostMount {
    fn drop(&mut self) {
        let _ = umount_detach(&self.0);
    }
}
