//! Device rules on cgroup v1: devices.deny / devices.allow, in order.

use std::path::Path;

use crate::devices::Rule;
use crate::error::Result;
use crate::fsutil::write;

pub(crate) fn apply(dir: &Path, rules: &[Rule]) -> Result<()> {
    for (i, r) in rules.iter().enumerate() {
        let file = if r.allow {
            "devices.allow"
        } else {
            "devices.deny"
        };
        write(
            dir,
            file,
            &r.v1_line(),
            &format!("linux.resources.devices (rule {i})"),
        )?;
    }
    Ok(())
}
