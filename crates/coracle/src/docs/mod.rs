//! Man pages and shell completions, generated from [`crate::table`] so that
//! they describe exactly the command line the parser accepts.
//!
//! The documents are committed (`docs/man/`, `completions/`); the
//! `coracle-docs` binary rewrites them and a test fails when they are stale.

mod bash;
mod fish;
mod man;
mod roff;
mod zsh;

use crate::table::{ArgKind, Command, Count, Flag, Parsing, COMMANDS, GLOBAL_FLAGS, HELP};
use std::path::Path;

/// The command that rewrites the committed documents.
pub const REGENERATE: &str = "cargo run -p coracle --bin coracle-docs";

/// Where the man pages go, relative to the repository's root.
pub const MAN_DIR: &str = "docs/man";

/// Where the shell completions go, relative to the repository's root.
pub const COMPLETIONS_DIR: &str = "completions";

/// A generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its path relative to the repository's root, such as
    /// `docs/man/coracle-create.8`.
    pub path: String,
    /// Its whole contents.
    pub text: String,
}

/// Every generated document: the man pages, then the bash, zsh and fish
/// completions.
pub fn documents() -> Vec<Document> {
    let mut documents = man::pages();
    for (shell, text) in [
        ("bash", bash::script()),
        ("zsh", zsh::script()),
        ("fish", fish::script()),
    ] {
        documents.push(Document {
            path: format!("{COMPLETIONS_DIR}/coracle.{shell}"),
            text,
        });
    }
    documents
}

/// The files in the man page directory under `root` (a repository's root)
/// that look like coracle's pages but are not generated any more, such as
/// the page of a removed command; as paths relative to `root`.
pub fn unexpected_pages(root: &Path) -> std::io::Result<Vec<String>> {
    let expected: Vec<String> = man::pages().into_iter().map(|d| d.path).collect();
    let mut unexpected = Vec::new();
    for entry in std::fs::read_dir(root.join(MAN_DIR))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let path = format!("{MAN_DIR}/{name}");
        if name.starts_with("coracle") && name.ends_with(".8") && !expected.contains(&path) {
            unexpected.push(path);
        }
    }
    unexpected.sort();
    Ok(unexpected)
}

/// The first lines of a generated script, as comments starting with `mark`.
fn script_header(mark: &str, shell: &str) -> String {
    format!(
        "{mark} {shell} completion for coracle(8).\n\
         {mark} Generated from crates/coracle/src/table.rs; do not edit.\n\
         {mark} Regenerate with: {REGENERATE}\n"
    )
}

/// What a shell offers as a flag's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// The flag is a switch and takes no value.
    Switch,
    /// One of these words.
    Choices(&'static [&'static str]),
    /// A directory.
    Dir,
    /// A file (or a socket).
    File,
    /// Anything; nothing to offer.
    Any,
}

/// How a shell completes `flag`'s value, from its choices or the name of
/// its value.
fn value_of(flag: &Flag) -> Value {
    match flag.value {
        None => Value::Switch,
        Some(_) if !flag.choices.is_empty() => Value::Choices(flag.choices),
        Some("DIR") => Value::Dir,
        Some("FILE" | "SOCKET") => Value::File,
        Some(_) => Value::Any,
    }
}

/// `flags` followed by `--help`, which every command and the global
/// options understand.
fn with_help(flags: &'static [Flag]) -> impl Iterator<Item = &'static Flag> {
    flags.iter().chain([&HELP])
}

/// `-s` and `--long`, the ways a flag is written.
fn spellings(flag: &Flag) -> Vec<String> {
    let short = flag.short.map(|c| format!("-{c}"));
    short
        .into_iter()
        .chain([format!("--{}", flag.long)])
        .collect()
}

/// A command's name and its aliases.
fn names(command: &'static Command) -> impl Iterator<Item = &'static str> {
    [command.name]
        .into_iter()
        .chain(command.aliases.iter().copied())
}

/// The commands whose flags are checked (not `checkpoint`, `restore`).
fn parsed(command: &Command) -> bool {
    command.parsing == Parsing::Strict
}

/// The flags the parser reads for `command`: none but `--help` for the
/// commands it does not check.
fn read_flags(command: &Command) -> &'static [Flag] {
    if parsed(command) {
        command.flags
    } else {
        &[]
    }
}

/// The position of the argument taking every remaining word, if any.
fn rest_at(command: &Command) -> Option<usize> {
    command.args.iter().position(|a| a.count == Count::Rest)
}

/// The commands with a rest argument, after which flags are arguments.
fn commands_with_rest() -> impl Iterator<Item = &'static Command> {
    COMMANDS.iter().filter(|c| rest_at(c).is_some())
}

/// One arm of a lookup that a script makes of the table (a bash `case`, a
/// fish `switch`): the words it matches, and the command it then runs.
type Arm = (Vec<String>, String);

/// Each command with the flags the parser reads for it, and `""` with the
/// global flags.
fn scopes() -> impl Iterator<Item = (&'static str, &'static [Flag])> {
    let commands = COMMANDS.iter().map(|c| (c.name, read_flags(c)));
    [("", GLOBAL_FLAGS)].into_iter().chain(commands)
}

/// `create --bundle`, `create -b`…: how the lookups name each flag that
/// takes a value, in its scope.
fn value_flag_keys() -> Vec<String> {
    scopes()
        .flat_map(|(scope, flags)| {
            let takes = flags.iter().filter(|f| f.value.is_some());
            takes.flat_map(move |f| {
                spellings(f)
                    .into_iter()
                    .map(move |w| format!("{scope} {w}"))
            })
        })
        .collect()
}

/// The arms that print the name of the command an alias stands for.
fn alias_arms() -> Vec<Arm> {
    let aliased = COMMANDS.iter().filter(|c| !c.aliases.is_empty());
    let arm = |c: &Command| {
        let aliases = c.aliases.iter().map(|a| a.to_string()).collect();
        (aliases, format!("echo {}", c.name))
    };
    aliased.map(arm).collect()
}

/// The arms that print the position of a command's rest argument.
fn rest_arms() -> Vec<Arm> {
    let arm = |c: &Command| Some((vec![c.name.to_string()], format!("echo {}", rest_at(c)?)));
    COMMANDS.iter().filter_map(arm).collect()
}

/// The argument positions of `command` whose words a shell can offer:
/// (position, kind, whether it takes every remaining word).
fn completed_args(command: &Command) -> impl Iterator<Item = (usize, ArgKind, bool)> + '_ {
    command
        .args
        .iter()
        .enumerate()
        .filter(|(_, arg)| arg.kind != ArgKind::Text)
        .map(|(i, arg)| (i, arg.kind, arg.count == Count::Rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{find_command, GLOBAL_FLAGS};

    #[test]
    fn one_page_per_command_and_three_scripts() {
        let paths: Vec<String> = documents().into_iter().map(|d| d.path).collect();
        assert_eq!(paths.len(), COMMANDS.len() + 4);
        assert!(paths.contains(&"docs/man/coracle.8".to_string()));
        assert!(paths.contains(&"docs/man/coracle-create.8".to_string()));
        assert!(paths.contains(&"completions/coracle.fish".to_string()));
    }

    #[test]
    fn values_follow_the_table() {
        let flag = |command: &str, long: &str| {
            let flags = find_command(command).unwrap().flags;
            value_of(flags.iter().find(|f| f.long == long).unwrap())
        };
        assert_eq!(flag("create", "bundle"), Value::Dir);
        assert_eq!(flag("create", "pid-file"), Value::File);
        assert_eq!(flag("create", "console-socket"), Value::File);
        assert_eq!(flag("list", "format"), Value::Choices(&["table", "json"]));
        assert_eq!(flag("list", "quiet"), Value::Switch);
        assert_eq!(flag("exec", "env"), Value::Any);
        let log_format = GLOBAL_FLAGS.iter().find(|f| f.long == "log-format");
        assert_eq!(
            value_of(log_format.unwrap()),
            Value::Choices(&["text", "json"])
        );
    }

    #[test]
    fn rest_arguments_are_found() {
        let names: Vec<&str> = commands_with_rest().map(|c| c.name).collect();
        assert_eq!(names, ["exec", "ps"]);
        assert_eq!(spellings(&HELP), ["-h", "--help"]);
    }
}
