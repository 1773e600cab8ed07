//! Links the static musl release `kquota` without unwind tables (`link/no-unwind-tables.ld`).
//!
//! Only for the musl target (the static build) in the release profile, whose `panic = "abort"`
//! (workspace Cargo.toml) means nothing ever unwinds, so the tables are dead weight. (Build
//! scripts cannot see the profile's panic strategy: `CARGO_CFG_PANIC` reflects the target's
//! default, so the profile name stands for it; keep the two in step.) A panic then still prints its message and aborts; a `RUST_BACKTRACE` backtrace
//! is empty (a stripped binary has no symbols to show anyway). Set `KQUOTA_KEEP_UNWIND_TABLES=1`
//! to keep them.

fn main() {
    println!("cargo::rerun-if-changed=link/no-unwind-tables.ld");
    println!("cargo::rerun-if-env-changed=KQUOTA_KEEP_UNWIND_TABLES");
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let profile = std::env::var("PROFILE").unwrap_or_default();
    let keep = std::env::var_os("KQUOTA_KEEP_UNWIND_TABLES").is_some_and(|v| v != "0");
    if env == "musl" && profile == "release" && !keep {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        println!("cargo::rustc-link-arg-bin=kquota=-Wl,-T,{dir}/link/no-unwind-tables.ld");
    }
}
