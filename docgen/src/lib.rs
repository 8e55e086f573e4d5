//! remora's man pages and shell completions, from the clap definition that
//! parses its command line (`remora::cli::Cli`).
//!
//! Layout under the output directory (contrib/ in the repository):
//! `man/remora.8`, `man/remora-<subcommand>.8` (section 8, as runc's),
//! `completions/bash/remora`, `completions/zsh/_remora`,
//! `completions/fish/remora.fish` (each named as its shell looks it up).

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

/// Every generated file: its path relative to the output dir and content.
pub fn files() -> Vec<(PathBuf, Vec<u8>)> {
    let mut cmd = remora::cli::Cli::command();
    cmd.build();
    let mut out = Vec::new();
    out.push((PathBuf::from("man/remora.8"), man_page(cmd.clone())));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        // clap names are &'static str (without its "string" feature): a
        // few bytes leaked once per page by a generator that then exits.
        let name: &'static str = Box::leak(format!("remora-{}", sub.get_name()).into_boxed_str());
        let page = sub
            .clone()
            .name(name)
            .bin_name(format!("remora {}", sub.get_name()));
        out.push((PathBuf::from(format!("man/{name}.8")), man_page(page)));
    }
    for (shell, path) in [
        (Shell::Bash, "completions/bash/remora"),
        (Shell::Zsh, "completions/zsh/_remora"),
        (Shell::Fish, "completions/fish/remora.fish"),
    ] {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "remora", &mut buf);
        out.push((PathBuf::from(path), buf));
    }
    out
}

fn man_page(cmd: clap::Command) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .section("8")
        .manual("remora manual")
        .source(format!("remora {}", env!("CARGO_PKG_VERSION")))
        .render(&mut buf)
        .expect("rendering into a Vec cannot fail");
    buf
}

/// The repository's contrib/ directory, where the generated files are
/// committed.
pub fn repo_contrib() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    repo.canonicalize().unwrap_or(repo).join("contrib")
}

/// Writes every file under `dir` (directories made as needed).
pub fn write_all(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (rel, content) in files() {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
        written.push(path);
    }
    Ok(written)
}
