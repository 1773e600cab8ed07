//! The side-by-side harness (scripts/bench); being written.
fn main() {
    eprintln!("kquota-bench-harness: not implemented yet");
    std::process::exit(1);
}
