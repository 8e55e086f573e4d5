//! config.json: parse (seccomp section first), validate (and a valid one
//! must make the typed config), compile the
//! seccomp profile to BPF, check the cgroup resources and every mount's
//! options, and format every error: nothing may panic, and no error
//! message may outgrow remora's cap.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fn said(e: impl std::fmt::Display) {
    let m = remora::bounded::message(&e.to_string());
    assert!(m.len() <= remora::bounded::MESSAGE_MAX + 64, "{}", m.len());
}

fuzz_target!(|data: &[u8]| {
    if data.len() as u64 > remora::bounded::JSON_CAP {
        return;
    }
    let spec = match remora::config::parse(data, Path::new("config.json")) {
        Ok(s) => s,
        Err(e) => return said(e),
    };
    match remora::config::validate(&spec) {
        // A config every check passes makes the typed config, unless
        // its seccomp profile does not compile (compiled in the making).
        Ok(()) => {
            if let Err(e) =
                remora::config::Config::build(spec.clone(), "/b".into(), "/b/rootfs".into())
            {
                let compiles = spec
                    .linux()
                    .as_ref()
                    .is_none_or(|l| remora::config::compile_seccomp(l).is_ok());
                assert!(!compiles, "validated, yet the typed config fails: {e}");
                said(e);
            }
        }
        Err(e) => said(e),
    }
    if let Some(linux) = spec.linux() {
        if let Err(e) = remora::config::compile_seccomp(linux) {
            said(e);
        }
        if let Some(r) = linux.resources() {
            if let Err(e) = remora_cgroups::validate(r) {
                said(e);
            }
        }
    }
    for m in spec.mounts().iter().flatten() {
        if let Err(e) =
            remora::rootfs::options::MountOptions::parse(m.options().as_deref().unwrap_or(&[]))
        {
            said(e);
        }
    }
});
