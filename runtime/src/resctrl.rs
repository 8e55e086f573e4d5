//! linux.intelRdt through resctrl (/sys/fs/resctrl): the container's
//! processes join a CLOS group (closID, or one named after the container)
//! whose `schemata` file holds the cache and memory-bandwidth allocation
//! lines; enableMonitoring adds a monitoring group under `mon_groups`.
//!
//! Without resctrl mounted (no RDT/AMD QoS CPU, no CONFIG_X86_CPU_RESCTRL
//! or not mounted) the field is refused, never ignored. Everything here
//! takes the resctrl root as a parameter so what would be written can be
//! checked against a temporary directory.

use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxIntelRdt;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where resctrl is mounted.
pub const ROOT: &str = "/sys/fs/resctrl";

/// The record of what create made, kept in the container's state
/// directory for update and delete.
pub const RECORD_FILE: &str = "intel-rdt.json";

/// What linux.intelRdt asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The CLOS group's directory name.
    pub group: String,
    /// closID was given: the group may be one the administrator made.
    pub clos_id_given: bool,
    /// Lines for the group's schemata file, in order: l3CacheSchema,
    /// memBwSchema, then schemata.
    pub lines: Vec<String>,
    /// The monitoring group's name (the container ID) with enableMonitoring.
    pub monitor: Option<String>,
}

/// What create did, for update and delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub group: String,
    /// remora made the group (and removes it on delete).
    pub created: bool,
    pub monitor: Option<String>,
}

fn invalid(field: &str, value: &str, why: &str) -> Error {
    Error::config(format!("linux.intelRdt.{field} {value:?}: {why}"))
}

/// A group or monitor name: one path component resctrl accepts.
fn check_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty()
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.contains('\n')
        || matches!(name, "info" | "mon_groups" | "mon_data")
    {
        return Err(invalid(field, name, "not a valid resctrl group name"));
    }
    Ok(())
}

/// The lines of a schema field; each must start with one of `prefixes`.
fn schema_lines(field: &str, value: &str, prefixes: &[&str]) -> Result<Vec<String>> {
    let lines: Vec<String> = value
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if lines.is_empty() {
        return Err(invalid(field, value, "empty schema"));
    }
    for l in &lines {
        let (resource, _) = l
            .split_once(':')
            .ok_or_else(|| invalid(field, l, "a schema line is RESOURCE:ID=VALUE;..."))?;
        if !prefixes.is_empty() && !prefixes.contains(&resource.trim()) {
            return Err(invalid(
                field,
                l,
                &format!("must start with {}", prefixes.join(":, ") + ":"),
            ));
        }
    }
    Ok(lines)
}

impl Plan {
    pub fn from_spec(rdt: &LinuxIntelRdt, id: &str) -> Result<Plan> {
        // runtime-spec 1.1's monitoring switches (oci-spec still parses
        // them, as enableCmt/enableMbm); 1.3 has enableMonitoring only.
        // Refused, never dropped.
        #[allow(deprecated)]
        let old_switches = [
            ("enableCmt", rdt.enable_cmt()),
            ("enableMbm", rdt.enable_mbm()),
        ];
        for (name, set) in old_switches {
            if set.is_some() {
                return Err(Error::config(format!(
                    "linux.intelRdt.{name}: not part of runtime-spec 1.3; use linux.intelRdt.enableMonitoring"
                )));
            }
        }
        let clos = rdt.clos_id().clone().filter(|c| !c.is_empty());
        if let Some(c) = &clos {
            check_name("closID", c)?;
        }
        let mut lines = Vec::new();
        if let Some(l3) = rdt.l3_cache_schema() {
            lines.extend(schema_lines(
                "l3CacheSchema",
                l3,
                &["L3", "L3CODE", "L3DATA"],
            )?);
        }
        if let Some(mb) = rdt.mem_bw_schema() {
            lines.extend(schema_lines("memBwSchema", mb, &["MB"])?);
        }
        for (i, l) in rdt.schemata().iter().flatten().enumerate() {
            lines.extend(schema_lines(&format!("schemata[{i}]"), l, &[])?);
        }
        Ok(Plan {
            group: clos.clone().unwrap_or_else(|| id.to_string()),
            clos_id_given: clos.is_some(),
            lines,
            monitor: rdt.enable_monitoring().unwrap_or(false).then(|| id.into()),
        })
    }
}

/// Whether resctrl is mounted at `root` (its root group has a schemata
/// file).
pub fn available(root: &Path) -> bool {
    root.join("schemata").is_file()
}

/// linux.intelRdt checked before anything is created: well formed, and
/// resctrl present.
pub fn check(rdt: &LinuxIntelRdt, id: &str, root: &Path) -> Result<Plan> {
    let plan = Plan::from_spec(rdt, id)?;
    if !available(root) {
        return Err(not_available(root, "linux.intelRdt"));
    }
    if plan.monitor.is_some() && !root.join("mon_groups").is_dir() {
        return Err(Error::config(format!(
            "linux.intelRdt.enableMonitoring: resctrl at {} has no monitoring (no mon_groups)",
            root.display()
        )));
    }
    Ok(plan)
}

pub fn not_available(root: &Path, what: &str) -> Error {
    Error::config(format!(
        "{what}: Intel RDT is not available: resctrl is not mounted at {} (needs a CPU with RDT or AMD QoS, CONFIG_X86_CPU_RESCTRL, and `mount -t resctrl resctrl {}`)",
        root.display(),
        root.display()
    ))
}

fn write(path: &Path, field: &str, data: &str) -> Result<()> {
    std::fs::write(path, data)
        .map_err(|e| Error::io(format!("{field}: writing {}", path.display()), e))
}

fn schemata(dir: &Path, lines: &[String]) -> Result<()> {
    if lines.is_empty() {
        return Ok(());
    }
    // One line per write: the kernel parses a write as one schema line.
    for l in lines {
        write(&dir.join("schemata"), "linux.intelRdt", &format!("{l}\n"))?;
    }
    Ok(())
}

/// Makes (or joins) the group, writes its schemata, and puts `pid` in it
/// and in its monitoring group.
pub fn apply(root: &Path, plan: &Plan, pid: i32) -> Result<Applied> {
    let dir = root.join(&plan.group);
    let existed = dir.is_dir();
    if plan.clos_id_given && plan.lines.is_empty() && !existed {
        return Err(Error::config(format!(
            "linux.intelRdt.closID {:?}: no such resctrl group {} (and no schema to create it with)",
            plan.group,
            dir.display()
        )));
    }
    if !existed {
        std::fs::create_dir(&dir)
            .map_err(|e| Error::io(format!("linux.intelRdt: creating {}", dir.display()), e))?;
    }
    let applied = Applied {
        group: plan.group.clone(),
        created: !existed,
        monitor: plan.monitor.clone(),
    };
    let r = (|| {
        schemata(&dir, &plan.lines)?;
        if let Some(m) = &plan.monitor {
            let mdir = dir.join("mon_groups").join(m);
            std::fs::create_dir_all(&mdir).map_err(|e| {
                Error::io(
                    format!(
                        "linux.intelRdt.enableMonitoring: creating {}",
                        mdir.display()
                    ),
                    e,
                )
            })?;
        }
        join_group(root, &applied, pid)
    })();
    if let Err(e) = r {
        remove(root, &applied);
        return Err(e);
    }
    Ok(applied)
}

/// Puts `pid` in the group and its monitoring group.
pub fn join_group(root: &Path, applied: &Applied, pid: i32) -> Result<()> {
    let dir = root.join(&applied.group);
    write(&dir.join("tasks"), "linux.intelRdt", &pid.to_string())?;
    if let Some(m) = &applied.monitor {
        write(
            &dir.join("mon_groups").join(m).join("tasks"),
            "linux.intelRdt.enableMonitoring",
            &pid.to_string(),
        )?;
    }
    Ok(())
}

/// An exec'd process joins the container's group, as the init did.
pub fn join_exec(state_dir: &Path, pid: i32) -> Result<()> {
    match load_record(state_dir) {
        Some(a) => join_group(Path::new(ROOT), &a, pid),
        None => Ok(()),
    }
}

/// `update --l3-cache-schema/--mem-bw-schema`: the new lines into the
/// container's group.
pub fn update(root: &Path, applied: &Applied, l3: Option<&str>, mb: Option<&str>) -> Result<()> {
    let mut lines = Vec::new();
    if let Some(l3) = l3 {
        lines.extend(schema_lines(
            "l3CacheSchema",
            l3,
            &["L3", "L3CODE", "L3DATA"],
        )?);
    }
    if let Some(mb) = mb {
        lines.extend(schema_lines("memBwSchema", mb, &["MB"])?);
    }
    schemata(&root.join(&applied.group), &lines)
}

/// Removes the monitoring group and the group if remora made it (a group
/// named by closID that existed before is the administrator's).
pub fn remove(root: &Path, applied: &Applied) {
    let dir: PathBuf = root.join(&applied.group);
    if let Some(m) = &applied.monitor {
        let _ = std::fs::remove_dir(dir.join("mon_groups").join(m));
    }
    if applied.created {
        let _ = std::fs::remove_dir(&dir);
    }
}

/// The record of a created container's group, if it has one.
pub fn load_record(state_dir: &Path) -> Option<Applied> {
    let data = std::fs::read(state_dir.join(RECORD_FILE)).ok()?;
    serde_json::from_slice(&data).ok()
}

pub fn save_record(state_dir: &Path, applied: &Applied) -> Result<()> {
    let path = state_dir.join(RECORD_FILE);
    let data = serde_json::to_vec(applied).expect("serialisable");
    std::fs::write(&path, data).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxIntelRdtBuilder;

    /// A directory standing in for /sys/fs/resctrl.
    fn fake_root(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("remora-resctrl-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("mon_groups")).unwrap();
        std::fs::write(d.join("schemata"), "L3:0=fffff\nMB:0=100\n").unwrap();
        d
    }

    #[test]
    fn plan_orders_lines_and_names_group() {
        let rdt = LinuxIntelRdtBuilder::default()
            .l3_cache_schema("L3:0=ff;1=ff")
            .mem_bw_schema("MB:0=50;1=50")
            .schemata(vec!["L2:0=f".to_string()])
            .enable_monitoring(true)
            .build()
            .unwrap();
        let p = Plan::from_spec(&rdt, "ctr").unwrap();
        assert_eq!(p.group, "ctr");
        assert!(!p.clos_id_given);
        assert_eq!(p.lines, ["L3:0=ff;1=ff", "MB:0=50;1=50", "L2:0=f"]);
        assert_eq!(p.monitor.as_deref(), Some("ctr"));
        let rdt = LinuxIntelRdtBuilder::default()
            .clos_id("gold")
            .build()
            .unwrap();
        let p = Plan::from_spec(&rdt, "ctr").unwrap();
        assert_eq!(p.group, "gold");
        assert!(p.lines.is_empty() && p.monitor.is_none());
    }

    #[test]
    fn the_1_1_monitoring_switches_are_refused() {
        for key in ["enableCmt", "enableMbm"] {
            let rdt: LinuxIntelRdt =
                serde_json::from_value(serde_json::json!({ key: true })).unwrap();
            let e = Plan::from_spec(&rdt, "c").unwrap_err().to_string();
            assert!(e.contains(&format!("linux.intelRdt.{key}")), "{e}");
        }
    }

    #[test]
    fn bad_values_are_refused_naming_the_field() {
        for (rdt, field) in [
            (
                LinuxIntelRdtBuilder::default().l3_cache_schema("MB:0=50"),
                "l3CacheSchema",
            ),
            (
                LinuxIntelRdtBuilder::default().mem_bw_schema("L3:0=ff"),
                "memBwSchema",
            ),
            (LinuxIntelRdtBuilder::default().clos_id("../x"), "closID"),
            (
                LinuxIntelRdtBuilder::default().schemata(vec!["nonsense".into()]),
                "schemata[0]",
            ),
        ] {
            let e = Plan::from_spec(&rdt.build().unwrap(), "c")
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("linux.intelRdt.{field}")), "{e}");
        }
    }

    #[test]
    fn without_resctrl_the_error_names_field_and_resctrl() {
        let rdt = LinuxIntelRdtBuilder::default()
            .l3_cache_schema("L3:0=ff")
            .build()
            .unwrap();
        let missing = std::env::temp_dir().join("remora-resctrl-none");
        let e = check(&rdt, "c", &missing).unwrap_err().to_string();
        assert!(e.contains("linux.intelRdt") && e.contains("resctrl"), "{e}");
    }

    #[test]
    fn apply_writes_group_schemata_tasks_and_monitor_then_removes() {
        let root = fake_root("apply");
        let rdt = LinuxIntelRdtBuilder::default()
            .l3_cache_schema("L3:0=ff")
            .mem_bw_schema("MB:0=40")
            .enable_monitoring(true)
            .build()
            .unwrap();
        let plan = check(&rdt, "ctr1", &root).unwrap();
        let applied = apply(&root, &plan, 4242).unwrap();
        assert!(applied.created);
        // A regular file keeps only the last write: the lines go in one
        // write each, the last one is MB.
        assert_eq!(
            std::fs::read_to_string(root.join("ctr1/schemata")).unwrap(),
            "MB:0=40\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("ctr1/tasks")).unwrap(),
            "4242"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("ctr1/mon_groups/ctr1/tasks")).unwrap(),
            "4242"
        );
        update(&root, &applied, Some("L3:0=f0"), None).unwrap();
        // An exec'd process joins both groups.
        join_group(&root, &applied, 77).unwrap();
        assert_eq!(
            std::fs::read_to_string(root.join("ctr1/mon_groups/ctr1/tasks")).unwrap(),
            "77"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("ctr1/schemata")).unwrap(),
            "L3:0=f0\n"
        );
        // remove: the test's files stand in for the kernel's, clear them.
        for f in ["ctr1/schemata", "ctr1/tasks", "ctr1/mon_groups/ctr1/tasks"] {
            std::fs::remove_file(root.join(f)).unwrap();
        }
        remove(&root, &applied);
        assert!(!root.join("ctr1/mon_groups/ctr1").exists());
        std::fs::remove_dir(root.join("ctr1/mon_groups")).unwrap();
        remove(&root, &applied);
        assert!(!root.join("ctr1").exists());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn clos_id_group_is_joined_and_kept() {
        let root = fake_root("clos");
        let rdt = LinuxIntelRdtBuilder::default()
            .clos_id("gold")
            .build()
            .unwrap();
        let plan = check(&rdt, "ctr2", &root).unwrap();
        let e = apply(&root, &plan, 1).unwrap_err().to_string();
        assert!(e.contains("linux.intelRdt.closID \"gold\""), "{e}");
        std::fs::create_dir(root.join("gold")).unwrap();
        let applied = apply(&root, &plan, 7).unwrap();
        assert!(!applied.created);
        assert_eq!(
            std::fs::read_to_string(root.join("gold/tasks")).unwrap(),
            "7"
        );
        assert!(!root.join("gold/schemata").exists());
        std::fs::remove_file(root.join("gold/tasks")).unwrap();
        remove(&root, &applied);
        assert!(
            root.join("gold").is_dir(),
            "a closID group that existed was removed"
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
