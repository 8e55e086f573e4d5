//! exec's process.json: parse, check (args, cwd), check the LSM fields,
//! and format every error: nothing may panic, and no error message may
//! outgrow remora's cap.
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
    match remora::lifecycle::exec::parse_process(data, Path::new("process.json")) {
        Ok(p) => {
            if let Err(e) = remora::config::check_lsm(&p) {
                said(e);
            }
        }
        Err(e) => said(e),
    }
});
