//! The `coracle` command line.
fn main() {}
