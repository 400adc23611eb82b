//! Discovery of the host's cgroup hierarchies: where each is mounted
//! (`/proc/self/mountinfo`) and where the caller sits in it
//! (`/proc/self/cgroup`). Nothing is hard-coded: hosts mount them in
//! different places and combinations (`cpu,cpuacct` together or apart).

use super::CgroupError;
use std::fs;

/// One cgroup v1 hierarchy as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hierarchy {
    /// Its controllers in the kernel's order, as `/proc/self/cgroup` lists
    /// them (`cpu`, `cpuacct`…); a named hierarchy appears as `name=systemd`.
    pub(crate) controllers: Vec<String>,
    /// Where it is mounted.
    pub(crate) mount_point: String,
    /// The caller's own cgroup relative to the mount point (`""` at its
    /// root); `None` when the mount does not show it.
    pub(crate) own: Option<String>,
}

impl Hierarchy {
    /// Whether `controller` is one of this hierarchy's.
    pub(crate) fn has(&self, controller: &str) -> bool {
        self.controllers.iter().any(|c| c == controller)
    }
}

/// Which cgroup layout the host has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    /// cgroup v1 controllers (a cgroup2 mount beside them, the "hybrid"
    /// layout, is ignored: its controllers are not used).
    V1(Vec<Hierarchy>),
    /// Only the cgroup2 unified hierarchy holds controllers.
    Unified(Unified),
}

/// The cgroup2 hierarchy of a unified host, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unified {
    /// Where it is mounted (`/sys/fs/cgroup`).
    pub(crate) mount_point: String,
    /// The caller's own cgroup relative to the mount point (`""` at its
    /// root); `None` when the mount does not show it.
    pub(crate) own: Option<String>,
}

const MOUNTINFO: &str = "/proc/self/mountinfo";
const PROC_CGROUP: &str = "/proc/self/cgroup";

/// Reads the caller's cgroup layout.
pub(crate) fn discover() -> Result<Layout, CgroupError> {
    let read = |path: &str| {
        fs::read_to_string(path).map_err(|source| CgroupError::Read {
            path: path.into(),
            source,
        })
    };
    layout_from(&read(MOUNTINFO)?, &read(PROC_CGROUP)?)
}

/// A cgroup filesystem mount, from one line of mountinfo.
struct CgroupMount<'a> {
    /// The directory of the hierarchy that is the mount's root.
    root: String,
    mount_point: String,
    /// `cgroup` (v1) or `cgroup2`.
    fs_type: &'a str,
    /// Super options: the controllers and `name=` of a v1 hierarchy.
    super_options: &'a str,
}

/// Works out the layout from the texts of mountinfo and `/proc/self/cgroup`.
fn layout_from(mountinfo: &str, proc_cgroup: &str) -> Result<Layout, CgroupError> {
    let mounts: Vec<CgroupMount<'_>> = mountinfo.lines().filter_map(parse_mount).collect();
    let mut hierarchies = Vec::new();
    for line in proc_cgroup.lines() {
        // hierarchy-ID:controller-list:cgroup-path; the path may hold ':'.
        let mut fields = line.splitn(3, ':');
        let (Some(id), Some(list), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(CgroupError::Parse {
                path: PROC_CGROUP.into(),
                reason: format!("malformed line {line:?}"),
            });
        };
        if id == "0" || list.is_empty() {
            continue; // the cgroup2 entry
        }
        let controllers: Vec<String> = list.split(',').map(str::to_owned).collect();
        if let Some(hierarchy) = locate(&mounts, controllers, path) {
            hierarchies.push(hierarchy);
        }
    }
    let has_controllers = hierarchies
        .iter()
        .any(|h| h.controllers.iter().any(|c| !c.starts_with("name=")));
    if has_controllers {
        return Ok(Layout::V1(hierarchies));
    }
    let own_v2 = proc_cgroup
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .unwrap_or("/");
    if let Some(unified) = locate_unified(&mounts, own_v2) {
        Ok(Layout::Unified(unified))
    } else {
        Err(CgroupError::Parse {
            path: MOUNTINFO.into(),
            reason: "no cgroup filesystem is mounted".into(),
        })
    }
}

/// Finds the mount of the v1 hierarchy with `controllers`, preferring one
/// that shows the whole hierarchy, then one that shows the caller's cgroup.
/// `None` when it is not mounted in this mount namespace.
fn locate(
    mounts: &[CgroupMount<'_>],
    controllers: Vec<String>,
    own_path: &str,
) -> Option<Hierarchy> {
    let candidates = mounts.iter().filter(|m| {
        m.fs_type == "cgroup"
            && controllers
                .iter()
                .all(|c| m.super_options.split(',').any(|o| o == c))
    });
    let mut best: Option<(&CgroupMount<'_>, Option<String>)> = None;
    for mount in candidates {
        let own = own_below_root(own_path, &mount.root);
        let better = match &best {
            None => true,
            Some((_, best_own)) => best_own.is_none() && own.is_some(),
        };
        if better {
            best = Some((mount, own));
        }
        if mount.root == "/" {
            break;
        }
    }
    best.map(|(mount, own)| Hierarchy {
        controllers,
        mount_point: mount.mount_point.clone(),
        own,
    })
}

/// Finds the cgroup2 mount, preferring one that shows the caller's cgroup
/// `own_path`, then one that shows the whole hierarchy.
fn locate_unified(mounts: &[CgroupMount<'_>], own_path: &str) -> Option<Unified> {
    let unified = |m: &CgroupMount<'_>| Unified {
        mount_point: m.mount_point.clone(),
        own: own_below_root(own_path, &m.root),
    };
    let candidates = || {
        mounts
            .iter()
            .filter(|m| m.fs_type == "cgroup2")
            .map(unified)
    };
    candidates()
        .find(|u| u.own.is_some())
        .or_else(|| candidates().next())
}

/// The caller's cgroup `own_path` (from the hierarchy's root) relative to a
/// mount showing the hierarchy from `root`; `None` when outside it.
fn own_below_root(own_path: &str, root: &str) -> Option<String> {
    let rest = if root == "/" {
        own_path
    } else {
        own_path.strip_prefix(root)?
    };
    if rest.is_empty() {
        return Some(String::new());
    }
    rest.strip_prefix('/').map(str::to_owned)
}

/// Parses one mountinfo line if it is a cgroup or cgroup2 mount:
/// `ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL…] - TYPE SOURCE SUPER-OPTIONS`.
fn parse_mount(line: &str) -> Option<CgroupMount<'_>> {
    let (before, after) = line.split_once(" - ")?;
    let mut after = after.split(' ');
    let fs_type = after.next()?;
    if fs_type != "cgroup" && fs_type != "cgroup2" {
        return None;
    }
    let super_options = after.nth(1).unwrap_or("");
    let mut before = before.split(' ');
    let root = unescape(before.nth(3)?);
    let mount_point = unescape(before.next()?);
    Some(CgroupMount {
        root,
        mount_point,
        fs_type,
        super_options,
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\134` for `\`…).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0'));
                out.push(value as u8);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO_HYBRID: &str = "\
24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,clone_children
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
90 35 0:32 /sub /mnt/my\\040mem rw,relatime - cgroup cgroup rw,memory
";

    const PROC_CGROUP_HYBRID: &str = "\
9:name=systemd:/
8:pids:/user.slice/a:b
4:memory:/sub/x
3:cpuset:/
1:cpu,cpuacct:/
0::/
";

    #[test]
    fn finds_v1_hierarchies_and_own_cgroups() {
        let Layout::V1(h) = layout_from(MOUNTINFO_HYBRID, PROC_CGROUP_HYBRID).unwrap() else {
            panic!("not v1");
        };
        let by = |c: &str| h.iter().find(|h| h.has(c)).unwrap().clone();
        assert_eq!(by("name=systemd").mount_point, "/sys/fs/cgroup/systemd");
        assert_eq!(by("pids").own.as_deref(), Some("user.slice/a:b"));
        assert_eq!(by("cpuset").own.as_deref(), Some(""));
        let cpu = by("cpuacct");
        assert_eq!(cpu.controllers, ["cpu", "cpuacct"]);
        assert_eq!(cpu.mount_point, "/sys/fs/cgroup/cpu,cpuacct");
        // The mount of the whole hierarchy wins over a mount of a subtree.
        let memory = by("memory");
        assert_eq!(memory.mount_point, "/sys/fs/cgroup/memory");
        assert_eq!(memory.own.as_deref(), Some("sub/x"));
        assert_eq!(h.len(), 5);
    }

    #[test]
    fn uses_a_subtree_mount_and_unescapes_it() {
        let mountinfo = "90 35 0:32 /sub /mnt/my\\040mem rw - cgroup cgroup rw,memory\n";
        let Layout::V1(h) = layout_from(mountinfo, "4:memory:/sub/x\n").unwrap() else {
            panic!("not v1");
        };
        assert_eq!(h[0].mount_point, "/mnt/my mem");
        assert_eq!(h[0].own.as_deref(), Some("x"));
        let Layout::V1(h) = layout_from(mountinfo, "4:memory:/other\n").unwrap() else {
            panic!("not v1");
        };
        assert_eq!(h[0].own, None);
    }

    #[test]
    fn a_prefix_is_not_a_parent() {
        assert_eq!(own_below_root("/subway", "/sub"), None);
        assert_eq!(own_below_root("/sub", "/sub").as_deref(), Some(""));
        assert_eq!(own_below_root("/", "/").as_deref(), Some(""));
    }

    #[test]
    fn pure_cgroup2_is_unified() {
        let mountinfo = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let unified = |own: &str| {
            Layout::Unified(Unified {
                mount_point: "/sys/fs/cgroup".into(),
                own: Some(own.into()),
            })
        };
        assert_eq!(
            layout_from(mountinfo, "0::/init.scope\n").unwrap(),
            unified("init.scope")
        );
        // A named v1 hierarchy alone holds no controllers.
        let mountinfo = format!(
            "{mountinfo}40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
        );
        assert_eq!(
            layout_from(&mountinfo, "1:name=systemd:/\n0::/\n").unwrap(),
            unified("")
        );
    }

    #[test]
    fn no_cgroup_mount_is_an_error() {
        assert!(layout_from("", "").is_err());
        assert!(layout_from("", "garbage").is_err());
    }

    #[test]
    fn reads_this_host() {
        discover().unwrap();
    }
}
