//! Tests of the command-line parser against the forms engines send.

use super::*;
use crate::table::Cmd;

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

/// Parses a command line that must be valid and not ask for help.
fn call(line: &str) -> Matches {
    match parse_command(&words(line)) {
        Ok(Parsed::Go(matches)) => matches,
        other => panic!("{line}: {other:?}"),
    }
}

fn error(line: &str) -> Error {
    parse_command(&words(line)).expect_err(line)
}

fn help_for(line: &str) -> Option<Cmd> {
    match parse_command(&words(line)) {
        Ok(Parsed::Help(command)) => command.map(|c| c.id),
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn value_flags_take_every_form() {
    for line in [
        "create --bundle /b id",
        "create --bundle=/b id",
        "create -b /b id",
        "create -b=/b id",
        "create -bundle /b id",
        "create id --bundle /b",
        "create id -b=/b",
    ] {
        let m = call(line);
        assert_eq!(m.value("bundle"), Some("/b"), "{line}");
        assert_eq!(m.args, ["id"], "{line}");
    }
}

#[test]
fn engines_create_line() {
    let m = call("create --bundle /b --pid-file /p --console-socket /s --preserve-fds 2 id");
    assert_eq!(m.command.unwrap().id, Cmd::Create);
    assert_eq!(m.value("pid-file"), Some("/p"));
    assert_eq!(m.value("console-socket"), Some("/s"));
    assert_eq!(m.number::<u32>("preserve-fds"), Ok(Some(2)));
    assert!(!m.is_on("no-pivot"));
}

#[test]
fn defaults_apply_when_flags_are_absent() {
    let m = call("create id");
    assert_eq!(m.value("bundle"), None);
    assert_eq!(m.number::<u32>("preserve-fds"), Ok(Some(0)));
    assert_eq!(call("list").value("format"), Some("table"));
}

#[test]
fn last_value_wins_for_single_flags() {
    assert_eq!(call("create -b a --bundle b id").value("bundle"), Some("b"));
}

#[test]
fn switches_take_go_booleans() {
    assert!(call("run -d id").is_on("detach"));
    assert!(call("run --detach=true id").is_on("detach"));
    assert!(!call("run --detach=false id").is_on("detach"));
    assert!(call("run id --detach=1").is_on("detach"));
    assert!(matches!(
        error("run --detach=maybe id"),
        Error::BadValue { flag: "detach", .. }
    ));
}

#[test]
fn exec_stops_reading_flags_at_the_command() {
    let m = call("exec --tty ID sh -c x -e A=1 --help");
    assert!(m.is_on("tty"));
    assert_eq!(m.args, ["ID", "sh", "-c", "x", "-e", "A=1", "--help"]);
    assert_eq!(m.values("env").count(), 0);
    // As in runc, flags after the id already belong to the command.
    assert_eq!(call("exec ID --tty sh").args, ["ID", "--tty", "sh"]);
}

#[test]
fn double_dash_ends_flags() {
    assert_eq!(call("exec ID -- sh -c x").args, ["ID", "sh", "-c", "x"]);
    assert_eq!(call("exec -t -- ID ls -l").args, ["ID", "ls", "-l"]);
    assert_eq!(call("kill -- ID 9").args, ["ID", "9"]);
    assert_eq!(call("delete -- -odd-id").args, ["-odd-id"]);
}

#[test]
fn repeated_flags_accumulate() {
    let m = call("exec -e A=1 --env B=2 -e=C=3 --env=D=4 -g 10 -g 20 -c CAP_KILL ID sh");
    assert_eq!(
        m.values("env").collect::<Vec<_>>(),
        ["A=1", "B=2", "C=3", "D=4"]
    );
    assert_eq!(m.numbers::<u32>("additional-gids"), Ok(vec![10, 20]));
    assert_eq!(m.values("cap").collect::<Vec<_>>(), ["CAP_KILL"]);
}

#[test]
fn engines_exec_line() {
    let m = call("exec --process /p.json --detach --pid-file /pid --tty --console-socket /s ID");
    assert_eq!(m.value("process"), Some("/p.json"));
    assert!(m.is_on("detach") && m.is_on("tty"));
    assert_eq!(m.args, ["ID"]);
}

#[test]
fn ps_arguments_are_not_flags() {
    let m = call("ps --format json ID");
    assert_eq!((m.value("format"), m.args.len()), (Some("json"), 1));
    assert_eq!(call("ps ID -ef").args, ["ID", "-ef"]);
    assert_eq!(call("ps ID -- -o pid").args, ["ID", "-o", "pid"]);
}

#[test]
fn kill_takes_flags_anywhere() {
    for line in ["kill --all ID 9", "kill ID --all 9", "kill ID 9 -a"] {
        let m = call(line);
        assert!(m.is_on("all"), "{line}");
        assert_eq!(m.args, ["ID", "9"], "{line}");
    }
    assert_eq!(call("kill ID").args, ["ID"]);
}

#[test]
fn a_lone_dash_is_a_value() {
    let m = call("update --resources - ID");
    assert_eq!(m.value("resources"), Some("-"));
    assert_eq!(m.args, ["ID"]);
}

#[test]
fn unknown_flags_are_refused() {
    let e = error("create --foo id");
    assert_eq!(e.to_string(), "unknown flag --foo for create");
    assert_eq!(
        error("create id --foo=bar").to_string(),
        "unknown flag --foo for create"
    );
    assert!(matches!(
        error("start -x id"),
        Error::UnknownFlag {
            command: "start",
            ..
        }
    ));
}

#[test]
fn argument_counts_are_checked() {
    assert_eq!(error("start").to_string(), "missing container-id for start");
    assert!(matches!(
        error("exec --tty"),
        Error::MissingArg {
            command: "exec",
            ..
        }
    ));
    assert_eq!(
        error("start a b").to_string(),
        "unexpected argument 'b' for start"
    );
    assert!(matches!(error("kill a 9 x"), Error::ExtraArg { .. }));
    assert!(matches!(error("list x"), Error::ExtraArg { .. }));
}

#[test]
fn values_must_be_present_and_allowed() {
    assert_eq!(
        error("create id --bundle").to_string(),
        "flag --bundle of create needs a value"
    );
    let e = error("list --format yaml");
    assert_eq!(
        e.to_string(),
        "invalid value 'yaml' for --format: expected one of table, json"
    );
    let m = call("create --preserve-fds many id");
    assert!(matches!(
        m.number::<u32>("preserve-fds"),
        Err(Error::BadValue { .. })
    ));
}

#[test]
fn unknown_commands_are_refused() {
    assert_eq!(
        error("frobnicate x"),
        Error::UnknownCommand("frobnicate".to_string())
    );
}

#[test]
fn aliases_resolve() {
    assert_eq!(call("ls -q").command.unwrap().id, Cmd::List);
}

#[test]
fn help_is_found_among_flags() {
    assert_eq!(help_for("create --help"), Some(Cmd::Create));
    assert_eq!(help_for("create id -h"), Some(Cmd::Create));
    assert_eq!(help_for("exec --help"), Some(Cmd::Exec));
    assert_eq!(call("help create").args, ["create"]);
}

#[test]
fn unsupported_commands_still_answer_help() {
    assert_eq!(help_for("checkpoint --help"), Some(Cmd::Checkpoint));
    let m = call("checkpoint --image-path /i --work-path /w ID");
    assert_eq!(m.command.unwrap().id, Cmd::Checkpoint);
    assert_eq!(call("restore -- --help").args, ["--", "--help"]);
}

fn global(line: &str) -> (Matches, usize) {
    match parse_global(&words(line)) {
        Ok(Parsed::Go(found)) => found,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn global_flags_precede_the_command() {
    let line = "--root /r --log=/l.json --log-format json --debug create --bundle b id";
    let (m, at) = global(line);
    assert_eq!(m.value("root"), Some("/r"));
    assert_eq!(m.value("log"), Some("/l.json"));
    assert_eq!(m.value("log-format"), Some("json"));
    assert!(m.is_on("debug") && !m.is_on("systemd-cgroup"));
    assert_eq!(at, 6);
    let rest = &words(line)[at..];
    assert_eq!(rest[0], "create");
    assert_eq!(
        parse_command(rest).map(|p| matches!(p, Parsed::Go(_))),
        Ok(true)
    );
}

#[test]
fn global_defaults_and_engine_flags() {
    let (m, at) = global("state id");
    assert_eq!(
        (m.value("root"), m.value("log"), at),
        (Some("/run/coracle"), None, 0)
    );
    let (m, _) = global("--cgroup-manager systemd --rootless=false --systemd-cgroup ps id");
    assert_eq!(m.value("cgroup-manager"), Some("systemd"));
    assert!(m.is_on("systemd-cgroup"));
    let (m, at) = global("-v");
    assert!(m.is_on("version"));
    assert_eq!(at, 1);
}

#[test]
fn global_flags_are_checked() {
    let e = parse_global(&words("--bundle b create id")).unwrap_err();
    assert_eq!(e.to_string(), "unknown flag --bundle for coracle");
    // crun's "disabled" (no cgroup) is refused, not quietly ignored.
    let e = parse_global(&words("--cgroup-manager disabled list")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value 'disabled' for --cgroup-manager: expected one of cgroupfs, systemd"
    );
    let e = parse_global(&words("--cgroup-manager nope list")).unwrap_err();
    assert!(matches!(
        e,
        Error::BadValue {
            flag: "cgroup-manager",
            ..
        }
    ));
    assert!(matches!(
        parse_global(&words("--help")),
        Ok(Parsed::Help(None))
    ));
    assert!(matches!(
        parse_global(&words("--root")),
        Err(Error::MissingValue { .. })
    ));
}

#[test]
fn globals_before_an_error_are_kept() {
    let m = globals_before_error(&words("--log /l --log-format xml --root /r list"));
    assert_eq!(m.value("log"), Some("/l"));
    assert_eq!(m.value("log-format"), Some("text"));
    assert_eq!(m.value("root"), Some("/run/coracle"));
    let m = globals_before_error(&words("--bogus --log /l list"));
    assert_eq!(m.value("log"), None);
}

#[test]
fn non_utf8_arguments_are_reported() {
    use std::os::unix::ffi::OsStringExt;
    let args = vec![OsString::from("state"), OsString::from_vec(vec![0xff])];
    assert_eq!(collect(args.into_iter()), Err(Error::NotUtf8(2)));
}
