//! The phase trace: with `--debug`, how long each phase of an operation took,
//! so that every millisecond of a container's start has a name.
//!
//! Marks are cheap (one clock read) and cost nothing when disabled. The init
//! keeps its own copy after `clone` and sends its lines back over the
//! channel, so one trace covers both processes.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

/// A recorder of named phases.
#[derive(Debug)]
pub struct Trace {
    enabled: bool,
    last: Cell<Instant>,
    lines: RefCell<Vec<String>>,
}

impl Trace {
    /// A trace that records only when `enabled`.
    pub fn new(enabled: bool) -> Trace {
        Trace {
            enabled,
            last: Cell::new(Instant::now()),
            lines: RefCell::new(Vec::new()),
        }
    }

    /// Whether phases are recorded.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Ends the phase `name`: records the time since the previous mark.
    pub fn phase(&self, name: &str) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        self.record(name, now.duration_since(self.last.replace(now)));
    }

    /// Records a phase measured elsewhere (across an `execve`, say), which
    /// moves no mark.
    pub fn record(&self, name: &str, took: Duration) {
        if !self.enabled {
            return;
        }
        let micros = took.as_micros();
        self.lines
            .borrow_mut()
            .push(format!("{name}: {}.{:03} ms", micros / 1000, micros % 1000));
    }

    /// Restarts the clock without recording (after waiting on something
    /// that is not ours, such as another process).
    pub fn reset(&self) {
        self.last.set(Instant::now());
    }

    /// Adds lines recorded elsewhere (by the init), prefixed with `who`.
    pub fn extend(&self, who: &str, lines: &str) {
        if !self.enabled {
            return;
        }
        let mut own = self.lines.borrow_mut();
        own.extend(lines.lines().map(|line| format!("{who} {line}")));
    }

    /// The recorded lines, joined by newlines (what the init sends back).
    pub fn joined(&self) -> String {
        self.lines.borrow().join("\n")
    }

    /// Takes the recorded lines out.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.lines.borrow_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_when_enabled() {
        let off = Trace::new(false);
        off.phase("parse");
        assert!(off.take().is_empty());

        let on = Trace::new(true);
        on.phase("parse");
        on.extend("init", "mounts: 0.100 ms\npivot: 0.020 ms");
        let lines = on.take();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("parse: ") && lines[0].ends_with(" ms"));
        assert_eq!(lines[2], "init pivot: 0.020 ms");
    }
}
