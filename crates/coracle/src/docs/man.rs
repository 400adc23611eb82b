//! The man pages, section 8: `coracle(8)` for the global options and the
//! list of commands, and `coracle-COMMAND(8)` for each command.

use super::roff::{bold, escape, italic, push_line, sentence, uncapitalised};
use super::{commands_with_rest, names, parsed, read_flags, rest_at, with_help, Document, MAN_DIR};
use crate::table::{Arg, Command, Count, Flag, COMMANDS, GLOBAL_FLAGS};

/// Every man page: `coracle.8` first, then one per command in table order.
pub fn pages() -> Vec<Document> {
    let main = Document {
        path: format!("{MAN_DIR}/coracle.8"),
        text: main_page(),
    };
    let commands = COMMANDS.iter().map(|command| Document {
        path: format!("{MAN_DIR}/{}.8", page_name(command)),
        text: command_page(command),
    });
    [main].into_iter().chain(commands).collect()
}

/// `coracle-create`, the name of a command's page.
fn page_name(command: &Command) -> String {
    format!("coracle-{}", command.name)
}

/// `coracle(8)`: what coracle is, how options are written, the commands and
/// the global options.
fn main_page() -> String {
    let mut out = title("coracle");
    let description = uncapitalised(env!("CARGO_PKG_DESCRIPTION"));
    push_line(&mut out, &format!("coracle \\- {}", escape(&description)));
    out.push_str(".SH SYNOPSIS\n");
    push_line(
        &mut out,
        "\\fBcoracle\\fR [\\fIglobal options\\fR] \\fIcommand\\fR [\\fIoptions\\fR] \
         [\\fIarguments\\fR]",
    );
    out.push_str(".br\n\\fBcoracle help\\fR [\\fIcommand\\fR]\n");
    out.push_str(".SH DESCRIPTION\n");
    out.push_str(MAIN_DESCRIPTION);
    write_syntax(&mut out);
    out.push_str(".SH COMMANDS\n");
    for command in COMMANDS {
        write_command_item(&mut out, command);
    }
    out.push_str(".SH GLOBAL OPTIONS\n");
    write_flags(&mut out, GLOBAL_FLAGS);
    out.push_str(MAIN_EXIT_STATUS);
    let mut see_also: Vec<String> = COMMANDS.iter().map(page_name).collect();
    see_also.push("runc".to_string());
    write_see_also(&mut out, &see_also);
    out
}

/// What coracle is; the opening of `coracle(8)`.
const MAIN_DESCRIPTION: &str = "\\fBcoracle\\fR runs Linux containers as the Open \
Container Initiative (OCI) runtime specification defines them.
A container is made from a bundle: a directory holding the container's
\\fIconfig.json\\fR and its root filesystem.
.PP
The commands and options are runc's, so that container engines such as Podman,
Docker and containerd can drive \\fBcoracle\\fR as their runtime.
The usual life of a container is \\fBcreate\\fR, \\fBstart\\fR, then
\\fBkill\\fR and \\fBdelete\\fR; \\fBrun\\fR does the first two and waits for
the container to exit.
The state of every container lives under the directory given by
\\fB\\-\\-root\\fR.
";

/// How `coracle(8)` ends: what the exit status means.
const MAIN_EXIT_STATUS: &str = ".SH EXIT STATUS
0 when the command succeeded and 1 when it failed, with the reason on
standard error (or in the \\fB\\-\\-log\\fR file);
\\fBrun\\fR and \\fBexec\\fR exit with the status of the process they ran
(128 plus the signal number when a signal ended it).
";

/// The rules for writing options, as the parser applies them.
fn write_syntax(out: &mut String) {
    out.push_str(
        ".SS Writing options
Global options come before the command, and a command's own options after its
name.
A value is either the next word or joined with an equals sign:
\\fB\\-\\-root /run/x\\fR and \\fB\\-\\-root=/run/x\\fR mean the same.
A long option may also be written with one dash (\\fB\\-root\\fR);
one-letter aliases always are (\\fB\\-b\\fR).
A switch is turned on by its name alone, and off by
\\fB\\-\\-\\fR\\fIname\\fR\\fB=false\\fR.
.PP
",
    );
    let rest: Vec<String> = commands_with_rest().map(|c| bold(c.name)).collect();
    push_line(
        out,
        &format!(
            "A command's options may also follow its arguments, except in {}: \
             once their last argument begins, every word belongs to it.",
            rest.join(" and ")
        ),
    );
    out.push_str("A word \\fB\\-\\-\\fR ends the options.\n");
}

/// A command in the list of `coracle(8)`: its names, summary and page.
fn write_command_item(out: &mut String, command: &'static Command) {
    out.push_str(".TP\n");
    let tag: Vec<String> = names(command).map(bold).collect();
    push_line(out, &tag.join(", "));
    push_line(
        out,
        &format!(
            "{} See \\fB{}\\fR(8).",
            sentence(command.summary),
            escape(&page_name(command))
        ),
    );
}

/// `coracle-COMMAND(8)`: synopsis, description, arguments and options.
fn command_page(command: &'static Command) -> String {
    let page = page_name(command);
    let mut out = title(&page);
    push_line(
        &mut out,
        &format!("{} \\- {}", escape(&page), escape(command.summary)),
    );
    out.push_str(".SH SYNOPSIS\n");
    push_line(&mut out, &synopsis(command));
    out.push_str(".SH DESCRIPTION\n");
    push_line(&mut out, &escape(command.description));
    write_aliases(&mut out, command);
    if parsed(command) {
        write_arguments(&mut out, command);
    } else {
        out.push_str(
            ".PP\nIts arguments are not checked: only \\fB\\-h\\fR and \\fB\\-\\-help\\fR \
             are read, to show its help.\n",
        );
    }
    out.push_str(".SH OPTIONS\n");
    write_flags(&mut out, read_flags(command));
    write_placement(&mut out, command);
    write_see_also(&mut out, &related(command));
    out
}

/// The comment naming the source and the `.TH` line.
fn title(page: &str) -> String {
    format!(
        ".\\\" Generated from crates/coracle/src/table.rs; do not edit.\n\
         .\\\" Regenerate with: {}\n\
         .TH {} 8 \"\" \"coracle {}\" \"System Manager's Manual\"\n.SH NAME\n",
        super::REGENERATE,
        escape(&page.to_ascii_uppercase()),
        env!("CARGO_PKG_VERSION")
    )
}

/// `coracle [global options] kill [options] container-id [signal]`.
fn synopsis(command: &Command) -> String {
    let mut line = format!(
        "\\fBcoracle\\fR [\\fIglobal options\\fR] {}",
        bold(command.name)
    );
    if parsed(command) {
        line.push_str(" [\\fIoptions\\fR]");
        for arg in command.args {
            line.push(' ');
            line.push_str(&arg_synopsis(arg));
        }
    }
    line
}

/// An argument as the synopsis shows it: required, optional or repeated.
fn arg_synopsis(arg: &Arg) -> String {
    match arg.count {
        Count::One => italic(arg.name),
        Count::Optional => format!("[{}]", italic(arg.name)),
        Count::Rest => format!("[{}...]", italic(arg.name)),
    }
}

/// "Also called ls", for a command with aliases.
fn write_aliases(out: &mut String, command: &'static Command) {
    if command.aliases.is_empty() {
        return;
    }
    let aliases: Vec<String> = command.aliases.iter().map(|a| bold(a)).collect();
    out.push_str(".PP\n");
    push_line(
        out,
        &format!("It can also be called {}.", aliases.join(" or ")),
    );
}

/// The ARGUMENTS section, when the command takes any.
fn write_arguments(out: &mut String, command: &Command) {
    if command.args.is_empty() {
        return;
    }
    out.push_str(".SH ARGUMENTS\n");
    for arg in command.args {
        out.push_str(".TP\n");
        push_line(out, &italic(arg.name));
        let count = match arg.count {
            Count::One => "",
            Count::Optional => " Optional.",
            Count::Rest => {
                " Takes every remaining word, even those starting with a dash; \
                 a first word \\fB\\-\\-\\fR is dropped."
            }
        };
        push_line(out, &format!("{}{count}", sentence(arg.help)));
    }
}

/// One tagged paragraph per flag, `--help` last.
fn write_flags(out: &mut String, flags: &'static [Flag]) {
    for flag in with_help(flags) {
        out.push_str(".TP\n");
        push_line(out, &flag_tag(flag));
        push_line(out, &flag_text(flag));
    }
}

/// `-b, --bundle DIR`, in bold and italics.
fn flag_tag(flag: &Flag) -> String {
    let mut tag = flag
        .short
        .map_or(String::new(), |c| format!("{}, ", bold(&format!("-{c}"))));
    tag.push_str(&bold(&format!("--{}", flag.long)));
    if let Some(value) = flag.value {
        tag.push(' ');
        tag.push_str(&italic(value));
    }
    tag
}

/// A flag's help, then its choices, default and whether it repeats.
fn flag_text(flag: &Flag) -> String {
    let mut text = sentence(flag.help);
    if !flag.choices.is_empty() {
        let choices: Vec<String> = flag.choices.iter().map(|c| bold(c)).collect();
        text.push_str(&format!(" One of {}.", choices.join(", ")));
    }
    if let Some(default) = flag.default {
        text.push_str(&format!(" Default: {}.", bold(default)));
    }
    if flag.repeat {
        text.push_str(" Can be given more than once; each use adds a value.");
    }
    text
}

/// Where a command's options may stand, and where the global ones go.
fn write_placement(out: &mut String, command: &Command) {
    out.push_str(".PP\n");
    match rest_at(command) {
        Some(i) if parsed(command) => push_line(
            out,
            &format!(
                "Options may come before or among the arguments up to {}; \
                 from there on every word belongs to {}.",
                italic(command.args[i].name),
                italic(command.args[i].name)
            ),
        ),
        _ if parsed(command) && !command.args.is_empty() => {
            out.push_str("Options may come before or after the arguments.\n")
        }
        _ => {}
    }
    out.push_str(
        "The global options, described in \\fBcoracle\\fR(8), go before the \
         command's name.\n",
    );
}

/// `coracle` and the commands a command's description names ('start').
fn related(command: &Command) -> Vec<String> {
    let quoted = |other: &&Command| {
        other.name != command.name && command.description.contains(&format!("'{}'", other.name))
    };
    let mentioned = COMMANDS.iter().filter(quoted).map(page_name);
    ["coracle".to_string()]
        .into_iter()
        .chain(mentioned)
        .collect()
}

/// The SEE ALSO section, `page(8)` for each of `pages`.
fn write_see_also(out: &mut String, pages: &[String]) {
    out.push_str(".SH SEE ALSO\n");
    for (i, page) in pages.iter().enumerate() {
        let comma = if i + 1 < pages.len() { "," } else { "" };
        out.push_str(&format!(".BR {} (8){comma}\n", escape(page)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::find_command;

    #[test]
    fn command_page_has_every_section() {
        let page = command_page(find_command("create").unwrap());
        assert!(page.contains(".TH CORACLE\\-CREATE 8"));
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "ARGUMENTS", "OPTIONS"] {
            assert!(page.contains(&format!(".SH {section}\n")), "{section}");
        }
        assert!(page.contains("\\fB\\-b\\fR, \\fB\\-\\-bundle\\fR \\fIDIR\\fR"));
        assert!(page.contains(".BR coracle (8),\n.BR coracle\\-start (8)\n"));
    }

    #[test]
    fn flags_show_choices_defaults_and_repetition() {
        let list = command_page(find_command("list").unwrap());
        assert!(list.contains("One of \\fBtable\\fR, \\fBjson\\fR. Default: \\fBtable\\fR."));
        assert!(list.contains("It can also be called \\fBls\\fR."));
        let exec = command_page(find_command("exec").unwrap());
        assert!(exec.contains("each use adds a value"));
        assert!(exec.contains("[\\fIcommand\\fR...]"));
    }

    #[test]
    fn main_page_lists_commands_and_global_options() {
        let page = main_page();
        for command in COMMANDS {
            assert!(page.contains(&format!("\\fB{}\\fR(8)", escape(&page_name(command)))));
        }
        assert!(page.contains("\\fB\\-\\-root\\fR \\fIDIR\\fR"));
        assert!(page.contains("except in \\fBexec\\fR and \\fBps\\fR"));
    }

    #[test]
    fn unchecked_commands_show_only_help() {
        let page = command_page(find_command("checkpoint").unwrap());
        assert!(page.contains("Its arguments are not checked"));
        assert!(!page.contains(".SH ARGUMENTS"));
        assert_eq!(page.matches(".TP\n").count(), 1);
    }
}
