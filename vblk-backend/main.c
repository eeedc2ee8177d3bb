// SPDX-License-Identifier: GPL-2.0-only
/*
 * vblk-backend: a virtio-blk vhost-user back-end serving a file or block
 * device on a UNIX socket, like qemu-storage-daemon's vhost-user-blk export.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/cli.h"
#include "common/log.h"
#include "vblk-backend/blk.h"
#include "vblk-backend/server.h"
#include "vblk-backend/work_pool.h"

#define PROG		"vblk-backend"
#define EXIT_USAGE	2

#define IO_THREADS_MAX		16
#define IO_THREADS_DEFAULT_MAX	4

struct vblk_opts {
	const char *socket_path;
	const char *file;
	const char *serial;
	bool read_only;
	unsigned int queues;
	unsigned int io_threads;
	enum log_level level;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " PROG " --socket PATH --file PATH [options]\n"
		"Serve a file or block device as a virtio-blk vhost-user device.\n"
		"\n"
		"  -s, --socket PATH     listen on this UNIX socket (a stale one is replaced)\n"
		"  -f, --file PATH       disk image or block device to serve\n"
		"  -r, --read-only       open the disk read-only and offer VIRTIO_BLK_F_RO\n"
		"  -q, --queues N        number of request queues, 1..%d (default 1)\n"
		"  -S, --serial ID       device serial for GET_ID, at most %d bytes\n"
		"  -t, --io-threads N    threads that help serve large batches, 0..%d\n"
		"                        (default: online CPUs - 1, at most %d)\n"
		"  -l, --log-level LVL   err, warn, info (default) or debug\n"
		"  -h, --help            show this help\n"
		"  -V, --version         show the version\n"
		"\n"
		"One front-end is served at a time; others wait until it disconnects.\n"
		"SIGTERM or SIGINT: exit 0 after removing the socket.\n"
		"Exit status: 0 on success, 1 on runtime errors, 2 on bad usage.\n",
		VU_MAX_QUEUES, VIRTIO_BLK_ID_BYTES, IO_THREADS_MAX,
		IO_THREADS_DEFAULT_MAX);
}

static int parse_option(int c, const char *arg, void *opts)
{
	struct vblk_opts *o = opts;

	switch (c) {
	case 's':
		o->socket_path = arg;
		return 0;
	case 'f':
		o->file = arg;
		return 0;
	case 'r':
		o->read_only = true;
		return 0;
	case 'q':
		return cli_parse_uint(PROG, "queues", arg, 1, VU_MAX_QUEUES, &o->queues);
	case 't':
		return cli_parse_uint(PROG, "io-threads", arg, 0, IO_THREADS_MAX, &o->io_threads);
	case 'S':
		if (strlen(arg) > VIRTIO_BLK_ID_BYTES) {
			fprintf(stderr, PROG ": --serial: '%s' is longer than %d bytes\n",
				arg, VIRTIO_BLK_ID_BYTES);
			return -1;
		}
		o->serial = arg;
		return 0;
	case 'l':
		return cli_parse_log_level(PROG, arg, &o->level);
	default:
		return -1;
	}
}

static int check_args(void *opts)
{
	const struct vblk_opts *o = opts;

	if (!o->socket_path || !o->file) {
		fprintf(stderr, PROG ": --%s is required\n",
			o->socket_path ? "file" : "socket");
		return -1;
	}
	return 0;
}

static const struct option vblk_longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "file", required_argument, NULL, 'f' },
	{ "read-only", no_argument, NULL, 'r' },
	{ "queues", required_argument, NULL, 'q' },
	{ "serial", required_argument, NULL, 'S' },
	{ "io-threads", required_argument, NULL, 't' },
	{ "log-level", required_argument, NULL, 'l' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const struct cli_prog vblk_prog = {
	.name = PROG,
	.version = VVU_VERSION,
	.shortopts = "s:f:rq:S:t:l:hV",
	.longopts = vblk_longopts,
	.usage = usage,
	.option = parse_option,
	.check = check_args,
};

/* Sets up the disk, the loop and the socket, and serves until a signal. */
static int vblk_run(const struct vblk_opts *o)
{
	struct event_base *base = NULL;
	struct vu_backend vb = { 0 };
	struct work_pool *pool = NULL;
	struct vu_server srv;
	struct blk_dev blk;
	int fd, ret = 1;

	fd = open(o->file, (o->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		pr_err("cannot open %s%s: %m", o->file,
		       o->read_only ? " read-only" : " read-write");
		return 1;
	}
	if (blk_init(&blk, fd, o->read_only, o->queues, o->serial))
		goto out_fd;
	base = evloop_new();
	if (!base)
		goto out_fd;
	vu_server_init(&srv, base);
	if (vu_backend_init(&vb, o->queues, &blk_device_ops, &blk,
			    &vu_server_transport_ops, &srv))
		goto out_base;
	srv.vb = &vb;
	if (o->io_threads) {
		pool = work_pool_new(o->io_threads);
		if (!pool)
			goto out_vb;
		vu_backend_set_pool(&vb, pool);
	}
	if (vu_server_listen(&srv, o->socket_path))
		goto out_vb;

	pr_info("serving %s (%llu sectors%s, %u queue%s) on %s", o->file,
		(unsigned long long)blk.capacity, o->read_only ? ", read-only" : "",
		o->queues, o->queues > 1 ? "s" : "", o->socket_path);
	ret = evloop_run(base) ? 1 : 0;
	if (evloop_exit_signal(base))
		pr_info("exiting on signal %d", evloop_exit_signal(base));
	vu_server_close(&srv);
out_vb:
	vu_backend_destroy(&vb);
	work_pool_free(pool);
out_base:
	evloop_free(base);
out_fd:
	close(fd);
	return ret;
}

/* One helper per other CPU: the loop's own thread serves too. */
static unsigned int default_io_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus <= 1)
		return 0;
	return cpus - 1 > IO_THREADS_DEFAULT_MAX ? IO_THREADS_DEFAULT_MAX
						 : (unsigned int)cpus - 1;
}

int main(int argc, char **argv)
{
	struct vblk_opts o = { .queues = 1, .level = LOG_LVL_INFO,
			       .io_threads = default_io_threads() };
	int ret;

	ret = cli_parse_args(&vblk_prog, argc, argv, &o);
	if (ret)
		return ret < 0 ? EXIT_USAGE : 0;
	log_init(PROG, o.level);
	/* A front-end that hangs up must cost us an error, not the process. */
	signal(SIGPIPE, SIG_IGN);
	return vblk_run(&o);
}
