//! The command line itself, end to end: every command's help, and where
//! errors of the global flags are reported.

mod common;

use common::*;
use coracle::table::COMMANDS;

/// `CMD --help`, `CMD -h` and `help CMD` of every command print its help
/// and exit 0; coracle's (its aliases' too, which runc lacks) names the
/// command, its usage and every one of its flags, the same text each way.
#[test]
fn every_command_has_help() {
    let t = Test::new();
    for command in COMMANDS {
        let aliases = if is_coracle() { command.aliases } else { &[] };
        for name in std::iter::once(&command.name).chain(aliases) {
            let long = t.rt(&[name, "--help"]).ok();
            assert!(long.stderr.is_empty(), "{long}");
            assert!(long.stdout.contains(command.name), "{long}");
            let short = t.rt(&[name, "-h"]).ok();
            let via_help = t.rt(&["help", name]).ok();
            if !is_coracle() {
                continue;
            }
            let title = format!("coracle {} - {}\n", command.name, command.summary);
            assert!(long.stdout.starts_with(&title), "{long}");
            let usage = format!("Usage: coracle [global options] {}", command.name);
            assert!(long.stdout.contains(&usage), "{long}");
            for flag in command.flags {
                assert!(long.stdout.contains(&format!("--{}", flag.long)), "{long}");
            }
            assert_eq!(short.stdout, long.stdout, "{name} -h");
            assert_eq!(via_help.stdout, long.stdout, "help {name}");
        }
    }
}

/// An error in the global flags goes to the `--log` given before it too
/// (engines read the reason of a failure from there), in its format;
/// a `--log` after the error is never read.
#[test]
fn global_flag_errors_reach_the_log() {
    let t = Test::new();
    if skip_unless_coracle("logging an error of the global flags (runc does not)") {
        return;
    }
    let json_log = t.dir.join("json.log");
    let line = "coracle: unknown flag --bogus for coracle";
    let path = json_log.to_str().unwrap();
    t.rt(&["--log", path, "--log-format", "json", "--bogus", "list"])
        .fails_with(line);
    let entry: serde_json::Value = serde_json::from_str(read(&json_log).trim()).unwrap();
    assert_eq!(
        (&entry["level"], &entry["msg"]),
        (&"error".into(), &line.into())
    );

    let text_log = t.dir.join("text.log");
    let line = "coracle: invalid value 'xml' for --log-format: expected one of text, json";
    t.rt(&[
        "--log",
        text_log.to_str().unwrap(),
        "--log-format",
        "xml",
        "list",
    ])
    .fails_with(line);
    let text = read(&text_log);
    assert!(
        text.contains(&format!("level=error msg=\"{line}\"")),
        "{text}"
    );

    let late_log = t.dir.join("late.log");
    t.rt(&["--bogus", "--log", late_log.to_str().unwrap(), "list"])
        .fails_with("coracle: unknown flag --bogus for coracle");
    assert!(!late_log.exists());
}
