# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_remora_global_optspecs
    string join \n root= log= log-format= debug systemd-cgroup rootless= criu= v/version h/help
end

function __fish_remora_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_remora_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_remora_using_subcommand
    set -l cmd (__fish_remora_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c remora -n "__fish_remora_needs_command" -l root -d 'State directory (default /run/remora; $XDG_RUNTIME_DIR/remora when not root)' -r -F
complete -c remora -n "__fish_remora_needs_command" -l log -d 'Log file (default stderr)' -r -F
complete -c remora -n "__fish_remora_needs_command" -l log-format -d 'Log format: text or json' -r
complete -c remora -n "__fish_remora_needs_command" -l rootless -d 'Rootless mode: true, false or auto' -r
complete -c remora -n "__fish_remora_needs_command" -l criu -d 'The criu binary for checkpoint and restore (default: criu in PATH)' -r
complete -c remora -n "__fish_remora_needs_command" -l debug -d 'Debug logging'
complete -c remora -n "__fish_remora_needs_command" -l systemd-cgroup -d 'Use systemd for cgroups (cgroupsPath is slice:prefix:name)'
complete -c remora -n "__fish_remora_needs_command" -s v -l version -d 'Print the version'
complete -c remora -n "__fish_remora_needs_command" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_needs_command" -f -a "create" -d 'Create a container (its process waits for `start`)'
complete -c remora -n "__fish_remora_needs_command" -f -a "start" -d 'Start a created container'
complete -c remora -n "__fish_remora_needs_command" -f -a "state" -d 'Print a container\'s state as JSON'
complete -c remora -n "__fish_remora_needs_command" -f -a "kill" -d 'Send a signal to a container\'s init (default SIGTERM)'
complete -c remora -n "__fish_remora_needs_command" -f -a "delete" -d 'Delete a container'
complete -c remora -n "__fish_remora_needs_command" -f -a "run" -d 'Create and start a container'
complete -c remora -n "__fish_remora_needs_command" -f -a "spec" -d 'Write a default config.json'
complete -c remora -n "__fish_remora_needs_command" -f -a "check" -d 'Check a bundle without creating anything; list every problem found'
complete -c remora -n "__fish_remora_needs_command" -f -a "exec" -d 'Run a new process in a running container'
complete -c remora -n "__fish_remora_needs_command" -f -a "pause" -d 'Freeze every process of a container'
complete -c remora -n "__fish_remora_needs_command" -f -a "resume" -d 'Thaw a paused container'
complete -c remora -n "__fish_remora_needs_command" -f -a "ps" -d 'List a container\'s processes'
complete -c remora -n "__fish_remora_needs_command" -f -a "events" -d 'Stream a container\'s resource usage (JSON lines)'
complete -c remora -n "__fish_remora_needs_command" -f -a "update" -d 'Change a running container\'s resources'
complete -c remora -n "__fish_remora_needs_command" -f -a "features" -d 'Print what this build and host support (JSON)'
complete -c remora -n "__fish_remora_needs_command" -f -a "checkpoint" -d 'Checkpoint a running container with CRIU'
complete -c remora -n "__fish_remora_needs_command" -f -a "restore" -d 'Restore a container from a checkpoint with CRIU'
complete -c remora -n "__fish_remora_needs_command" -f -a "list" -d 'List containers'
complete -c remora -n "__fish_remora_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c remora -n "__fish_remora_using_subcommand create" -s b -l bundle -d 'Bundle directory (default: the current directory)' -r -F
complete -c remora -n "__fish_remora_using_subcommand create" -l pid-file -d 'Write the init\'s PID to this file' -r -F
complete -c remora -n "__fish_remora_using_subcommand create" -l console-socket -d 'AF_UNIX socket to send the pty master to' -r -F
complete -c remora -n "__fish_remora_using_subcommand create" -l pidfd-socket -d 'AF_UNIX socket to send a pidfd of the init to' -r -F
complete -c remora -n "__fish_remora_using_subcommand create" -l preserve-fds -d 'Pass N extra fds (3..3+N) into the container' -r
complete -c remora -n "__fish_remora_using_subcommand create" -l no-pivot -d 'Do not use pivot_root (MS_MOVE + chroot instead)'
complete -c remora -n "__fish_remora_using_subcommand create" -l no-new-keyring -d 'Do not create a new session keyring'
complete -c remora -n "__fish_remora_using_subcommand create" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand start" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand state" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand kill" -s a -l all -d 'Signal every process in the container'
complete -c remora -n "__fish_remora_using_subcommand kill" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand delete" -s f -l force -d 'Kill a running container first'
complete -c remora -n "__fish_remora_using_subcommand delete" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand run" -s b -l bundle -d 'Bundle directory (default: the current directory)' -r -F
complete -c remora -n "__fish_remora_using_subcommand run" -l pid-file -d 'Write the init\'s PID to this file' -r -F
complete -c remora -n "__fish_remora_using_subcommand run" -l console-socket -d 'AF_UNIX socket to send the pty master to' -r -F
complete -c remora -n "__fish_remora_using_subcommand run" -l pidfd-socket -d 'AF_UNIX socket to send a pidfd of the init to' -r -F
complete -c remora -n "__fish_remora_using_subcommand run" -l preserve-fds -d 'Pass N extra fds (3..3+N) into the container' -r
complete -c remora -n "__fish_remora_using_subcommand run" -l no-pivot -d 'Do not use pivot_root (MS_MOVE + chroot instead)'
complete -c remora -n "__fish_remora_using_subcommand run" -l no-new-keyring -d 'Do not create a new session keyring'
complete -c remora -n "__fish_remora_using_subcommand run" -s d -l detach -d 'Detach: return once the container runs'
complete -c remora -n "__fish_remora_using_subcommand run" -l keep -d 'Keep the container\'s state after it exits'
complete -c remora -n "__fish_remora_using_subcommand run" -l no-subreaper -d 'Do not become a subreaper'
complete -c remora -n "__fish_remora_using_subcommand run" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand spec" -s b -l bundle -r -F
complete -c remora -n "__fish_remora_using_subcommand spec" -l rootless
complete -c remora -n "__fish_remora_using_subcommand spec" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand check" -s b -l bundle -d 'Bundle directory (default: the current directory)' -r -F
complete -c remora -n "__fish_remora_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c remora -n "__fish_remora_using_subcommand exec" -s p -l process -d 'process.json to run as is' -r -F
complete -c remora -n "__fish_remora_using_subcommand exec" -l console-socket -r -F
complete -c remora -n "__fish_remora_using_subcommand exec" -l pidfd-socket -r -F
complete -c remora -n "__fish_remora_using_subcommand exec" -l cwd -d 'Working directory' -r -F
complete -c remora -n "__fish_remora_using_subcommand exec" -s e -l env -d 'Environment variable KEY=VALUE' -r
complete -c remora -n "__fish_remora_using_subcommand exec" -s u -l user -d 'uid[:gid]' -r
complete -c remora -n "__fish_remora_using_subcommand exec" -s g -l additional-gids -d 'Additional gids' -r
complete -c remora -n "__fish_remora_using_subcommand exec" -l pid-file -r -F
complete -c remora -n "__fish_remora_using_subcommand exec" -l process-label -d 'SELinux label of the process (process.selinuxLabel)' -r
complete -c remora -n "__fish_remora_using_subcommand exec" -l apparmor -d 'AppArmor profile of the process (process.apparmorProfile)' -r
complete -c remora -n "__fish_remora_using_subcommand exec" -s c -l cap -d 'Add a capability' -r
complete -c remora -n "__fish_remora_using_subcommand exec" -l preserve-fds -r
complete -c remora -n "__fish_remora_using_subcommand exec" -l cgroup -d 'Accepted: the container\'s cgroup is joined' -r
complete -c remora -n "__fish_remora_using_subcommand exec" -s t -l tty -d 'Allocate a pseudo-TTY'
complete -c remora -n "__fish_remora_using_subcommand exec" -s d -l detach -d 'Detach from the process'
complete -c remora -n "__fish_remora_using_subcommand exec" -l no-new-privs
complete -c remora -n "__fish_remora_using_subcommand exec" -l ignore-paused
complete -c remora -n "__fish_remora_using_subcommand exec" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand pause" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand resume" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand ps" -s f -l format -d 'table or json' -r
complete -c remora -n "__fish_remora_using_subcommand ps" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand events" -l interval -d 'How often to report stats' -r
complete -c remora -n "__fish_remora_using_subcommand events" -l stats -d 'Report stats once and exit'
complete -c remora -n "__fish_remora_using_subcommand events" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand update" -s r -l resources -d 'LinuxResources JSON from a file, or "-" for stdin' -r
complete -c remora -n "__fish_remora_using_subcommand update" -l blkio-weight -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpu-period -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpu-quota -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpu-burst -d 'CPU CFS hardcap burst limit (in usecs), over the quota' -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpu-idle -d '1: the cgroup\'s tasks run as SCHED_IDLE; 0: default behaviour' -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpu-rt-period -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpu-rt-runtime -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpu-share -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpuset-cpus -r
complete -c remora -n "__fish_remora_using_subcommand update" -l cpuset-mems -r
complete -c remora -n "__fish_remora_using_subcommand update" -l memory -d 'Memory limit (bytes, or with a k/m/g suffix)' -r
complete -c remora -n "__fish_remora_using_subcommand update" -l memory-reservation -r
complete -c remora -n "__fish_remora_using_subcommand update" -l memory-swap -r
complete -c remora -n "__fish_remora_using_subcommand update" -l kernel-memory -d 'Kernel memory limit: accepted and ignored with a warning, as runc (Linux no longer enforces it)' -r
complete -c remora -n "__fish_remora_using_subcommand update" -l pids-limit -r
complete -c remora -n "__fish_remora_using_subcommand update" -l l3-cache-schema -d 'The string of Intel RDT/CAT L3 cache schema (needs resctrl)' -r
complete -c remora -n "__fish_remora_using_subcommand update" -l mem-bw-schema -d 'The string of Intel RDT/MBA memory bandwidth schema (needs resctrl)' -r
complete -c remora -n "__fish_remora_using_subcommand update" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand features" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l image-path -d 'Path for the criu image files (default ./checkpoint)' -r -F
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l work-path -d 'Path for criu\'s work files and logs (default: the image path)' -r -F
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l manage-cgroups-mode -d 'Cgroups mode: soft (default), full, strict or ignore' -r
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l empty-ns -d 'Create a namespace, but don\'t restore its properties (network)' -r
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l parent-path -d 'Path of the previous images (pre-dump), relative to the image path' -r -F
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l status-fd -d 'criu writes \\0 to this fd once lazy-pages is ready' -r
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l page-server -d 'ADDRESS:PORT of the page server' -r
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l tcp-established -d 'Allow open TCP connections'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l ext-unix-sk -d 'Allow external unix sockets'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l shell-job -d 'Allow shell jobs'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l file-locks -d 'Handle file locks'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l auto-dedup -d 'Enable auto deduplication of memory images'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l lazy-pages -d 'Use userfaultfd to lazily restore memory pages'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l leave-running -d 'Leave the process running after checkpointing'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -l pre-dump -d 'Dump the container\'s memory only, leave it running'
complete -c remora -n "__fish_remora_using_subcommand checkpoint" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand restore" -l image-path -d 'Path for the criu image files (default ./checkpoint)' -r -F
complete -c remora -n "__fish_remora_using_subcommand restore" -l work-path -d 'Path for criu\'s work files and logs (default: the image path)' -r -F
complete -c remora -n "__fish_remora_using_subcommand restore" -l manage-cgroups-mode -d 'Cgroups mode: soft (default), full, strict or ignore' -r
complete -c remora -n "__fish_remora_using_subcommand restore" -l empty-ns -d 'Create a namespace, but don\'t restore its properties (network)' -r
complete -c remora -n "__fish_remora_using_subcommand restore" -l console-socket -d 'AF_UNIX socket to send the pty master to' -r -F
complete -c remora -n "__fish_remora_using_subcommand restore" -s b -l bundle -d 'Bundle directory (default: the current directory)' -r -F
complete -c remora -n "__fish_remora_using_subcommand restore" -l pid-file -d 'Write the restored init\'s PID to this file' -r -F
complete -c remora -n "__fish_remora_using_subcommand restore" -l lsm-profile -d 'LSM profile for the restored process, TYPE:NAME' -r
complete -c remora -n "__fish_remora_using_subcommand restore" -l lsm-mount-context -d 'LSM mount context for the restored mounts' -r
complete -c remora -n "__fish_remora_using_subcommand restore" -l tcp-established -d 'Allow open TCP connections'
complete -c remora -n "__fish_remora_using_subcommand restore" -l ext-unix-sk -d 'Allow external unix sockets'
complete -c remora -n "__fish_remora_using_subcommand restore" -l shell-job -d 'Allow shell jobs'
complete -c remora -n "__fish_remora_using_subcommand restore" -l file-locks -d 'Handle file locks'
complete -c remora -n "__fish_remora_using_subcommand restore" -l auto-dedup -d 'Enable auto deduplication of memory images'
complete -c remora -n "__fish_remora_using_subcommand restore" -l lazy-pages -d 'Use userfaultfd to lazily restore memory pages'
complete -c remora -n "__fish_remora_using_subcommand restore" -s d -l detach -d 'Detach from the container\'s process'
complete -c remora -n "__fish_remora_using_subcommand restore" -l no-subreaper -d 'Do not become a subreaper'
complete -c remora -n "__fish_remora_using_subcommand restore" -l no-pivot -d 'Accepted (CRIU sets up the root itself)'
complete -c remora -n "__fish_remora_using_subcommand restore" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand list" -s f -l format -r
complete -c remora -n "__fish_remora_using_subcommand list" -s q -l quiet
complete -c remora -n "__fish_remora_using_subcommand list" -s h -l help -d 'Print help'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "create" -d 'Create a container (its process waits for `start`)'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "start" -d 'Start a created container'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "state" -d 'Print a container\'s state as JSON'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "kill" -d 'Send a signal to a container\'s init (default SIGTERM)'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "delete" -d 'Delete a container'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "run" -d 'Create and start a container'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "spec" -d 'Write a default config.json'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "check" -d 'Check a bundle without creating anything; list every problem found'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "exec" -d 'Run a new process in a running container'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "pause" -d 'Freeze every process of a container'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "resume" -d 'Thaw a paused container'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "ps" -d 'List a container\'s processes'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "events" -d 'Stream a container\'s resource usage (JSON lines)'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "update" -d 'Change a running container\'s resources'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "features" -d 'Print what this build and host support (JSON)'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "checkpoint" -d 'Checkpoint a running container with CRIU'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "restore" -d 'Restore a container from a checkpoint with CRIU'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "list" -d 'List containers'
complete -c remora -n "__fish_remora_using_subcommand help; and not __fish_seen_subcommand_from create start state kill delete run spec check exec pause resume ps events update features checkpoint restore list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
