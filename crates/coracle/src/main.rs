//! The `coracle` command line: runc's commands and flags over `libcoracle`.
//!
//! Parsing is table-driven (`table`, `args`) rather than a framework, because
//! start-up time and binary size are features: a container engine calls the
//! runtime several times per container.

mod args;
mod commands;
mod help;
mod log;

use args::Parsed;
use coracle::table;
use libcoracle::process::CallerFds;
use libcoracle::protect::{Protected, Protection};
use log::Logger;

fn main() {
    std::process::exit(run_cli());
}

/// Parses the command line, runs the command, reports errors; returns the
/// exit status.
fn run_cli() -> i32 {
    // First of all, before the log file or anything else is opened: only
    // the descriptors the caller passed may reach a container.
    let caller_fds = CallerFds::note();
    let mut log = Logger::stderr();
    let argv = match args::collect(std::env::args_os().skip(1)) {
        Ok(argv) => argv,
        Err(e) => return fail(&mut log, &format!("coracle: {e}")),
    };
    let (global, at) = match args::parse_global(&argv) {
        Ok(Parsed::Go(found)) => found,
        Ok(Parsed::Help(_)) => return show(&help::global_help()),
        Err(e) => {
            // Engines read errors from the log: one named before the
            // faulty flag gets this one too.
            if let Ok(opened) = open_log(&args::globals_before_error(&argv)) {
                log = opened;
            }
            return fail(&mut log, &format!("coracle: {e}"));
        }
    };
    if global.is_on("version") {
        return show(&help::version());
    }
    if at == argv.len() {
        return show(&help::global_help());
    }
    log = match open_log(&global) {
        Ok(log) => log,
        Err(line) => return fail(&mut log, &line),
    };
    let call = match args::parse_command(&argv[at..]) {
        Ok(Parsed::Go(call)) => call,
        Ok(Parsed::Help(command)) => {
            return show(&command.map_or_else(help::global_help, help::command_help))
        }
        Err(e) => return fail(&mut log, &format!("coracle: {e}")),
    };
    let protected = if enters_a_container(call.name()) {
        match libcoracle::protect::ensure_protected(global.is_on("debug")) {
            Ok(protected) => Some(protected),
            Err(e) => return fail(&mut log, &format!("coracle {}: {e}", call.name())),
        }
    } else {
        None
    };
    let runtime = commands::runtime(&global, caller_fds);
    if let Some(Protected {
        by,
        reexec: Some(took),
    }) = protected
    {
        let phase = match by {
            Protection::ReadOnlyMount => "re-execute from a read-only mount of the binary",
            Protection::SealedCopy => "re-execute from a sealed copy of the binary",
        };
        runtime.record_phase(phase, took);
    }
    let result = commands::execute(&runtime, &call);
    for line in runtime.take_trace() {
        log.debug(&line);
    }
    for warning in runtime.take_warnings() {
        log.warn(&format!("coracle {}: warning: {warning}", call.name()));
    }
    match result {
        Ok(code) => code,
        Err(e) => fail(&mut log, &e.line(call.name())),
    }
}

/// Whether `command` puts coracle's code into a container (its init, an
/// exec'd process), where a container process could reach the binary:
/// only those pay for [`libcoracle::protect`].
fn enters_a_container(command: &str) -> bool {
    matches!(command, "create" | "run" | "exec")
}

/// The logger of the global flags `--log`, `--log-format` and `--debug`;
/// the error line when the log file cannot be opened.
fn open_log(global: &args::Matches) -> Result<Logger, String> {
    let path = global.value("log").map(std::path::Path::new);
    let format = log::Format::from_name(global.value("log-format").unwrap_or_default());
    Logger::open(path, format, global.is_on("debug")).map_err(|e| {
        let path = path.unwrap_or_else(|| std::path::Path::new("")).display();
        format!("coracle: open log file {path}: {e}")
    })
}

/// Prints help or version text; exit status 0 unless stdout fails.
fn show(text: &str) -> i32 {
    match commands::print(text) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

fn fail(log: &mut Logger, line: &str) -> i32 {
    log.error(line);
    1
}
