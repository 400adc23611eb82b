//! The zsh completion: a `#compdef coracle` function built on `_arguments`,
//! one function per command.

use super::{names, parsed, read_flags, script_header, spellings, value_of, with_help, Value};
use crate::table::{Arg, ArgKind, Command, Count, Flag, COMMANDS, GLOBAL_FLAGS, HELP};
use std::fmt::Write;

/// The whole completion script.
pub fn script() -> String {
    let mut out = format!("#compdef coracle\n{}", script_header("#", "zsh"));
    out.push_str(HELPERS);
    write_command_list(&mut out);
    for command in COMMANDS {
        write_command(&mut out, command);
    }
    write_main(&mut out);
    out.push_str("\n_coracle \"$@\"\n");
    out
}

/// `text` as one single-quoted zsh word.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `text` with the characters `_arguments` reads in a description escaped.
fn description(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('[', "\\[")
        .replace(']', "\\]")
}

/// `text` with the colons that would end a message or a `_describe` item
/// escaped.
fn no_colons(text: &str) -> String {
    text.replace('\\', "\\\\").replace(':', "\\:")
}

/// The `_arguments` specifications of a flag, one per spelling.
fn flag_specs(flag: &Flag) -> Vec<String> {
    let spellings = spellings(flag);
    let exclusion = if flag.long == HELP.long || flag.long == "version" {
        "(- : *)".to_string()
    } else if flag.repeat {
        "*".to_string()
    } else if spellings.len() > 1 {
        format!("({})", spellings.join(" "))
    } else {
        String::new()
    };
    let argument = flag.value.map_or(String::new(), |value| {
        format!(":{}:{}", no_colons(value), value_action(flag))
    });
    spellings
        .iter()
        .map(|spelling| {
            let marker = match (flag.value, spelling.starts_with("--")) {
                (None, _) => "",
                (Some(_), true) => "=",
                (Some(_), false) => "+",
            };
            let help = description(flag.help);
            quote(&format!("{exclusion}{spelling}{marker}[{help}]{argument}"))
        })
        .collect()
}

/// How `_arguments` offers a flag's value.
fn value_action(flag: &Flag) -> String {
    match value_of(flag) {
        Value::Choices(choices) => format!("({})", choices.join(" ")),
        Value::Dir => "_files -/".to_string(),
        Value::File => "_files".to_string(),
        Value::Switch | Value::Any => " ".to_string(),
    }
}

/// The `_arguments` specification of the argument at `index` (from 0).
fn arg_spec(index: usize, arg: &Arg) -> String {
    let action = match arg.kind {
        ArgKind::ContainerId => "_coracle_container_ids",
        ArgKind::CommandName => "_coracle_commands",
        // Not a message-only action (" "): it would keep zsh from
        // inserting an option that is the only match.
        ArgKind::Text => "_nothing",
    };
    let name = no_colons(arg.name);
    let position = match arg.count {
        Count::One => format!("{}:", index + 1),
        Count::Optional => format!("{}::", index + 1),
        Count::Rest => "*:".to_string(),
    };
    quote(&format!("{position}{name}:{action}"))
}

/// Writes a call of `_arguments` with `specs`, one per line.
fn write_arguments(out: &mut String, prefix: &str, specs: &[String], suffix: &str) {
    let _ = write!(out, "\t{prefix}_arguments -S");
    for spec in specs {
        let _ = write!(out, " \\\n\t\t{spec}");
    }
    let _ = writeln!(out, "{suffix}");
}

/// `_coracle_commands`: every command name with its summary.
fn write_command_list(out: &mut String) {
    out.push_str("\n# Offers coracle's commands.\n_coracle_commands() {\n");
    out.push_str("\tlocal -a commands\n\tcommands=(\n");
    for command in COMMANDS {
        for name in names(command) {
            let item = format!("{name}:{}", no_colons(command.summary));
            let _ = writeln!(out, "\t\t{}", quote(&item));
        }
    }
    out.push_str("\t)\n\t_describe -t commands 'coracle command' commands\n}\n");
}

/// The name of the function completing `command`'s words.
fn function(command: &Command) -> String {
    format!("_coracle_cmd_{}", command.name.replace('-', "_"))
}

/// The function completing the flags and arguments of one command.
fn write_command(out: &mut String, command: &'static Command) {
    let _ = writeln!(
        out,
        "\n# Completes the words after 'coracle {}'.\n{}() {{",
        command.name,
        function(command)
    );
    let flags = read_flags(command);
    let mut specs: Vec<String> = with_help(flags).flat_map(flag_specs).collect();
    if parsed(command) {
        specs.extend(command.args.iter().enumerate().map(|(i, a)| arg_spec(i, a)));
    } else {
        specs.push(quote("*:argument:_nothing"));
    }
    write_arguments(out, "", &specs, "");
    out.push_str("}\n");
}

/// `_coracle`: the global flags, the command, then the command's function.
fn write_main(out: &mut String) {
    out.push_str(
        "\n# Completes a coracle command line.\n_coracle() {\n\
         \tlocal curcontext=$curcontext state state_descr line ret=1\n\
         \tlocal _coracle_program=$words[1]\n\
         \tlocal -a _coracle_root\n\
         \ttypeset -A opt_args\n",
    );
    let mut specs: Vec<String> = with_help(GLOBAL_FLAGS).flat_map(flag_specs).collect();
    specs.push(quote("1:command:_coracle_commands"));
    specs.push(quote("*:: :->command"));
    write_arguments(out, "", &specs, " && ret=0");
    out.push_str(
        "\tif [[ $state == command ]]; then\n\
         \t\t(( $+opt_args[--root] )) && _coracle_root=(--root \"${(Q)opt_args[--root]}\")\n\
         \t\tcurcontext=${curcontext%:*:*}:coracle-$words[1]:\n\
         \t\tcase $words[1] in\n",
    );
    for command in COMMANDS {
        let patterns: Vec<&str> = names(command).collect();
        let _ = writeln!(
            out,
            "\t\t{}) {} && ret=0 ;;",
            patterns.join(" | "),
            function(command)
        );
    }
    out.push_str("\t\tesac\n\tfi\n\treturn ret\n}\n");
}

/// Functions that do not depend on the table.
const HELPERS: &str = r#"
# Offers the ids of the containers under the state root named on the line.
_coracle_container_ids() {
	local -a ids
	ids=(${(f)"$(_call_program container-ids ${(q)_coracle_program} ${(q)_coracle_root[@]} list -q 2>/dev/null)"})
	_wanted container-ids expl 'container id' compadd -a ids
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::find_command;

    #[test]
    fn flags_become_specifications() {
        let bundle = &find_command("create").unwrap().flags[0];
        assert_eq!(
            flag_specs(bundle),
            [
                "'(-b --bundle)-b+[the bundle directory (default: current directory)]:DIR:_files -/'",
                "'(-b --bundle)--bundle=[the bundle directory (default: current directory)]:DIR:_files -/'",
            ]
        );
        let user = find_command("exec")
            .unwrap()
            .flags
            .iter()
            .find(|f| f.long == "user");
        assert!(flag_specs(user.unwrap())[1].contains(":UID[\\:GID]: '"));
    }

    #[test]
    fn script_dispatches_every_command() {
        let text = script();
        assert!(text.starts_with("#compdef coracle\n"));
        assert!(text.contains("\t\tlist | ls) _coracle_cmd_list && ret=0 ;;\n"));
        assert!(text.contains("'--log-format=[format of the log lines]:FORMAT:(text json)'"));
        assert!(text.contains("'1:container-id:_coracle_container_ids'"));
        assert!(text.contains("'kill:send a signal to a container'\\''s process'"));
    }
}
