//! The fish completion: `complete` declarations whose conditions read the
//! command line with `__coracle_scan`.

use super::{
    alias_arms, completed_args, names, parsed, read_flags, rest_arms, script_header,
    value_flag_keys, value_of, with_help, Arm, Value,
};
use crate::table::{ArgKind, Command, Flag, COMMANDS, GLOBAL_FLAGS};
use std::fmt::Write;

/// The whole completion script.
pub fn script() -> String {
    let mut out = script_header("#", "fish");
    write_canonical(&mut out);
    write_takes_value(&mut out);
    write_rest_at(&mut out);
    write_command_list(&mut out);
    out.push_str(READER);
    out.push_str("\ncomplete -c coracle -f\n");
    write_flags(&mut out, "-", GLOBAL_FLAGS);
    let _ = writeln!(
        out,
        "complete -c coracle -n '__coracle_arg - 0' -a '(__coracle_commands)'"
    );
    for command in COMMANDS {
        write_flags(&mut out, command.name, read_flags(command));
        write_args(&mut out, command);
    }
    out
}

/// `text` as one single-quoted fish word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A lookup as a fish function: a comment, then a `switch` over `subject`
/// with one `case` per `(patterns, body)`.
fn write_switch(out: &mut String, doc: &str, name: &str, subject: &str, arms: &[Arm]) {
    let _ = writeln!(out, "\n# {doc}\nfunction {name}\n    switch {subject}");
    for (patterns, body) in arms {
        let patterns: Vec<String> = patterns.iter().map(|p| quote(p)).collect();
        let _ = writeln!(
            out,
            "        case {}\n            {body}",
            patterns.join(" ")
        );
    }
    out.push_str("    end\nend\n");
}

/// `__coracle_canonical`: a command's name for any of its names.
fn write_canonical(out: &mut String) {
    let mut arms = alias_arms();
    arms.push((vec!["*".to_string()], "echo $argv[1]".to_string()));
    let doc = "Prints the name of the command called $argv[1].";
    write_switch(out, doc, "__coracle_canonical", "$argv[1]", &arms);
}

/// `__coracle_takes_value`: whether a flag of a command takes a value.
fn write_takes_value(out: &mut String) {
    let arms = [
        (value_flag_keys(), "return 0".to_string()),
        (vec!["*".to_string()], "return 1".to_string()),
    ];
    let doc = "Succeeds when flag $argv[2] of command $argv[1] (\"\" for the global flags) \
               takes a value.";
    write_switch(
        out,
        doc,
        "__coracle_takes_value",
        "\"$argv[1] $argv[2]\"",
        &arms,
    );
}

/// `__coracle_rest_at`: the position of a command's rest argument.
fn write_rest_at(out: &mut String) {
    let doc = "Prints the position of the argument of command $argv[1] that takes every \
               remaining word.";
    write_switch(out, doc, "__coracle_rest_at", "$argv[1]", &rest_arms());
}

/// `__coracle_commands`: every command name, a tab and its summary.
fn write_command_list(out: &mut String) {
    out.push_str(
        "\n# Prints the commands, each with a tab and its summary.\nfunction __coracle_commands\n",
    );
    for command in COMMANDS {
        for name in names(command) {
            let _ = writeln!(
                out,
                "    printf '%s\\t%s\\n' {name} {}",
                quote(command.summary)
            );
        }
    }
    out.push_str("end\n");
}

/// One `complete` line per flag of `scope` (a command, or `-` for the
/// global flags).
fn write_flags(out: &mut String, scope: &str, flags: &'static [Flag]) {
    for flag in with_help(flags) {
        let condition = quote(&format!("__coracle_flags_of {scope}"));
        let mut line = format!("complete -c coracle -n {condition}");
        if let Some(c) = flag.short {
            let _ = write!(line, " -s {c}");
        }
        let _ = write!(
            line,
            " -l {}{} -d {}",
            flag.long,
            value_options(flag),
            quote(flag.help)
        );
        let _ = writeln!(out, "{line}");
    }
}

/// The options of `complete` that say what value a flag takes.
fn value_options(flag: &Flag) -> String {
    match value_of(flag) {
        Value::Switch => String::new(),
        Value::Choices(choices) => format!(" -x -a {}", quote(&choices.join(" "))),
        Value::Dir => " -x -a '(__fish_complete_directories)'".to_string(),
        Value::File => " -r -F".to_string(),
        Value::Any => " -x".to_string(),
    }
}

/// One `complete` line per argument of `command` that has words to offer.
fn write_args(out: &mut String, command: &'static Command) {
    if !parsed(command) {
        return;
    }
    for (i, kind, rest) in completed_args(command) {
        let test = if rest {
            "__coracle_arg_from"
        } else {
            "__coracle_arg"
        };
        let words = match kind {
            ArgKind::ContainerId => "(__coracle_container_ids)",
            ArgKind::CommandName => "(__coracle_commands)",
            ArgKind::Text => continue,
        };
        let condition = quote(&format!("{test} {} {i}", command.name));
        let _ = writeln!(out, "complete -c coracle -n {condition} -a '{words}'");
    }
}

/// The functions that read the command line; they use the lookups above.
const READER: &str = r#"
# Prints flag $argv[1] as the lookups spell it: -root becomes --root.
function __coracle_long
    if string match -qr -- '^(--.*|-.)$' $argv[1]
        printf '%s\n' $argv[1]
    else
        printf '%s\n' -$argv[1]
    end
end

# Reads the words before the cursor and prints five lines: the command ("-"
# before there is one), how many of its arguments are given, "rest" once its
# last argument takes every word ("-" before), the flag waiting for a value
# ("-" for none), and the value of a --root given before the command. Words
# are compared with `string match`, which no word can be mistaken for an
# operator of.
function __coracle_scan
    set -l words (commandline -opc)
    set -e words[1]
    set -l command -
    set -l count 0
    set -l rest -
    set -l pending -
    set -l root
    set -l ended
    set -l rest_at
    for word in $words
        if not string match -q -- - $pending
            string match -q -- - $command; and string match -q -- --root $pending
            and set root $word
            set pending -
        else if string match -q -- rest $rest
            set count (math $count + 1)
        else if string match -q -- -- $word
            if string match -q -- - $command
                set ended 1
            else
                set rest rest
            end
        else if string match -qr -- '^-.' $word; and test -z "$ended"
            set -l long (__coracle_long $word)
            if string match -q -- '*=*' $long
                string match -q -- - $command; and string match -q -- '--root=*' $long
                and set root (string replace -- --root= '' $long)
            else if __coracle_takes_value (string replace -r -- '^-$' '' $command) $long
                set pending $long
            end
        else if string match -q -- - $command
            set command (__coracle_canonical $word)
            set rest_at (__coracle_rest_at $command)
        else
            set count (math $count + 1)
        end
        string match -q -- - $command; or test "$count" != "$rest_at"; or set rest rest
    end
    printf '%s\n' $command $count $rest $pending "$root"
end

# Succeeds when the flags of command $argv[1] ("-" for the global flags)
# apply to the word under the cursor.
function __coracle_flags_of
    set -l state (__coracle_scan)
    string match -q -- $argv[1] $state[1]; and string match -q -- - $state[3]
end

# Succeeds when the word under the cursor is argument $argv[2] (from 0) of
# command $argv[1] ("-" for the command itself).
function __coracle_arg
    set -l state (__coracle_scan)
    string match -q -- $argv[1] $state[1]; and string match -q -- - $state[4]
    and test $state[2] = $argv[2]
end

# Succeeds when the word under the cursor belongs to the argument of command
# $argv[1] that starts at $argv[2] and takes every remaining word.
function __coracle_arg_from
    set -l state (__coracle_scan)
    string match -q -- $argv[1] $state[1]; and string match -q -- - $state[4]
    and test $state[2] -ge $argv[2]
end

# Prints the ids of the containers under the state root given on the line.
function __coracle_container_ids
    set -l state (__coracle_scan)
    set -l program (commandline -opc)[1]
    set -l root
    test -n "$state[5]"; and set root --root $state[5]
    $program $root list -q 2>/dev/null
end
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_come_from_the_table() {
        let text = script();
        assert!(text.contains(
            "complete -c coracle -n '__coracle_flags_of -' -l log-format -x -a 'text json' \
             -d 'format of the log lines'"
        ));
        assert!(text.contains(
            "complete -c coracle -n '__coracle_flags_of create' -s b -l bundle -x -a \
             '(__fish_complete_directories)'"
        ));
        assert!(text.contains("-n '__coracle_arg kill 0' -a '(__coracle_container_ids)'"));
        assert!(text.contains("printf '%s\\t%s\\n' ls 'list containers'"));
        assert!(text.contains("-d 'the same as --cpu-share'"));
    }
}
