//! Every command, flag and argument of the command line, as data.
//!
//! The parser (`args`), the help text (`help`) and generated documents (man
//! pages, shell completions) all read this one table, so they cannot disagree.
//! The commands and flags are runc's, because container engines call
//! runtimes with runc's command line.

/// A command-line flag.
#[derive(Debug)]
pub struct Flag {
    /// Long name, used as `--long` (or `-long`, as Go's flag parsing allows).
    pub long: &'static str,
    /// One-letter alias, used as `-s`.
    pub short: Option<char>,
    /// Name of the value for help (`DIR`, `FILE`…); `None` for a switch.
    pub value: Option<&'static str>,
    /// Whether each use adds a value instead of replacing the previous one.
    pub repeat: bool,
    /// Value used when the flag is absent.
    pub default: Option<&'static str>,
    /// The only values accepted; empty for any.
    pub choices: &'static [&'static str],
    /// One line of help.
    pub help: &'static str,
}

impl Flag {
    /// A boolean switch (`--debug`, `--detach=false`).
    const fn switch(long: &'static str, help: &'static str) -> Flag {
        Flag {
            long,
            short: None,
            value: None,
            repeat: false,
            default: None,
            choices: &[],
            help,
        }
    }

    /// A flag taking a value named `value` in the help.
    const fn value(long: &'static str, value: &'static str, help: &'static str) -> Flag {
        Flag {
            value: Some(value),
            ..Flag::switch(long, help)
        }
    }

    const fn short(self, short: char) -> Flag {
        Flag {
            short: Some(short),
            ..self
        }
    }

    const fn repeatable(self) -> Flag {
        Flag {
            repeat: true,
            ..self
        }
    }

    const fn with_default(self, default: &'static str) -> Flag {
        Flag {
            default: Some(default),
            ..self
        }
    }

    const fn choices(self, choices: &'static [&'static str]) -> Flag {
        Flag { choices, ..self }
    }
}

/// How many command-line words a positional argument takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Exactly one.
    One,
    /// Zero or one.
    Optional,
    /// All the remaining words, which are then never read as flags
    /// (`exec ID sh -c x`, `ps ID -ef`).
    Rest,
}

/// A positional argument.
#[derive(Debug)]
pub struct Arg {
    /// Name shown in help, such as `container-id`.
    pub name: &'static str,
    /// How many words it takes.
    pub count: Count,
    /// What its words are, for shell completion.
    pub kind: ArgKind,
    /// One line of help.
    pub help: &'static str,
}

/// What a positional argument's words are, so that shell completions can
/// offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// The id of an existing container (completed from `coracle list -q`).
    ContainerId,
    /// The name of one of coracle's commands.
    CommandName,
    /// Anything else (a signal, a program and its arguments…).
    Text,
}

/// Identifies a command for dispatching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// `spec`.
    Spec,
    /// `create`.
    Create,
    /// `start`.
    Start,
    /// `state`.
    State,
    /// `kill`.
    Kill,
    /// `delete`.
    Delete,
    /// `run`.
    Run,
    /// `exec`.
    Exec,
    /// `list`.
    List,
    /// `ps`.
    Ps,
    /// `pause`.
    Pause,
    /// `resume`.
    Resume,
    /// `update`.
    Update,
    /// `events`.
    Events,
    /// `features`.
    Features,
    /// `checkpoint`.
    Checkpoint,
    /// `restore`.
    Restore,
    /// `help`.
    Help,
}

/// How the parser reads a command's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsing {
    /// Flags and arguments are checked against the table.
    Strict,
    /// Only `--help` is recognised; the command refuses to run whatever its
    /// arguments are, so they are not checked (for `checkpoint`, which
    /// engines call with flags of their own).
    HelpOnly,
}

/// A subcommand.
#[derive(Debug)]
pub struct Command {
    /// What the dispatcher matches on.
    pub id: Cmd,
    /// Name on the command line.
    pub name: &'static str,
    /// Other accepted names.
    pub aliases: &'static [&'static str],
    /// One line for the command list.
    pub summary: &'static str,
    /// Paragraph for the command's help page.
    pub description: &'static str,
    /// Its flags (`--help` is implied for every command).
    pub flags: &'static [Flag],
    /// Its positional arguments, in order.
    pub args: &'static [Arg],
    /// How its words are parsed.
    pub parsing: Parsing,
}

/// `--help`/`-h`, understood everywhere options are.
pub const HELP: Flag = Flag::switch("help", "show this help").short('h');

/// Flags that come before the command.
pub const GLOBAL_FLAGS: &[Flag] = &[
    Flag::value("root", "DIR", "directory holding the containers' state")
        .with_default("/run/coracle"),
    Flag::value(
        "log",
        "FILE",
        "append log lines and errors to FILE (default: stderr)",
    ),
    Flag::value("log-format", "FORMAT", "format of the log lines")
        .with_default("text")
        .choices(&["text", "json"]),
    Flag::switch("debug", "log the time each phase of the command takes"),
    Flag::switch("systemd-cgroup", "manage cgroups through systemd"),
    Flag::value(
        "cgroup-manager",
        "MANAGER",
        "cgroup manager; systemd is --systemd-cgroup",
    )
    .with_default("cgroupfs")
    // Not crun's "disabled": every container gets a cgroup of its own.
    .choices(&["cgroupfs", "systemd"]),
    Flag::value("rootless", "VALUE", "accepted for compatibility; ignored")
        .with_default("auto")
        .choices(&["true", "false", "auto"]),
    Flag::switch("version", "print the version").short('v'),
];

const ID: Arg = Arg {
    name: "container-id",
    count: Count::One,
    kind: ArgKind::ContainerId,
    help: "the container's unique name",
};

/// The id of a container about to be made (no existing id to offer).
const NEW_ID: Arg = Arg {
    kind: ArgKind::Text,
    ..ID
};

const BUNDLE: Flag = Flag::value(
    "bundle",
    "DIR",
    "the bundle directory (default: current directory)",
)
.short('b');
const PID_FILE: Flag = Flag::value("pid-file", "FILE", "write the process's pid to FILE");
const CONSOLE_SOCKET: Flag = Flag::value(
    "console-socket",
    "SOCKET",
    "send the terminal's master fd to this unix socket",
);
const PRESERVE_FDS: Flag = Flag::value(
    "preserve-fds",
    "N",
    "pass N file descriptors after stderr (3…) to the process",
)
.with_default("0");
const DETACH: Flag = Flag::switch("detach", "return once the process is started").short('d');
const FORMAT: Flag = Flag::value("format", "FORMAT", "output format")
    .short('f')
    .with_default("table")
    .choices(&["table", "json"]);

const NO_PIVOT: Flag = Flag::switch(
    "no-pivot",
    "use chroot rather than pivot_root (for a ramdisk root)",
);
const NO_NEW_KEYRING: Flag = Flag::switch("no-new-keyring", "keep the caller's session keyring");

const CREATE_FLAGS: &[Flag] = &[
    BUNDLE,
    PID_FILE,
    CONSOLE_SOCKET,
    NO_PIVOT,
    NO_NEW_KEYRING,
    PRESERVE_FDS,
];

/// All commands, in the order the help lists them.
pub const COMMANDS: &[Command] = &[
    Command {
        id: Cmd::Create,
        name: "create",
        aliases: &[],
        summary: "create a container",
        description: "Sets up the container described by the bundle's config.json and leaves its \
                      process waiting for 'start'.",
        flags: CREATE_FLAGS,
        args: &[NEW_ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Start,
        name: "start",
        aliases: &[],
        summary: "start a created container",
        description: "Runs the user program of a container made by 'create'.",
        flags: &[],
        args: &[ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Run,
        name: "run",
        aliases: &[],
        summary: "create and start a container",
        description: "Creates and starts a container, then waits for it to exit and deletes it; \
                      exits with the container's exit status. With --detach, returns once it \
                      runs.",
        flags: &[
            BUNDLE,
            PID_FILE,
            CONSOLE_SOCKET,
            NO_PIVOT,
            NO_NEW_KEYRING,
            PRESERVE_FDS,
            DETACH,
            Flag::switch("keep", "do not delete the container after it exits"),
        ],
        args: &[NEW_ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::State,
        name: "state",
        aliases: &[],
        summary: "print a container's state as JSON",
        description: "Prints the state of a container (runtime.md) as JSON.",
        flags: &[],
        args: &[ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Kill,
        name: "kill",
        aliases: &[],
        summary: "send a signal to a container's process",
        description: "Sends a signal, by name (TERM, SIGKILL) or number, to the container's \
                      process; 0 only checks that the process exists.",
        flags: &[Flag::switch("all", "signal every process in the container").short('a')],
        args: &[
            ID,
            Arg {
                name: "signal",
                count: Count::Optional,
                kind: ArgKind::Text,
                help: "the signal (default: TERM)",
            },
        ],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Delete,
        name: "delete",
        aliases: &[],
        summary: "delete a stopped or created container",
        description: "Removes a stopped container's resources, or a created one's, whose \
                      waiting process is killed; a running container needs --force.",
        flags: &[Flag::switch("force", "kill the container first if it still runs").short('f')],
        args: &[ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Exec,
        name: "exec",
        aliases: &[],
        summary: "run a new process in a container",
        description: "Runs a process inside a running container, described by --process or by \
                      the command after the container id; every word after the id belongs to \
                      that command. Exits with the process's exit status.",
        flags: &[
            Flag::value("process", "FILE", "process.json describing the process").short('p'),
            Flag::switch("tty", "attach a new terminal").short('t'),
            CONSOLE_SOCKET,
            DETACH,
            PID_FILE,
            Flag::value("cwd", "DIR", "working directory in the container"),
            Flag::value("env", "KEY=VALUE", "set an environment variable")
                .short('e')
                .repeatable(),
            Flag::value("user", "UID[:GID]", "user and group ids to run as").short('u'),
            Flag::value("additional-gids", "GID", "add a supplementary group")
                .short('g')
                .repeatable(),
            Flag::value("cap", "CAP", "add a capability")
                .short('c')
                .repeatable(),
            Flag::switch("no-new-privs", "set no_new_privileges"),
            PRESERVE_FDS,
            Flag::value("process-label", "LABEL", "SELinux label of the process"),
            Flag::value("apparmor", "PROFILE", "AppArmor profile of the process"),
        ],
        args: &[
            ID,
            Arg {
                name: "command",
                count: Count::Rest,
                kind: ArgKind::Text,
                help: "the command and its arguments (unless --process is given)",
            },
        ],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::List,
        name: "list",
        aliases: &["ls"],
        summary: "list containers",
        description: "Lists the containers under the state root.",
        flags: &[
            FORMAT,
            Flag::switch("quiet", "print only the container ids").short('q'),
        ],
        args: &[],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Ps,
        name: "ps",
        aliases: &[],
        summary: "list a container's processes",
        description: "Lists the container's processes: the rows of ps(1) output (run with \
                      PS_ARGS, default -ef) whose PID belongs to the container, or their pids \
                      as a JSON array.",
        flags: &[FORMAT],
        args: &[
            ID,
            Arg {
                name: "ps-args",
                count: Count::Rest,
                kind: ArgKind::Text,
                help: "arguments for ps (default: -ef)",
            },
        ],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Pause,
        name: "pause",
        aliases: &[],
        summary: "freeze a container's processes",
        description: "Suspends every process of the container (cgroup freezer).",
        flags: &[],
        args: &[ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Resume,
        name: "resume",
        aliases: &[],
        summary: "thaw a paused container",
        description: "Resumes the processes of a paused container.",
        flags: &[],
        args: &[ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Update,
        name: "update",
        aliases: &[],
        summary: "change a container's resource limits",
        description: "Updates the cgroup limits of a created, running or paused container, \
                      from a linux.resources JSON document (--resources, '-' for stdin) or \
                      from the other flags; what is not given keeps its value.",
        flags: &[
            Flag::value("resources", "FILE", "linux.resources JSON; '-' reads stdin").short('r'),
            Flag::value("blkio-weight", "WEIGHT", "block I/O weight, 10 to 1000"),
            Flag::value("cpu-period", "USEC", "CPU CFS period"),
            Flag::value("cpu-quota", "USEC", "CPU CFS quota per period"),
            Flag::value("cpu-share", "SHARES", "relative CPU share"),
            Flag::value("cpu-shares", "SHARES", "the same as --cpu-share"),
            Flag::value("cpu-rt-period", "USEC", "real-time period"),
            Flag::value("cpu-rt-runtime", "USEC", "real-time runtime per period"),
            Flag::value("cpuset-cpus", "CPUS", "CPUs to run on (0-3,5)"),
            Flag::value("cpuset-mems", "NODES", "memory nodes to use"),
            Flag::value("memory", "BYTES", "memory limit (512k, 64m, 2g…; -1: none)"),
            Flag::value("memory-reservation", "BYTES", "memory soft limit"),
            Flag::value("memory-swap", "BYTES", "memory plus swap limit"),
            Flag::value("pids-limit", "N", "maximum number of processes (-1: none)"),
            Flag::value("l3-cache-schema", "SCHEMA", "Intel RDT L3 cache schema"),
            Flag::value(
                "mem-bw-schema",
                "SCHEMA",
                "Intel RDT memory bandwidth schema",
            ),
        ],
        args: &[ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Events,
        name: "events",
        aliases: &[],
        summary: "print a container's events and statistics",
        description: "Prints resource statistics (every --interval) and out-of-memory kills of \
                      a container as JSON lines until it stops; with --stats, the statistics \
                      once.",
        flags: &[
            Flag::value(
                "interval",
                "DURATION",
                "time between statistics (500ms, 5s, 1m…)",
            )
            .with_default("5s"),
            Flag::switch("stats", "print statistics once and exit"),
        ],
        args: &[ID],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Features,
        name: "features",
        aliases: &[],
        summary: "print the features this runtime supports, as JSON",
        description: "Prints the runtime's supported features (features.md) as JSON.",
        flags: &[],
        args: &[],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Spec,
        name: "spec",
        aliases: &[],
        summary: "write a starting config.json",
        description: "Writes a template config.json into the bundle directory; refuses to \
                      overwrite one.",
        flags: &[
            BUNDLE,
            Flag::switch("rootless", "make it runnable by an unprivileged user"),
        ],
        args: &[],
        parsing: Parsing::Strict,
    },
    Command {
        id: Cmd::Checkpoint,
        name: "checkpoint",
        aliases: &[],
        summary: "not supported: checkpoint a container",
        description: "coracle does not support checkpointing (CRIU); this command always fails.",
        flags: &[],
        args: &[],
        parsing: Parsing::HelpOnly,
    },
    Command {
        id: Cmd::Restore,
        name: "restore",
        aliases: &[],
        summary: "not supported: restore a checkpointed container",
        description: "coracle does not support checkpointing (CRIU), so it cannot restore; this \
                      command always fails.",
        flags: &[],
        args: &[],
        parsing: Parsing::HelpOnly,
    },
    Command {
        id: Cmd::Help,
        name: "help",
        aliases: &[],
        summary: "show help for coracle or a command",
        description: "Shows the list of commands, or a command's flags and arguments.",
        flags: &[],
        args: &[Arg {
            name: "command",
            count: Count::Optional,
            kind: ArgKind::CommandName,
            help: "the command to describe",
        }],
        parsing: Parsing::Strict,
    },
];

/// The command called `name` or one of its aliases.
pub fn find_command(name: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_flags_are_unique() {
        let mut names: Vec<&str> = COMMANDS
            .iter()
            .flat_map(|c| c.aliases.iter().copied())
            .collect();
        names.extend(COMMANDS.iter().map(|c| c.name));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        for flags in COMMANDS.iter().map(|c| c.flags).chain([GLOBAL_FLAGS]) {
            for (i, flag) in flags.iter().enumerate() {
                for other in flags[i + 1..].iter().chain([&HELP]) {
                    assert_ne!(flag.long, other.long);
                    assert!(
                        flag.short.is_none() || flag.short != other.short,
                        "{}",
                        flag.long
                    );
                }
                let default_ok = flag.choices.is_empty()
                    || flag.default.map_or(true, |d| flag.choices.contains(&d));
                assert!(default_ok, "{}", flag.long);
            }
        }
    }

    #[test]
    fn rest_argument_comes_last() {
        for command in COMMANDS {
            let rest = command.args.iter().position(|a| a.count == Count::Rest);
            assert!(rest.map_or(true, |i| i == command.args.len() - 1));
        }
    }

    #[test]
    fn aliases_find_commands() {
        assert_eq!(find_command("ls").map(|c| c.id), Some(Cmd::List));
        assert_eq!(find_command("exec").map(|c| c.id), Some(Cmd::Exec));
        assert!(find_command("nope").is_none());
    }
}
