//! The directories of cgroups, whatever the driver: creating the
//! container's directory with its missing parents, checking that an existing
//! one is unused, listing the processes of its tree, and removing it with
//! the parents it made.

use super::stats::read_optional;
use super::{read_control, CgroupError};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Creates `dir` and its missing parents below `mount_point`, trying the
/// directory itself first (its parent usually exists: one `mkdir`). Returns
/// how many levels, from `dir` upwards, it created (0 when `dir` existed).
/// Creates nothing on failure.
pub(crate) fn make_dirs(dir: &Path, mount_point: &Path) -> Result<usize, CgroupError> {
    let mut created: Vec<&Path> = Vec::new();
    let result = make_dirs_into(dir, mount_point, &mut created);
    if result.is_err() {
        for level in created.iter().rev() {
            let _ = fs::remove_dir(level);
        }
    }
    result?;
    // Everything below the highest directory made was made here too.
    Ok(created
        .iter()
        .map(|top| depth_below(dir, top))
        .max()
        .unwrap_or(0))
}

fn make_dirs_into<'a>(
    dir: &'a Path,
    mount_point: &'a Path,
    created: &mut Vec<&'a Path>,
) -> Result<(), CgroupError> {
    // Another container's remove() may delete an empty shared parent
    // between our mkdirs: start over a few times if that happens.
    let mut attempts = 3;
    'again: loop {
        attempts -= 1;
        let mut missing = Vec::new();
        let mut level = dir;
        loop {
            match fs::create_dir(level) {
                Ok(()) => {
                    created.push(level);
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => break,
                Err(e) if e.kind() == io::ErrorKind::NotFound && level != mount_point => {
                    missing.push(level);
                    level = level.parent().unwrap_or(mount_point);
                }
                Err(source) => return Err(create_error(level, source)),
            }
        }
        while let Some(level) = missing.pop() {
            match fs::create_dir(level) {
                Ok(()) => created.push(level),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempts > 0 => continue 'again,
                Err(source) => return Err(create_error(level, source)),
            }
        }
        return Ok(());
    }
}

fn create_error(path: &Path, source: io::Error) -> CgroupError {
    CgroupError::Create {
        path: path.to_owned(),
        source,
    }
}

/// How many levels, from the container's directory upwards, go with it at
/// removal: those `make_dirs` made, and the `owned` ones of coracle's own
/// default parent, once it made the container's directory (a directory
/// that was there before is never coracle's to remove).
pub(crate) fn removable_levels(made: usize, owned: usize) -> usize {
    if made == 0 {
        0
    } else {
        made.max(owned)
    }
}

/// The number of levels from `top` down to `dir`, both included.
pub(crate) fn depth_below(dir: &Path, top: &Path) -> usize {
    dir.strip_prefix(top)
        .map_or(0, |rest| rest.components().count() + 1)
}

/// Refuses a pre-existing cgroup that holds processes: signalling or
/// removing "the container" would hit them.
pub(crate) fn ensure_no_process(dir: &Path) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    match read_control(&procs)?.lines().next() {
        Some(pid) => Err(CgroupError::NotEmpty {
            path: dir.to_owned(),
            pid: pid.parse().unwrap_or(0),
        }),
        None => Ok(()),
    }
}

/// The pids of the processes in the cgroup `dir` and in the cgroups below
/// it (a container may make its own); none when it is gone.
pub(crate) fn processes_below(dir: &Path) -> Result<Vec<i32>, CgroupError> {
    let mut pids = Vec::new();
    collect_pids(dir, &mut pids)?;
    Ok(pids)
}

fn collect_pids(dir: &Path, pids: &mut Vec<i32>) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    let Some(text) = read_optional(&procs)? else {
        return Ok(());
    };
    for line in text.lines() {
        pids.push(line.parse().map_err(|_| CgroupError::Parse {
            path: procs.clone(),
            reason: format!("{line:?} is not a pid"),
        })?);
    }
    for child in child_cgroups(dir) {
        collect_pids(&child, pids)?;
    }
    Ok(())
}

/// The cgroup directories right below `dir`.
pub(crate) fn child_cgroups(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// Removes the cgroup directory `dir`, retrying while exiting tasks keep it
/// busy, until `deadline`. Already gone counts as removed.
pub(crate) fn remove_busy_dir(dir: &Path, deadline: Instant) -> io::Result<()> {
    let mut pause = Duration::from_millis(1);
    loop {
        match fs::remove_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Removes the `levels` directories that creating a cgroup made, from
/// `dir` upwards, deepest first, and stops at the first that will not go:
/// a parent another cgroup still uses stays, and so does everything above.
pub(crate) fn remove_made(dir: &Path, levels: usize) {
    for level in dir.ancestors().take(levels) {
        if fs::remove_dir(level).is_err() {
            break;
        }
    }
}

/// Removes the parents among the `created` levels of `dir` (counted from
/// `dir` upwards, `dir` included) once `dir` itself is gone, as
/// [`remove_made`] does.
pub(crate) fn remove_made_parents(dir: &Path, created: usize) {
    if let Some(parent) = dir.parent() {
        remove_made(parent, created.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_parent_goes_with_the_last_container() {
        assert_eq!(removable_levels(1, 2), 2);
        assert_eq!(removable_levels(2, 2), 2);
        assert_eq!(removable_levels(0, 2), 0);
        assert_eq!(removable_levels(3, 0), 3);
    }

    #[test]
    fn depth_counts_levels_from_the_top_made() {
        assert_eq!(depth_below(Path::new("/m/a/b/c"), Path::new("/m/a/b/c")), 1);
        assert_eq!(depth_below(Path::new("/m/a/b/c"), Path::new("/m/a")), 3);
    }
}
