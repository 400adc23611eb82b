//! Runs a parsed command through `libcoracle` and prints its result in the
//! formats engines parse (runc's).

mod events;
mod update;

use crate::args::{self, Matches};
use crate::help;
use crate::table::{find_command, Cmd};
use libcoracle::features;
use libcoracle::lifecycle::{self, ContainerSummary, CreateOptions, ExecOptions, Runtime};
use libcoracle::process::{parse_signal, CallerFds};
use libcoracle::spec::OCI_VERSION;
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag's value or an argument is malformed.
    #[error(transparent)]
    Usage(#[from] args::Error),
    /// The runtime refused or failed.
    #[error(transparent)]
    Runtime(#[from] lifecycle::Error),
    /// A file operation of the command itself failed.
    #[error("{step} {path}: {source}")]
    Io {
        /// What was being done.
        step: &'static str,
        /// To what.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// `spec` would overwrite a configuration (runc's wording).
    #[error("File config.json exists. Remove it first.")]
    SpecExists,
    /// Serialising output failed.
    #[error("encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing to stdout failed (a closed pipe, say).
    #[error("write standard output: {0}")]
    Stdout(io::Error),
    /// `kill` got a signal name or number that does not exist.
    #[error("invalid signal '{0}'")]
    BadSignal(String),
    /// `exec` was given neither `--process` nor a command.
    #[error("either --process or a command is required")]
    NoProcess,
    /// `exec` was given both `--process` and a command.
    #[error("--process and a command cannot be used together")]
    ProcessAndCommand,
    /// `ps` failed.
    #[error("ps {args}: {status}")]
    PsFailed {
        /// The arguments it ran with.
        args: String,
        /// How it ended.
        status: ExitStatus,
    },
    /// The output of `ps` has no PID column to filter on.
    #[error("ps output has no PID column")]
    NoPidColumn,
    /// `update` got a resources document and resource flags.
    #[error("--resources and --{0} cannot be used together")]
    UpdateConflict(&'static str),
    /// `update`'s resources document is not a `linux.resources` object.
    #[error("parse resources {}: {source}", path.display())]
    BadResources {
        /// The file, or "standard input".
        path: PathBuf,
        /// What is wrong with it, and in which field.
        source: libcoracle::spec::DecodeError,
    },
    /// A flag coracle accepts only to explain that it cannot honour it.
    #[error("--{flag} is not supported: {why}")]
    NotSupportedFlag {
        /// The flag's long name.
        flag: &'static str,
        /// Why.
        why: &'static str,
    },
    /// A command coracle will not implement.
    #[error("{0} is not supported: coracle cannot checkpoint or restore containers")]
    Unsupported(&'static str),
}

impl Error {
    /// The one line reported for this error of `command`.
    pub fn line(&self, command: &str) -> String {
        match self {
            Error::Usage(_)
            | Error::UpdateConflict(_)
            | Error::NotSupportedFlag { .. }
            | Error::Unsupported(_) => {
                format!("coracle: {self}")
            }
            _ => format!("coracle {command}: {self}"),
        }
    }
}

/// The runtime as the global flags configure it, with the descriptors the
/// caller passed.
pub fn runtime(global: &Matches, caller_fds: CallerFds) -> Runtime {
    let root = global.value("root").unwrap_or_default();
    let mut runtime = Runtime::new(PathBuf::from(root));
    let systemd =
        global.is_on("systemd-cgroup") || global.value("cgroup-manager") == Some("systemd");
    runtime.set_systemd_cgroup(systemd);
    runtime.set_debug(global.is_on("debug"));
    runtime.set_caller_fds(caller_fds);
    runtime
}

/// Runs `call`; returns the exit status to exit with.
pub fn execute(runtime: &Runtime, call: &Matches) -> Result<i32, Error> {
    let command = call.command.expect("execute needs a command");
    let id = call.args.first().map_or("", String::as_str);
    let code = match command.id {
        Cmd::Create => runtime.create(id, &create_options(call)?).map(|()| 0)?,
        Cmd::Start => runtime.start(id).map(|()| 0)?,
        Cmd::State => print_state(runtime, id).map(|()| 0)?,
        Cmd::Kill => kill(runtime, call).map(|()| 0)?,
        Cmd::Delete => runtime.delete(id, call.is_on("force")).map(|()| 0)?,
        Cmd::Run => run(runtime, call)?,
        Cmd::Exec => runtime.exec(id, &exec_options(call)?)?,
        Cmd::List => list(runtime, call).map(|()| 0)?,
        Cmd::Ps => ps(runtime, call).map(|()| 0)?,
        Cmd::Spec => spec(call).map(|()| 0)?,
        Cmd::Help => print_help(call).map(|()| 0)?,
        Cmd::Pause => runtime.pause(id).map(|()| 0)?,
        Cmd::Resume => runtime.resume(id).map(|()| 0)?,
        Cmd::Update => runtime.update(id, &update::resources(call)?).map(|()| 0)?,
        Cmd::Events => events::events(runtime, call).map(|()| 0)?,
        Cmd::Features => {
            print(&format!("{}\n", features::features().to_json_pretty())).map(|()| 0)?
        }
        Cmd::Checkpoint | Cmd::Restore => return Err(Error::Unsupported(command.name)),
    };
    Ok(code)
}

/// Writes `text` to stdout at once.
pub fn print(text: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::Stdout)
}

fn print_state(runtime: &Runtime, id: &str) -> Result<(), Error> {
    let state = runtime.state(id)?;
    print(&(serde_json::to_string_pretty(&state)? + "\n"))
}

fn kill(runtime: &Runtime, call: &Matches) -> Result<(), Error> {
    let name = call.args.get(1).map_or("TERM", String::as_str);
    let signal = parse_signal(name).ok_or_else(|| Error::BadSignal(name.to_string()))?;
    Ok(runtime.kill(&call.args[0], signal, call.is_on("all"))?)
}

/// `run` returns the container's exit status (0 once started with --detach).
fn run(runtime: &Runtime, call: &Matches) -> Result<i32, Error> {
    let options = create_options(call)?;
    let (detach, keep) = (call.is_on("detach"), call.is_on("keep"));
    Ok(runtime.run(&call.args[0], &options, detach, keep)?)
}

fn create_options(call: &Matches) -> Result<CreateOptions, Error> {
    // Absolute, so they stay right whatever directory the library works in.
    let bundle = absolute(Path::new(call.value("bundle").unwrap_or(".")))?;
    Ok(CreateOptions {
        bundle,
        pid_file: path_flag(call, "pid-file")?,
        console_socket: path_flag(call, "console-socket")?,
        no_pivot: call.is_on("no-pivot"),
        no_new_keyring: call.is_on("no-new-keyring"),
        preserve_fds: call.number("preserve-fds")?.unwrap_or(0),
    })
}

fn exec_options(call: &Matches) -> Result<ExecOptions, Error> {
    let process_file = path_flag(call, "process")?;
    let args = call.args[1..].to_vec();
    match (process_file.is_some(), args.is_empty()) {
        (false, true) => return Err(Error::NoProcess),
        (true, false) => return Err(Error::ProcessAndCommand),
        _ => {}
    }
    let owned = |name| call.value(name).map(str::to_string);
    Ok(ExecOptions {
        process_file,
        args,
        tty: call.is_on("tty"),
        console_socket: path_flag(call, "console-socket")?,
        detach: call.is_on("detach"),
        pid_file: path_flag(call, "pid-file")?,
        cwd: owned("cwd"),
        env: call.values("env").map(str::to_string).collect(),
        user: call.value("user").map(parse_user).transpose()?,
        additional_gids: call.numbers("additional-gids")?,
        caps: call.values("cap").map(str::to_string).collect(),
        no_new_privs: call.is_on("no-new-privs"),
        preserve_fds: call.number("preserve-fds")?.unwrap_or(0),
        process_label: owned("process-label"),
        apparmor: owned("apparmor"),
    })
}

/// `UID` or `UID:GID`, numeric.
fn parse_user(text: &str) -> Result<(u32, Option<u32>), Error> {
    let bad = || args::Error::BadValue {
        flag: "user",
        value: text.to_string(),
        expected: "UID or UID:GID".to_string(),
    };
    let (uid, gid) = match text.split_once(':') {
        Some((uid, gid)) => (uid, Some(gid)),
        None => (text, None),
    };
    let uid = uid.parse().map_err(|_| bad())?;
    let gid = gid.map(str::parse).transpose().map_err(|_| bad())?;
    Ok((uid, gid))
}

fn path_flag(call: &Matches, name: &str) -> Result<Option<PathBuf>, Error> {
    call.value(name).map(|p| absolute(Path::new(p))).transpose()
}

fn absolute(path: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(path).map_err(|source| Error::Io {
        step: "resolve",
        path: path.to_path_buf(),
        source,
    })
}

fn list(runtime: &Runtime, call: &Matches) -> Result<(), Error> {
    let containers = runtime.list()?;
    let text = if call.is_on("quiet") {
        containers.iter().map(|c| format!("{}\n", c.id)).collect()
    } else if call.value("format") == Some("json") {
        list_json(&containers)
    } else {
        list_table(&containers)
    };
    print(&text)
}

fn list_table(containers: &[ContainerSummary]) -> String {
    let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
    let rows = containers.iter().map(|c| {
        [
            c.id.clone(),
            c.pid.to_string(),
            c.status.to_string(),
            c.bundle.clone(),
            c.created.clone(),
            c.owner.clone(),
        ]
    });
    align_columns(&std::iter::once(header).chain(rows).collect::<Vec<_>>())
}

/// Pads every column but the last to its widest cell plus 3 spaces, at
/// least 12 characters: the layout of runc's `list`.
fn align_columns<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [12; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count() + 3);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (cell, width) in row[..N - 1].iter().zip(widths) {
            out.push_str(&format!("{cell:width$}"));
        }
        out.push_str(&row[N - 1]);
        out.push('\n');
    }
    out
}

/// One container of `list --format json`: runc's fields, in runc's order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ListEntry<'a> {
    oci_version: &'static str,
    id: &'a str,
    pid: i32,
    status: String,
    bundle: &'a str,
    rootfs: &'a str,
    created: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: &'a BTreeMap<String, String>,
    owner: &'a str,
}

fn list_json(containers: &[ContainerSummary]) -> String {
    let entries: Vec<ListEntry<'_>> = containers
        .iter()
        .map(|c| ListEntry {
            oci_version: OCI_VERSION,
            id: &c.id,
            pid: c.pid,
            status: c.status.to_string(),
            bundle: &c.bundle,
            rootfs: &c.rootfs,
            created: &c.created,
            annotations: &c.annotations,
            owner: &c.owner,
        })
        .collect();
    serde_json::to_string(&entries).expect("a listing always serializes") + "\n"
}

fn ps(runtime: &Runtime, call: &Matches) -> Result<(), Error> {
    let pids = runtime.ps(&call.args[0])?;
    if call.value("format") == Some("json") {
        return print(&(serde_json::to_string(&pids)? + "\n"));
    }
    let ps_args: Vec<&str> = match &call.args[1..] {
        [] => vec!["-ef"],
        given => given.iter().map(String::as_str).collect(),
    };
    let output = std::process::Command::new("ps")
        .args(&ps_args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|source| Error::Io {
            step: "run",
            path: PathBuf::from("ps"),
            source,
        })?;
    if !output.status.success() {
        return Err(Error::PsFailed {
            args: ps_args.join(" "),
            status: output.status,
        });
    }
    print(&container_rows(
        &String::from_utf8_lossy(&output.stdout),
        &pids,
    )?)
}

/// The header of `ps` output and the rows whose PID is one of `pids`.
fn container_rows(ps_output: &str, pids: &[i32]) -> Result<String, Error> {
    let mut lines = ps_output.lines();
    let header = lines.next().unwrap_or_default();
    let column = header
        .split_whitespace()
        .position(|field| field == "PID")
        .ok_or(Error::NoPidColumn)?;
    let mut out = format!("{header}\n");
    for line in lines {
        let pid = line
            .split_whitespace()
            .nth(column)
            .and_then(|f| f.parse().ok());
        if pid.is_some_and(|pid| pids.contains(&pid)) {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

fn spec(call: &Matches) -> Result<(), Error> {
    let path = Path::new(call.value("bundle").unwrap_or(".")).join("config.json");
    let spec = libcoracle::spec::default_spec(call.is_on("rootless"));
    let text = serde_json::to_string_pretty(&spec)? + "\n";
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|source| match source.kind() {
            io::ErrorKind::AlreadyExists => Error::SpecExists,
            _ => Error::Io {
                step: "create",
                path: path.clone(),
                source,
            },
        })?;
    file.write_all(text.as_bytes()).map_err(|source| Error::Io {
        step: "write",
        path,
        source,
    })
}

fn print_help(call: &Matches) -> Result<(), Error> {
    let text = match call.args.first() {
        None => help::global_help(),
        Some(name) => {
            let command = find_command(name).ok_or(args::Error::UnknownCommand(name.clone()))?;
            help::command_help(command)
        }
    };
    print(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{parse_command, Parsed};
    use libcoracle::spec::Status;

    fn call(line: &str) -> Matches {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        match parse_command(&words) {
            Ok(Parsed::Go(matches)) => matches,
            other => panic!("{line}: {other:?}"),
        }
    }

    fn summary(id: &str, pid: i32, status: Status) -> ContainerSummary {
        ContainerSummary {
            id: id.to_string(),
            pid,
            status,
            bundle: format!("/b/{id}"),
            rootfs: format!("/b/{id}/rootfs"),
            created: "2024-02-29T12:34:56.123456789Z".to_string(),
            annotations: BTreeMap::from([("a".to_string(), "b".to_string())]),
            owner: "root".to_string(),
        }
    }

    #[test]
    fn list_table_aligns_like_runc() {
        let text = list_table(&[
            summary("web", 42, Status::Running),
            summary("a-much-longer-id", 0, Status::Stopped),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        // Widest cell + 3, at least 12: "a-much-longer-id" is 16 wide.
        assert_eq!(lines[0].find("PID"), Some(19));
        assert_eq!(lines[1].find("42"), Some(19));
        assert_eq!(lines[0].find("STATUS"), Some(19 + 12));
        assert_eq!(lines[1].find("running"), Some(19 + 12));
        assert!(lines[2].ends_with("2024-02-29T12:34:56.123456789Z   root"));
        assert!(lines[0].ends_with("OWNER"));
    }

    #[test]
    fn list_json_is_an_array_of_objects() {
        let text = list_json(&[summary("web", 42, Status::Running)]);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value[0]["id"], "web");
        assert_eq!(value[0]["pid"], 42);
        assert_eq!(value[0]["status"], "running");
        assert_eq!(value[0]["bundle"], "/b/web");
        assert_eq!(value[0]["rootfs"], "/b/web/rootfs");
        assert_eq!(value[0]["annotations"]["a"], "b");
        assert_eq!(value[0]["owner"], "root");
        assert_eq!(value[0]["ociVersion"], OCI_VERSION);
        // runc's order, which people read.
        assert!(text.starts_with("[{\"ociVersion\":"), "{text}");
        assert!(text.ends_with("\"owner\":\"root\"}]\n"), "{text}");
        assert_eq!(list_json(&[]), "[]\n");
    }

    #[test]
    fn ps_rows_are_filtered_by_pid_column() {
        let output = "UID   PID  PPID C CMD\nroot    1     0 0 init\nroot   42     1 0 sh -c 42\nroot  420    42 0 sleep 1\n";
        let rows = container_rows(output, &[42]).unwrap();
        assert_eq!(rows, "UID   PID  PPID C CMD\nroot   42     1 0 sh -c 42\n");
        assert!(matches!(
            container_rows("USER CMD\n", &[1]),
            Err(Error::NoPidColumn)
        ));
    }

    #[test]
    fn users_are_numeric() {
        assert_eq!(parse_user("1000").unwrap(), (1000, None));
        assert_eq!(parse_user("1000:100").unwrap(), (1000, Some(100)));
        for bad in ["root", "1000:", ":5", "1:2:3"] {
            assert!(parse_user(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exec_options_come_from_flags_and_command() {
        let m = call(
            "exec -e A=1 -e B=2 -u 5:6 -g 7 --cwd /w --cap CAP_KILL --no-new-privs -t ID sh -c x",
        );
        let o = exec_options(&m).unwrap();
        assert_eq!(o.args, ["sh", "-c", "x"]);
        assert_eq!(o.env, ["A=1", "B=2"]);
        assert_eq!(o.user, Some((5, Some(6))));
        assert_eq!(o.additional_gids, [7]);
        assert_eq!(o.cwd.as_deref(), Some("/w"));
        assert_eq!(o.caps, ["CAP_KILL"]);
        assert!(o.tty && o.no_new_privs && !o.detach);
        assert!(o.process_file.is_none());
        let o = exec_options(&call("exec -p rel/p.json -d ID")).unwrap();
        assert!(o.process_file.unwrap().is_absolute());
        assert!(matches!(
            exec_options(&call("exec ID")),
            Err(Error::NoProcess)
        ));
        let both = call("exec -p /p ID sh");
        assert!(matches!(exec_options(&both), Err(Error::ProcessAndCommand)));
    }

    #[test]
    fn create_paths_are_made_absolute() {
        let o = create_options(&call("create id --pid-file p --no-pivot")).unwrap();
        assert_eq!(o.bundle, std::env::current_dir().unwrap());
        assert!(o.pid_file.unwrap().is_absolute());
        assert!(o.no_pivot && !o.no_new_keyring && o.console_socket.is_none());
    }

    #[test]
    fn spec_writes_once() {
        let dir = std::env::temp_dir().join(format!("coracle-spec-test-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        let bundle = dir.display().to_string();
        let first = spec(&call(&format!("spec --rootless -b {bundle}")));
        let second = spec(&call(&format!("spec --bundle={bundle}")));
        let text = std::fs::read_to_string(dir.join("config.json"));
        std::fs::remove_dir_all(&dir).unwrap();
        first.unwrap();
        assert_eq!(
            second.unwrap_err().to_string(),
            "File config.json exists. Remove it first."
        );
        let written: libcoracle::spec::Spec = serde_json::from_str(&text.unwrap()).unwrap();
        assert_eq!(written.linux.unwrap().uid_mappings.len(), 1);
    }

    #[test]
    fn flags_read_by_commands_exist() {
        // A misspelt name would panic in Matches; exercise every one read.
        for (line, flag) in [
            ("run --keep -d id", "keep"),
            ("run -d id", "detach"),
            ("delete -f id", "force"),
            ("kill -a id", "all"),
            ("list -q", "quiet"),
            ("spec --rootless", "rootless"),
        ] {
            assert!(call(line).is_on(flag), "{line}");
        }
        assert_eq!(call("ps -f json id").value("format"), Some("json"));
        let words: Vec<String> = ["--systemd-cgroup", "--debug", "list"]
            .map(String::from)
            .into();
        match crate::args::parse_global(&words) {
            Ok(Parsed::Go((global, _))) => drop(runtime(&global, Default::default())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn error_lines_name_the_command() {
        assert_eq!(
            Error::BadSignal("FOO".to_string()).line("kill"),
            "coracle kill: invalid signal 'FOO'"
        );
        assert_eq!(
            Error::UpdateConflict("memory").line("update"),
            "coracle: --resources and --memory cannot be used together"
        );
    }
}
