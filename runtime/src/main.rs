//! The `remora` binary: parse the command line, run the command, report a
//! failure the way runc does (exit 1, one error line in the log, the text
//! on stderr).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Parser;

use remora::cli::{normalize_args, Cli, Command, CreateArgs};
use remora::lifecycle::{self, create::CreateOptions, Global};
use remora::logging::{self, LogConfig};

/// The entry point (runtime/build.rs names it): on x86_64 the binary's
/// protection re-executes from there, before libc starts
/// (docs/security.md, "The runtime binary"). This keeps it linked.
#[cfg(all(target_arch = "x86_64", target_os = "linux", not(test)))]
#[used]
static ENTRY: unsafe extern "C" fn() -> ! = remora::sys::early_entry::remora_entry;

fn main() {
    // Where the early re-execution could not happen (or failed), here,
    // with the error reported; the first thing, while the process is
    // smallest.
    if remora::sys::protected_exe::wanted_for(std::env::args_os()) {
        if let Err(e) = remora::sys::protected_exe::ensure() {
            logging::init(log_config_from_args(&std::env::args().collect::<Vec<_>>()));
            logging::fatal(&format!("protecting the runtime binary: {e}"));
            std::process::exit(1);
        }
    }
    let args = normalize_args(std::env::args());
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // A usage error is a failure like any other: exit 1, one error
            // line in --log (containerd and podman read it there).
            logging::init(log_config_from_args(&args));
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            logging::fatal(first);
            std::process::exit(1);
        }
    };
    let log = LogConfig {
        file: cli.log.clone(),
        json: cli.log_format == "json",
        debug: cli.debug,
    };
    if let Err(e) = logging::check_file(&log) {
        let path = log.file.clone().unwrap_or_default();
        logging::init(LogConfig { file: None, ..log });
        logging::fatal(&format!(
            "--log {}: opening the log file: {e}",
            path.display()
        ));
        std::process::exit(1);
    }
    logging::init(log);
    match run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            logging::fatal(&message(&*e));
            std::process::exit(1);
        }
    }
}

/// An error and its causes, each said once (error.rs: a cause is a
/// `source`, never repeated in the text).
fn message(e: &(dyn std::error::Error + 'static)) -> String {
    remora::error::chain(e)
}

/// --log and --log-format read straight from the arguments, for errors
/// found before they could be parsed.
fn log_config_from_args(args: &[String]) -> LogConfig {
    let mut cfg = LogConfig {
        file: None,
        json: false,
        debug: false,
    };
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        let mut value = || inline.clone().or_else(|| it.peek().map(|s| s.to_string()));
        match flag {
            "--log" => cfg.file = value().map(PathBuf::from),
            "--log-format" => cfg.json = value().as_deref() == Some("json"),
            _ => {}
        }
    }
    cfg
}

fn state_root(cli: &Cli) -> Result<PathBuf> {
    let root = match &cli.root {
        Some(r) => std::path::absolute(r).context("--root")?,
        None => remora::rootless::default_state_root(),
    };
    if root == std::path::Path::new("/") {
        bail!("--root: refusing to use / as the state directory");
    }
    if std::fs::metadata(&root).is_ok_and(|m| !m.is_dir()) {
        bail!("--root {}: not a directory", root.display());
    }
    Ok(root)
}

fn create_options(c: &CreateArgs) -> CreateOptions {
    CreateOptions {
        id: c.id.clone(),
        bundle: c.bundle.clone(),
        pid_file: c
            .pid_file
            .as_ref()
            .map(|p| std::path::absolute(p).unwrap_or(p.clone())),
        console_socket: c.console_socket.clone(),
        no_pivot: c.no_pivot,
        no_new_keyring: c.no_new_keyring,
        preserve_fds: c.preserve_fds,
        pidfd_socket: c.pidfd_socket.clone(),
        foreground: false,
    }
}

fn run(cli: Cli) -> Result<i32> {
    if cli.log_format != "text" && cli.log_format != "json" {
        bail!("--log-format {:?}: must be text or json", cli.log_format);
    }
    if cli.version {
        print_version();
        return Ok(0);
    }
    let g = Global {
        root: state_root(&cli)?,
        systemd_cgroup: cli.systemd_cgroup,
        rootless: remora::rootless::cgroups_rootless(cli.rootless.as_deref())?,
    };
    let criu = cli.criu.clone();
    let Some(command) = cli.command else {
        Cli::parse_from(["remora", "--help"]);
        return Ok(0);
    };
    match command {
        Command::Create(c) => {
            lifecycle::create::create(&g, &create_options(&c))?;
        }
        Command::Start { id } => lifecycle::start::start(&g, &id)?,
        Command::State { id } => println!("{}", lifecycle::state(&g, &id)?),
        Command::Kill { all, id, signal } => {
            lifecycle::kill::kill(&g, &id, signal.as_deref().unwrap_or("SIGTERM"), all)?
        }
        Command::Delete { force, id } => lifecycle::delete::delete(&g, &id, force)?,
        Command::Run {
            create,
            detach,
            keep,
            no_subreaper,
        } => {
            if !detach && !no_subreaper {
                // Reap what the container leaves to us, as runc does.
                let _ = nix::sys::prctl::set_child_subreaper(true);
            }
            let mut o = create_options(&create);
            o.foreground = !detach;
            return Ok(lifecycle::run::run(&g, &o, detach, keep)?);
        }
        Command::Spec { bundle, rootless } => remora::spec::write_spec(&bundle, rootless)?,
        Command::Check { bundle } => {
            return Ok(lifecycle::check::check(
                &g,
                &bundle,
                cli.rootless.as_deref(),
            )?)
        }
        Command::Exec(e) => {
            let o = lifecycle::exec::ExecOptions {
                id: e.id,
                process_json: e.process,
                args: e.args,
                cwd: e.cwd,
                env: e.env,
                user: e.user,
                additional_gids: e.additional_gids,
                caps: e.cap,
                no_new_privs: e.no_new_privs,
                tty: e.tty,
                detach: e.detach,
                pid_file: e.pid_file.map(|p| std::path::absolute(&p).unwrap_or(p)),
                console_socket: e.console_socket,
                pidfd_socket: e.pidfd_socket,
                preserve_fds: e.preserve_fds,
                ignore_paused: e.ignore_paused,
                sub_cgroups: e.cgroup,
                apparmor: e.apparmor,
                process_label: e.process_label,
            };
            return match lifecycle::exec::exec(&g, &o) {
                Ok(code) => Ok(code),
                Err(err) => {
                    // A failure of exec itself: 255, as runc.
                    logging::fatal(&message(&err));
                    Ok(255)
                }
            };
        }
        Command::Pause { id } => lifecycle::cgroup_cmds::pause(&g, &id)?,
        Command::Resume { id } => lifecycle::cgroup_cmds::resume(&g, &id)?,
        Command::Ps {
            format,
            id,
            ps_args,
        } => print!(
            "{}",
            lifecycle::cgroup_cmds::ps(&g, &id, &format, &ps_args)?
        ),
        Command::Events {
            interval,
            stats,
            id,
        } => {
            let every = lifecycle::cgroup_cmds::parse_duration(&interval)?;
            lifecycle::cgroup_cmds::events(&g, &id, every, stats)?
        }
        Command::Update(u) => {
            let r = lifecycle::update_args::resources(&u)?;
            let rdt = (u.l3_cache_schema.as_deref(), u.mem_bw_schema.as_deref());
            lifecycle::cgroup_cmds::update(&g, &u.id, &r, rdt)?
        }
        Command::Features => println!("{}", remora::features::features()),
        Command::Checkpoint(a) => lifecycle::checkpoint::checkpoint(&g, &a, criu.as_deref())?,
        Command::Restore(a) => {
            if !a.detach && !a.no_subreaper {
                let _ = nix::sys::prctl::set_child_subreaper(true);
            }
            return Ok(lifecycle::restore::restore(&g, &a, criu.as_deref())?);
        }
        Command::List { format, quiet } => {
            print!("{}", lifecycle::list::list(&g, &format, quiet)?)
        }
    }
    Ok(0)
}

/// runc's format (`runc version X`, `commit: Y`, `spec: Z`, `go: ..`):
/// go-runc and scripts read the first three lines.
fn print_version() {
    println!("remora version {}", env!("CARGO_PKG_VERSION"));
    println!("commit: {}", env!("REMORA_COMMIT"));
    println!("spec: {}", remora::OCI_VERSION);
    println!("rustc: {}", env!("REMORA_RUSTC"));
    if cfg!(remora_unprotected) {
        println!("protection: OFF (a REMORA_UNPROTECTED=bench-only build, for bench/ only)");
    }
}
