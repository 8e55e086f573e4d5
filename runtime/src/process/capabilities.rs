//! The five capability sets of process.capabilities. The bounding set is
//! dropped first (while CAP_SETPCAP is still held), then the identity
//! changes with keep-caps, then the other sets are set exactly.

use std::collections::HashSet;
use std::str::FromStr;

use caps::{CapSet, Capability, CapsHashSet};
use oci_spec::runtime::LinuxCapabilities;

use super::ProcessError;

/// OCI capability names to the caps crate's type.
fn convert(set: &Option<oci_spec::runtime::Capabilities>) -> CapsHashSet {
    set.iter()
        .flatten()
        .filter_map(|c| Capability::from_str(&format!("CAP_{c}")).ok())
        .collect()
}

/// Capabilities the running kernel knows.
fn known() -> HashSet<Capability> {
    caps::runtime::procfs_all_supported(None).unwrap_or_else(|_| caps::all())
}

/// Drops from the bounding set every capability not listed in it.
pub fn drop_bounding(c: &LinuxCapabilities) -> Result<(), ProcessError> {
    let keep = convert(c.bounding());
    for cap in known() {
        if !keep.contains(&cap) {
            caps::drop(None, CapSet::Bounding, cap).map_err(|e| {
                ProcessError::sys(format!("process.capabilities.bounding: dropping {cap}"), e)
            })?;
        }
    }
    Ok(())
}

/// Sets permitted, inheritable, effective and ambient exactly as given.
pub fn set_sets(c: &LinuxCapabilities) -> Result<(), ProcessError> {
    let known = known();
    let get = |s: &Option<oci_spec::runtime::Capabilities>| -> CapsHashSet {
        convert(s)
            .into_iter()
            .filter(|c| known.contains(c))
            .collect()
    };
    let mask = |set: CapsHashSet| set.iter().fold(0u64, |m, c| m | c.bitmask());
    let permitted = mask(get(c.permitted()));
    let effective = mask(get(c.effective()));
    let inheritable = mask(get(c.inheritable()));
    crate::sys::process::capset(effective, permitted, inheritable).map_err(|e| {
        ProcessError::sys(
            format!(
                "process.capabilities: setting effective {effective:#x}, permitted {permitted:#x}, inheritable {inheritable:#x}"
            ),
            e,
        )
    })?;
    let ambient = get(c.ambient());
    caps::clear(None, CapSet::Ambient).ok();
    for cap in ambient {
        // Ambient needs the capability in permitted and inheritable; runc
        // ignores the ones that cannot be raised.
        let _ = caps::raise(None, CapSet::Ambient, cap);
    }
    Ok(())
}
