//! Hooks (config.md "POSIX-platform Hooks", runtime.md "Lifecycle"):
//! programs run at points of the lifecycle, each given the container's state
//! on its standard input.
//!
//! A hook gets exactly its `args` and `env` (nothing of the runtime's
//! environment), inherits the runtime's stdout and stderr, and is killed
//! (`SIGKILL`) and reaped when its `timeout` passes. Waiting uses a pidfd and
//! `poll`, never a sleeping loop.

use crate::spec;
use crate::sys;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What went wrong with a hook; `kind` is the list's name (`createRuntime`…)
/// and `index` the hook's place in it.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The hook's configuration is not valid.
    #[error("hooks.{kind}[{index}].{field}: {message}")]
    Invalid {
        /// The hook list.
        kind: String,
        /// The hook's index in the list.
        index: usize,
        /// The field, such as `path` or `env[1]`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A system call around the hook failed.
    #[error("hook {kind}[{index}] {path}: {step}: {source}")]
    Os {
        /// The hook list.
        kind: String,
        /// The hook's index in the list.
        index: usize,
        /// The hook's `path`.
        path: String,
        /// The step: "start", "wait"…
        step: &'static str,
        /// The operating system's error.
        source: io::Error,
    },
    /// The hook ended with a failure.
    #[error("hook {kind}[{index}] {path}: {}", describe(.exit))]
    Failed {
        /// The hook list.
        kind: String,
        /// The hook's index in the list.
        index: usize,
        /// The hook's `path`.
        path: String,
        /// How it ended.
        exit: sys::process::Exit,
    },
    /// The hook ran past its timeout; it was killed and reaped.
    #[error("hook {kind}[{index}] {path}: timed out after {timeout} s")]
    TimedOut {
        /// The hook list.
        kind: String,
        /// The hook's index in the list.
        index: usize,
        /// The hook's `path`.
        path: String,
        /// The hook's `timeout`, in seconds.
        timeout: i64,
    },
}

/// "exited with status 3" or "killed by signal 9".
fn describe(exit: &sys::process::Exit) -> String {
    match *exit {
        sys::process::Exit::Code(code) => format!("exited with status {code}"),
        sys::process::Exit::Signal(signal) => format!("killed by signal {signal}"),
    }
}

/// Validates the hook list `kind` when the configuration is planned: `path`
/// absolute, `env` entries `KEY=VALUE`, no NUL byte, `timeout` positive when
/// present.
pub fn validate(kind: &str, hooks: &[spec::Hook]) -> Result<(), HookError> {
    hooks
        .iter()
        .enumerate()
        .try_for_each(|(index, hook)| check(kind, index, hook))
}

/// Runs the hooks of the list `kind` in order, stopping at the first that
/// fails (what runtime.md asks for every list but `poststop`, whose
/// failures are only warnings: run those one by one with [`run_hook`]).
pub fn run_hooks(kind: &str, hooks: &[spec::Hook], state_json: &[u8]) -> Result<(), HookError> {
    hooks
        .iter()
        .enumerate()
        .try_for_each(|(index, hook)| run_hook(kind, index, hook, state_json))
}

/// Runs hook number `index` of the list `kind`, with `state_json` on its
/// standard input, and waits for it (at most its `timeout`). It fails when
/// the hook cannot start, exits with a non-zero status, is killed by a
/// signal or times out.
///
/// The standard input is one end of a unix socket pair: the state is
/// written before waiting, with the timeout as the socket's send timeout,
/// and without `SIGPIPE` (a hook need not read it all), so no thread is
/// needed; `read(2)` on it behaves as on a pipe.
pub fn run_hook(
    kind: &str,
    index: usize,
    hook: &spec::Hook,
    state_json: &[u8],
) -> Result<(), HookError> {
    check(kind, index, hook)?;
    let os = |step: &'static str| {
        move |source| HookError::Os {
            kind: kind.into(),
            index,
            path: hook.path.clone(),
            step,
            source,
        }
    };
    let deadline = hook
        .timeout
        .map(|secs| Instant::now() + Duration::from_secs(secs.unsigned_abs()));
    let (ours, theirs) = UnixStream::pair().map_err(os("create its stdin"))?;
    let mut child = command(hook, theirs.into()).spawn().map_err(os("start"))?;
    let outcome = supervise(&mut child, ours, state_json, deadline).map_err(|source| {
        kill_and_reap(&mut child);
        os("wait")(source)
    })?;
    let exit = match outcome {
        Some(status) if status.success() => return Ok(()),
        Some(status) => exit_of(status),
        None => {
            kill_and_reap(&mut child);
            return Err(HookError::TimedOut {
                kind: kind.into(),
                index,
                path: hook.path.clone(),
                timeout: hook.timeout.unwrap_or_default(),
            });
        }
    };
    Err(HookError::Failed {
        kind: kind.into(),
        index,
        path: hook.path.clone(),
        exit,
    })
}

/// The command of `hook`: its `path`, its `args` (`args[0]` included, `path`
/// when there are none), only its `env`, `stdin` as standard input.
fn command(hook: &spec::Hook, stdin: OwnedFd) -> Command {
    let mut command = Command::new(&hook.path);
    if let Some((arg0, rest)) = hook.args.split_first() {
        command.arg0(arg0).args(rest);
    }
    command.env_clear();
    for entry in &hook.env {
        if let Some((key, value)) = entry.split_once('=') {
            command.env(key, value);
        }
    }
    command.stdin(Stdio::from(stdin));
    command
}

/// Feeds `state_json` to the hook through `stdin` (then closes it) and
/// waits for the hook's end until `deadline`. `None` when the deadline
/// passed first.
fn supervise(
    child: &mut Child,
    mut stdin: UnixStream,
    state_json: &[u8],
    deadline: Option<Instant>,
) -> io::Result<Option<ExitStatus>> {
    if let Some(deadline) = deadline {
        stdin.set_write_timeout(Some(remaining(deadline).max(Duration::from_millis(1))))?;
    }
    match stdin.write_all(state_json) {
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            return Ok(None)
        }
        // Anything else (EPIPE) means the hook closed its stdin without
        // reading it all: its choice.
        _ => drop(stdin),
    }
    let Some(deadline) = deadline else {
        return child.wait().map(Some);
    };
    let pidfd = sys::process::pidfd_open(child.id() as i32)?;
    loop {
        let left = remaining(deadline);
        if left.is_zero() {
            return Ok(None);
        }
        // Round up so as not to wake just before the deadline.
        let millis = left.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as i32;
        if sys::process::poll_readable(&[pidfd.as_fd()], millis)?[0] {
            return child.wait().map(Some);
        }
    }
}

/// The time left until `deadline`, zero when it has passed.
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Kills the hook and reaps it. The pid is safe to signal: only this
/// process reaps its children, and it has not yet.
fn kill_and_reap(child: &mut Child) {
    // Failure means it already ended; wait reaps it either way.
    let _ = child.kill();
    let _ = child.wait();
}

/// How a hook ended, from its wait status.
fn exit_of(status: ExitStatus) -> sys::process::Exit {
    match (status.code(), status.signal()) {
        (Some(code), _) => sys::process::Exit::Code(code),
        (None, Some(signal)) => sys::process::Exit::Signal(signal),
        (None, None) => sys::process::Exit::Code(-1),
    }
}

/// Checks hook number `index` of the list `kind`.
fn check(kind: &str, index: usize, hook: &spec::Hook) -> Result<(), HookError> {
    let invalid = |field: String, message: String| HookError::Invalid {
        kind: kind.into(),
        index,
        field,
        message,
    };
    let nul = || "must not contain a NUL byte".to_string();
    if !hook.path.starts_with('/') {
        let message = format!("must be absolute (got {:?})", hook.path);
        return Err(invalid("path".into(), message));
    }
    if hook.path.contains('\0') {
        return Err(invalid("path".into(), nul()));
    }
    if let Some(i) = hook.args.iter().position(|arg| arg.contains('\0')) {
        return Err(invalid(format!("args[{i}]"), nul()));
    }
    for (i, entry) in hook.env.iter().enumerate() {
        if entry.contains('\0') {
            return Err(invalid(format!("env[{i}]"), nul()));
        }
        if !entry.find('=').is_some_and(|eq| eq > 0) {
            return Err(invalid(
                format!("env[{i}]"),
                format!("{entry:?} is not KEY=VALUE"),
            ));
        }
    }
    match hook.timeout {
        Some(timeout) if timeout <= 0 => {
            let message = format!("must be greater than zero (got {timeout})");
            Err(invalid("timeout".into(), message))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::tests::TempDir;

    fn hook(args: &[&str], env: &[&str], timeout: Option<i64>) -> spec::Hook {
        spec::Hook {
            path: "/bin/sh".into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|s| s.to_string()).collect(),
            timeout,
        }
    }

    #[test]
    fn validation_names_the_field() {
        let mut h = hook(&[], &["A=1"], Some(5));
        assert!(validate("prestart", std::slice::from_ref(&h)).is_ok());
        h.path = "bin/x".into();
        let err = validate("createRuntime", &[hook(&[], &[], None), h.clone()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hooks.createRuntime[1].path: must be absolute (got \"bin/x\")"
        );
        let h = hook(&[], &[], Some(0));
        let err = validate("poststart", &[h]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hooks.poststart[0].timeout: must be greater than zero (got 0)"
        );
        let h = hook(&[], &["A=1", "B"], None);
        let err = validate("poststop", &[h]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hooks.poststop[0].env[1]: \"B\" is not KEY=VALUE"
        );
        let h = hook(&["sh", "a\0"], &[], None);
        let err = validate("startContainer", &[h]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "hooks.startContainer[0].args[1]: must not contain a NUL byte"
        );
    }

    #[test]
    fn hooks_get_the_state_args_and_only_their_env() {
        let dir = TempDir::new("hooks-state");
        let out = dir.0.join("out");
        let script = "/bin/cat > \"$OUT\"; echo >> \"$OUT\"; \
             /usr/bin/tr '\\0' ' ' < /proc/$$/cmdline >> \"$OUT\"; echo >> \"$OUT\"; \
             /usr/bin/env >> \"$OUT\"";
        let out_env = format!("OUT={}", out.display());
        let hooks = [hook(
            &["my-hook", "-c", script, "zero", "one"],
            &[&out_env, "X=y=z"],
            Some(30),
        )];
        let state = br#"{"ociVersion":"1.3.0","id":"c1","status":"creating"}"#;
        run_hooks("createRuntime", &hooks, state).unwrap();
        let written = std::fs::read_to_string(&out).unwrap();
        let mut lines = written.lines();
        assert_eq!(lines.next().unwrap().as_bytes(), state);
        assert_eq!(
            lines.next().unwrap(),
            format!("my-hook -c {script} zero one ")
        );
        let env: Vec<&str> = lines.collect();
        assert!(env.contains(&out_env.as_str()), "{env:?}");
        assert!(env.contains(&"X=y=z"), "{env:?}");
        // Nothing of the runtime's (cargo's) environment.
        assert!(!env.iter().any(|e| e.starts_with("CARGO")), "{env:?}");
    }

    #[test]
    fn first_failure_stops_the_list() {
        let dir = TempDir::new("hooks-fail");
        let marker = dir.0.join("ran");
        let touch = format!("echo > {}", marker.display());
        let hooks = [
            hook(&["sh", "-c", "true"], &[], None),
            hook(&["sh", "-c", "exit 3"], &[], None),
            hook(&["sh", "-c", &touch], &[], None),
        ];
        let err = run_hooks("poststart", &hooks, b"{}").unwrap_err();
        assert!(
            matches!(
                err,
                HookError::Failed {
                    index: 1,
                    exit: sys::process::Exit::Code(3),
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "hook poststart[1] /bin/sh: exited with status 3"
        );
        assert!(!marker.exists());
        let killed = hook(&["sh", "-c", "kill -9 $$"], &[], None);
        let err = run_hooks("poststop", &[killed], b"{}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "hook poststop[0] /bin/sh: killed by signal 9"
        );
    }

    #[test]
    fn missing_hook_fails_to_start() {
        let mut h = hook(&[], &[], None);
        h.path = "/nonexistent/coracle-hook".into();
        let err = run_hooks("prestart", &[h], b"{}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "hook prestart[0] /nonexistent/coracle-hook: start: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn hook_past_its_timeout_is_killed() {
        let h = spec::Hook {
            path: "/bin/sleep".into(),
            args: vec!["sleep".into(), "5".into()],
            env: vec![],
            timeout: Some(1),
        };
        let err = run_hooks("createContainer", &[h], b"{}").unwrap_err();
        assert!(
            matches!(err, HookError::TimedOut { timeout: 1, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "hook createContainer[0] /bin/sleep: timed out after 1 s"
        );
    }

    #[test]
    fn hook_need_not_read_a_large_state() {
        let state = vec![b' '; 4 << 20];
        let quick = hook(&["sh", "-c", "exit 0"], &[], None);
        run_hooks("poststart", &[quick], &state).unwrap();
        // Neither reading nor exiting: the write itself runs into the timeout.
        let mut stuck = hook(&["sleep", "5"], &[], Some(1));
        stuck.path = "/bin/sleep".into();
        let err = run_hooks("poststart", &[stuck], &state).unwrap_err();
        assert!(matches!(err, HookError::TimedOut { .. }), "{err:?}");
    }
}
