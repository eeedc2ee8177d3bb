// SPDX-License-Identifier: GPL-2.0-only
/*
 * A vvu-proxyd for a --vvu-proxy device (proxyd.h): started by the vmm over
 * a socketpair, or reached at its control socket; its exit reported.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/proxyd.h"
#include "vmm/remote_pci.h"
#include "vmm/vm.h"

#define PROXYD_PROG		"vvu-proxyd"
/* Given SIGTERM, vvu-proxyd ends its sessions; then it gets SIGKILL. */
#define PROXYD_STOP_TIMEOUT_MS	5000
/* How long a vvu-proxyd that broke the handshake may take to exit. */
#define PROXYD_EXIT_WAIT_MS	1000

struct proxyd {
	struct vm *vm;
	char *name;		/* "vvu-proxy SOCK", for messages */
	pid_t pid;		/* ours, or 0 */
	int pidfd;		/* readable once pid exited */
	struct event *exit_ev;
	struct remote_pci *dev;
};

/* --- finding and starting vvu-proxyd --------------------------------------- */

/* dir/rel into buf if that is an executable. */
static bool executable_at(char *buf, size_t n, const char *dir, const char *rel)
{
	int len = snprintf(buf, n, "%s/%s", dir, rel);

	return len > 0 && (size_t)len < n && !access(buf, X_OK);
}

/* Beside the vmm, in the build tree, or on PATH; VVU_PROXYD overrides. */
static void proxyd_path(char *buf, size_t n)
{
	const char *env = getenv("VVU_PROXYD");
	char self[PATH_MAX];
	ssize_t len;

	snprintf(buf, n, "%s", env && *env ? env : PROXYD_PROG);
	if (env && *env)
		return;
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len <= 0)
		return;
	self[len] = '\0';
	dirname(self);
	if (!executable_at(buf, n, self, PROXYD_PROG) &&
	    !executable_at(buf, n, self, "../vvu-proxyd/" PROXYD_PROG))
		snprintf(buf, n, PROXYD_PROG);
}

/* In the child: a clean signal state, fd inherited, exec; errno to errpipe. */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], int fd, int errpipe)
{
	sigset_t none;
	int err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	/* vvu-proxyd must not outlive a vmm that dies without stopping it. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	fcntl(fd, F_SETFD, 0);
	if (strchr(path, '/'))
		execv(path, argv);
	else
		execvp(path, argv);
	err = errno;
	if (write(errpipe, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

static int spawn(struct proxyd *p, const struct proxyd_opts *o, int child_fd)
{
	char path[PATH_MAX], fd_str[16], shm[32];
	char *argv[12];
	int n = 0, err = 0, pipefd[2];
	ssize_t got;

	proxyd_path(path, sizeof(path));
	snprintf(fd_str, sizeof(fd_str), "%d", child_fd);
	snprintf(shm, sizeof(shm), "%llu", (unsigned long long)o->shm_size);
	argv[n++] = (char *)PROXYD_PROG;
	argv[n++] = (char *)"--socket";
	argv[n++] = o->sock;
	argv[n++] = (char *)"--control-fd";
	argv[n++] = fd_str;
	if (o->shm_size) {
		argv[n++] = (char *)"--shm-size";
		argv[n++] = shm;
	}
	if (o->uuid) {
		argv[n++] = (char *)"--uuid";
		argv[n++] = o->uuid;
	}
	argv[n] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	p->pid = fork();
	if (p->pid == 0)
		child_exec(path, argv, child_fd, pipefd[1]);
	close(pipefd[1]);
	if (p->pid < 0) {
		err = errno;
		p->pid = 0;
	} else {
		/* The exec closes the pipe; a failed one writes its errno. */
		got = read(pipefd[0], &err, sizeof(err));
		if (got != sizeof(err))
			err = 0;
	}
	close(pipefd[0]);
	if (err)
		pr_err("%s: cannot run %s: %s", p->name, path, strerror(err));
	return -err;
}

/* The control channel of a vvu-proxyd we start: -errno or its fd. */
static int start_own(struct proxyd *p, const struct proxyd_opts *o)
{
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	r = spawn(p, o, sv[1]);
	close(sv[1]);
	if (r) {
		close(sv[0]);
		if (p->pid)
			waitpid(p->pid, NULL, 0);	/* exec failed: it has exited */
		p->pid = 0;
		return r;
	}
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	return sv[0];
}

static int connect_ctrl(struct proxyd *p, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_err("%s: control socket path %s is too long", p->name, path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		pr_err("%s: cannot connect to vvu-proxyd's control socket %s: %s",
		       p->name, path, strerror(err));
		if (fd >= 0)
			close(fd);
		return -err;
	}
	return fd;
}

/* --- its exit ------------------------------------------------------------------ */

static void describe_exit(int status, char *buf, size_t n)
{
	int sig = WTERMSIG(status);

	if (WIFEXITED(status))
		snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
	else if (sig == SIGSYS)	/* what its seccomp filter does */
		snprintf(buf, n, "killed by SIGSYS: a forbidden system call");
	else
		snprintf(buf, n, "killed by SIG%s: %s", sigabbrev_np(sig), strsignal(sig));
}

/* Reaps our vvu-proxyd if it has exited (waiting up to ms); logs how. */
static bool reap(struct proxyd *p, int ms, bool early)
{
	struct pollfd pfd = { .fd = p->pidfd, .events = POLLIN };
	char how[128];
	int status;

	if (!p->pid)
		return true;
	if (p->pidfd >= 0 && ms)
		poll(&pfd, 1, ms);
	if (waitpid(p->pid, &status, WNOHANG) != p->pid)
		return false;
	describe_exit(status, how, sizeof(how));
	if (early)
		pr_err("%s: vvu-proxyd (pid %d) %s", p->name, (int)p->pid, how);
	else
		pr_info("%s: vvu-proxyd (pid %d) %s", p->name, (int)p->pid, how);
	p->pid = 0;
	return true;
}

static void exit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxyd *p = arg;

	(void)fd;
	(void)what;
	if (reap(p, 0, true) && p->exit_ev)
		event_del(p->exit_ev);
}

/*
 * The device channel is closed by now, which tells vvu-proxyd to exit: let
 * it, and only then insist. A SIGTERM sent at once could land while it is
 * already tearing down its loop (and its signal handling), and kill it
 * mid-exit: seen with the nested VM on one vCPU.
 */
static void stop(struct proxyd *p)
{
	if (!p->pid || reap(p, PROXYD_EXIT_WAIT_MS, false))
		return;
	kill(p->pid, SIGTERM);
	if (!reap(p, PROXYD_STOP_TIMEOUT_MS, false)) {
		pr_warn("%s: vvu-proxyd (pid %d) ignored SIGTERM: killing it",
			p->name, (int)p->pid);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
}

/* --- the device ----------------------------------------------------------------- */

static int watch_exit(struct proxyd *p)
{
	if (!p->pid || p->pidfd < 0)
		return 0;
	p->exit_ev = event_new(p->vm->evbase, p->pidfd, EV_READ | EV_PERSIST, exit_cb, p);
	if (!p->exit_ev || event_add(p->exit_ev, NULL))
		return -ENOMEM;
	return 0;
}

struct proxyd *proxyd_create(struct vm *vm, const struct proxyd_opts *o)
{
	struct proxyd *p = calloc(1, sizeof(*p));
	int ctrl;

	if (!p)
		return NULL;
	p->vm = vm;
	p->pidfd = -1;
	if (asprintf(&p->name, "vvu-proxy %s", o->sock) < 0) {
		p->name = NULL;
		proxyd_destroy(p);
		return NULL;
	}
	ctrl = o->ctrl_path ? connect_ctrl(p, o->ctrl_path) : start_own(p, o);
	if (ctrl >= 0)
		p->dev = remote_pci_create(vm, p->name, ctrl, o->slot);
	if (!p->dev || watch_exit(p)) {
		/* Say why if it was vvu-proxyd's end that broke the handshake. */
		reap(p, PROXYD_EXIT_WAIT_MS, true);
		proxyd_destroy(p);
		return NULL;
	}
	return p;
}

void proxyd_destroy(struct proxyd *p)
{
	if (!p)
		return;
	remote_pci_destroy(p->dev);
	if (p->exit_ev)
		event_free(p->exit_ev);
	stop(p);
	if (p->pidfd >= 0)
		close(p->pidfd);
	free(p->name);
	free(p);
}
