//! runc's `checkpoint` and `restore` flags (cli.rs takes them in).

use std::path::PathBuf;

use clap::Args;

/// The flags checkpoint and restore share.
#[derive(Debug, Clone, Args)]
pub struct CriuFlags {
    /// Path for the criu image files (default ./checkpoint)
    #[arg(long, value_name = "PATH")]
    pub image_path: Option<PathBuf>,
    /// Path for criu's work files and logs (default: the image path)
    #[arg(long, value_name = "PATH")]
    pub work_path: Option<PathBuf>,
    /// Allow open TCP connections
    #[arg(long)]
    pub tcp_established: bool,
    /// Allow external unix sockets
    #[arg(long)]
    pub ext_unix_sk: bool,
    /// Allow shell jobs
    #[arg(long)]
    pub shell_job: bool,
    /// Handle file locks
    #[arg(long)]
    pub file_locks: bool,
    /// Cgroups mode: soft (default), full, strict or ignore
    #[arg(long, value_name = "MODE")]
    pub manage_cgroups_mode: Option<String>,
    /// Create a namespace, but don't restore its properties (network)
    #[arg(long, value_name = "NS")]
    pub empty_ns: Option<String>,
    /// Enable auto deduplication of memory images
    #[arg(long)]
    pub auto_dedup: bool,
    /// Use userfaultfd to lazily restore memory pages
    #[arg(long)]
    pub lazy_pages: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CheckpointArgs {
    #[command(flatten)]
    pub criu: CriuFlags,
    /// Path of the previous images (pre-dump), relative to the image path
    #[arg(long, value_name = "PATH")]
    pub parent_path: Option<PathBuf>,
    /// Leave the process running after checkpointing
    #[arg(long)]
    pub leave_running: bool,
    /// criu writes \0 to this fd once lazy-pages is ready
    #[arg(long, value_name = "FD", default_value_t = -1, allow_negative_numbers = true)]
    pub status_fd: i32,
    /// ADDRESS:PORT of the page server
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub page_server: Option<String>,
    /// Dump the container's memory only, leave it running
    #[arg(long)]
    pub pre_dump: bool,
    /// Container ID
    pub id: String,
}

#[derive(Debug, Clone, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub criu: CriuFlags,
    /// AF_UNIX socket to send the pty master to
    #[arg(long, value_name = "PATH")]
    pub console_socket: Option<PathBuf>,
    /// Bundle directory (default: the current directory)
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
    /// Detach from the container's process
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Write the restored init's PID to this file
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Do not become a subreaper
    #[arg(long)]
    pub no_subreaper: bool,
    /// Accepted (CRIU sets up the root itself)
    #[arg(long)]
    pub no_pivot: bool,
    /// LSM profile for the restored process, TYPE:NAME
    #[arg(long, value_name = "TYPE:NAME")]
    pub lsm_profile: Option<String>,
    /// LSM mount context for the restored mounts
    #[arg(long, value_name = "CONTEXT")]
    pub lsm_mount_context: Option<String>,
    /// Container ID
    pub id: String,
}
