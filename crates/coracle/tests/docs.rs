//! The generated man pages: the committed files are what the command table
//! generates now, and every page is valid roff that man(1) can show.
//!
//! The rendering tests need groff and man-db (Debian: `groff-base`,
//! `man-db`); without them they print why they skip.

use coracle::docs::{documents, unexpected_pages, Document, MAN_DIR, REGENERATE};
use coracle::table::COMMANDS;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository's root, where `docs/man/` and `completions/` are.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The generated man pages.
fn pages() -> Vec<Document> {
    let prefix = format!("{MAN_DIR}/");
    let all = documents().into_iter();
    all.filter(|d| d.path.starts_with(&prefix)).collect()
}

/// Whether `program` can be run; prints why the test skips when not.
fn have(program: &str, package: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        // Straight to stderr, past the test harness's capture, so that the
        // skip shows in every run.
        let _ = writeln!(
            std::io::stderr(),
            "skipping: {program} is not installed (Debian package {package})"
        );
    }
    found
}

/// Runs `program` with `args` and `input` on its standard input.
fn run_with_input(program: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env("MANWIDTH", "80")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    child.wait_with_output().expect("wait")
}

#[test]
fn committed_documents_are_current() {
    let root = repo_root();
    let mut stale: Vec<String> = documents()
        .into_iter()
        .filter(|d| std::fs::read_to_string(root.join(&d.path)).ok().as_ref() != Some(&d.text))
        .map(|d| d.path)
        .collect();
    let extra = unexpected_pages(&root).unwrap_or_default();
    stale.extend(extra.iter().map(|p| format!("{p} (no longer generated)")));
    assert!(
        stale.is_empty(),
        "the man pages and completions do not match crates/coracle/src/table.rs:\n  {}\n\
         regenerate them with `{REGENERATE}` and commit the result",
        stale.join("\n  ")
    );
}

#[test]
fn every_command_has_a_page() {
    let paths: Vec<String> = pages().into_iter().map(|d| d.path).collect();
    assert!(paths.contains(&format!("{MAN_DIR}/coracle.8")));
    for command in COMMANDS {
        let path = format!("{MAN_DIR}/coracle-{}.8", command.name);
        assert!(paths.contains(&path), "{path}");
    }
}

#[test]
fn pages_render_without_warnings() {
    if !have("groff", "groff-base") {
        return;
    }
    for page in pages() {
        let output = run_with_input("groff", &["-man", "-Tutf8", "-ww", "-z"], &page.text);
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: groff failed", page.path);
        assert!(
            warnings.is_empty(),
            "{}: groff says:\n{warnings}",
            page.path
        );
    }
}

#[test]
fn man_shows_every_page() {
    if !have("man", "man-db") {
        return;
    }
    for page in pages() {
        let output = run_with_input("man", &["--warnings=w", "-l", "-"], &page.text);
        let text = String::from_utf8_lossy(&output.stdout);
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{}: man failed", page.path);
        assert!(warnings.is_empty(), "{}: man says:\n{warnings}", page.path);
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SEE ALSO"] {
            let heading = format!("\n{section}\n");
            let found = text.contains(&heading)
                || (section == "OPTIONS" && text.contains("\nGLOBAL OPTIONS\n"));
            assert!(found, "{}: no {section} in\n{text}", page.path);
        }
    }
}

#[test]
fn pages_show_the_table() {
    if !have("man", "man-db") {
        return;
    }
    let page = |name: &str| {
        let page = pages()
            .into_iter()
            .find(|d| d.path.ends_with(name))
            .unwrap();
        let output = run_with_input("man", &["-l", "-"], &page.text);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let create = page("/coracle-create.8");
    assert!(create.contains("coracle [global options] create [options] container-id"));
    assert!(create.contains("-b, --bundle DIR"));
    assert!(create.contains("coracle(8), coracle-start(8)"));
    let global = page("/coracle.8");
    assert!(global.contains("--log-format FORMAT"));
    assert!(global.contains("One of text, json. Default: text."));
    assert!(global.contains("list, ls"));
    let exec = page("/coracle-exec.8");
    assert!(exec.contains("-e, --env KEY=VALUE"));
    assert!(exec.contains("Can be given more than once"));
}

#[test]
fn apropos_reads_every_name_section() {
    if !have("lexgrog", "man-db") {
        return;
    }
    for page in pages() {
        let output = run_with_input("lexgrog", &["-"], &page.text);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{}: lexgrog: {text}", page.path);
        let name = page.path.trim_start_matches(&format!("{MAN_DIR}/"));
        let expected = format!("\"{} - ", name.trim_end_matches(".8"));
        assert!(text.contains(&expected), "{}: {text}", page.path);
    }
}
