//! The committed man pages and completions (contrib/) are what the CLI
//! generates now, and `man -l` renders every page with each of its
//! command's flags. Regenerate with `cargo run -p remora-docgen`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;

fn committed(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for sub in [
        "man",
        "completions/bash",
        "completions/zsh",
        "completions/fish",
    ] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap().flatten() {
            out.insert(Path::new(sub).join(e.file_name()));
        }
    }
    out
}

#[test]
fn committed_files_match_the_cli() {
    let contrib = remora_docgen::repo_contrib();
    let generated = remora_docgen::files();
    let names: BTreeSet<PathBuf> = generated.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(
        committed(&contrib),
        names,
        "contrib/ has other files than the CLI generates: run `cargo run -p remora-docgen`"
    );
    for (rel, content) in &generated {
        let on_disk = std::fs::read(contrib.join(rel)).unwrap();
        assert!(
            on_disk == *content,
            "contrib/{} is stale: run `cargo run -p remora-docgen` and commit the result",
            rel.display()
        );
    }
    // one page per visible subcommand, and remora.8
    let cli = remora::cli::Cli::command();
    for sub in cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let page = format!("man/remora-{}.8", sub.get_name());
        assert!(names.contains(Path::new(&page)), "{page} missing");
    }
}

/// Every long flag of `cmd`, as `--name`.
fn long_flags(cmd: &clap::Command) -> Vec<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect()
}

#[test]
fn man_renders_every_page_with_its_flags() {
    if Command::new("man").arg("--version").output().is_err() {
        // scripts/ci.d/20-runtime.sh installs man-db; say so if it is not there
        println!("skipped: man(1) is not installed (apt-get install man-db)");
        return;
    }
    let contrib = remora_docgen::repo_contrib();
    let mut cli = remora::cli::Cli::command();
    cli.build();
    let mut pages = vec![("remora.8".to_string(), cli.clone())];
    for sub in cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        pages.push((format!("remora-{}.8", sub.get_name()), sub.clone()));
    }
    for (page, cmd) in pages {
        let path = contrib.join("man").join(&page);
        let out = Command::new("man")
            .env("MANWIDTH", "200")
            .env("MAN_KEEP_FORMATTING", "0")
            .args(["-P", "cat", "-l"])
            .arg(&path)
            .output()
            .unwrap();
        // man's overstrike bold/underline (X\bX, _\bX) when not on a tty
        let mut text = String::new();
        for c in String::from_utf8_lossy(&out.stdout).chars() {
            if c == '\u{8}' {
                text.pop();
            } else {
                text.push(c);
            }
        }
        assert!(out.status.success(), "man -l {page}: {out:?}");
        let title = page.trim_end_matches(".8");
        assert!(text.contains(&format!("{title}(8)")), "{page}: {text}");
        assert!(text.contains("SYNOPSIS"), "{page}: {text}");
        for flag in long_flags(&cmd) {
            assert!(text.contains(&flag), "{page} lacks {flag}:\n{text}");
        }
        for sub in cmd
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            assert!(
                text.contains(&format!("remora-{}(8)", sub.get_name())),
                "{page} does not list remora-{}(8)",
                sub.get_name()
            );
        }
    }
}

#[test]
fn completions_parse_and_offer_every_subcommand() {
    let contrib = remora_docgen::repo_contrib();
    let cli = remora::cli::Cli::command();
    for (shell, file) in [
        ("bash", "completions/bash/remora"),
        ("zsh", "completions/zsh/_remora"),
        ("fish", "completions/fish/remora.fish"),
    ] {
        let path = contrib.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        for sub in cli
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            assert!(
                text.contains(sub.get_name()),
                "{file} lacks {}",
                sub.get_name()
            );
        }
        match Command::new(shell).arg("-n").arg(&path).output() {
            Ok(o) => assert!(o.status.success(), "{shell} -n {file}: {o:?}"),
            Err(_) => println!("skipped: {shell} is not installed: {file} not syntax-checked"),
        }
    }
    // bash: completing `remora ch` offers check and checkpoint
    let script = format!(
        "source {}; COMP_WORDS=(remora ch); COMP_CWORD=1; _remora remora ch remora; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        contrib.join("completions/bash/remora").display()
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    let got = String::from_utf8_lossy(&out.stdout);
    assert!(
        got.lines().any(|l| l == "check"),
        "bash completion of `remora ch`: {got:?}"
    );
    assert!(got.lines().any(|l| l == "checkpoint"), "{got:?}");
}
