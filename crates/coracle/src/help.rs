//! The `--help` pages and `--version` text, rendered from the command table.

use crate::table::{Arg, Command, Count, Flag, Parsing, COMMANDS, GLOBAL_FLAGS, HELP};
use std::fmt::Write;

/// The commit this binary was built from.
const COMMIT: &str = libcoracle::BUILD_COMMIT;

/// Width descriptions are wrapped to.
const WIDTH: usize = 78;

/// The `--version` text: exactly three lines (Docker parses `commit:`).
pub fn version() -> String {
    format!(
        "coracle version {}\ncommit: {COMMIT}\nspec: {}\n",
        env!("CARGO_PKG_VERSION"),
        libcoracle::spec::OCI_VERSION
    )
}

/// The help shown by `coracle --help`: commands and global flags.
pub fn global_help() -> String {
    let mut out = format!(
        "coracle {} - a fast, memory-safe OCI container runtime\n\n\
         Usage: coracle [global options] <command> [options] [arguments]\n\nCommands:\n",
        env!("CARGO_PKG_VERSION")
    );
    let names: Vec<String> = COMMANDS
        .iter()
        .map(|c| {
            [c.name]
                .iter()
                .chain(c.aliases)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    let width = names.iter().map(String::len).max().unwrap_or(0);
    for (name, command) in names.iter().zip(COMMANDS) {
        let _ = writeln!(out, "  {name:width$}  {}", command.summary);
    }
    out.push_str("\nGlobal options:\n");
    write_flags(&mut out, GLOBAL_FLAGS);
    out.push_str("\nRun 'coracle help <command>' for a command's options.\n");
    out
}

/// The help shown by `coracle help CMD` and `coracle CMD --help`.
pub fn command_help(command: &Command) -> String {
    let mut out = format!("coracle {} - {}\n\n", command.name, command.summary);
    if !command.aliases.is_empty() {
        let _ = writeln!(out, "Also called: {}\n", command.aliases.join(", "));
    }
    let _ = writeln!(out, "Usage: {}\n", usage(command));
    out.push_str(&wrap(command.description, WIDTH));
    if command.parsing == Parsing::HelpOnly {
        return out;
    }
    if !command.args.is_empty() {
        out.push_str("\nArguments:\n");
        let width = command.args.iter().map(|a| a.name.len()).max().unwrap_or(0);
        for arg in command.args {
            let _ = writeln!(out, "  {:width$}  {}", arg.name, arg.help);
        }
    }
    out.push_str("\nOptions:\n");
    write_flags(&mut out, command.flags);
    out
}

fn usage(command: &Command) -> String {
    let mut usage = format!("coracle [global options] {}", command.name);
    if command.parsing == Parsing::HelpOnly {
        return usage;
    }
    usage.push_str(" [options]");
    for arg in command.args {
        usage.push(' ');
        usage.push_str(&arg_synopsis(arg));
    }
    usage
}

fn arg_synopsis(arg: &Arg) -> String {
    match arg.count {
        Count::One => format!("<{}>", arg.name),
        Count::Optional => format!("[{}]", arg.name),
        Count::Rest => format!("[{}...]", arg.name),
    }
}

/// One aligned line per flag, `--help` last.
fn write_flags(out: &mut String, flags: &[Flag]) {
    let all: Vec<&Flag> = flags.iter().chain([&HELP]).collect();
    let synopses: Vec<String> = all.iter().map(|f| flag_synopsis(f)).collect();
    let width = synopses.iter().map(String::len).max().unwrap_or(0);
    for (synopsis, flag) in synopses.iter().zip(all) {
        let _ = writeln!(
            out,
            "  {synopsis:width$}  {}{}",
            flag.help,
            flag_notes(flag)
        );
    }
}

/// `-b, --bundle DIR` or `    --pid-file FILE`.
fn flag_synopsis(flag: &Flag) -> String {
    let short = flag.short.map_or("    ".to_string(), |c| format!("-{c}, "));
    match flag.value {
        Some(value) => format!("{short}--{} {value}", flag.long),
        None => format!("{short}--{}", flag.long),
    }
}

/// What the table says beyond the help line: choices, default, repetition.
fn flag_notes(flag: &Flag) -> String {
    let mut notes = Vec::new();
    if !flag.choices.is_empty() {
        notes.push(format!("one of {}", flag.choices.join(", ")));
    }
    if let Some(default) = flag.default {
        notes.push(format!("default: {default}"));
    }
    if flag.repeat {
        notes.push("repeatable".to_string());
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

/// `text` wrapped at word boundaries to `width` columns, newline-terminated.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line_len = 0;
    for word in text.split_whitespace() {
        if line_len > 0 && line_len + 1 + word.len() > width {
            out.push('\n');
            line_len = 0;
        } else if line_len > 0 {
            out.push(' ');
            line_len += 1;
        }
        out.push_str(word);
        line_len += word.len();
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::find_command;

    #[test]
    fn version_is_three_lines() {
        let text = version();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "coracle version 0.1.0");
        assert!(lines[1].starts_with("commit: ") && lines[1].len() > "commit: ".len());
        assert_eq!(lines[2], "spec: 1.3.0");
    }

    #[test]
    fn command_help_lists_flags_and_arguments() {
        let text = command_help(find_command("exec").unwrap());
        assert!(text.contains(
            "Usage: coracle [global options] exec [options] <container-id> [command...]"
        ));
        assert!(text.contains("-e, --env KEY=VALUE"));
        assert!(text.contains("(repeatable)"));
        assert!(text.contains("-h, --help"));
        let list = command_help(find_command("ls").unwrap());
        assert!(list.contains("one of table, json; default: table"));
    }

    #[test]
    fn checkpoint_help_says_it_is_unsupported() {
        let text = command_help(find_command("checkpoint").unwrap());
        assert!(text.contains("does not support checkpointing"));
        assert!(!text.contains("Options:"));
    }

    #[test]
    fn global_help_lists_every_command() {
        let text = global_help();
        for command in COMMANDS {
            assert!(text.contains(command.summary), "{}", command.name);
        }
        assert!(text.contains("list, ls"));
        assert!(text.contains("--root DIR"));
    }

    #[test]
    fn wraps_at_word_boundaries() {
        assert_eq!(wrap("aa bb cc", 5), "aa bb\ncc\n");
        assert!(wrap(COMMANDS[0].description, WIDTH)
            .lines()
            .all(|l| l.len() <= WIDTH));
    }
}
