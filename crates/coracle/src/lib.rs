//! What more than one of this package's binaries needs: the command table of
//! the `coracle` command line, and the documents generated from it (man pages
//! and shell completions, written by the `coracle-docs` binary so that the
//! runtime binary itself stays small).

#![deny(missing_docs)]

pub mod docs;
pub mod table;
