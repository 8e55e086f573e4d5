/* runstat FD PROGRAM [ARG...]: fork + execv PROGRAM, wait4 it, and write
 * one line to fd FD: "wall_ns utime_us stime_us maxrss_kb wait_status".
 *
 * Why not spawn the runtimes from python directly: ru_maxrss keeps the
 * high-water RSS of the address space a process had before its execve, so
 * a child of the python harness would report python's ~14 MB. This static
 * helper is tiny; what its child reports is the runtime's own peak (plus
 * the children it reaped), as GNU time's %M but without time's own
 * footprint. Wall time is measured here, around fork..wait4. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: runstat FD PROGRAM [ARG...]\n");
		return 2;
	}
	int fd = atoi(argv[1]);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		perror("runstat: result fd");
		return 2;
	}
	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 2;
	}
	if (pid == 0) {
		execv(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("runstat: wait4");
		return 2;
	}
	long long wall = now_ns() - t0;
	dprintf(fd, "%lld %ld %ld %ld %d\n", wall,
		ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
		ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec,
		ru.ru_maxrss, status);
	return 0;
}
