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
#include "vblk-backend/pci_dev.h"
#include "vblk-backend/server.h"
#include "vblk-backend/vvu.h"
#include "vblk-backend/work_pool.h"

#define PROG		"vblk-backend"
#define EXIT_USAGE	2

#define IO_THREADS_MAX		16
#define IO_THREADS_DEFAULT_MAX	4

struct vblk_opts {
	const char *socket_path;
	const char *vfio_bdf;
	const char *devchan_path;
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
		"Usage: " PROG " (--socket PATH | --vfio BDF) --file PATH [options]\n"
		"Serve a file or block device as a virtio-blk vhost-user device.\n"
		"\n"
		"  -s, --socket PATH     listen on this UNIX socket (a stale one is replaced)\n"
		"  -v, --vfio BDF        in a device VM: drive the vvu-proxy device at BDF\n"
		"                        (e.g. 0000:00:10.0, bound to vfio-pci) and serve\n"
		"                        the sibling VM's front-end through it\n"
		"  -D, --devchan CTRL    without a VM: play the vmm of the vvu-proxyd whose\n"
		"                        --control socket is CTRL and serve its sibling\n"
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
		"SIGTERM or SIGINT: exit 0 after removing the socket (or resetting\n"
		"the vvu-proxy device).\n"
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
	case 'v':
		o->vfio_bdf = arg;
		return 0;
	case 'D':
		o->devchan_path = arg;
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
	int transports = !!o->socket_path + !!o->vfio_bdf + !!o->devchan_path;

	if (transports != 1) {
		fprintf(stderr, PROG ": %s\n", transports ?
			"--socket, --vfio and --devchan exclude each other" :
			"--socket or --vfio is required");
		return -1;
	}
	if (!o->file) {
		fprintf(stderr, PROG ": --file is required\n");
		return -1;
	}
	if (!o->socket_path && o->queues > VVU_MAX_VHOST_QUEUES) {
		fprintf(stderr, PROG ": --queues: the vvu-proxy device carries at most %d\n",
			VVU_MAX_VHOST_QUEUES);
		return -1;
	}
	return 0;
}

static const struct option vblk_longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "vfio", required_argument, NULL, 'v' },
	{ "devchan", required_argument, NULL, 'D' },
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
	.shortopts = "s:v:D:f:rq:S:t:l:hV",
	.longopts = vblk_longopts,
	.usage = usage,
	.option = parse_option,
	.check = check_args,
};

/* The socket transport: listen, and serve until a signal. */
static int serve_socket(const struct vblk_opts *o, struct event_base *base,
			struct vu_backend *vb, const struct blk_dev *blk)
{
	struct vu_server srv;
	int ret;

	vu_server_init(&srv, base);
	srv.vb = vb;
	vu_backend_set_transport(vb, &vu_server_transport_ops, &srv);
	if (vu_server_listen(&srv, o->socket_path))
		return 1;
	pr_info("serving %s (%llu sectors%s, %u queue%s) on %s", o->file,
		(unsigned long long)blk->capacity, o->read_only ? ", read-only" : "",
		o->queues, o->queues > 1 ? "s" : "", o->socket_path);
	ret = evloop_run(base) ? 1 : 0;
	vu_server_close(&srv);
	return ret;
}

/* The vvu transports: a vvu-proxy device through VFIO or the device channel. */
static int serve_vvu(const struct vblk_opts *o, struct event_base *base,
		     struct vu_backend *vb, const struct blk_dev *blk)
{
	struct pci_dev *pci;
	struct vvu v;
	int ret;

	pci = o->vfio_bdf ? pci_vfio_open(o->vfio_bdf, base)
			  : pci_devchan_open(o->devchan_path, base);
	if (!pci)
		return 1;
	vu_backend_set_transport(vb, &vvu_transport_ops, &v);
	if (vvu_open(&v, pci, vb, o->queues)) {
		pci_dev_close(pci);
		return 1;
	}
	pr_info("serving %s (%llu sectors%s, %u queue%s) through the vvu-proxy device %s",
		o->file, (unsigned long long)blk->capacity,
		o->read_only ? ", read-only" : "", o->queues,
		o->queues > 1 ? "s" : "", pci->name);
	ret = evloop_run(base) ? 1 : 0;
	vu_backend_reset(vb);
	vvu_close(&v);
	pci_dev_close(pci);
	return ret;
}

/* Sets up the disk and the loop, and serves on the chosen transport. */
static int vblk_run(const struct vblk_opts *o)
{
	struct event_base *base = NULL;
	struct vu_backend vb = { 0 };
	struct work_pool *pool = NULL;
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
	/* The transport sets its hooks before the first message. */
	if (vu_backend_init(&vb, o->queues, &blk_device_ops, &blk, NULL, NULL))
		goto out_base;
	if (o->io_threads) {
		pool = work_pool_new(o->io_threads);
		if (!pool)
			goto out_vb;
		vu_backend_set_pool(&vb, pool);
	}
	ret = o->socket_path ? serve_socket(o, base, &vb, &blk)
			     : serve_vvu(o, base, &vb, &blk);
	if (evloop_exit_signal(base))
		pr_info("exiting on signal %d", evloop_exit_signal(base));
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
