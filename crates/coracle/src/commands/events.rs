//! `events`: the container's statistics and OOM kills as JSON lines on
//! stdout, each flushed at once (a reader follows them live).

use super::Error;
use crate::args::{self, Matches};
use libcoracle::lifecycle::Runtime;
use std::io::Write;
use std::time::Duration;

/// Runs `events [--stats] [--interval D] ID`.
pub(super) fn events(runtime: &Runtime, call: &Matches) -> Result<(), Error> {
    let text = call.value("interval").unwrap_or("5s");
    let interval = parse_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| args::Error::BadValue {
            flag: "interval",
            value: text.to_string(),
            expected: "a duration longer than 0 such as 500ms, 5s or 1m30s".to_string(),
        })?;
    let mut out = std::io::stdout().lock();
    let mut sink = |line: &str| {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        out.flush()
    };
    Ok(runtime.events(&call.args[0], call.is_on("stats"), interval, &mut sink)?)
}

/// A duration as runc reads it (Go's `time.ParseDuration`): numbers, each
/// with a fraction or not and a unit (`ns`, `us` or `µs`, `ms`, `s`, `m`,
/// `h`), one after the other: `300ms`, `1.5s`, `1m30s`; or a bare `0`.
fn parse_duration(text: &str) -> Option<Duration> {
    if text == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = text;
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (number, after) = rest.split_at(number_end);
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_end);
        let unit_nanos: u64 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        total = total.checked_add(Duration::from_nanos(nanos(number, unit_nanos)?))?;
        rest = next;
    }
    (!text.is_empty()).then_some(total)
}

/// `number` (`12`, `1.5`, `.5`) units of `unit_nanos` nanoseconds, in
/// nanoseconds; whole units exactly, a fraction truncated to the nanosecond.
fn nanos(number: &str, unit_nanos: u64) -> Option<u64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return None;
    }
    let whole: u64 = match whole {
        "" => 0,
        digits => digits.parse().ok()?,
    };
    let mut part = 0u64;
    let mut scale = unit_nanos;
    for digit in fraction.bytes() {
        scale /= 10;
        part += u64::from(digit - b'0') * scale;
    }
    whole.checked_mul(unit_nanos)?.checked_add(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go() {
        for (text, want) in [
            ("0", Duration::ZERO),
            ("5s", Duration::from_secs(5)),
            ("300ms", Duration::from_millis(300)),
            ("1.5s", Duration::from_millis(1500)),
            ("1m30s", Duration::from_secs(90)),
            ("2h", Duration::from_secs(7200)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("250ns", Duration::from_nanos(250)),
            (".5s", Duration::from_millis(500)),
        ] {
            assert_eq!(parse_duration(text), Some(want), "{text}");
        }
        for bad in ["", "5", "s", "5x", "-5s", "1..5s", "5 s", "1.2.3s", ".s"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}
