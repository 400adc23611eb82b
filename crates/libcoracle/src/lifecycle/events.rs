//! `events`: a container's resource statistics and out-of-memory kills, as
//! the JSON lines of runc's `events` (`{"type":"stats","id":…,"data":…}`
//! and `{"type":"oom","id":…}`).
//!
//! The stream waits in one `poll` on the cgroup's OOM notification
//! descriptor and the init's pidfd, with the time left until the next
//! statistics as the timeout: nothing wakes up between events.

use super::start::open_init;
use super::{wrong_state, Error, Runtime};
use crate::cgroups::{Cgroup, OomWatcher, Stats};
use crate::spec::Status;
use crate::sys;
use serde::Serialize;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

/// One line of `events`, in runc's shape.
#[derive(Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Stats>,
}

/// Where the lines go; an error (a closed pipe) ends the stream.
type Sink<'a> = dyn FnMut(&str) -> io::Result<()> + 'a;

impl Runtime {
    /// Reports the events of a created, running or paused container to
    /// `sink`, one JSON object per call. With `stats_once`, one `stats`
    /// event and done. Otherwise a stream: a `stats` event every `interval`
    /// and an `oom` event for each out-of-memory kill, until the container
    /// stops or its cgroup is removed. Takes no lock: the stream must not
    /// hold up `delete`.
    pub fn events(
        &self,
        id: &str,
        stats_once: bool,
        interval: Duration,
        sink: &mut Sink<'_>,
    ) -> Result<(), Error> {
        if interval.is_zero() {
            return Err(Error::Usage(
                "events: the interval must be longer than 0".into(),
            ));
        }
        let Some(record) = self.root.peek(id)? else {
            return Err(wrong_state(id, Status::Creating, "it has no events yet"));
        };
        let status = self.status_of(&record, self.root.fifo_exists(id));
        if matches!(status, Status::Stopped | Status::Creating) {
            return Err(wrong_state(id, status, "only a live container has events"));
        }
        let cgroup = Cgroup::from_record(&record.cgroup);
        if stats_once {
            return emit_stats(id, &cgroup, sink);
        }
        // The pidfd first: a watcher made after the init exited would wait
        // for a removal that may never come.
        let init = open_init(&record)?;
        let oom = match cgroup.oom_events() {
            Ok(watcher) => Some(watcher),
            Err(err) => {
                self.warn(format!("no out-of-memory events for {id}: {err}"));
                None
            }
        };
        Stream {
            id,
            cgroup,
            init,
            oom,
            interval,
        }
        .run(sink)
    }
}

/// What the event stream of one container watches.
struct Stream<'a> {
    id: &'a str,
    cgroup: Cgroup,
    init: OwnedFd,
    oom: Option<OomWatcher>,
    interval: Duration,
}

/// How long a failed read may wait for the init's exit to explain it.
const EXIT_GRACE_MS: i32 = 1_000;

impl Stream<'_> {
    /// Streams until the container stops. A read that fails because the
    /// cgroup went away with the container ends the stream quietly: the
    /// cgroup is emptied (and systemd removes a scope's) a moment before
    /// the init's pidfd reports the exit.
    fn run(mut self, sink: &mut Sink<'_>) -> Result<(), Error> {
        match self.follow(sink) {
            Err(Error::Cgroup(_)) if self.init_exits_soon()? => Ok(()),
            other => other,
        }
    }

    fn init_exits_soon(&self) -> Result<bool, Error> {
        let ready = sys::process::poll_readable(&[self.init.as_fd()], EXIT_GRACE_MS)
            .map_err(Error::io("wait for the container"))?;
        Ok(ready[0])
    }

    fn follow(&mut self, sink: &mut Sink<'_>) -> Result<(), Error> {
        let mut next_stats = Instant::now() + self.interval;
        loop {
            let timeout = next_stats.saturating_duration_since(Instant::now());
            let ready = {
                let mut fds = vec![self.init.as_fd()];
                fds.extend(self.oom.as_ref().map(AsFd::as_fd));
                sys::process::poll_readable(&fds, poll_timeout(timeout))
                    .map_err(Error::io("wait for events"))?
            };
            let (init_exited, oom_ready) = (ready[0], ready.get(1) == Some(&true));
            // Kills first: one may be what ended the init. After the init's
            // exit, the counters are read whether or not a notification has
            // arrived yet (cgroup v2 delays them by a few milliseconds).
            let gone = (oom_ready || init_exited) && self.report_kills(sink)?;
            if gone || init_exited {
                return Ok(());
            }
            let now = Instant::now();
            if now >= next_stats {
                emit_stats(self.id, &self.cgroup, sink)?;
                // Late wake-ups do not pile up statistics.
                next_stats = (next_stats + self.interval).max(now);
            }
        }
    }

    /// Emits an `oom` event per kill seen since the last look; returns
    /// whether the cgroup is gone.
    fn report_kills(&mut self, sink: &mut Sink<'_>) -> Result<bool, Error> {
        let Some(watcher) = self.oom.as_mut() else {
            return Ok(false);
        };
        let seen = watcher.read()?;
        let line = to_line(&Event {
            kind: "oom",
            id: self.id,
            data: None,
        });
        for _ in 0..seen.count {
            sink(&line).map_err(Error::io("write an event"))?;
        }
        Ok(seen.gone)
    }
}

/// Emits one `stats` event.
fn emit_stats(id: &str, cgroup: &Cgroup, sink: &mut Sink<'_>) -> Result<(), Error> {
    let stats = cgroup.stats()?;
    let line = to_line(&Event {
        kind: "stats",
        id,
        data: Some(&stats),
    });
    sink(&line).map_err(Error::io("write an event"))
}

fn to_line(event: &Event<'_>) -> String {
    serde_json::to_string(event).expect("an event always serializes")
}

/// `poll`'s timeout for `left`: whole milliseconds rounded up, so that the
/// wait never ends just before the deadline and spins.
fn poll_timeout(left: Duration) -> i32 {
    let millis = left.as_nanos().div_ceil(1_000_000);
    i32::try_from(millis).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_have_runc_shape() {
        let oom = to_line(&Event {
            kind: "oom",
            id: "c1",
            data: None,
        });
        assert_eq!(oom, r#"{"type":"oom","id":"c1"}"#);
        let stats = Stats::default();
        let line = to_line(&Event {
            kind: "stats",
            id: "c1",
            data: Some(&stats),
        });
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["type"], "stats");
        assert_eq!(value["id"], "c1");
        assert_eq!(value["data"]["pids"]["current"], 0);
        assert_eq!(value["data"]["memory"]["usage"]["usage"], 0);
    }

    #[test]
    fn poll_timeouts_round_up() {
        assert_eq!(poll_timeout(Duration::ZERO), 0);
        assert_eq!(poll_timeout(Duration::from_micros(1)), 1);
        assert_eq!(poll_timeout(Duration::from_millis(5)), 5);
        assert_eq!(poll_timeout(Duration::from_secs(5)), 5_000);
        assert_eq!(poll_timeout(Duration::from_secs(1 << 40)), i32::MAX);
    }
}
