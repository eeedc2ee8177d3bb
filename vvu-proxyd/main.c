// SPDX-License-Identifier: GPL-2.0-only
/*
 * vvu-proxyd: the vvu-proxy device model. It serves one vmm (the device
 * VM's) over the device channel and one sibling front-end at a time on a
 * vhost-user socket, and runs sandboxed once both sockets exist and the
 * vmm is connected.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/evloop.h"
#include "common/log.h"
#include "vvu-proxyd/chan.h"

#define PROG		"vvu-proxyd"
#define EXIT_USAGE	2

struct proxyd_opts {
	const char *socket_path;
	const char *control_path;
	int control_fd;
	uint64_t shm_size;
	uint8_t uuid[16];
	bool have_uuid;
	enum log_level level;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " --socket SOCK (--control CTRL | --control-fd N) [options]\n"
		"The vvu-proxy PCI device (1af4:107d) for a vmm that hosts it over the\n"
		"device channel; a sibling VM's vhost-user front-end connects to SOCK.\n"
		"\n"
		"  -s, --socket SOCK     vhost-user socket for the sibling (a stale one is replaced)\n"
		"  -c, --control CTRL    listen for the vmm on this SOCK_SEQPACKET socket\n"
		"  -C, --control-fd N    the vmm's end of an already connected socket pair\n"
		"  -u, --uuid UUID       the device's UUID (default: a random one)\n"
		"  -m, --shm-size SIZE   BAR4, the sibling's memory window: a power of two,\n"
		"                        suffix K, M, G or T (default 64G)\n"
		"  -l, --log-level LVL   err, warn, info (default) or debug\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"One vmm per run: proxyd exits when it closes the device channel.\n"
		"SIGTERM or SIGINT: exit 0. SOCK stays; the next start replaces it.\n"
		"Exit status: 0 on success, 1 on runtime errors, 2 on bad usage.\n");
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 8-4-4-4-12 hex digits. */
static int parse_uuid(const char *s, uint8_t out[16])
{
	unsigned int n = 0;

	for (unsigned int i = 0; s[i]; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		hi = hex_nibble(s[i]);
		lo = s[i + 1] ? hex_nibble(s[++i]) : -1;
		if (hi < 0 || lo < 0 || n == 16)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return n == 16 && strlen(s) == 36 ? 0 : -1;
}

static int parse_option(int c, const char *arg, void *opts)
{
	struct proxyd_opts *o = opts;
	unsigned int fd;

	switch (c) {
	case 's':
		o->socket_path = arg;
		return 0;
	case 'c':
		o->control_path = arg;
		return 0;
	case 'C':
		if (cli_parse_uint(PROG, "control-fd", arg, 0, 1 << 20, &fd))
			return -1;
		o->control_fd = (int)fd;
		return 0;
	case 'u':
		o->have_uuid = !parse_uuid(arg, o->uuid);
		if (!o->have_uuid)
			fprintf(stderr, PROG ": --uuid: '%s' is not a UUID like "
				"01234567-89ab-cdef-0123-456789abcdef\n", arg);
		return o->have_uuid ? 0 : -1;
	case 'm':
		if (cli_parse_size(PROG, "shm-size", arg, DEVCHAN_BAR_MIN_SIZE,
				   DEVCHAN_BAR_MAX_SIZE64, &o->shm_size))
			return -1;
		if (proxy_shm_size_valid(o->shm_size))
			return 0;
		fprintf(stderr, PROG ": --shm-size: '%s' is not a power of two\n", arg);
		return -1;
	case 'l':
		return cli_parse_log_level(PROG, arg, &o->level);
	}
	return -1;
}

static int check_args(void *opts)
{
	const struct proxyd_opts *o = opts;

	if (!o->socket_path) {
		fprintf(stderr, PROG ": --socket is required\n");
		return -1;
	}
	if (!o->control_path == (o->control_fd < 0)) {
		fprintf(stderr, PROG ": give one of --control and --control-fd\n");
		return -1;
	}
	return 0;
}

static const struct option proxyd_longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "control", required_argument, NULL, 'c' },
	{ "control-fd", required_argument, NULL, 'C' },
	{ "uuid", required_argument, NULL, 'u' },
	{ "shm-size", required_argument, NULL, 'm' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const struct cli_prog proxyd_prog = {
	.name = PROG,
	.version = VVU_VERSION,
	.shortopts = "s:c:C:u:m:l:hV",
	.longopts = proxyd_longopts,
	.usage = usage,
	.option = parse_option,
	.check = check_args,
};

static int enter_sandbox(struct proxy *p)
{
	(void)p;
	if (proxyd_sandbox_enter()) {
		pr_err("cannot enter the sandbox");
		return -1;
	}
	pr_info("sandboxed");
	return 0;
}

static int control_fd_check(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		pr_err("--control-fd %d is not a SOCK_SEQPACKET socket", fd);
		return -1;
	}
	return 0;
}

static int proxyd_setup(struct proxy *p, const struct proxyd_opts *o)
{
	if (proxy_dev_init(p, o->shm_size, o->uuid) || queues_init(&p->q)) {
		pr_err("cannot set the device up: %m");
		return -1;
	}
	shm_init(&p->sib.shm, o->shm_size);
	if (sibling_listen(p, o->socket_path))
		return -1;
	if (o->control_path)
		return chan_listen(p, o->control_path) ? -1 : 0;
	if (control_fd_check(o->control_fd) || chan_attach(p, o->control_fd))
		return -1;
	return 0;
}

static int proxyd_run(const struct proxyd_opts *o)
{
	struct proxy_chan *c = calloc(1, sizeof(*c));
	struct proxy *p = calloc(1, sizeof(*p));
	int ret = 1;

	if (!c || !p)
		goto out;
	p->base = evloop_new();
	if (!p->base)
		goto out;
	chan_init(p, c);
	c->connected = enter_sandbox;
	/* Before anything can fail: the teardown below needs its fds at -1. */
	sibling_init(p);
	if (!proxyd_setup(p, o)) {
		pr_info("device ready: sibling socket %s, BAR4 %llu MiB", o->socket_path,
			(unsigned long long)(o->shm_size >> 20));
		ret = evloop_run(p->base) ? 1 : c->exit_code;
		if (evloop_exit_signal(p->base))
			ret = 0;
	}
	sibling_close(p);
	chan_close(p);
	queues_destroy(&p->q);
	proxy_dev_destroy(p);
	evloop_free(p->base);
out:
	free(p);
	free(c);
	return ret;
}

int main(int argc, char **argv)
{
	struct proxyd_opts o = { .control_fd = -1, .level = LOG_LVL_INFO,
				 .shm_size = PROXY_SHM_SIZE_DEFAULT };
	int ret;

	ret = cli_parse_args(&proxyd_prog, argc, argv, &o);
	if (ret)
		return ret < 0 ? EXIT_USAGE : 0;
	log_init(PROG, o.level);
	if (!o.have_uuid && getrandom(o.uuid, sizeof(o.uuid), 0) != sizeof(o.uuid)) {
		pr_err("cannot make a UUID: %m");
		return 1;
	}
	if (!o.have_uuid) {
		/* A random (version 4, RFC 4122 variant) UUID. */
		o.uuid[6] = (o.uuid[6] & 0x0f) | 0x40;
		o.uuid[8] = (o.uuid[8] & 0x3f) | 0x80;
	}
	/* A peer that hangs up must cost us an error, not the process. */
	signal(SIGPIPE, SIG_IGN);
	return proxyd_run(&o);
}
