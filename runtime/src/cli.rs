//! The runc-compatible command line.

use std::collections::HashSet;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "remora",
    about = "remora: an OCI container runtime, a drop-in replacement for runc",
    disable_version_flag = true
)]
pub struct Cli {
    /// State directory (default /run/remora; $XDG_RUNTIME_DIR/remora when not root)
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Log file (default stderr)
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Log format: text or json
    #[arg(long, value_name = "FORMAT", default_value = "text")]
    pub log_format: String,
    /// Debug logging
    #[arg(long)]
    pub debug: bool,
    /// Use systemd for cgroups (cgroupsPath is slice:prefix:name)
    #[arg(long)]
    pub systemd_cgroup: bool,
    /// Rootless mode: true, false or auto
    #[arg(long, value_name = "VALUE", num_args = 0..=1, default_missing_value = "true")]
    pub rootless: Option<String>,
    /// The criu binary for checkpoint and restore (default: criu in PATH)
    #[arg(long)]
    pub criu: Option<String>,
    /// Print the version
    #[arg(short = 'v', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Bundle directory (default: the current directory)
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
    /// Write the init's PID to this file
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// AF_UNIX socket to send the pty master to
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// AF_UNIX socket to send a pidfd of the init to
    #[arg(long, value_name = "PATH")]
    pub pidfd_socket: Option<PathBuf>,
    /// Do not use pivot_root (MS_MOVE + chroot instead)
    #[arg(long)]
    pub no_pivot: bool,
    /// Do not create a new session keyring
    #[arg(long)]
    pub no_new_keyring: bool,
    /// Pass N extra fds (3..3+N) into the container
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Container ID
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// LinuxResources JSON from a file, or "-" for stdin
    #[arg(short = 'r', long, value_name = "FILE")]
    pub resources: Option<String>,
    #[arg(long)]
    pub blkio_weight: Option<u16>,
    #[arg(long)]
    pub cpu_period: Option<u64>,
    #[arg(long, allow_negative_numbers = true)]
    pub cpu_quota: Option<i64>,
    /// CPU CFS hardcap burst limit (in usecs), over the quota
    #[arg(long)]
    pub cpu_burst: Option<u64>,
    /// 1: the cgroup's tasks run as SCHED_IDLE; 0: default behaviour
    #[arg(long, allow_negative_numbers = true)]
    pub cpu_idle: Option<i64>,
    #[arg(long)]
    pub cpu_rt_period: Option<u64>,
    #[arg(long, allow_negative_numbers = true)]
    pub cpu_rt_runtime: Option<i64>,
    #[arg(long)]
    pub cpu_share: Option<u64>,
    #[arg(long)]
    pub cpuset_cpus: Option<String>,
    #[arg(long)]
    pub cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with a k/m/g suffix)
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Kernel memory limit: accepted and ignored with a warning, as runc
    /// (Linux no longer enforces it)
    #[arg(long, allow_hyphen_values = true)]
    pub kernel_memory: Option<String>,
    #[arg(long, allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// The string of Intel RDT/CAT L3 cache schema (needs resctrl)
    #[arg(long)]
    pub l3_cache_schema: Option<String>,
    /// The string of Intel RDT/MBA memory bandwidth schema (needs resctrl)
    #[arg(long)]
    pub mem_bw_schema: Option<String>,
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// process.json to run as is
    #[arg(short = 'p', long, value_name = "FILE")]
    pub process: Option<PathBuf>,
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    #[arg(long, value_name = "PATH")]
    pub pidfd_socket: Option<PathBuf>,
    /// Working directory
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Environment variable KEY=VALUE
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// uid[:gid]
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Additional gids
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Detach from the process
    #[arg(short = 'd', long)]
    pub detach: bool,
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// SELinux label of the process (process.selinuxLabel)
    #[arg(long)]
    pub process_label: Option<String>,
    /// AppArmor profile of the process (process.apparmorProfile)
    #[arg(long)]
    pub apparmor: Option<String>,
    #[arg(long)]
    pub no_new_privs: bool,
    /// Add a capability
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,
    #[arg(long, default_value_t = 0)]
    pub preserve_fds: u32,
    /// Accepted: the container's cgroup is joined
    #[arg(long)]
    pub cgroup: Vec<String>,
    #[arg(long)]
    pub ignore_paused: bool,
    /// Container ID, then the command and its arguments
    pub id: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a container (its process waits for `start`)
    Create(CreateArgs),
    /// Start a created container
    Start { id: String },
    /// Print a container's state as JSON
    State { id: String },
    /// Send a signal to a container's init (default SIGTERM)
    Kill {
        /// Signal every process in the container
        #[arg(short, long)]
        all: bool,
        id: String,
        signal: Option<String>,
    },
    /// Delete a container
    Delete {
        /// Kill a running container first
        #[arg(short, long)]
        force: bool,
        id: String,
    },
    /// Create and start a container
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Detach: return once the container runs
        #[arg(short, long)]
        detach: bool,
        /// Keep the container's state after it exits
        #[arg(long)]
        keep: bool,
        /// Do not become a subreaper
        #[arg(long)]
        no_subreaper: bool,
    },
    /// Write a default config.json
    Spec {
        #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
        bundle: PathBuf,
        #[arg(long)]
        rootless: bool,
    },
    /// Check a bundle without creating anything; list every problem found
    ///
    /// Reads config.json, the rootfs and what the host offers (cgroup
    /// controllers, LSMs, resctrl, subordinate ids); creates no namespace,
    /// mount, cgroup or state. Prints each problem as `error: FIELD:
    /// MESSAGE` or `warning: FIELD: MESSAGE`, each with a hint line. Exit
    /// status 0 when create would pass its validation, 1 otherwise.
    Check {
        /// Bundle directory (default: the current directory)
        #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
        bundle: PathBuf,
    },
    /// Run a new process in a running container
    Exec(ExecArgs),
    /// Freeze every process of a container
    Pause { id: String },
    /// Thaw a paused container
    Resume { id: String },
    /// List a container's processes
    Ps {
        /// table or json
        #[arg(short = 'f', long, default_value = "table")]
        format: String,
        id: String,
        /// Arguments for ps(1)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Stream a container's resource usage (JSON lines)
    Events {
        /// How often to report stats
        #[arg(long, default_value = "5s")]
        interval: String,
        /// Report stats once and exit
        #[arg(long)]
        stats: bool,
        id: String,
    },
    /// Change a running container's resources
    Update(UpdateArgs),
    /// Print what this build and host support (JSON)
    Features,
    /// Checkpoint a running container with CRIU
    Checkpoint(crate::cli_criu::CheckpointArgs),
    /// Restore a container from a checkpoint with CRIU
    Restore(crate::cli_criu::RestoreArgs),
    /// List containers
    List {
        #[arg(short = 'f', long, default_value = "table")]
        format: String,
        #[arg(short, long)]
        quiet: bool,
    },
}

/// Every long flag name (for the single-dash form: `-root /x`).
fn long_flags() -> HashSet<String> {
    fn walk(cmd: &clap::Command, out: &mut HashSet<String>) {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                out.insert(l.to_string());
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out = HashSet::new();
    walk(&Cli::command(), &mut out);
    out
}

/// Flags (long and short names) that take a value.
fn value_flags() -> HashSet<String> {
    fn walk(cmd: &clap::Command, out: &mut HashSet<String>) {
        for a in cmd.get_arguments() {
            if a.get_action().takes_values() && !a.is_positional() {
                if let Some(l) = a.get_long() {
                    out.insert(l.to_string());
                }
                if let Some(s) = a.get_short() {
                    out.insert(s.to_string());
                }
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out = HashSet::new();
    walk(&Cli::command(), &mut out);
    out
}

/// Rewrites single-dash long flags (`-root`, `-log-format=json`) to the
/// double-dash form, as Go's flag package accepts both.
pub fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let longs = long_flags();
    let mut out = Vec::new();
    let mut rest_verbatim = false;
    let mut positional_seen = false;
    let mut subcommand: Option<String> = None;
    let mut prev_takes_value = false;
    let value_flags = value_flags();
    for a in args {
        if rest_verbatim || a == "--" {
            rest_verbatim = true;
            out.push(a);
            continue;
        }
        let is_single_long = !positional_seen
            && a.len() > 2
            && a.starts_with('-')
            && !a.starts_with("--")
            && longs.contains(a[1..].split('=').next().unwrap_or(""));
        // exec, kill and ps take no flags after the container ID: what
        // follows is the command (or signal, or ps arguments).
        if subcommand
            .as_deref()
            .is_some_and(|s| matches!(s, "exec" | "ps"))
            && !a.starts_with('-')
            && !prev_takes_value
        {
            positional_seen = true;
        }
        if subcommand.is_none() && !a.starts_with('-') && !prev_takes_value && !out.is_empty() {
            subcommand = Some(a.clone());
        }
        prev_takes_value = a.starts_with('-')
            && !a.contains('=')
            && value_flags.contains(a.trim_start_matches('-'));
        if is_single_long {
            out.push(format!("-{a}"));
        } else {
            out.push(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_dash_long_flags() {
        let args = normalize_args(
            [
                "remora",
                "-root",
                "/x",
                "-log-format=json",
                "create",
                "-b",
                "b",
                "id",
            ]
            .map(String::from),
        );
        let cli = Cli::try_parse_from(&args).unwrap();
        assert_eq!(cli.root, Some(PathBuf::from("/x")));
        assert_eq!(cli.log_format, "json");
        match cli.command {
            Some(Command::Create(c)) => {
                assert_eq!(c.bundle, PathBuf::from("b"));
                assert_eq!(c.id, "id");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kill_flags_after_positionals() {
        let cli = Cli::try_parse_from(["remora", "kill", "c1", "9", "--all"]).unwrap();
        match cli.command {
            Some(Command::Kill { all, id, signal }) => {
                assert!(all);
                assert_eq!(id, "c1");
                assert_eq!(signal.as_deref(), Some("9"));
            }
            other => panic!("{other:?}"),
        }
    }
}
