//! Build settings of the `remora` binary.
//!
//! Link: on x86_64 Linux its entry point is `remora_entry`
//! (runtime/src/sys/early_entry.rs): the binary's protection re-executes
//! from there, before libc starts, and then goes on to libc's `_start`.
//!
//! REMORA_UNPROTECTED=bench-only in the build's environment (bench/run.sh
//! --baseline unprotected, nothing else) builds the binary without its
//! protection: no early entry, and `sys::protected_exe::ensure()` returns
//! at once (cfg `remora_unprotected`). It exists so that bench/ can measure
//! what the protection costs; `remora --version` then says so.
//!
//! Version facts for `remora --version`: the git commit the binary is
//! built from (REMORA_COMMIT) and the compiler (REMORA_RUSTC). The commit
//! comes from `git rev-parse HEAD` in the source tree; outside a git
//! checkout (a source tarball, `cargo install` from a registry) it is
//! "unknown". An explicit REMORA_COMMIT in the build's environment wins
//! (distribution builds from a tarball can pass it). Cargo reruns this
//! script only when HEAD moves (a checkout, or a commit on the current
//! branch), not on every build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// A path git names (`--git-path X`), made absolute against `dir`.
fn git_path(dir: &Path, what: &str) -> Option<PathBuf> {
    let p = PathBuf::from(git(dir, &["rev-parse", "--git-path", what])?);
    Some(if p.is_absolute() { p } else { dir.join(p) })
}

fn main() {
    // Without this line cargo would rerun the script on any change in the
    // package (a missing file named below would rerun it on every build).
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo::rustc-check-cfg=cfg(remora_unprotected)");
    println!("cargo:rerun-if-env-changed=REMORA_UNPROTECTED");
    if std::env::var("REMORA_UNPROTECTED").as_deref() == Ok("bench-only") {
        println!("cargo:rustc-cfg=remora_unprotected");
    } else {
        link_settings();
    }
    version_facts();
}

/// The entry point (see above).
fn link_settings() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if arch == "x86_64" && os == "linux" {
        println!("cargo:rustc-link-arg-bin=remora=-Wl,--entry=remora_entry");
    }
}

/// REMORA_COMMIT and REMORA_RUSTC (see above).
fn version_facts() {
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-env-changed=REMORA_COMMIT");
    let commit = match std::env::var("REMORA_COMMIT") {
        Ok(c) if !c.is_empty() => c,
        _ => {
            let commit = git(&dir, &["rev-parse", "HEAD"]);
            if commit.is_some() {
                // HEAD itself (a checkout of another branch or commit), the
                // branch it points to (a commit), and packed-refs (where the
                // branch may live after `git gc`). Worktrees have their own
                // HEAD and share the refs: --git-path knows which is where.
                for what in ["HEAD", "packed-refs"] {
                    if let Some(p) = git_path(&dir, what).filter(|p| p.exists()) {
                        println!("cargo:rerun-if-changed={}", p.display());
                    }
                }
                if let Some(r) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
                    if let Some(p) = git_path(&dir, &r).filter(|p| p.exists()) {
                        println!("cargo:rerun-if-changed={}", p.display());
                    }
                }
            }
            commit.unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=REMORA_COMMIT={commit}");
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().trim_start_matches("rustc ").to_string())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=REMORA_RUSTC={version}");
}
