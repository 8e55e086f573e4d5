//! `remora check`: the bundle's files: mount options and bind sources,
//! and inside the rootfs: /dev, process.args[0], and paths through
//! symlinks that leave it (resolved as the container sees them).

use std::path::{Component, Path, PathBuf};

use oci_spec::runtime::Spec;

use super::{executable_mode, hint_for, Problem};

/// Mount options, bind sources, and destinations through symlinks that
/// leave the rootfs.
pub(super) fn mounts(dir: &Path, rootfs: Option<&Path>, spec: &Spec, out: &mut Vec<Problem>) {
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if let Err(e) =
            crate::rootfs::options::MountOptions::parse(m.options().as_deref().unwrap_or(&[]))
        {
            out.push(Problem::error(
                format!("mounts[{i}].options"),
                e.to_string(),
                "see mount(8) and docs/spec-coverage.md for the options remora takes",
            ));
        }
        if crate::rootfs::mounts::is_bind(m) {
            let src = m.source().clone().unwrap_or_default();
            let host = if src.is_absolute() {
                src.clone()
            } else {
                dir.join(&src)
            };
            if let Err(e) = std::fs::metadata(&host) {
                out.push(Problem::error(
                    format!("mounts[{i}].source"),
                    format!("{:?}: {}: {e}", src, host.display()),
                    "a bind mount's source must exist on the host (a relative source is from the bundle)",
                ));
            }
        }
        if let Some(root) = rootfs {
            let r = resolve_in_root(root, m.destination());
            for s in r.leaving {
                out.push(Problem::warning(
                    format!("mounts[{i}].destination"),
                    format!("{:?}: {s}", m.destination()),
                    format!("remora resolves it inside the rootfs: the mount lands on {}; give that path as the destination, or fix the symlink", r.path.display()),
                ));
            }
        }
    }
}

/// Checks inside the rootfs: /dev not a symlink, process.args[0] found
/// and executable, process.cwd not through a symlink that leaves.
pub(super) fn in_rootfs(root: &Path, spec: &Spec, out: &mut Vec<Problem>) {
    if std::fs::symlink_metadata(root.join("dev")).is_ok_and(|m| m.file_type().is_symlink()) {
        out.push(Problem::error(
            "root.path",
            format!("{}/dev is a symlink", root.display()),
            "/dev in the rootfs must be a directory (or absent): the runtime makes device nodes in it",
        ));
    }
    let Some(process) = spec.process() else {
        return;
    };
    let mount_dests: Vec<PathBuf> = spec
        .mounts()
        .iter()
        .flatten()
        .map(|m| m.destination().clone())
        .collect();
    if let Some(arg0) = process.args().as_ref().and_then(|a| a.first()) {
        let env = process.env().as_deref().unwrap_or(&[]);
        program(root, process.cwd(), arg0, env, &mount_dests, out);
    }
    let cwd = resolve_in_root(root, process.cwd());
    for s in cwd.leaving {
        out.push(Problem::warning(
            "process.cwd",
            format!("{:?}: {s}", process.cwd()),
            format!(
                "remora resolves it inside the rootfs: the process starts in {}",
                cwd.path.display()
            ),
        ));
    }
}

/// process.args[0] in the rootfs (PATH from process.env for a bare
/// name), as create's lookup would find it; skipped when a mount covers
/// it (it is not in the rootfs then).
fn program(
    root: &Path,
    cwd: &Path,
    arg0: &str,
    env: &[String],
    mounts: &[PathBuf],
    out: &mut Vec<Problem>,
) {
    let candidates: Vec<PathBuf> = if arg0.contains('/') {
        vec![Path::new("/").join(cwd).join(arg0)]
    } else {
        env.iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("")
            .split(':')
            .filter(|d| d.starts_with('/'))
            .map(|d| Path::new(d).join(arg0))
            .collect()
    };
    if candidates.iter().any(|c| {
        mounts
            .iter()
            .any(|m| m != Path::new("/") && c.starts_with(m))
    }) {
        return;
    }
    let mut denied = None;
    for c in &candidates {
        let r = resolve_in_root(root, c);
        if !r.exists {
            continue;
        }
        match std::fs::metadata(root.join(r.path.strip_prefix("/").unwrap_or(&r.path))) {
            Ok(m) if m.is_file() && executable_mode(m.permissions()) => return,
            Ok(_) => denied = Some(c.clone()),
            Err(_) => {}
        }
    }
    let (message, hint) = match denied {
        Some(c) => (
            format!("{arg0:?}: {} is not an executable file", c.display()),
            "give the program's mode an x bit (chmod +x) in the rootfs".to_string(),
        ),
        None if arg0.contains('/') => (
            format!("{arg0:?}: no such file in the container's rootfs"),
            hint_for("process.args").to_string(),
        ),
        None => (
            format!("{arg0:?}: executable file not found in $PATH (process.env's PATH)"),
            hint_for("process.args").to_string(),
        ),
    };
    out.push(Problem::error("process.args[0]", message, hint));
}

/// A path resolved inside the rootfs as the container sees it (symlinks
/// followed with the rootfs as `/`).
struct Resolved {
    /// The container path it names.
    path: PathBuf,
    /// Whether that path exists.
    exists: bool,
    /// The symlinks on the way that leave the rootfs, described: a
    /// relative target climbing above it, or an absolute target that
    /// exists on the host but not in the rootfs (a host path, likely).
    leaving: Vec<String>,
}

fn resolve_in_root(root: &Path, path: &Path) -> Resolved {
    let mut cur = PathBuf::from("/");
    let mut todo: Vec<std::ffi::OsString> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut leaving = Vec::new();
    let mut hops = 0;
    while let Some(name) = todo.pop() {
        if name == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&name);
        let host = root.join(next.strip_prefix("/").unwrap_or(&next));
        match std::fs::symlink_metadata(&host) {
            Ok(m) if m.file_type().is_symlink() => {
                hops += 1;
                let Ok(target) = std::fs::read_link(&host) else {
                    return Resolved {
                        path: next,
                        exists: false,
                        leaving,
                    };
                };
                if hops > 40 {
                    return Resolved {
                        path: next,
                        exists: false,
                        leaving,
                    };
                }
                if target.is_absolute() {
                    let inside = root.join(target.strip_prefix("/").unwrap_or(&target));
                    if std::fs::symlink_metadata(&inside).is_err() && target.exists() {
                        leaving.push(format!(
                            "{} in the rootfs is a symlink to {}, which exists on the host but not in the rootfs",
                            next.display(),
                            target.display()
                        ));
                    }
                    cur = PathBuf::from("/");
                } else {
                    // Depth of `cur` vs the `..`s the target climbs.
                    let mut depth = cur.components().count() - 1;
                    let mut climbs_out = false;
                    for c in target.components() {
                        match c {
                            Component::ParentDir if depth == 0 => climbs_out = true,
                            Component::ParentDir => depth -= 1,
                            Component::Normal(_) => depth += 1,
                            _ => {}
                        }
                    }
                    if climbs_out {
                        leaving.push(format!(
                            "{} in the rootfs is a symlink to {}, which climbs out of the rootfs",
                            next.display(),
                            target.display()
                        ));
                    }
                }
                for c in target.components().rev() {
                    match c {
                        Component::Normal(n) => todo.push(n.to_os_string()),
                        Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
            }
            Ok(_) => cur = next,
            Err(_) => {
                // The rest does not exist (yet): create makes it.
                cur = next;
                while let Some(n) = todo.pop() {
                    if n == ".." {
                        cur.pop();
                    } else {
                        cur.push(n);
                    }
                }
                return Resolved {
                    path: cur,
                    exists: false,
                    leaving,
                };
            }
        }
    }
    Resolved {
        path: cur,
        exists: true,
        leaving,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolving_in_the_rootfs() {
        let root = std::env::temp_dir().join(format!("remora-check-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::os::unix::fs::symlink("/a", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../etc", root.join("a/up")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("hostdir")).unwrap();
        let r = resolve_in_root(&root, Path::new("/abs/b"));
        assert_eq!(r.path, PathBuf::from("/a/b"));
        assert!(r.exists && r.leaving.is_empty());
        let r = resolve_in_root(&root, Path::new("/a/up/x"));
        assert_eq!(r.path, PathBuf::from("/etc/x"));
        assert!(!r.exists);
        assert!(r.leaving[0].contains("climbs out"), "{:?}", r.leaving);
        let r = resolve_in_root(&root, Path::new("/hostdir"));
        assert!(
            r.leaving[0].contains("exists on the host"),
            "{:?}",
            r.leaving
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
