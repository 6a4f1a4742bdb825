//! spar binary.
fn main() {}
