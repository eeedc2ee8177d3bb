// SPDX-License-Identifier: GPL-2.0-only
/*
 * vu-load: a load generator for vhost-user-blk back-ends. Keeps --iodepth
 * requests in flight on one queue, with EVENT_IDX suppressing both kicks and
 * interrupts the way a Linux guest does, and prints IOPS and MB/s. --raw
 * runs the same pattern with pread/pwrite on a file: the ceiling.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/harness/driver.h"

#define LOAD_MAX_DEPTH	(DRV_QUEUE_SIZE / 3)
#define LOAD_MAX_BYTES	(6u << 20)

struct load {
	const char *sock, *raw;
	bool write, random;
	uint32_t bs, depth;
	double runtime;
	uint64_t span;		/* bytes of the disk the pattern covers */
	uint64_t next_off, rng;
	uint64_t done;
};

struct slot {
	uint64_t hdr, data;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t load_next_offset(struct load *l)
{
	uint64_t blocks = l->span / l->bs, off;

	if (!l->random) {
		off = l->next_off;
		l->next_off = (l->next_off + l->bs) % (blocks * l->bs);
		return off;
	}
	l->rng ^= l->rng << 13;
	l->rng ^= l->rng >> 7;
	l->rng ^= l->rng << 17;
	return (l->rng % blocks) * l->bs;
}

/* Each slot is one request's buffers: header and status, data. */
static void slot_build(struct drv *d, struct load *l, struct slot *s)
{
	s->hdr = drv_alloc(d, 32, 16);
	s->data = drv_alloc(d, l->bs, 4096);
}

static int slot_queue(struct drv *d, struct load *l, struct slot *s)
{
	struct virtio_blk_outhdr *hdr = drv_host(d, s->hdr);
	const struct vring_buf segs[3] = {
		{ s->hdr, 16, false },
		{ s->data, l->bs, !l->write },
		{ s->hdr + 16, 1, true },
	};
	int head;

	hdr->type = l->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN;
	hdr->sector = load_next_offset(l) / VIRTIO_BLK_SECTOR_SIZE;
	head = vring_drv_add(&d->vq[0].ring, segs, 3, s);
	return head < 0 ? head : 0;
}

/* EVENT_IDX: kick only if the device asked to hear about these entries. */
static void load_kick(struct drv *d)
{
	if (vring_drv_kick_prepare(&d->vq[0].ring))
		drv_kick(d, 0);
}

/* Reaps every completion, re-queues its slot; -errno on a failed request. */
static int load_reap(struct drv *d, struct load *l)
{
	struct vring_drv *ring = &d->vq[0].ring;
	bool queued = false;
	struct slot *s;
	uint16_t id;
	uint32_t len;
	int r;

	while ((r = vring_drv_get_used(ring, &id, &len, (void **)&s)) == 1) {
		if (*(uint8_t *)drv_host(d, s->hdr + 16) != VIRTIO_BLK_S_OK) {
			pr_err("request failed with status %u",
			       *(uint8_t *)drv_host(d, s->hdr + 16));
			return -EIO;
		}
		l->done++;
		r = slot_queue(d, l, s);
		if (r)
			return r;
		queued = true;
	}
	if (queued)
		load_kick(d);
	return r;
}

static int load_wait(struct drv *d)
{
	struct pollfd p = { .fd = d->vq[0].call_fd, .events = POLLIN };
	uint64_t cnt;

	if (vring_drv_has_used(&d->vq[0].ring))
		return 0;
	if (poll(&p, 1, 5000) <= 0) {
		pr_err("no completion within 5 s");
		return -ETIMEDOUT;
	}
	return read(p.fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN ? -errno : 0;
}

static int load_socket(struct load *l)
{
	struct slot slots[LOAD_MAX_DEPTH];
	struct drv d;
	double end;
	int r;

	r = drv_init(&d);
	if (!r)
		r = drv_connect(&d, l->sock, 1);
	if (!r)
		r = drv_start(&d, 0);
	if (r)
		goto out;
	if (!l->span || l->span > d.capacity * VIRTIO_BLK_SECTOR_SIZE)
		l->span = d.capacity * VIRTIO_BLK_SECTOR_SIZE;
	for (unsigned int i = 0; i < l->depth && !r; i++) {
		slot_build(&d, l, &slots[i]);
		r = slot_queue(&d, l, &slots[i]);
	}
	load_kick(&d);
	end = now() + l->runtime;
	while (!r && now() < end) {
		r = load_wait(&d);
		if (!r)
			r = load_reap(&d, l);
	}
out:
	drv_destroy(&d);
	return r;
}

static int load_raw(struct load *l)
{
	int fd = open(l->raw, (l->write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	void *buf = aligned_alloc(4096, l->bs);
	double end = now() + l->runtime;
	int r = 0;

	if (fd < 0 || !buf) {
		pr_err("%s: %m", l->raw);
		free(buf);
		return -errno;
	}
	if (!l->span)
		l->span = lseek(fd, 0, SEEK_END);
	memset(buf, 0x5a, l->bs);
	while (now() < end) {
		for (int i = 0; i < 64; i++, l->done++) {
			uint64_t off = load_next_offset(l);
			ssize_t n = l->write ? pwrite(fd, buf, l->bs, off)
					     : pread(fd, buf, l->bs, off);
			if (n != (ssize_t)l->bs) {
				r = -EIO;
				goto out;
			}
		}
	}
out:
	free(buf);
	close(fd);
	return r;
}

static int parse_rw(struct load *l, const char *s)
{
	l->random = !strncmp(s, "rand", 4);
	s += l->random ? 4 : 0;
	if (!strcmp(s, "read"))
		l->write = false;
	else if (!strcmp(s, "write"))
		l->write = true;
	else
		return -1;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vu-load (--socket PATH | --raw FILE) [--rw randread|randwrite|read|write]\n"
		"               [--bs BYTES] [--iodepth N] [--runtime SECONDS] [--span BYTES]\n"
		"Prints one line: rw= bs= iodepth= ios= iops= mbps=\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "raw", required_argument, NULL, 'R' },
		{ "rw", required_argument, NULL, 'w' },
		{ "bs", required_argument, NULL, 'b' },
		{ "iodepth", required_argument, NULL, 'q' },
		{ "runtime", required_argument, NULL, 't' },
		{ "span", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct load l = { .bs = 4096, .depth = 1, .runtime = 5, .random = true,
			  .rng = 0x9e3779b97f4a7c15ull };
	const char *rw = "randread";
	double t0, secs;
	int c, r;

	log_init("vu-load", LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': l.sock = optarg; break;
		case 'R': l.raw = optarg; break;
		case 'w': rw = optarg; break;
		case 'b': l.bs = strtoul(optarg, NULL, 0); break;
		case 'q': l.depth = strtoul(optarg, NULL, 0); break;
		case 't': l.runtime = strtod(optarg, NULL); break;
		case 'S': l.span = strtoull(optarg, NULL, 0); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (parse_rw(&l, rw)) {
		fprintf(stderr, "vu-load: bad --rw '%s'\n", rw);
		return 2;
	}
	if (!l.bs || l.bs % 512 || l.depth < 1 || l.depth > LOAD_MAX_DEPTH ||
	    (uint64_t)l.bs * l.depth > LOAD_MAX_BYTES || (!l.sock == !l.raw)) {
		fprintf(stderr, "vu-load: need one of --socket/--raw, --bs a multiple "
			"of 512, --iodepth 1..%u, bs*iodepth <= %u\n",
			LOAD_MAX_DEPTH, LOAD_MAX_BYTES);
		return 2;
	}
	t0 = now();
	r = l.raw ? load_raw(&l) : load_socket(&l);
	secs = now() - t0;
	if (r)
		return 1;
	printf("rw=%s bs=%u iodepth=%u ios=%llu iops=%.0f mbps=%.1f\n", rw, l.bs,
	       l.depth, (unsigned long long)l.done, l.done / secs,
	       l.done * (double)l.bs / secs / 1e6);
	return 0;
}
