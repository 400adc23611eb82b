//! Error and debug reporting: to stderr, and to the `--log` file in the
//! `--log-format` engines read. containerd's shim takes a failed command's
//! reason from the log, so every error goes there as well as to stderr.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `time="…" level=error msg="…"`, like logrus's text format.
    Text,
    /// `{"level":"error","msg":"…","time":"…"}`, one object per line.
    Json,
}

impl Format {
    /// The format named `name` (`text` or `json`, which the parser checked).
    pub fn from_name(name: &str) -> Format {
        if name == "json" {
            Format::Json
        } else {
            Format::Text
        }
    }
}

/// Where errors and debug lines go.
#[derive(Debug)]
pub struct Logger {
    file: Option<File>,
    format: Format,
    debug: bool,
}

impl Logger {
    /// Errors to stderr only: before the global flags are known.
    pub fn stderr() -> Logger {
        Logger {
            file: None,
            format: Format::Text,
            debug: false,
        }
    }

    /// Appends to `path` if given; `debug` enables debug lines.
    pub fn open(path: Option<&Path>, format: Format, debug: bool) -> io::Result<Logger> {
        let file = match path {
            Some(path) => Some(OpenOptions::new().append(true).create(true).open(path)?),
            None => None,
        };
        Ok(Logger {
            file,
            format,
            debug,
        })
    }

    /// Reports an error: the plain `line` to stderr, and a log line to the
    /// log file.
    pub fn error(&mut self, line: &str) {
        self.write_file("error", line);
        write_stderr(&format!("{line}\n"));
    }

    /// Reports a warning: to stderr, and to the log file.
    pub fn warn(&mut self, line: &str) {
        self.write_file("warning", line);
        write_stderr(&format!("{line}\n"));
    }

    /// Reports a debug line (with `--debug` only): to the log file, or to
    /// stderr without one.
    pub fn debug(&mut self, message: &str) {
        if !self.debug {
            return;
        }
        let line = format_line(self.format, "debug", message, SystemTime::now());
        match self.file.as_mut() {
            // A failing log cannot be reported anywhere better; go on.
            Some(file) => drop(file.write_all(line.as_bytes())),
            None => write_stderr(&line),
        }
    }

    fn write_file(&mut self, level: &str, message: &str) {
        if let Some(file) = self.file.as_mut() {
            let line = format_line(self.format, level, message, SystemTime::now());
            // One write per line, so concurrent appenders do not interleave.
            drop(file.write_all(line.as_bytes()));
        }
    }
}

fn write_stderr(text: &str) {
    // Nothing sensible is left to do if stderr itself fails.
    drop(io::stderr().lock().write_all(text.as_bytes()));
}

/// One log line, newline included.
fn format_line(format: Format, level: &str, message: &str, time: SystemTime) -> String {
    // JSON string escaping also gives Go-like quoting for the text format.
    let quoted = serde_json::Value::from(message).to_string();
    let time = rfc3339_nanos(time);
    match format {
        Format::Json => format!("{{\"level\":\"{level}\",\"msg\":{quoted},\"time\":\"{time}\"}}\n"),
        Format::Text => format!("time=\"{time}\" level={level} msg={quoted}\n"),
    }
}

/// `time` as RFC 3339 in UTC with nanoseconds: `2024-02-29T12:34:56.123456789Z`.
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    libcoracle::state::rfc3339(since_epoch.as_secs() as i64, since_epoch.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn formats_utc_times_with_nanoseconds() {
        assert_eq!(rfc3339_nanos(at(0, 0)), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(
            rfc3339_nanos(at(1_709_210_096, 123_456_789)),
            "2024-02-29T12:34:56.123456789Z"
        );
        assert_eq!(
            rfc3339_nanos(at(951_868_799, 5)),
            "2000-02-29T23:59:59.000000005Z"
        );
        assert_eq!(
            rfc3339_nanos(at(4_107_542_400, 0)),
            "2100-03-01T00:00:00.000000000Z"
        );
        assert_eq!(
            rfc3339_nanos(at(1_735_689_599, 0)),
            "2024-12-31T23:59:59.000000000Z"
        );
    }

    #[test]
    fn json_lines_parse_back() {
        let line = format_line(Format::Json, "error", "bad \"id\"\n", at(1, 2));
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["level"], "error");
        assert_eq!(value["msg"], "bad \"id\"\n");
        assert_eq!(value["time"], "1970-01-01T00:00:01.000000002Z");
    }

    #[test]
    fn text_lines_quote_the_message() {
        let line = format_line(Format::Text, "debug", "create: parse 0.21 ms", at(0, 0));
        assert_eq!(
            line,
            "time=\"1970-01-01T00:00:00.000000000Z\" level=debug msg=\"create: parse 0.21 ms\"\n"
        );
        let quoted = line.split_once("msg=").unwrap().1.trim_end();
        let message: String = serde_json::from_str(quoted).unwrap();
        assert_eq!(message, "create: parse 0.21 ms");
    }

    #[test]
    fn errors_are_appended_to_the_log_file() {
        let path = std::env::temp_dir().join(format!("coracle-log-test-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut logger = Logger::open(Some(&path), Format::Json, true).unwrap();
        logger.debug("one");
        logger.error("two");
        let text = std::fs::read_to_string(&path);
        std::fs::remove_file(&path).unwrap();
        let levels: Vec<String> = text
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["level"].to_string())
            .collect();
        assert_eq!(levels, ["\"debug\"", "\"error\""]);
    }
}
