//! Records the commit the library is built from, as `BUILD_COMMIT`: for
//! `coracle --version`, and for the keys of the compiled-filter cache.
//! `CORACLE_COMMIT` if set (release builds, builds without git), else
//! `git rev-parse HEAD`, else "unknown".

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CORACLE_COMMIT");
    let commit = std::env::var("CORACLE_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=CORACLE_GIT_COMMIT={}", commit.trim());
}

/// HEAD's commit id, and asks Cargo to rerun when HEAD or its branch moves.
fn git_commit() -> Option<String> {
    let commit = git(&["rev-parse", "HEAD"])?;
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    for name in std::iter::once("HEAD").chain(branch.as_deref()) {
        if let Some(path) = git(&["rev-parse", "--git-path", name]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some(commit)
}

/// The trimmed output of a successful `git` command run in this package.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_string()).filter(|t| output.status.success() && !t.is_empty())
}
