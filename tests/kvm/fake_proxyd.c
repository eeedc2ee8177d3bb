// SPDX-License-Identifier: GPL-2.0-only
/* A fake vvu-proxyd for the remote PCI device tests; see fake_proxyd.h. */
#include <check.h>
#include <event2/event.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/kvm/fake_proxyd.h"

uint64_t fake_bar_value(uint64_t offset, unsigned int size)
{
	uint64_t v = 0x1122334455667788ull ^ (offset * 0x0101010101010101ull);

	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

void fake_init(struct fake_proxyd *f, const struct devchan_device *dev)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	f->ctrl = sv[0];
	f->vmm_end = sv[1];
	f->chan0 = -1;
	f->dev = *dev;
	f->next_id = 1;
	pthread_mutex_init(&f->lock, NULL);
	/* Its own idea of the capability bytes: the vmm must show its IDs and links. */
	memcpy(f->cfg + DEVCHAN_CAPS_START, dev->caps, dev->caps_len);
	for (uint32_t off = 0; off < dev->caps_len; off += dev->caps[off + 2])
		f->cfg[DEVCHAN_CAPS_START + off] = 0x77;
}

static void reply(struct fake_proxyd *f, uint64_t id, int err)
{
	struct devchan_msg r;
	const char *why;

	devchan_build_reply(&r, id, err);
	ck_assert_int_eq(devchan_send(f->ctrl, &r, DEVCHAN_FROM_PROXYD, &why), 0);
}

/* HELLO -> DEVICE, then every RAM_ADD and ACCESS_CHANNEL answered. */
static void *handshake(void *arg)
{
	struct fake_proxyd *f = arg;
	struct devchan_msg m;
	const char *why;
	uint32_t nchan = 0;

	if (devchan_recv(f->ctrl, &m, DEVCHAN_FROM_VMM, &why) ||
	    m.hdr.type != DEVCHAN_MSG_HELLO)
		return NULL;
	f->nr_channels = m.payload.hello.nr_access_channels;
	devchan_build_device(&m, m.hdr.id, &f->dev);
	if (devchan_send(f->ctrl, &m, DEVCHAN_FROM_PROXYD, &why))
		return NULL;
	while (nchan < f->nr_channels && !devchan_recv(f->ctrl, &m, DEVCHAN_FROM_VMM, &why)) {
		if (m.hdr.type == DEVCHAN_MSG_RAM_ADD && f->nram < 4)
			f->ram[f->nram++] = m.payload.ram_add;
		if (m.hdr.type == DEVCHAN_MSG_ACCESS_CHANNEL) {
			nchan++;
			if (m.payload.access_channel.index == 0)
				f->chan0 = devchan_msg_take_fd(&m, 0);
		}
		devchan_msg_close_fds(&m);
		reply(f, m.hdr.id, 0);
	}
	return NULL;
}

void fake_handshake_start(struct fake_proxyd *f)
{
	ck_assert_int_eq(pthread_create(&f->thread, NULL, handshake, f), 0);
}

static uint64_t answer(struct fake_proxyd *f, const struct devchan_access *a)
{
	uint64_t v = 0;

	if (a->write)
		return 0;
	if (a->region != DEVCHAN_REGION_CONFIG)
		return fake_bar_value(a->offset, a->size);
	memcpy(&v, f->cfg + a->offset, a->size);
	return v;
}

static void *serve(void *arg)
{
	struct fake_proxyd *f = arg;
	struct devchan_access a;
	const char *why;
	bool silent;

	while (!devchan_access_recv_cmd(f->chan0, &a, &why)) {
		pthread_mutex_lock(&f->lock);
		if (f->nlog < FAKE_LOG_MAX)
			f->log[f->nlog++] = a;
		silent = f->silent;
		pthread_mutex_unlock(&f->lock);
		if (a.resp && !silent && devchan_access_send_resp(f->chan0, answer(f, &a)))
			break;
	}
	return NULL;
}

void fake_handshake_end(struct fake_proxyd *f)
{
	pthread_join(f->thread, NULL);
	f->vmm_end = -1;	/* the vmm's now */
	ck_assert_int_ge(f->chan0, 0);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, serve, f), 0);
	f->serving = true;
}

void fake_destroy(struct fake_proxyd *f)
{
	if (f->serving) {
		shutdown(f->chan0, SHUT_RDWR);
		pthread_join(f->thread, NULL);
	}
	if (f->chan0 >= 0)
		close(f->chan0);
	if (f->ctrl >= 0)
		close(f->ctrl);
	pthread_mutex_destroy(&f->lock);
}

/* Runs the vmm's loop until our control socket is readable (2 s at most). */
static bool wait_readable(struct fake_proxyd *f, struct event_base *base)
{
	struct pollfd p = { .fd = f->ctrl, .events = POLLIN };

	for (int i = 0; i < 200; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 10) == 1)
			return true;
	}
	return false;
}

int fake_request(struct fake_proxyd *f, struct devchan_msg *m, void *evbase)
{
	struct devchan_msg r;
	const char *why = NULL;
	int ret;

	m->hdr.id = f->next_id++;
	ret = devchan_send(f->ctrl, m, DEVCHAN_FROM_PROXYD, &why);
	ck_assert_msg(!ret, "send %s: %s", devchan_msg_name(m->hdr.type), why);
	ck_assert(wait_readable(f, evbase));
	ck_assert_int_eq(devchan_recv(f->ctrl, &r, DEVCHAN_FROM_VMM, &why), 0);
	ck_assert_uint_eq(r.hdr.type, DEVCHAN_MSG_REPLY);
	ck_assert_uint_eq(r.hdr.id, m->hdr.id);
	return (int)r.payload.reply.status;
}

bool fake_sees_close(struct fake_proxyd *f, void *evbase)
{
	char c;

	return wait_readable(f, evbase) && recv(f->ctrl, &c, 1, MSG_DONTWAIT) == 0;
}

void fake_set_silent(struct fake_proxyd *f, bool silent)
{
	pthread_mutex_lock(&f->lock);
	f->silent = silent;
	pthread_mutex_unlock(&f->lock);
}

unsigned int fake_take_log(struct fake_proxyd *f, struct devchan_access *out)
{
	unsigned int n;

	pthread_mutex_lock(&f->lock);
	n = f->nlog;
	memcpy(out, f->log, n * sizeof(*out));
	f->nlog = 0;
	pthread_mutex_unlock(&f->lock);
	return n;
}
