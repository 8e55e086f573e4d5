//! Link settings of the `remora` binary.
//!
//! On x86_64 Linux its entry point is `remora_entry`
//! (runtime/src/sys/early_entry.rs): the binary's protection re-executes
//! from there, before libc starts, and then goes on to libc's `_start`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch == "x86_64" && os == "linux" {
        println!("cargo:rustc-link-arg-bin=remora=-Wl,--entry=remora_entry");
    }
}
