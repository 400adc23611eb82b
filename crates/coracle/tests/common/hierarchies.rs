//! The host's cgroup hierarchies as mounted (v1 controllers and v2), and
//! where a process or a path is in them.

use super::*;

/// Host cgroup hierarchies: (controllers or name, mount point). For cgroup2
/// the key is "".
pub fn cgroup_mounts() -> Vec<(Vec<String>, PathBuf)> {
    let text = fs::read_to_string("/proc/self/mountinfo").unwrap();
    parse_mountinfo(&text)
        .into_iter()
        .filter_map(|m| match m.fstype.as_str() {
            "cgroup" => {
                let keys = m
                    .super_options
                    .split(',')
                    .filter(|o| {
                        *o != "rw"
                            && *o != "ro"
                            && !o.starts_with("release_agent")
                            && *o != "clone_children"
                    })
                    .map(String::from)
                    .collect();
                Some((keys, PathBuf::from(m.mount_point)))
            }
            "cgroup2" => Some((vec![String::new()], PathBuf::from(m.mount_point))),
            _ => None,
        })
        .collect()
}

/// The host directory of hierarchy `controllers` (e.g. "memory",
/// "cpu,cpuacct", "name=systemd", "" for cgroup2) for cgroup path `path`.
pub fn cgroup_dir(controllers: &str, path: &str) -> Option<PathBuf> {
    let want: Vec<&str> = controllers.split(',').collect();
    cgroup_mounts()
        .into_iter()
        .find(|(keys, _)| want.iter().all(|w| keys.iter().any(|k| k == w)))
        .map(|(_, mnt)| mnt.join(path.trim_start_matches('/')))
}

/// /proc/PID/cgroup as (controllers, path) pairs.
pub fn cgroups_of(pid: &str) -> Vec<(String, String)> {
    read(Path::new(&format!("/proc/{pid}/cgroup")))
        .lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            Some((it.next()?.to_string(), it.next()?.to_string()))
        })
        .collect()
}

/// The cgroup path of `pid` in the hierarchy holding `controller`.
pub fn cgroup_path_of(pid: &str, controller: &str) -> Option<String> {
    cgroups_of(pid)
        .into_iter()
        .find(|(c, _)| {
            c.split(',').any(|x| x == controller) || (controller.is_empty() && c.is_empty())
        })
        .map(|(_, p)| p)
}

/// Host directories of the cgroups of `pid` that differ from the test
/// process's own (those the runtime created for the container).
pub(super) fn container_cgroup_dirs(pid: i32) -> Vec<PathBuf> {
    let ours = cgroups_of("self");
    cgroups_of(&pid.to_string())
        .into_iter()
        .filter(|entry| !ours.contains(entry))
        .filter_map(|(c, p)| cgroup_dir(&c, &p))
        .filter(|d| d.exists())
        .collect()
}

/// Removes cgroup directory `path` in every hierarchy where it exists (the
/// test's own leftovers); returns the ones that existed.
pub fn remove_cgroup_everywhere(path: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for (_, mnt) in cgroup_mounts() {
        let d = mnt.join(path.trim_start_matches('/'));
        if d.exists() {
            let _ = fs::remove_dir(&d);
            found.push(d);
        }
    }
    found
}
