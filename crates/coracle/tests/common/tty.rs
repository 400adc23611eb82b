//! Commands run with a terminal, as from a user's shell: what `run` and
//! `exec` in the foreground relay when there is no console socket (runc
//! wants its controlling terminal then).

use super::*;

/// The runtime with `test`'s `--root` and `args`, under `script(1)`, which
/// gives it a pty as its controlling terminal and stdio; the command's
/// output and exit code are script's. Feed input through stdin.
pub fn in_a_terminal(test: &Test, args: &[&str]) -> Command {
    let mut line = format!("{} --root {}", runtime().display(), test.root.display());
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]);
    cmd
}
