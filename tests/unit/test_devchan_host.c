// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vmm's side of the device channel with a socket pair standing in for
 * proxyd: requests answered and recorded, bad ones refused with the right
 * errno or ending the channel, hooks called, KVM's ioeventfd shortcut, and
 * no fd left open on any path.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/devchan_host.h"
#include "tests/unit/devchan_vvu.h"
#include "tests/unit/test_fds.h"
#include "tests/unit/test_run.h"

struct fixture {
	struct devchan_host h;
	int peer;			/* proxyd's end */
	int acc_peer;			/* proxyd's end of the access channel */
	unsigned int maps, unmaps, irq_adds, irq_dels;
	int refuse_vector;		/* irqfd_add hook refuses it, -1: none */
	uint32_t filtered_type;
};

static int hook_filter(void *arg, const struct devchan_msg *m)
{
	struct fixture *f = arg;

	return m->hdr.type == f->filtered_type ? ENOSPC : 0;
}

static int hook_shm_map(void *arg, const struct devchan_host_shm *s, int fd)
{
	struct fixture *f = arg;

	ck_assert(!s->used && fd_is_open(fd));
	f->maps++;
	return 0;
}

static void hook_shm_unmap(void *arg, const struct devchan_host_shm *s)
{
	struct fixture *f = arg;

	ck_assert(s->used && fd_is_open(s->fd));
	f->unmaps++;
}

static int hook_irqfd_add(void *arg, uint32_t id, uint16_t vector, int fd)
{
	struct fixture *f = arg;

	(void)id;
	ck_assert(fd_is_open(fd));
	if (vector == f->refuse_vector)
		return EINVAL;
	f->irq_adds++;
	return 0;
}

static void hook_irqfd_del(void *arg, uint32_t id,
			   const struct devchan_host_irqfd *q)
{
	struct fixture *f = arg;

	(void)id;
	ck_assert(q->used && fd_is_open(q->fd));
	f->irq_dels++;
}

static const struct devchan_host_hooks hooks = {
	.filter = hook_filter,
	.shm_map = hook_shm_map,
	.shm_unmap = hook_shm_unmap,
	.irqfd_add = hook_irqfd_add,
	.irqfd_del = hook_irqfd_del,
};

/* proxyd sends m; the host answers it: the REPLY's status. */
static int roundtrip(struct fixture *f, struct devchan_msg *m)
{
	struct devchan_msg r;
	const char *why = "";

	ck_assert_int_eq(devchan_send(f->peer, m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_int_eq(devchan_host_recv(&f->h), 0);
	ck_assert_int_eq(devchan_recv(f->peer, &r, DEVCHAN_FROM_VMM, &why), 0);
	ck_assert_uint_eq(r.hdr.type, DEVCHAN_MSG_REPLY);
	ck_assert_uint_eq(r.hdr.id, m->hdr.id);
	return (int)r.payload.reply.status;
}

/* A host that has seen the vvu DEVICE (1 GiB BAR4) and has an access channel. */
static void setup(struct fixture *f)
{
	struct devchan_msg m;
	struct devchan_device dev;
	const char *why = "";
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->refuse_vector = -1;
	make_seqpacket_pair(sv);
	f->peer = sv[1];
	devchan_host_init(&f->h, sv[0], &hooks, f);
	make_seqpacket_pair(sv);
	f->h.acc = sv[0];
	f->acc_peer = sv[1];
	devchan_vvu_device(&dev, 1ull << 30);
	devchan_build_device(&m, 1, &dev);
	ck_assert_int_eq(devchan_send(f->peer, &m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_int_eq(devchan_host_recv(&f->h), 0);
	ck_assert(f->h.have_dev);
}

static void teardown(struct fixture *f)
{
	devchan_host_close(&f->h);
	ck_assert_int_eq(f->h.ctrl, -1);
	ck_assert_int_eq(f->h.acc, -1);
	close(f->peer);
	close(f->acc_peer);
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static int shm_map(struct fixture *f, uint64_t id, uint32_t slot, uint64_t off,
		   uint64_t size, int fd)
{
	struct devchan_shm_map map = { .slot = slot, .bar = 4,
				       .bar_offset = off, .size = size };
	struct devchan_msg m;

	devchan_build_shm_map(&m, id, &map, fd);
	return roundtrip(f, &m);
}

START_TEST(test_shm_slots)
{
	int before = count_open_fds();
	struct fixture f;
	struct devchan_msg m;
	int mfd = memfd_create("slot", MFD_CLOEXEC);

	ck_assert_int_ge(mfd, 0);
	setup(&f);
	ck_assert_int_eq(shm_map(&f, 2, 3, 0x200000, 0x2000, mfd), 0);
	ck_assert(test_same_file(devchan_host_shm_slot(&f.h, 3)->fd, mfd));
	ck_assert_uint_eq(devchan_host_shm_slot(&f.h, 3)->map.bar_offset, 0x200000);
	ck_assert_int_eq(shm_map(&f, 3, 3, 0x400000, 0x1000, mfd), EEXIST);
	ck_assert_int_eq(shm_map(&f, 4, 4, 0x201000, 0x1000, mfd), EBUSY);
	ck_assert_int_eq(shm_map(&f, 5, 4, 0x202000, 0x1000, mfd), 0);
	ck_assert_uint_eq(devchan_host_shm_count(&f.h), 2);
	ck_assert_uint_eq(f.maps, 2);
	ck_assert_uint_eq(f.h.refusals, 2);
	devchan_build_shm_unmap(&m, 6, 3);
	ck_assert_int_eq(roundtrip(&f, &m), 0);
	ck_assert_ptr_null(devchan_host_shm_slot(&f.h, 3));
	devchan_build_shm_unmap(&m, 7, 3);
	ck_assert_int_eq(roundtrip(&f, &m), ENOENT);
	ck_assert_uint_eq(f.unmaps, 1);
	ck_assert_ptr_null(devchan_host_shm_slot(&f.h, 999));
	teardown(&f);
	close(mfd);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

static int ioeventfd_add(struct fixture *f, uint64_t id,
			 const struct devchan_ioeventfd_add *add, int efd)
{
	struct devchan_msg m;

	devchan_build_ioeventfd_add(&m, id, add, efd);
	return roundtrip(f, &m);
}

/* The access command proxyd got, if any. */
static bool got_access(struct fixture *f, struct devchan_access *a)
{
	struct pollfd p = { .fd = f->acc_peer, .events = POLLIN };
	const char *why = "";

	if (poll(&p, 1, 0) != 1)
		return false;
	ck_assert_int_eq(devchan_access_recv_cmd(f->acc_peer, a, &why), 0);
	return true;
}

START_TEST(test_ioeventfds)
{
	int before = count_open_fds();
	struct devchan_ioeventfd_add any = { .id = 1, .bar = 0, .offset = 0x3000 };
	struct devchan_ioeventfd_add dm = { .id = 2, .bar = 2, .len = 4,
		.flags = DEVCHAN_IOEVENTFD_F_DATAMATCH, .offset = 0x8,
		.datamatch = 7 };
	struct devchan_access a;
	struct fixture f;
	struct devchan_msg m;
	int e1 = new_eventfd(), e2 = new_eventfd();
	eventfd_t n;

	setup(&f);
	ck_assert_int_eq(ioeventfd_add(&f, 2, &any, e1), 0);
	ck_assert_int_eq(ioeventfd_add(&f, 3, &dm, e2), 0);
	any.id = 9;	/* another id at the same place */
	ck_assert_int_eq(ioeventfd_add(&f, 4, &any, e1), EEXIST);
	/* Any size at 0x3000 signals e1; nothing crosses the channel. */
	ck_assert_int_eq(devchan_host_write(&f.h, 0, 0x3000, 2, 5), 0);
	ck_assert_int_eq(eventfd_read(e1, &n), 0);
	ck_assert(!got_access(&f, &a));
	/* DATAMATCH: only 7 of 4 bytes signals e2. */
	ck_assert_int_eq(devchan_host_write(&f.h, 2, 0x8, 4, 8), 0);
	ck_assert_int_ne(eventfd_read(e2, &n), 0);
	ck_assert(got_access(&f, &a));
	ck_assert(a.write && a.region == 2 && a.offset == 0x8 && a.data == 8);
	ck_assert_int_eq(devchan_host_write(&f.h, 2, 0x8, 4, 7), 0);
	ck_assert_int_eq(eventfd_read(e2, &n), 0);
	/* Config space never has ioeventfds. */
	ck_assert_int_eq(devchan_host_write(&f.h, DEVCHAN_REGION_CONFIG, 4, 2, 6), 0);
	ck_assert(got_access(&f, &a) && a.region == DEVCHAN_REGION_CONFIG);
	devchan_build_ioeventfd_del(&m, 5, 1);
	ck_assert_int_eq(roundtrip(&f, &m), 0);
	ck_assert_ptr_null(devchan_host_ioeventfd_at(&f.h, 0, 0x3000));
	ck_assert_int_eq(roundtrip(&f, &m), ENOENT);
	teardown(&f);
	close(e1);
	close(e2);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

static int irqfd_add(struct fixture *f, uint64_t id, uint32_t irq,
		     uint16_t vector, int efd)
{
	struct devchan_msg m;

	devchan_build_irqfd_add(&m, id, irq, vector, efd);
	return roundtrip(f, &m);
}

START_TEST(test_irqfds_and_hooks)
{
	int before = count_open_fds();
	struct fixture f;
	struct devchan_msg m;
	int e = new_eventfd();

	setup(&f);
	f.refuse_vector = 5;
	ck_assert_int_eq(irqfd_add(&f, 2, 0, 1, e), 0);
	ck_assert(test_same_file(devchan_host_irqfd(&f.h, 0)->fd, e));
	ck_assert_uint_eq(devchan_host_irqfd(&f.h, 0)->vector, 1);
	ck_assert_int_eq(irqfd_add(&f, 3, 0, 2, e), EEXIST);
	/* The hook's refusal: nothing recorded, its copy of the fd closed. */
	ck_assert_int_eq(irqfd_add(&f, 4, 1, 5, e), EINVAL);
	ck_assert_ptr_null(devchan_host_irqfd(&f.h, 1));
	ck_assert_uint_eq(f.irq_adds, 1);
	devchan_build_irqfd_del(&m, 5, 0);
	ck_assert_int_eq(roundtrip(&f, &m), 0);
	ck_assert_uint_eq(f.irq_dels, 1);
	ck_assert_int_eq(roundtrip(&f, &m), ENOENT);
	ck_assert_uint_eq(f.irq_dels, 1);
	/* The filter's refusal is on purpose: not counted. */
	f.filtered_type = DEVCHAN_MSG_IRQFD_ADD;
	ck_assert_uint_eq(f.h.refusals, 3);
	ck_assert_int_eq(irqfd_add(&f, 6, 2, 1, e), ENOSPC);
	ck_assert_uint_eq(f.h.refusals, 3);
	ck_assert_ptr_null(devchan_host_irqfd(&f.h, 2));
	teardown(&f);
	close(e);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

/* proxyd sends m; the host must give up the channel with err. */
static void expect_fault(struct fixture *f, const struct devchan_msg *m, int err)
{
	const char *why = "";

	ck_assert_int_eq(devchan_send(f->peer, m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_int_eq(devchan_host_recv(&f->h), err);
}

START_TEST(test_protocol_faults)
{
	int before = count_open_fds();
	struct devchan_shm_map past = { .slot = 1, .bar = 4,
		.bar_offset = 1ull << 30, .size = 0x1000 };
	struct devchan_shm_map remote = { .slot = 1, .bar = 0, .size = 0x1000 };
	struct devchan_device dev;
	struct fixture f;
	struct devchan_msg m;
	int e = new_eventfd();

	setup(&f);
	/* Bad for this device: vector, BAR kind, beyond the BAR. */
	devchan_build_irqfd_add(&m, 2, 0, 19, e);
	expect_fault(&f, &m, -EBADMSG);
	devchan_build_shm_map(&m, 3, &remote, e);
	expect_fault(&f, &m, -EBADMSG);
	devchan_build_shm_map(&m, 4, &past, e);
	expect_fault(&f, &m, -EBADMSG);
	/* A second DEVICE, a REPLY to nothing. */
	devchan_vvu_device(&dev, 1ull << 30);
	devchan_build_device(&m, 5, &dev);
	expect_fault(&f, &m, -EPROTO);
	devchan_build_reply(&m, 6, 0);
	expect_fault(&f, &m, -EPROTO);
	ck_assert_uint_eq(devchan_host_shm_count(&f.h), 0);
	ck_assert_ptr_null(devchan_host_irqfd(&f.h, 0));
	/* proxyd gone. */
	close(f.peer);
	ck_assert_int_eq(devchan_host_recv(&f.h), -ECONNRESET);
	f.peer = -1;
	teardown(&f);
	close(e);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

START_TEST(test_request_before_device)
{
	struct devchan_host h;
	struct devchan_msg m;
	const char *why = "";
	int sv[2], e = new_eventfd();

	make_seqpacket_pair(sv);
	devchan_host_init(&h, sv[0], NULL, NULL);
	devchan_build_irqfd_add(&m, 2, 0, 1, e);
	ck_assert_int_eq(devchan_send(sv[1], &m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_int_eq(devchan_host_recv(&h), -EPROTO);
	ck_assert_ptr_null(devchan_host_irqfd(&h, 0));
	/* Without an access channel, accesses fail cleanly. */
	ck_assert_int_eq(devchan_host_write(&h, 0, 0, 4, 1), -ENOTCONN);
	devchan_host_close(&h);
	close(sv[1]);
	close(e);
}
END_TEST

START_TEST(test_access_read)
{
	struct devchan_access a;
	struct fixture f;
	uint64_t v = 0;

	setup(&f);
	/* proxyd's answer is queued first: the read is synchronous. */
	ck_assert_int_eq(devchan_access_send_resp(f.acc_peer, 0x1af4), 0);
	ck_assert_int_eq(devchan_host_read(&f.h, DEVCHAN_REGION_CONFIG, 0, 2, &v), 0);
	ck_assert_uint_eq(v, 0x1af4);
	ck_assert(got_access(&f, &a));
	ck_assert(!a.write && a.resp && a.size == 2 && a.offset == 0);
	/* A bad access is not sent at all. */
	ck_assert_int_ne(devchan_host_read(&f.h, DEVCHAN_REGION_CONFIG, 255, 4, &v), 0);
	ck_assert(!got_access(&f, &a));
	close(f.acc_peer);
	f.acc_peer = -1;
	ck_assert_int_eq(devchan_host_read(&f.h, 0, 0, 4, &v), -EPIPE);
	teardown(&f);
}
END_TEST

START_TEST(test_connect)
{
	ck_assert_int_eq(devchan_host_connect("/nonexistent/ctrl", 0), -ENOENT);
	ck_assert_int_lt(devchan_host_connect("/nonexistent/ctrl", 30), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("devchan_host");
	TCase *tc = tcase_create("requests");

	tcase_add_test(tc, test_shm_slots);
	tcase_add_test(tc, test_ioeventfds);
	tcase_add_test(tc, test_irqfds_and_hooks);
	tcase_add_test(tc, test_protocol_faults);
	tcase_add_test(tc, test_request_before_device);
	tcase_add_test(tc, test_access_read);
	tcase_add_test(tc, test_connect);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
