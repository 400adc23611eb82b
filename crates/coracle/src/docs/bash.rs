//! The bash completion: `complete -F _coracle coracle`.
//!
//! The table becomes a few lookup functions (`case` statements); the
//! functions that read the command line are the same for every table.

use super::{
    alias_arms, completed_args, names, parsed, rest_arms, scopes, script_header, spellings,
    value_flag_keys, value_of, with_help, Arm, Value,
};
use crate::table::{ArgKind, Command, Flag, COMMANDS};
use std::fmt::Write;

/// The whole completion script.
pub fn script() -> String {
    let mut out = script_header("#", "bash");
    out.push('\n');
    let all_names: Vec<&str> = COMMANDS.iter().flat_map(names).collect();
    let _ = writeln!(out, "_coracle_command_names='{}'", all_names.join(" "));
    write_canonical(&mut out);
    write_flags(&mut out);
    write_takes_value(&mut out);
    write_values(&mut out);
    write_rest_at(&mut out);
    write_arg_kinds(&mut out);
    out.push_str(READER);
    out
}

/// A lookup as a shell function: a comment, then a `case` over `subject`
/// with one arm per `(patterns, body)`.
fn write_function(out: &mut String, doc: &str, name: &str, subject: &str, arms: &[Arm]) {
    let _ = writeln!(out, "\n# {doc}\n{name}() {{\n\tcase {subject} in");
    for (patterns, body) in arms {
        let _ = writeln!(out, "\t{}) {body} ;;", patterns.join(" | "));
    }
    out.push_str("\tesac\n}\n");
}

/// `'create --bundle'`: a lookup key quoted as a `case` pattern.
fn pattern(key: &str) -> String {
    format!("'{key}'")
}

/// `_coracle_canonical`: a command's name for any of its names.
fn write_canonical(out: &mut String) {
    let mut arms = alias_arms();
    arms.push((vec!["*".to_string()], "printf '%s\\n' \"$1\"".to_string()));
    let doc = "Prints the name of the command called $1.";
    write_function(out, doc, "_coracle_canonical", "$1", &arms);
}

/// `_coracle_flags`: every spelling of the flags of a command.
fn write_flags(out: &mut String) {
    let arms: Vec<Arm> = scopes()
        .map(|(scope, flags)| {
            let words: Vec<String> = with_help(flags).flat_map(spellings).collect();
            (vec![pattern(scope)], format!("echo '{}'", words.join(" ")))
        })
        .collect();
    let doc = "Prints the flags of command $1 (\"\" for the global flags).";
    write_function(out, doc, "_coracle_flags", "$1", &arms);
}

/// `_coracle_takes_value`: whether a flag of a command takes a value.
fn write_takes_value(out: &mut String) {
    let patterns = value_flag_keys().iter().map(|k| pattern(k)).collect();
    let arms = [
        (patterns, "return 0".to_string()),
        (vec!["*".to_string()], "return 1".to_string()),
    ];
    let doc = "Succeeds when flag $2 of command $1 takes a value.";
    write_function(out, doc, "_coracle_takes_value", "\"$1 $2\"", &arms);
}

/// `_coracle_value`: fills COMPREPLY with the values of a flag.
fn write_values(out: &mut String) {
    let arms: Vec<Arm> = scopes()
        .flat_map(|(scope, flags)| {
            flags.iter().filter_map(move |flag| {
                let action = value_action(flag)?;
                let keys = spellings(flag).into_iter();
                Some((
                    keys.map(|w| pattern(&format!("{scope} {w}"))).collect(),
                    action,
                ))
            })
        })
        .collect();
    let doc = "Offers the values of flag $2 of command $1 that start with $3.";
    write_function(out, doc, "_coracle_value", "\"$1 $2\"", &arms);
}

/// The call that offers `flag`'s values, or `None` when there is nothing to
/// offer.
fn value_action(flag: &Flag) -> Option<String> {
    match value_of(flag) {
        Value::Choices(choices) => Some(format!("_coracle_words '{}' \"$3\"", choices.join(" "))),
        Value::Dir => Some("_coracle_dirs \"$3\"".to_string()),
        Value::File => Some("_coracle_files \"$3\"".to_string()),
        Value::Switch | Value::Any => None,
    }
}

/// `_coracle_rest_at`: the position of a command's rest argument.
fn write_rest_at(out: &mut String) {
    let doc = "Prints the position of the argument of command $1 that takes every \
               remaining word.";
    write_function(out, doc, "_coracle_rest_at", "$1", &rest_arms());
}

/// `_coracle_arg_kind`: what the argument at a position of a command is.
fn write_arg_kinds(out: &mut String) {
    let parsed_commands = COMMANDS.iter().filter(|c| parsed(c));
    let arms: Vec<Arm> = parsed_commands.flat_map(arg_arms).collect();
    let doc = "Prints what argument $2 (from 0) of command $1 is: id or command.";
    write_function(out, doc, "_coracle_arg_kind", "\"$1 $2\"", &arms);
}

/// The arms of `_coracle_arg_kind` for one command.
fn arg_arms(command: &'static Command) -> impl Iterator<Item = Arm> {
    completed_args(command).map(|(i, kind, rest)| {
        let at = if rest {
            "'*".to_string()
        } else {
            format!("{i}'")
        };
        let word = match kind {
            ArgKind::ContainerId => "id",
            ArgKind::CommandName => "command",
            ArgKind::Text => "text",
        };
        (
            vec![format!("'{} {at}", command.name)],
            format!("echo {word}"),
        )
    })
}

/// The functions that read the command line; they use the lookups above.
const READER: &str = r#"
# Offers the words of $1 that start with $2.
_coracle_words() {
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Offers the files whose names start with $1.
_coracle_files() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -f -- "$1")
}

# Offers the directories whose names start with $1.
_coracle_dirs() {
	compopt -o filenames 2>/dev/null
	mapfile -t COMPREPLY < <(compgen -d -- "$1")
}

# Prints flag $1 as the lookups spell it: -root becomes --root.
_coracle_long() {
	case $1 in
	--* | -?) printf '%s\n' "$1" ;;
	*) printf '%s\n' "-$1" ;;
	esac
}

# Reads COMP_WORDS[1] up to COMP_WORDS[$1] (excluded) into the caller's
# command, count (its arguments so far), rest (set once its last argument
# takes every word), pending (a flag still waiting for its value) and root
# (the --root option to pass on to `coracle list`).
_coracle_scan() {
	local i word ended='' rest_at=''
	for ((i = 1; i < $1; i++)); do
		word=${COMP_WORDS[i]}
		if [[ ${COMP_WORDS[i + 1]} == = ]] && ((i + 2 < $1)); then
			word+="=${COMP_WORDS[i + 2]}"
			((i += 2))
		fi
		if [[ -n $pending ]]; then
			[[ -z $command && $pending == --root ]] && root=(--root "$word")
			pending=''
		elif [[ -n $rest ]]; then
			((count++))
		elif [[ $word == -- ]]; then
			if [[ -n $command ]]; then rest=1; else ended=1; fi
		elif [[ $word == -?* && -z $ended ]]; then
			word=$(_coracle_long "$word")
			if [[ $word == *=* ]]; then
				[[ -z $command && ${word%%=*} == --root ]] && root=(--root "${word#*=}")
			elif _coracle_takes_value "$command" "$word"; then
				pending=$word
			fi
		elif [[ -z $command ]]; then
			command=$(_coracle_canonical "$word")
			rest_at=$(_coracle_rest_at "$command")
		else
			((count++))
		fi
		[[ -n $command && $count == "$rest_at" ]] && rest=1
	done
}

# Completes COMP_WORDS[COMP_CWORD], the word under the cursor.
_coracle() {
	local cur=${COMP_WORDS[COMP_CWORD]} end=$COMP_CWORD flag='' keep=''
	# bash splits --flag=value into three words: --flag, = and value.
	if [[ $cur == = ]]; then
		end=$((COMP_CWORD - 1)) cur=''
	elif [[ ${COMP_WORDS[COMP_CWORD - 1]} == = ]]; then
		end=$((COMP_CWORD - 2))
	elif [[ $cur == -*=* ]]; then
		flag=${cur%%=*} keep=${cur%%=*}= cur=${cur#*=}
	fi
	COMPREPLY=()
	if ((end < COMP_CWORD)); then
		flag=${COMP_WORDS[end]}
		[[ $flag == -?* ]] || return 0
	fi
	local command='' count=0 rest='' pending=''
	local -a root=()
	_coracle_scan "$end"
	[[ -z $flag ]] && flag=$pending
	if [[ -n $flag ]]; then
		_coracle_value "$command" "$(_coracle_long "$flag")" "$cur"
		[[ -n $keep ]] && COMPREPLY=("${COMPREPLY[@]/#/$keep}")
	elif [[ -z $rest && $cur == -* ]]; then
		_coracle_words "$(_coracle_flags "$command")" "$cur"
	elif [[ -z $command ]]; then
		_coracle_words "$_coracle_command_names" "$cur"
	else
		case $(_coracle_arg_kind "$command" "$count") in
		id) _coracle_words "$("${COMP_WORDS[0]}" "${root[@]}" list -q 2>/dev/null)" "$cur" ;;
		command) _coracle_words "$_coracle_command_names" "$cur" ;;
		esac
	fi
	return 0
}

complete -F _coracle coracle
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_come_from_the_table() {
        let text = script();
        assert!(text.contains("\tls) echo list ;;\n"));
        assert!(text.contains("_coracle_words 'text json' \"$3\""));
        assert!(text.contains("'create -b' | 'create --bundle') _coracle_dirs \"$3\" ;;"));
        assert!(text.contains("'kill 0') echo id ;;"));
        assert!(text.contains("'help 0') echo command ;;"));
        assert!(text.contains("\texec) echo 1 ;;"));
    }
}
