//! Writes coracle's man pages (`docs/man/*.8`) and shell completions
//! (`completions/coracle.{bash,zsh,fish}`), generated from the command
//! table, under a directory: by default the repository this was built from.
//!
//! `cargo run -p coracle --bin coracle-docs [DIR]`; a test checks that the
//! committed files match what this would write.

use coracle::docs::{documents, unexpected_pages, Document};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = match args.as_slice() {
        [] => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
        [flag] if flag == "-h" || flag == "--help" => {
            println!("Usage: coracle-docs [DIR]\n\nWrites the man pages and shell completions under DIR (default: the repository's root).");
            return ExitCode::SUCCESS;
        }
        [dir] => PathBuf::from(dir),
        _ => {
            eprintln!("coracle-docs: expected at most one directory (see --help)");
            return ExitCode::FAILURE;
        }
    };
    match write_all(&root) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("coracle-docs: {}: {e}", root.display());
            ExitCode::FAILURE
        }
    }
}

/// Writes every document under `root` and removes pages no longer generated.
fn write_all(root: &Path) -> std::io::Result<()> {
    for document in documents() {
        write(root, &document)?;
    }
    for stale in unexpected_pages(root)? {
        std::fs::remove_file(root.join(&stale))?;
        println!("removed {stale}");
    }
    Ok(())
}

/// Writes one document, creating its directory.
fn write(root: &Path, document: &Document) -> std::io::Result<()> {
    let path = root.join(&document.path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, &document.text)?;
    println!("wrote {}", document.path);
    Ok(())
}
