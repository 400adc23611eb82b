//! The state root: one directory per container holding its record
//! (`state.json`, written atomically), the start FIFO (`exec.fifo`) and a
//! cross-process lock; and the container's status, derived from its init's
//! liveness (pid *and* start time, so that a reused pid is never mistaken for
//! the container, and a zombie counts as stopped).

use crate::cgroups::CgroupRecord;
use crate::spec::{Hooks, MemoryPolicy, Personality, Process, Seccomp, Status};
use crate::sys;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The longest container id accepted.
pub const MAX_ID_LEN: usize = 1024;
const RECORD: &str = "state.json";
const RECORD_TMP: &str = ".state.json.tmp";
/// The FIFO the init waits on until `start`.
pub const FIFO: &str = "exec.fifo";

/// Errors of the state root.
#[derive(Debug, Error)]
pub enum StateError {
    /// The id cannot name a container.
    #[error("invalid container id {0:?}: {1}")]
    InvalidId(String, &'static str),
    /// `create` of an id that exists.
    #[error("container {0} already exists")]
    Exists(String),
    /// An id that does not exist.
    #[error("container {0} does not exist")]
    NotFound(String),
    /// A file of the state root could not be used.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// `state.json` does not parse.
    #[error("{path}: corrupt state record: {source}")]
    Corrupt {
        /// The record.
        path: PathBuf,
        /// The parse error.
        source: serde_json::Error,
    },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `id` can name a container: not empty, not `.` or `..`, at
/// most [`MAX_ID_LEN`] bytes of letters, digits and `_ - . +` (runc's set),
/// so that it is always one plain directory name.
pub fn validate_id(id: &str) -> Result<(), StateError> {
    let fail = |why| Err(StateError::InvalidId(id.to_string(), why));
    if id.is_empty() {
        return fail("it is empty");
    }
    if id.len() > MAX_ID_LEN {
        return fail("it is longer than 1024 bytes");
    }
    if id.starts_with('.') {
        return fail("it starts with a dot (the state root's own entries do)");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+'))
    {
        return fail("only letters, digits and _ - . + are allowed");
    }
    Ok(())
}

/// The directory holding every container's state.
#[derive(Debug, Clone)]
pub struct StateRoot {
    path: PathBuf,
}

impl StateRoot {
    /// The state root at `path` (nothing is touched yet).
    pub fn new(path: impl Into<PathBuf>) -> StateRoot {
        StateRoot { path: path.into() }
    }

    /// The root's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Ids of every container under the root, sorted.
    pub fn ids(&self) -> Result<Vec<String>, StateError> {
        let entries = match std::fs::read_dir(&self.path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other.map_err(io_error("read", &self.path))?,
        };
        let mut ids: Vec<String> = entries
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| validate_id(name).is_ok())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Makes the directory of a new container and locks it.
    pub fn create(&self, id: &str) -> Result<ContainerDir, StateError> {
        validate_id(id)?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)
            .map_err(io_error("create state root", &self.path))?;
        let path = self.path.join(id);
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StateError::Exists(id.to_string()))
            }
            other => other.map_err(io_error("create", &path))?,
        }
        ContainerDir::lock(id, path)
    }

    /// Opens and locks the directory of an existing container; commands on
    /// one container serialize on this lock.
    pub fn open(&self, id: &str) -> Result<ContainerDir, StateError> {
        validate_id(id)?;
        let dir = ContainerDir::lock(id, self.path.join(id))?;
        // A concurrent `delete` may have removed the directory while we
        // waited for the lock.
        if !dir.path.exists() {
            return Err(StateError::NotFound(id.to_string()));
        }
        Ok(dir)
    }

    /// Reads a container's record without taking its lock (records are
    /// replaced atomically). `None` while `create` has not written it yet.
    pub fn peek(&self, id: &str) -> Result<Option<Record>, StateError> {
        validate_id(id)?;
        let dir = self.path.join(id);
        match read_record(&dir) {
            Err(StateError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                if dir.is_dir() {
                    Ok(None)
                } else {
                    Err(StateError::NotFound(id.to_string()))
                }
            }
            other => other.map(Some),
        }
    }

    /// Whether the container's start FIFO is still there (not started yet).
    pub fn fifo_exists(&self, id: &str) -> bool {
        self.path.join(id).join(FIFO).exists()
    }
}

fn read_record(dir: &Path) -> Result<Record, StateError> {
    let path = dir.join(RECORD);
    let bytes = std::fs::read(&path).map_err(io_error("read", &path))?;
    serde_json::from_slice(&bytes).map_err(|source| StateError::Corrupt { path, source })
}

/// A container's locked state directory.
#[derive(Debug)]
pub struct ContainerDir {
    id: String,
    path: PathBuf,
    lock: Option<OwnedFd>,
}

impl ContainerDir {
    fn lock(id: &str, path: PathBuf) -> Result<ContainerDir, StateError> {
        let fd = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(&path)
            .map_err(|err| match err.kind() {
                io::ErrorKind::NotFound => StateError::NotFound(id.to_string()),
                _ => io_error("open", &path)(err),
            })?;
        let fd = OwnedFd::from(fd);
        sys::fs::flock(fd.as_fd(), true).map_err(io_error("lock", &path))?;
        Ok(ContainerDir {
            id: id.to_string(),
            path,
            lock: Some(fd),
        })
    }

    /// The container's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the record atomically: a temporary file, then a rename.
    pub fn save(&self, record: &Record) -> Result<(), StateError> {
        let tmp = self.path.join(RECORD_TMP);
        let bytes = serde_json::to_vec(record).expect("a record always serializes");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_error("write", &tmp))?;
        file.write_all(&bytes).map_err(io_error("write", &tmp))?;
        let path = self.path.join(RECORD);
        std::fs::rename(&tmp, &path).map_err(io_error("rename", &path))
    }

    /// Reads the record.
    pub fn load(&self) -> Result<Record, StateError> {
        read_record(&self.path)
    }

    /// Whether `create` got as far as writing the record.
    pub fn has_record(&self) -> bool {
        self.path.join(RECORD).exists()
    }

    /// Makes the start FIFO.
    pub fn make_fifo(&self) -> Result<(), StateError> {
        let path = self.path.join(FIFO);
        let name =
            CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| StateError::Io {
                action: "create",
                path: path.clone(),
                source: io::Error::from_raw_os_error(libc::EINVAL),
            })?;
        sys::fs::mkfifoat(None, &name, 0o600).map_err(io_error("create", &path))?;
        // Writable by the container's user, who opens it after dropping
        // root; the state directory (0700) keeps everyone else out.
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o622))
            .map_err(io_error("chmod", &path))
    }

    /// Opens the start FIFO as an `O_PATH` descriptor (it does not block):
    /// the init reopens it for writing, without the state directory's path.
    pub fn open_fifo_path(&self) -> Result<OwnedFd, StateError> {
        let path = self.path.join(FIFO);
        let name =
            CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| StateError::Io {
                action: "open",
                path: path.clone(),
                source: io::Error::from_raw_os_error(libc::EINVAL),
            })?;
        sys::fs::openat(None, &name, libc::O_PATH, 0).map_err(io_error("open", &path))
    }

    /// Whether the start FIFO is still there.
    pub fn fifo_exists(&self) -> bool {
        self.path.join(FIFO).exists()
    }

    /// Removes the start FIFO: the container has started.
    pub fn remove_fifo(&self) -> Result<(), StateError> {
        let path = self.path.join(FIFO);
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                Err(io_error("remove", &path)(err))
            }
            _ => Ok(()),
        }
    }

    /// Closes this copy of the lock descriptor. A cloned child calls it so
    /// that the lock goes away with the runtime, not with the init.
    pub fn release_in_child(&mut self) {
        self.lock = None;
    }

    /// Removes the directory and everything in it.
    pub fn remove(self) -> Result<(), StateError> {
        match std::fs::remove_dir_all(&self.path) {
            Err(err) if err.kind() != io::ErrorKind::NotFound => {
                Err(io_error("remove", &self.path)(err))
            }
            _ => Ok(()),
        }
    }
}

/// What coracle keeps about a container (its `state.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The container's id.
    pub id: String,
    /// The init's pid on the host.
    pub pid: i32,
    /// The init's start time (clock ticks after boot, /proc/PID/stat field 22).
    pub start_time: u64,
    /// The bundle's absolute path.
    pub bundle: PathBuf,
    /// The rootfs's absolute path.
    pub rootfs: PathBuf,
    /// When the container was created (RFC 3339).
    pub created: String,
    /// The uid that created it.
    pub owner: u32,
    /// The config's annotations.
    pub annotations: BTreeMap<String, String>,
    /// Where its cgroup is.
    pub cgroup: CgroupRecord,
    /// The hooks that run after `create` (startContainer runs in the init).
    pub hooks: Hooks,
    /// The config's process: the defaults of `exec`.
    pub process: Process,
    /// The config's seccomp profile, which `exec`'d processes get too.
    #[serde(default)]
    pub seccomp: Option<Seccomp>,
    /// `--no-new-keyring`: the container kept the caller's session keyring,
    /// so `exec`'d processes keep theirs too.
    #[serde(default)]
    pub no_new_keyring: bool,
    /// Written while `create` runs (the init's pid, process and profile
    /// are not recorded yet): should that create die, the record still
    /// says what there is to remove.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub creating: bool,
    /// `linux.personality`, which `exec`'d processes get too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personality: Option<Personality>,
    /// `linux.memoryPolicy`, which `exec`'d processes get too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_policy: Option<MemoryPolicy>,
}

impl Record {
    /// Whether the init still runs: the pid exists, is not a zombie, and
    /// started when the recorded one did.
    pub fn init_alive(&self) -> bool {
        match proc_stat(self.pid) {
            Some((state, start)) => start == self.start_time && state != 'Z' && state != 'X',
            None => false,
        }
    }

    /// The status, from the init's liveness and the start FIFO. Paused is
    /// decided by the caller, which knows the cgroup.
    pub fn status(&self, fifo_exists: bool) -> Status {
        if self.creating {
            Status::Creating
        } else if !self.init_alive() {
            Status::Stopped
        } else if fifo_exists {
            Status::Created
        } else {
            Status::Running
        }
    }
}

/// The state letter and start time of `pid`, from `/proc/PID/stat`.
pub fn proc_stat(pid: i32) -> Option<(char, u64)> {
    use std::io::Read;
    // One read into the stack: the line is well under a page, and `list`
    // asks once per container.
    let mut buf = [0u8; 1024];
    let mut file = std::fs::File::open(format!("/proc/{pid}/stat")).ok()?;
    let len = file.read(&mut buf).ok()?;
    let stat = std::str::from_utf8(&buf[..len]).ok()?;
    // The command name may hold spaces and parentheses: fields start after
    // the last ')'. Then: state (3), ..., starttime (22).
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

/// Now, as RFC 3339 UTC with nanoseconds (`2026-11-22T13:39:25.123456789Z`).
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(now.as_secs() as i64, now.subsec_nanos())
}

/// Formats seconds since the epoch as RFC 3339 UTC.
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The Gregorian (year, month, day) of a count of days since 1970-01-01.
///
/// Counts in 400-year eras starting on 1 March, so the leap day is the last
/// day of its year and month lengths follow a fixed 5-month pattern.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    const DAYS_PER_ERA: i64 = 146_097;
    // Days from 0000-03-01 to 1970-01-01.
    let days = days + 719_468;
    let era = days.div_euclid(DAYS_PER_ERA);
    let day_of_era = days.rem_euclid(DAYS_PER_ERA);
    // Leap days removed: every 4 years, except every 100, except the 400th.
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524
        - day_of_era / (DAYS_PER_ERA - 1))
        / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March: lengths 31,30,31,30,31 repeat, i.e. 153 days per 5.
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_could_escape_the_root_are_refused() {
        for bad in ["", ".", "..", "../x", "a/b", "a b", "x\0y", ".hidden"] {
            assert!(validate_id(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_id(&"a".repeat(MAX_ID_LEN + 1)).is_err());
        for good in [
            "abc",
            "a.b-c_d+e",
            "0123456789abcdef",
            &"a".repeat(MAX_ID_LEN),
        ] {
            assert!(validate_id(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339(1_795_268_765, 0), "2026-11-21T13:46:05.000000000Z");
    }

    #[test]
    fn civil_dates_are_contiguous() {
        // Walking day by day over several centuries never skips or repeats.
        let mut previous = civil_from_days(-1);
        for days in 0..200_000 {
            let date = civil_from_days(days);
            let next_day = date.2 == previous.2 + 1 && (date.0, date.1) == (previous.0, previous.1);
            let next_month = date.2 == 1 && date.1 == previous.1 + 1 && date.0 == previous.0;
            let next_year = (date.1, date.2, previous.1) == (1, 1, 12) && date.0 == previous.0 + 1;
            assert!(
                next_day || next_month || next_year,
                "{previous:?} -> {date:?}"
            );
            previous = date;
        }
    }

    #[test]
    fn reads_own_start_time_and_state() {
        let (state, start) = proc_stat(std::process::id() as i32).unwrap();
        assert!(state == 'R' || state == 'S');
        assert!(start > 0);
        assert!(proc_stat(i32::MAX).is_none());
    }

    #[test]
    fn create_refuses_an_existing_id_and_open_a_missing_one() {
        let root = StateRoot::new(
            std::env::temp_dir().join(format!("coracle-state-{}", std::process::id())),
        );
        let dir = root.create("one").unwrap();
        assert!(matches!(root.create("one"), Err(StateError::Exists(_))));
        assert!(matches!(root.peek("one"), Ok(None)));
        assert!(matches!(root.open("two"), Err(StateError::NotFound(_))));
        dir.remove().unwrap();
        std::fs::remove_dir(root.path()).unwrap();
    }
}
