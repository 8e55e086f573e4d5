//! Parses `linux.seccomp` from JSON with errors that name the field: an
//! unknown action or operator otherwise only gets serde's "unknown variant"
//! with a line and column.

use oci_spec::runtime::LinuxSeccomp;
use serde_json::Value;

use crate::error::{Result, SeccompError};

const ARCHS: &[&str] = &[
    "SCMP_ARCH_NATIVE",
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
];

fn check_name(v: Option<&Value>, field: String, what: &str, known: &[&str]) -> Result<()> {
    match v {
        None => Err(SeccompError::invalid(field, format!("missing {what}"))),
        Some(Value::String(s)) if known.contains(&s.as_str()) => Ok(()),
        Some(other) => Err(SeccompError::invalid(
            field,
            format!("unknown {what} {other} (known: {})", known.join(", ")),
        )),
    }
}

/// Checks the names in a `linux.seccomp` JSON object, then deserialises it.
pub fn parse_profile(v: &Value) -> Result<LinuxSeccomp> {
    let (actions, ops) = (crate::features::actions(), crate::features::operators());
    let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
    let ops: Vec<&str> = ops.iter().map(String::as_str).collect();
    let flags = crate::features::known_flags();
    check_name(
        v.get("defaultAction"),
        "linux.seccomp.defaultAction".into(),
        "action",
        &actions,
    )?;
    for (i, a) in v
        .get("architectures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_name(
            Some(a),
            format!("linux.seccomp.architectures[{i}]"),
            "architecture",
            ARCHS,
        )?;
    }
    for (i, f) in v
        .get("flags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_name(Some(f), format!("linux.seccomp.flags[{i}]"), "flag", &flags)?;
    }
    for (i, rule) in v
        .get("syscalls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("linux.seccomp.syscalls[{i}]");
        check_name(
            rule.get("action"),
            format!("{field}.action"),
            "action",
            &actions,
        )?;
        for (k, arg) in rule
            .get("args")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            check_name(
                arg.get("op"),
                format!("{field}.args[{k}].op"),
                "operator",
                &ops,
            )?;
            if let Some(idx) = arg.get("index").and_then(Value::as_u64) {
                if idx > 5 {
                    return Err(SeccompError::invalid(
                        format!("{field}.args[{k}].index"),
                        format!("{idx} is out of range (0-5)"),
                    ));
                }
            }
        }
    }
    serde_json::from_value(v.clone())
        .map_err(|e| SeccompError::invalid("linux.seccomp", e.to_string()))
}
