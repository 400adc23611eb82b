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
