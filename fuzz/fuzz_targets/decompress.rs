#![no_main]
// Shim into kquota-net; see crates/kquota-net/src/fuzzing.rs for what the input means.
libfuzzer_sys::fuzz_target!(|data: &[u8]| kquota_net::fuzzing::decompress(data));
