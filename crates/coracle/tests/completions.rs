//! The generated shell completions work: each is loaded into its shell and
//! asked to complete command lines (a command name, the flags of a command,
//! the choices of a flag, directories, and container ids from a stand-in
//! `coracle list -q` that honours `--root`).
//!
//! They need bash, zsh and fish (Debian: `bash`, `zsh`, `fish`); a test
//! whose shell is missing prints why it skips.

use coracle::docs::{documents, COMPLETIONS_DIR};
use coracle::table::{find_command, COMMANDS};
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory with the completions, a stand-in `coracle` on a
/// `bin/` directory and a bundle-like tree to complete paths in; removed
/// when dropped.
struct Scratch {
    dir: PathBuf,
}

/// What the stand-in `coracle` prints: the ids of two containers, or one
/// other id under `--root /other`.
const FAKE_CORACLE: &str = "#!/bin/sh
if [ \"$1\" = --root ] && [ \"$2\" = /other ]; then shift 2; ids=other1; else ids='alpha beta'; fi
[ \"$*\" = 'list -q' ] || exit 1
printf '%s\\n' $ids
";

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("coracle-completions-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("bundle-dir")).unwrap();
        std::fs::write(dir.join("bundle-file"), "").unwrap();
        let fake = dir.join("bin/coracle");
        std::fs::write(&fake, FAKE_CORACLE).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        for document in documents() {
            if let Some(name) = document.path.strip_prefix(&format!("{COMPLETIONS_DIR}/")) {
                std::fs::write(dir.join(name), document.text).unwrap();
            }
        }
        Scratch { dir }
    }

    /// A path in the scratch directory, as a string for a shell.
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    /// Runs `program` with `args` in the scratch directory, with the
    /// stand-in `coracle` first on PATH.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let path = format!(
            "{}:{}",
            self.path("bin"),
            std::env::var("PATH").unwrap_or_default()
        );
        let output = Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env("PATH", path)
            .env("TERM", "dumb")
            // The shells may write history or settings: not in the real home.
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("config"))
            .env("XDG_DATA_HOME", self.dir.join("data"))
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {stderr}"
        );
        assert!(stderr.is_empty(), "{program} {args:?} says: {stderr}");
        output
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `shell` is installed; prints why the test skips when not.
fn have(shell: &str) -> bool {
    // Looked up on PATH rather than run: a first run may write settings
    // into the home directory.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).any(|dir| dir.join(shell).is_file());
    if !found {
        // Straight to stderr, past the test harness's capture, so that the
        // skip shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "skipping: {shell} is not installed (Debian package {shell})"
        );
    }
    found
}

/// The set of words in `text`.
fn set(text: &str) -> BTreeSet<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// Every spelling of the flags of `command` (`-h`, `--help` included).
fn flag_spellings(command: &str) -> BTreeSet<String> {
    let command = find_command(command).unwrap();
    let flags = command.flags.iter().chain([&coracle::table::HELP]);
    flags
        .flat_map(|f| {
            f.short
                .map(|c| format!("-{c}"))
                .into_iter()
                .chain([format!("--{}", f.long)])
        })
        .collect()
}

/// Sets COMP_WORDS and COMP_CWORD as bash would for these words (the last
/// one under the cursor), calls `_coracle` and prints COMPREPLY on a line.
const BASH_DRIVER: &str = r#"source ./coracle.bash
complete -p coracle
reply() {
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_coracle
	printf '%s\n' "${COMPREPLY[*]}"
}
"#;

/// The completions bash offers for each command line (words, the last under
/// the cursor), one string of words each.
fn bash_replies(scratch: &Scratch, lines: &[Vec<String>]) -> Vec<String> {
    let mut script = BASH_DRIVER.to_string();
    for words in lines {
        let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
        script.push_str(&format!("reply {}\n", quoted.join(" ")));
    }
    let output = scratch.run("bash", &["--norc", "--noprofile", "-c", &script]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines_out = text.lines().map(str::to_string);
    assert_eq!(
        lines_out.next().as_deref(),
        Some("complete -F _coracle coracle")
    );
    lines_out.collect()
}

/// Splits a command line into words; `''` stands for an empty last word.
fn words(line: &str) -> Vec<String> {
    line.split(' ')
        .map(|w| {
            if w == "''" {
                String::new()
            } else {
                w.to_string()
            }
        })
        .collect()
}

#[test]
fn bash_completes_commands_flags_and_values() {
    if !have("bash") {
        return;
    }
    let scratch = Scratch::new("bash");
    let cases = [
        ("coracle cre", "create"),
        ("coracle create --b", "--bundle"),
        ("coracle --log-format ''", "text json"),
        ("coracle --log-format = ''", "text json"),
        ("coracle --log-format = j", "json"),
        ("coracle --log-format=j", "--log-format=json"),
        ("coracle list --format t", "table"),
        ("coracle start ''", "alpha beta"),
        ("coracle --root /other kill ''", "other1"),
        ("coracle --root = /other delete o", "other1"),
        ("coracle --root=/other state ''", "other1"),
        ("coracle exec -e A = B al", "alpha"),
        ("coracle create ''", ""),
        ("coracle exec alpha -", ""),
        ("coracle help upd", "update"),
    ];
    let lines: Vec<Vec<String>> = cases.iter().map(|(line, _)| words(line)).collect();
    let replies = bash_replies(&scratch, &lines);
    assert_eq!(replies.len(), cases.len());
    for ((line, expected), reply) in cases.iter().zip(&replies) {
        assert_eq!(reply, expected, "completing `{line}`");
    }
    let prefix = scratch.path("bundle-");
    let paths = bash_replies(
        &scratch,
        &[
            words(&format!("coracle create --bundle {prefix}")),
            words(&format!("coracle create --pid-file {prefix}")),
        ],
    );
    assert_eq!(paths[0], scratch.path("bundle-dir"));
    assert_eq!(set(&paths[1]), set(&format!("{prefix}dir {prefix}file")));
}

#[test]
fn bash_offers_every_command_and_flag_of_the_table() {
    if !have("bash") {
        return;
    }
    let scratch = Scratch::new("bash-table");
    let mut lines = vec![words("coracle ''")];
    lines.extend(
        COMMANDS
            .iter()
            .map(|c| words(&format!("coracle {} -", c.name))),
    );
    let replies = bash_replies(&scratch, &lines);
    assert_eq!(replies.len(), lines.len());
    let names: BTreeSet<String> = COMMANDS
        .iter()
        .flat_map(|c| [c.name].into_iter().chain(c.aliases.iter().copied()))
        .map(str::to_string)
        .collect();
    assert_eq!(set(&replies[0]), names);
    for (command, reply) in COMMANDS.iter().zip(&replies[1..]) {
        assert_eq!(
            set(reply),
            flag_spellings(command.name),
            "flags of {}",
            command.name
        );
    }
}

/// The first field of each completion fish offers for `line`.
fn fish_replies(scratch: &Scratch, line: &str) -> Vec<String> {
    let script = "source ./coracle.fish; complete -C $argv[1]";
    let output = scratch.run("fish", &["--no-config", "-c", script, line]);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn fish_completes_commands_flags_and_values() {
    if !have("fish") {
        return;
    }
    let scratch = Scratch::new("fish");
    scratch.run("fish", &["--no-config", "--no-execute", "coracle.fish"]);
    let cases = [
        ("coracle cre", "create"),
        ("coracle create --b", "--bundle"),
        ("coracle --log-format ", "json text"),
        (
            "coracle --log-format=",
            "--log-format=json --log-format=text",
        ),
        ("coracle list -f t", "table"),
        ("coracle start ", "alpha beta"),
        ("coracle --root /other kill ", "other1"),
        ("coracle --root=/other delete ", "other1"),
        ("coracle exec -e A=B al", "alpha"),
        ("coracle create ", ""),
        ("coracle exec alpha -", ""),
        ("coracle help upd", "update"),
    ];
    for (line, expected) in cases {
        assert_eq!(
            fish_replies(&scratch, line).join(" "),
            expected,
            "completing `{line}`"
        );
    }
    let prefix = scratch.path("bundle-");
    let dirs = fish_replies(&scratch, &format!("coracle create --bundle {prefix}"));
    assert_eq!(dirs, [format!("{prefix}dir/")]);
    let create = fish_replies(&scratch, "coracle create -");
    assert_eq!(
        create.into_iter().collect::<BTreeSet<_>>(),
        flag_spellings("create")
    );
}

/// Starts an interactive zsh on a pseudo-terminal (zsh's zpty module) with
/// the completion in `fpath`, types each line of `$@` followed by TAB, and
/// writes the edited line to the file `out`, one per line typed.
const ZSH_DRIVER: &str = r#"zmodload zsh/zpty || exit 3
out=$PWD/out
: >$out
# Waits until $out has $1 lines.
wait_for() {
	local i
	for i in {1..250}; do
		(( $(wc -l <$out) >= $1 )) && return 0
		sleep 0.02
	done
	print -u2 "zsh did not complete line $1"
	exit 1
}
zpty inner zsh -f -i
zpty -w inner "fpath=($PWD/functions \$fpath); autoload -U compinit; compinit -u -D
show() { print -r -- \"\$BUFFER\" >>$out }; zle -N show; bindkey '^G' show; print ready >>$out"
wait_for 1
n=1
for line in "$@"; do
	zpty -w -n inner "$line"$'\t\a\x15'
	wait_for $(( ++n ))
done
zpty -d inner
"#;

#[test]
fn zsh_completes_commands_flags_and_values() {
    if !have("zsh") {
        return;
    }
    let scratch = Scratch::new("zsh");
    scratch.run("zsh", &["-n", "coracle.zsh"]);
    std::fs::create_dir_all(scratch.dir.join("functions")).unwrap();
    std::fs::copy(
        scratch.dir.join("coracle.zsh"),
        scratch.dir.join("functions/_coracle"),
    )
    .unwrap();
    std::fs::write(scratch.dir.join("driver.zsh"), ZSH_DRIVER).unwrap();
    let prefix = scratch.path("bundle-d");
    let cases = [
        ("coracle cre", "coracle create "),
        ("coracle create --bun", "coracle create --bundle="),
        ("coracle --log-format=j", "coracle --log-format=json "),
        (
            "coracle --cgroup-manager sy",
            "coracle --cgroup-manager systemd ",
        ),
        ("coracle list --format t", "coracle list --format table "),
        (
            "coracle --root /other start ",
            "coracle --root /other start other1 ",
        ),
        ("coracle kill al", "coracle kill alpha "),
        ("coracle help upd", "coracle help update "),
        ("coracle checkpoint --he", "coracle checkpoint --help "),
        (
            &*format!("coracle create -b {prefix}"),
            &*format!("coracle create -b {prefix}ir/"),
        ),
    ];
    let mut args = vec!["-f", "driver.zsh"];
    args.extend(cases.iter().map(|(line, _)| *line));
    scratch.run("zsh", &args);
    let out = std::fs::read_to_string(Path::new(&scratch.path("out"))).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"ready"));
    assert_eq!(lines.len(), cases.len() + 1, "{out}");
    for ((line, expected), got) in cases.iter().zip(&lines[1..]) {
        assert_eq!(got, expected, "completing `{line}`");
    }
}
