/* cgroup_attach.c: what placing a new container init in its cgroup v1
 * hierarchies costs on a hybrid host, two ways (an experiment behind
 * docs/benchmarks.md, not part of bench/run.sh).
 *
 *   gcc -O2 -o /tmp/cgroup_attach bench/probes/cgroup_attach.c
 *   for i in 1 2 3 4 5 6; do for m in procs self none; do
 *       sleep 0.3; /tmp/cgroup_attach $m; done; done
 *
 * Each run: clone3 with new pid, mount, net, ipc and uts namespaces; the
 * child exits at once; the parent waits. Modes:
 *   procs  the parent writes the child's pid to cgroup.procs of every v1
 *          hierarchy (what remora and runc do): moving a thread group takes
 *          cgroup_threadgroup_rwsem for writing, which waits for an RCU
 *          grace period unless a writer passed just before;
 *   self   the child writes "0" to tasks of every hierarchy (fds opened by
 *          the parent before clone3): a thread moving itself skips that lock;
 *   none   no cgroup (the baseline).
 * Uses and removes /sys/fs/cgroup/<ctrl>/probe-attach; run as root. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *ctl[] = {"blkio", "cpu", "cpuacct", "cpuset", "devices",
			    "freezer", "memory", "pids", "systemd"};
#define NCTL (sizeof ctl / sizeof ctl[0])

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void copy_file(const char *from, const char *to)
{
	char b[256];
	int r = open(from, O_RDONLY), n = r < 0 ? -1 : read(r, b, sizeof b);
	int w = open(to, O_WRONLY);
	if (n > 0 && w >= 0 && write(w, b, n) != n)
		perror(to);
	if (r >= 0)
		close(r);
	if (w >= 0)
		close(w);
}

static void cleanup(void)
{
	char p[256];
	for (size_t i = 0; i < NCTL; i++) {
		snprintf(p, sizeof p, "/sys/fs/cgroup/%s/probe-attach", ctl[i]);
		rmdir(p);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "procs";
	int self = !strcmp(mode, "self"), none = !strcmp(mode, "none");
	int fds[NCTL], sync[2];
	char p[256];
	for (size_t i = 0; i < NCTL && !none; i++) {
		snprintf(p, sizeof p, "/sys/fs/cgroup/%s/probe-attach", ctl[i]);
		mkdir(p, 0755);
		if (!strcmp(ctl[i], "cpuset")) {
			copy_file("/sys/fs/cgroup/cpuset/cpuset.cpus", "/sys/fs/cgroup/cpuset/probe-attach/cpuset.cpus");
			copy_file("/sys/fs/cgroup/cpuset/cpuset.mems", "/sys/fs/cgroup/cpuset/probe-attach/cpuset.mems");
		}
		snprintf(p, sizeof p, "/sys/fs/cgroup/%s/probe-attach/%s", ctl[i], self ? "tasks" : "cgroup.procs");
		if ((fds[i] = open(p, O_WRONLY | O_CLOEXEC)) < 0) {
			perror(p);
			cleanup();
			return 1;
		}
	}
	if (pipe(sync) < 0)
		return 1;
	struct clone_args ca = {0};
	ca.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS;
	ca.exit_signal = SIGCHLD;
	double t0 = now_ms();
	long pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid == 0) {
		char c;
		if (self)
			for (size_t i = 0; i < NCTL; i++)
				if (write(fds[i], "0", 1) != 1)
					_exit(1);
		if (!self && !none && read(sync[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (pid < 0) {
		perror("clone3");
		cleanup();
		return 1;
	}
	if (!self && !none) {
		char s[32];
		int l = snprintf(s, sizeof s, "%ld", pid);
		for (size_t i = 0; i < NCTL; i++)
			if (write(fds[i], s, l) != l)
				perror("cgroup.procs");
		if (write(sync[1], "x", 1) != 1)
			perror("sync");
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%-5s %6.2f ms (child status %d)\n", mode, now_ms() - t0, WEXITSTATUS(st));
	cleanup();
	return 0;
}
