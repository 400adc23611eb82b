//! Reads the command line by the table in [`crate::table`], the way runc
//! (Go's flag package) does, since engines rely on its quirks:
//! - global flags come before the command, the command's flags after it;
//! - `--flag value`, `--flag=value`, `-f value` and `-flag value` are the same;
//!   a switch takes `--switch` or `--switch=true|false`;
//! - a command's flags may follow its arguments (`create ID --bundle B`),
//!   except once a "rest" argument begins (`exec ID sh -c x`, `ps ID -ef`):
//!   from there every word is an argument;
//! - `--` ends the flags.

use crate::table::{find_command, Command, Count, Flag, Parsing, GLOBAL_FLAGS, HELP};
use std::ffi::OsString;
use std::str::FromStr;

/// A command line that does not match the table.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An argument is not UTF-8 (1-based position).
    #[error("argument {0} is not valid UTF-8")]
    NotUtf8(usize),
    /// No command has this name.
    #[error("unknown command '{0}' (see 'coracle help')")]
    UnknownCommand(String),
    /// No flag of the command (or no global flag) has this name.
    #[error("unknown flag {flag} for {command}")]
    UnknownFlag {
        /// The flag as written, without its `=value`.
        flag: String,
        /// The command, or `coracle` for global flags.
        command: &'static str,
    },
    /// A flag that takes a value ends the command line.
    #[error("flag --{flag} of {command} needs a value")]
    MissingValue {
        /// The flag's long name.
        flag: &'static str,
        /// The command, or `coracle` for global flags.
        command: &'static str,
    },
    /// A flag's value is not one it accepts.
    #[error("invalid value '{value}' for --{flag}: expected {expected}")]
    BadValue {
        /// The flag's long name.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What would have been accepted.
        expected: String,
    },
    /// A required argument is absent.
    #[error("missing {arg} for {command}")]
    MissingArg {
        /// The argument's name.
        arg: &'static str,
        /// The command.
        command: &'static str,
    },
    /// More arguments than the command takes.
    #[error("unexpected argument '{arg}' for {command}")]
    ExtraArg {
        /// The first argument too many.
        arg: String,
        /// The command.
        command: &'static str,
    },
}

/// The outcome of parsing: a request for help, or something to do.
#[derive(Debug)]
pub enum Parsed<T> {
    /// `--help` was given: show the help of this command, or the global help.
    Help(Option<&'static Command>),
    /// Proceed.
    Go(T),
}

/// The flags and arguments found for the command (or for the global flags,
/// where `command` is `None`).
#[derive(Debug)]
pub struct Matches {
    /// The command these belong to.
    pub command: Option<&'static Command>,
    flags: &'static [Flag],
    values: Vec<(&'static Flag, String)>,
    /// The positional arguments, in order.
    pub args: Vec<String>,
}

impl Matches {
    fn new(command: Option<&'static Command>, flags: &'static [Flag]) -> Matches {
        Matches {
            command,
            flags,
            values: Vec::new(),
            args: Vec::new(),
        }
    }

    /// The command's name, or `coracle` for the global flags.
    pub fn name(&self) -> &'static str {
        self.command.map_or("coracle", |c| c.name)
    }

    /// The last value given to flag `long`, else its default.
    pub fn value(&self, long: &str) -> Option<&str> {
        let given = self.values.iter().rev().find(|(f, _)| f.long == long);
        match given {
            Some((_, value)) => Some(value),
            None => self.table_flag(long).default,
        }
    }

    /// Every value given to the repeatable flag `long`, in order.
    pub fn values<'a>(&'a self, long: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        debug_assert!(self.table_flag(long).repeat);
        self.values
            .iter()
            .filter(move |(f, _)| f.long == long)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the switch `long` is on.
    pub fn is_on(&self, long: &str) -> bool {
        self.value(long) == Some("true")
    }

    /// The value of `long` read as a number (or any `FromStr` type).
    pub fn number<T: FromStr>(&self, long: &'static str) -> Result<Option<T>, Error> {
        self.value(long).map(|v| parse_number(long, v)).transpose()
    }

    /// Every value of the repeatable flag `long` read as a number.
    pub fn numbers<T: FromStr>(&self, long: &'static str) -> Result<Vec<T>, Error> {
        self.values(long).map(|v| parse_number(long, v)).collect()
    }

    /// The table's entry for `long`; asking for a flag the command does not
    /// have is a programming error.
    fn table_flag(&self, long: &str) -> &'static Flag {
        let found = self.flags.iter().find(|f| f.long == long);
        found.unwrap_or_else(|| panic!("{} has no flag --{long}", self.name()))
    }
}

fn parse_number<T: FromStr>(flag: &'static str, value: &str) -> Result<T, Error> {
    value.parse().map_err(|_| Error::BadValue {
        flag,
        value: value.to_string(),
        expected: "a number".to_string(),
    })
}

/// Converts the process's arguments (without the program name) to strings.
pub fn collect(args: impl Iterator<Item = OsString>) -> Result<Vec<String>, Error> {
    args.enumerate()
        .map(|(i, arg)| arg.into_string().map_err(|_| Error::NotUtf8(i + 1)))
        .collect()
}

/// Reads the global flags; returns them and the index in `argv` of the
/// command's name (`argv.len()` when there is none).
pub fn parse_global(argv: &[String]) -> Result<Parsed<(Matches, usize)>, Error> {
    let mut matches = Matches::new(None, GLOBAL_FLAGS);
    Ok(match read_global(argv, &mut matches)? {
        Parsed::Go(at) => Parsed::Go((matches, at)),
        Parsed::Help(command) => Parsed::Help(command),
    })
}

/// The global flags before the one [`parse_global`] failed on: the
/// `--log` among them still receives the error.
pub fn globals_before_error(argv: &[String]) -> Matches {
    let mut matches = Matches::new(None, GLOBAL_FLAGS);
    let _ = read_global(argv, &mut matches);
    matches
}

/// Reads global flags into `matches` up to the command's name, whose
/// index it returns, or up to an error.
fn read_global(argv: &[String], matches: &mut Matches) -> Result<Parsed<usize>, Error> {
    let mut i = 0;
    while i < argv.len() {
        let start = i;
        match read_word(argv, &mut i, GLOBAL_FLAGS, "coracle")? {
            Word::Arg(_) => return Ok(Parsed::Go(start)),
            Word::EndOfOptions => return Ok(Parsed::Go(i)),
            Word::Help => return Ok(Parsed::Help(None)),
            Word::Flag(flag, value) => matches.values.push((flag, value)),
        }
    }
    Ok(Parsed::Go(argv.len()))
}

/// Reads a command: `words[0]` is its name, the rest its flags and arguments.
pub fn parse_command(words: &[String]) -> Result<Parsed<Matches>, Error> {
    let (name, argv) = words
        .split_first()
        .expect("parse_command needs the command name");
    let command = find_command(name).ok_or_else(|| Error::UnknownCommand(name.clone()))?;
    if command.parsing == Parsing::HelpOnly {
        return Ok(parse_unchecked(command, argv));
    }
    let mut matches = Matches::new(Some(command), command.flags);
    let rest_at = command.args.iter().position(|a| a.count == Count::Rest);
    let mut i = 0;
    while i < argv.len() {
        if rest_at == Some(matches.args.len()) {
            // The rest argument begins: `exec ID -- cmd` and `exec ID cmd` alike.
            let rest = argv[i..]
                .strip_prefix(&["--".to_string()])
                .unwrap_or(&argv[i..]);
            matches.args.extend_from_slice(rest);
            break;
        }
        match read_word(argv, &mut i, command.flags, command.name)? {
            Word::Arg(arg) => matches.args.push(arg.to_string()),
            Word::EndOfOptions => {
                matches.args.extend_from_slice(&argv[i..]);
                break;
            }
            Word::Help => return Ok(Parsed::Help(Some(command))),
            Word::Flag(flag, value) => matches.values.push((flag, value)),
        }
    }
    check_arg_count(command, &matches.args)?;
    Ok(Parsed::Go(matches))
}

/// For a command that refuses to run: only looks for `--help` before `--`.
fn parse_unchecked(command: &'static Command, argv: &[String]) -> Parsed<Matches> {
    let options = argv.iter().take_while(|w| *w != "--");
    if options.filter_map(|w| option_name(w)).any(is_help) {
        return Parsed::Help(Some(command));
    }
    let mut matches = Matches::new(Some(command), command.flags);
    matches.args = argv.to_vec();
    Parsed::Go(matches)
}

fn check_arg_count(command: &'static Command, args: &[String]) -> Result<(), Error> {
    let required = command
        .args
        .iter()
        .filter(|a| a.count == Count::One)
        .count();
    if let Some(missing) = command
        .args
        .get(args.len())
        .filter(|_| args.len() < required)
    {
        return Err(Error::MissingArg {
            arg: missing.name,
            command: command.name,
        });
    }
    let takes_rest = command.args.last().is_some_and(|a| a.count == Count::Rest);
    match args.get(command.args.len()) {
        Some(extra) if !takes_rest => Err(Error::ExtraArg {
            arg: extra.clone(),
            command: command.name,
        }),
        _ => Ok(()),
    }
}

/// What one word of the command line (with the value it may consume) is.
enum Word<'a> {
    Arg(&'a str),
    EndOfOptions,
    Help,
    Flag(&'static Flag, String),
}

/// Reads the word at `argv[*i]`, and the next one if it is the value of a
/// flag; advances `*i` past them.
fn read_word<'a>(
    argv: &'a [String],
    i: &mut usize,
    flags: &'static [Flag],
    command: &'static str,
) -> Result<Word<'a>, Error> {
    let word = argv[*i].as_str();
    *i += 1;
    if word == "--" {
        return Ok(Word::EndOfOptions);
    }
    let Some(body) = option_name(word) else {
        return Ok(Word::Arg(word));
    };
    let (name, inline) = match body.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (body, None),
    };
    let Some(flag) = flags.iter().find(|f| names(f, name)) else {
        if is_help(name) {
            return Ok(Word::Help);
        }
        let written = word.split_once('=').map_or(word, |(flag, _)| flag);
        return Err(Error::UnknownFlag {
            flag: written.to_string(),
            command,
        });
    };
    let value = match (flag.value, inline) {
        (Some(_), Some(value)) => value.to_string(),
        (Some(_), None) => {
            let value = argv.get(*i).ok_or(Error::MissingValue {
                flag: flag.long,
                command,
            })?;
            *i += 1;
            value.clone()
        }
        (None, Some(value)) => switch_value(flag, value)?.to_string(),
        (None, None) => "true".to_string(),
    };
    check_choice(flag, &value)?;
    Ok(Word::Flag(flag, value))
}

/// The name part of an option word (`--name=v` → `name=v`), or `None` for an
/// argument (including a lone `-`, which conventionally means stdin).
fn option_name(word: &str) -> Option<&str> {
    let body = word.strip_prefix("--").or_else(|| word.strip_prefix('-'))?;
    Some(body).filter(|b| !b.is_empty())
}

/// Whether `name` is the flag's long name or its one-letter alias.
fn names(flag: &Flag, name: &str) -> bool {
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => flag.short == Some(c),
        _ => flag.long == name,
    }
}

fn is_help(name: &str) -> bool {
    names(&HELP, name.split_once('=').map_or(name, |(n, _)| n))
}

/// Reads a switch's `=value` the way Go's `strconv.ParseBool` does.
fn switch_value(flag: &'static Flag, value: &str) -> Result<&'static str, Error> {
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok("true"),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok("false"),
        _ => Err(Error::BadValue {
            flag: flag.long,
            value: value.to_string(),
            expected: "true or false".to_string(),
        }),
    }
}

fn check_choice(flag: &'static Flag, value: &str) -> Result<(), Error> {
    if flag.choices.is_empty() || flag.choices.contains(&value) {
        return Ok(());
    }
    Err(Error::BadValue {
        flag: flag.long,
        value: value.to_string(),
        expected: format!("one of {}", flag.choices.join(", ")),
    })
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
