//! Processes as the tests see them: alive or gone, their parents,
//! children and namespaces, reaping, descriptors passed to a command, and
//! what /proc/PID/status says of capabilities.

use super::*;

/// Waits (bounded) until `pid` is gone or a zombie; `what` says whose it
/// is when it stays.
#[track_caller]
pub fn wait_gone(pid: i32, what: &str) {
    let end = Instant::now() + DEADLINE;
    while pid_alive(pid) {
        assert!(Instant::now() < end, "{what} (pid {pid}) is still alive");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Whether `pid` exists and is not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat_field(&stat, 2).is_some_and(|s| s != "Z" && s != "X"),
        Err(_) => false,
    }
}

/// Field `n` (0-based: 0 pid, 2 state, 3 ppid…) of a /proc/PID/stat line.
fn stat_field(stat: &str, n: usize) -> Option<String> {
    // comm (field 1) may hold spaces: split after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 2..];
    match n {
        0 => stat.split_whitespace().next().map(String::from),
        1 => None,
        _ => rest.split_whitespace().nth(n - 2).map(String::from),
    }
}

/// Parent pid of `pid`, if it exists.
pub fn ppid_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 3)?.parse().ok()
}

/// Reaps `pid` if it is our child (a container init reparented to this
/// subreaper), waiting for it to exit (bounded) and killing it past the
/// deadline. Never touches other processes, never blocks without bound.
pub fn reap(pid: i32) {
    if pid <= 0 || ppid_of(pid) != Some(std::process::id() as i32) {
        return;
    }
    let end = Instant::now() + DEADLINE;
    let mut killed = false;
    loop {
        // An exiting init waits until every process of its pid namespace is
        // reaped; the orphans among them (e.g. of `exec --detach`) are ours.
        reap_container_orphans();
        let mut status = 0;
        // SAFETY: waitpid on one specific pid with a valid status pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if rc != 0 {
            return; // reaped, or not ours after all (ECHILD)
        }
        if Instant::now() > end {
            if killed {
                eprintln!("warning: could not reap {pid}");
                return;
            }
            // SAFETY: kill of our own child, which waitpid just confirmed.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Container inits that a live [`Container`] guard owns: only the owner
/// reaps them, so that no other test's sweep frees the pid under its feet.
static OWNED_INITS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

pub(super) fn own_init(pid: i32) {
    OWNED_INITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(pid);
}

pub(super) fn disown_init(pid: i32) {
    OWNED_INITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|p| *p != pid);
}

/// Reaps our zombie children that lived in a nested pid namespace: they are
/// container processes reparented to us, never a `Command` of ours (those
/// run in our own pid namespace), so reaping them cannot steal a `wait`.
/// Inits owned by a [`Container`] guard are left to it.
pub fn reap_container_orphans() {
    let owned = OWNED_INITS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for kid in children_of(std::process::id() as i32) {
        if owned.contains(&kid) {
            continue;
        }
        let status = read(Path::new(&format!("/proc/{kid}/status")));
        let fields = status_fields(&status);
        let zombie = fields.get("State").is_some_and(|s| s.starts_with('Z'));
        let nested = fields
            .get("NSpid")
            .is_some_and(|p| p.split_whitespace().count() > 1);
        if zombie && nested {
            let mut st = 0;
            // SAFETY: waitpid on a specific zombie child of ours.
            unsafe { libc::waitpid(kid, &mut st, libc::WNOHANG) };
        }
    }
}

/// Children of `pid` (all its threads), from /proc.
pub fn children_of(pid: i32) -> Vec<i32> {
    let mut kids = Vec::new();
    if let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            if let Ok(s) = fs::read_to_string(t.path().join("children")) {
                kids.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
            }
        }
    }
    kids
}

/// The inode of namespace `ns` of `pid`, as `readlink /proc/PID/ns/NS` prints
/// it (`net:[4026531840]`).
pub fn ns_of(pid: &str, ns: &str) -> String {
    fs::read_link(format!("/proc/{pid}/ns/{ns}"))
        .unwrap_or_else(|e| panic!("readlink /proc/{pid}/ns/{ns}: {e}"))
        .to_string_lossy()
        .into_owned()
}

/// Polls until `path` exists (bounded): for a container to reach a point.
#[track_caller]
pub fn wait_for_file(path: &Path) {
    let end = Instant::now() + DEADLINE;
    while !path.exists() {
        assert!(Instant::now() < end, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Polls until process `pid` runs a program named `comm` (bounded).
#[track_caller]
pub fn wait_for_comm(pid: i32, comm: &str) {
    let end = Instant::now() + DEADLINE;
    loop {
        let now = read(Path::new(&format!("/proc/{pid}/comm")));
        if now.trim_end() == comm {
            return;
        }
        assert!(
            Instant::now() < end,
            "process {pid} still runs {now:?}, want {comm}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs a host command, asserting success; returns its stdout.
#[track_caller]
pub fn host(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A file's content, or "" when it does not exist.
pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Makes each `(fd, target)` appear as fd `target` (not close-on-exec) in
/// a spawned command. Returns the high close-on-exec copies the child dups
/// from: keep them until the command is spawned.
pub fn pass_fds(cmd: &mut Command, fds: &[(RawFd, RawFd)]) -> Vec<OwnedFd> {
    let mut copies = Vec::new();
    let mut pairs = Vec::new();
    for &(fd, target) in fds {
        // A copy above every target, so that one dup2 cannot clobber the
        // source of the next.
        // SAFETY: F_DUPFD_CLOEXEC on an fd the caller owns.
        let high = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 1000) };
        assert!(
            high >= 0,
            "dup fd {fd}: {}",
            std::io::Error::last_os_error()
        );
        // SAFETY: high is a fresh fd we now own.
        copies.push(unsafe { OwnedFd::from_raw_fd(high) });
        pairs.push((high, target));
    }
    // SAFETY: only dup2, which is async-signal-safe, runs between fork and
    // exec.
    unsafe {
        cmd.pre_exec(move || {
            for &(high, target) in &pairs {
                if libc::dup2(high, target) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    copies
}

/// The number of a capability of capabilities(7).
pub fn cap_number(name: &str) -> u32 {
    libcoracle::capabilities::number_of(name).unwrap_or_else(|| panic!("unknown capability {name}"))
}

/// The mask of a set of capability names, as /proc/PID/status prints it.
pub fn cap_mask(names: &[&str]) -> String {
    let mask = names.iter().fold(0u64, |m, n| m | 1 << cap_number(n));
    format!("{mask:016x}")
}

/// The `Key:\tvalue` lines of a /proc/PID/status text.
pub fn status_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}
