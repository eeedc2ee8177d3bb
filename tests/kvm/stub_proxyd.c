// SPDX-License-Identifier: GPL-2.0-only
/*
 * stub-proxyd: a stand-in for vvu-proxyd that the vmm starts as it would
 * start the real one (VVU_PROXYD, --socket, --control-fd), for the tiny
 * vproxy guest. It sends the vvu DEVICE, takes the handshake, then binds
 * one eventfd as BAR2's doorbell 0 (ioeventfd) and as MSI-X vector 0
 * (irqfd), and answers every BAR read with 0x5a5a0000 ^ offset until the
 * vmm closes the control channel. A write to BAR0 at STUB_DIE_OFF kills it
 * with SIGSYS, as its seccomp filter would kill vvu-proxyd.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/devchan.h"
#include "tests/unit/devchan_vvu.h"

#define MAX_CHANNELS	64
#define STUB_DIE_OFF	0x100

static int ctrl = -1, chans[MAX_CHANNELS];
static unsigned int nchans;
static uint64_t next_id = 1;

static void __attribute__((noreturn)) die(const char *what, const char *why)
{
	fprintf(stderr, "stub-proxyd: %s: %s\n", what, why);
	exit(1);
}

static void recv_msg(struct devchan_msg *m)
{
	const char *why = NULL;
	int r = devchan_recv(ctrl, m, DEVCHAN_FROM_VMM, &why);

	if (r == -ECONNRESET)
		exit(0);	/* the vmm is done with us */
	if (r)
		die("control channel", why);
}

static void send_msg(struct devchan_msg *m)
{
	const char *why = NULL;

	if (devchan_send(ctrl, m, DEVCHAN_FROM_PROXYD, &why))
		die(devchan_msg_name(m->hdr.type), why ? why : "send failed");
}

/* HELLO, DEVICE, then RAM_ADD and ACCESS_CHANNEL until every channel came. */
static void handshake(void)
{
	struct devchan_device d;
	struct devchan_msg m;
	uint32_t want;

	recv_msg(&m);
	if (m.hdr.type != DEVCHAN_MSG_HELLO)
		die("handshake", "no HELLO");
	want = m.payload.hello.nr_access_channels;
	if (want > MAX_CHANNELS)
		die("handshake", "too many vCPUs");
	devchan_vvu_device(&d, 1 << 20);
	devchan_build_device(&m, m.hdr.id, &d);
	send_msg(&m);
	while (nchans < want) {
		recv_msg(&m);
		if (m.hdr.type == DEVCHAN_MSG_ACCESS_CHANNEL)
			chans[nchans++] = devchan_msg_take_fd(&m, 0);
		devchan_msg_close_fds(&m);
		devchan_build_reply(&m, m.hdr.id, 0);
		send_msg(&m);
	}
}

static void expect_ok(void)
{
	struct devchan_msg m;

	recv_msg(&m);
	if (m.hdr.type != DEVCHAN_MSG_REPLY || m.payload.reply.status)
		die("binding the doorbell", "refused");
}

static void bind_doorbell(void)
{
	struct devchan_ioeventfd_add io = { .id = 0, .bar = 2, .len = 4, .offset = 0 };
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct devchan_msg m;

	if (efd < 0)
		die("eventfd", strerror(errno));
	devchan_build_ioeventfd_add(&m, next_id++, &io, efd);
	send_msg(&m);
	expect_ok();
	devchan_build_irqfd_add(&m, next_id++, 0, 0, efd);
	send_msg(&m);
	expect_ok();
	close(efd);
}

static void serve_access(int fd)
{
	struct devchan_access a;
	const char *why = NULL;
	uint64_t v = 0;

	if (devchan_access_recv_cmd(fd, &a, &why))
		die("access channel", why);
	if (a.write && a.region == 0 && a.offset == STUB_DIE_OFF)
		raise(SIGSYS);
	if (!a.resp)
		return;
	if (!a.write && a.region != DEVCHAN_REGION_CONFIG)
		v = (0x5a5a0000u ^ a.offset) & (a.size == 8 ? ~0ull : (1ull << (8 * a.size)) - 1);
	if (devchan_access_send_resp(fd, v))
		die("access channel", "send failed");
}

static void serve(void)
{
	struct pollfd p[MAX_CHANNELS + 1];
	struct devchan_msg m;

	for (;;) {
		p[0] = (struct pollfd){ .fd = ctrl, .events = POLLIN };
		for (unsigned int i = 0; i < nchans; i++)
			p[i + 1] = (struct pollfd){ .fd = chans[i], .events = POLLIN };
		if (poll(p, nchans + 1, -1) < 0 && errno != EINTR)
			die("poll", strerror(errno));
		if (p[0].revents) {
			recv_msg(&m);	/* nothing else is asked of us */
			die("control channel", devchan_msg_name(m.hdr.type));
		}
		for (unsigned int i = 0; i < nchans; i++)
			if (p[i + 1].revents)
				serve_access(chans[i]);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "control-fd", required_argument, NULL, 'c' },
		{ "shm-size", required_argument, NULL, 'm' },
		{ "uuid", required_argument, NULL, 'u' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			ctrl = atoi(optarg);
		else if (c == '?')
			return 2;
	}
	if (ctrl < 0)
		die("usage", "--control-fd N is required");
	handshake();
	bind_doorbell();
	serve();
}
