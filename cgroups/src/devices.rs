//! The effective device rule list: a deny-all base, the config's rules in
//! order, then the runtime's default allowed devices that no config rule
//! denies.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

/// One device cgroup rule in kernel terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub allow: bool,
    /// 'a', 'b' or 'c'.
    pub typ: char,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// Subset of "rwm".
    pub access: String,
}

impl Rule {
    fn new(allow: bool, typ: char, major: Option<u32>, minor: Option<u32>, access: &str) -> Self {
        Rule {
            allow,
            typ,
            major,
            minor,
            access: access.to_string(),
        }
    }

    pub fn from_spec(d: &LinuxDeviceCgroup) -> Self {
        let typ = match d.typ() {
            Some(LinuxDeviceType::B) => 'b',
            Some(LinuxDeviceType::C) | Some(LinuxDeviceType::U) => 'c',
            _ => 'a',
        };
        // No device number reaches u32::MAX (majors have 12 bits, minors
        // 20): a larger one saturates and matches no device, never all.
        let num = |v: Option<i64>| {
            v.filter(|v| *v >= 0)
                .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
        };
        let access = d.access().clone().unwrap_or_else(|| "rwm".into());
        Rule::new(d.allow(), typ, num(d.major()), num(d.minor()), &access)
    }

    /// Whether this rule's devices include all of `other`'s.
    fn covers(&self, other: &Rule) -> bool {
        let typ = self.typ == 'a' || self.typ == other.typ;
        let num = |mine: Option<u32>, theirs: Option<u32>| mine.is_none() || mine == theirs;
        typ && num(self.major, other.major) && num(self.minor, other.minor)
    }

    pub fn is_wildcard_all(&self) -> bool {
        self.typ == 'a'
    }

    /// The v1 devices.allow / devices.deny line ("c 1:3 rwm", "a").
    pub fn v1_line(&self) -> String {
        if self.typ == 'a' {
            return "a".into();
        }
        let n = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| "*".into());
        let access = if self.access.is_empty() {
            "rwm"
        } else {
            &self.access
        };
        format!(
            "{} {}:{} {}",
            self.typ,
            n(self.major),
            n(self.minor),
            access
        )
    }
}

/// runc's default allowed devices.
pub(crate) fn default_rules() -> Vec<Rule> {
    vec![
        Rule::new(true, 'c', None, None, "m"),
        Rule::new(true, 'b', None, None, "m"),
        Rule::new(true, 'c', Some(1), Some(3), "rwm"), // /dev/null
        Rule::new(true, 'c', Some(1), Some(8), "rwm"), // /dev/random
        Rule::new(true, 'c', Some(1), Some(7), "rwm"), // /dev/full
        Rule::new(true, 'c', Some(5), Some(0), "rwm"), // /dev/tty
        Rule::new(true, 'c', Some(1), Some(5), "rwm"), // /dev/zero
        Rule::new(true, 'c', Some(1), Some(9), "rwm"), // /dev/urandom
        Rule::new(true, 'c', Some(136), None, "rwm"),  // /dev/pts/*
        Rule::new(true, 'c', Some(5), Some(2), "rwm"), // /dev/ptmx
        Rule::new(true, 'c', Some(10), Some(200), "rwm"), // /dev/net/tun
    ]
}

/// Deny everything, the config's rules in order, then the defaults.
/// A leading "deny all" in the config (runc's and Docker's first rule) is
/// the base itself, so the defaults stay allowed after it.
pub(crate) fn effective_rules(spec: &[LinuxDeviceCgroup]) -> Vec<Rule> {
    let mut user: Vec<Rule> = spec.iter().map(Rule::from_spec).collect();
    if user
        .first()
        .is_some_and(|r| !r.allow && r.is_wildcard_all())
    {
        user.remove(0);
    }
    // The spec: entries are applied in the listed order. The config's
    // rules come first; then the runtime's defaults, except those a config
    // rule denies.
    let denied = |d: &Rule| user.iter().any(|u| !u.allow && u.covers(d));
    let defaults: Vec<Rule> = default_rules().into_iter().filter(|d| !denied(d)).collect();
    let mut out = vec![Rule::new(false, 'a', None, None, "rwm")];
    out.extend(user);
    out.extend(defaults);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_deny_all_keeps_defaults() {
        let spec: Vec<LinuxDeviceCgroup> =
            serde_json::from_str(r#"[{"allow":false,"access":"rwm"}]"#).unwrap();
        let r = effective_rules(&spec);
        assert_eq!(r.len(), 1 + default_rules().len());
        assert_eq!(r[0].v1_line(), "a");
    }

    #[test]
    fn user_rules_come_first_and_denied_defaults_are_dropped() {
        let spec: Vec<LinuxDeviceCgroup> = serde_json::from_str(
            r#"[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"r"},{"allow":false,"type":"c","major":1,"minor":5,"access":"rwm"}]"#,
        )
        .unwrap();
        let r = effective_rules(&spec);
        assert_eq!(r[0].v1_line(), "a");
        assert!(!r[0].allow);
        assert_eq!(r[1].v1_line(), "c 1:3 r");
        assert_eq!(r[2].v1_line(), "c 1:5 rwm");
        assert!(!r[2].allow);
        // The default allow for /dev/zero (1:5) is dropped: the config denies it.
        assert!(!r[3..].iter().any(|d| d.v1_line() == "c 1:5 rwm"));
        assert_eq!(r.len(), 3 + default_rules().len() - 1);
    }
}
