// SPDX-License-Identifier: GPL-2.0-only
/*
 * The front-end client against a scripted back-end on a socketpair: the
 * connect sequence goes out in QEMU's order, and every way a reply can be
 * wrong is an error, not a trusted value.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/vu_frontend.h"
#include "tests/unit/test_fds.h"

#define PROTO_OFFERED	((1ull << VHOST_USER_PROTOCOL_F_MQ) | \
			 (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
			 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | \
			 (1ull << VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

/* How the fake back-end spoils the reply to one request. */
enum fault { FAULT_NONE, FAULT_FLAGS, FAULT_CODE, FAULT_SIZE, FAULT_FD,
	     FAULT_EOF, FAULT_NACK };

struct fake {
	int sock;
	uint32_t spoil;		/* request whose reply is spoiled */
	enum fault fault;
	uint32_t seen[32];	/* requests in arrival order */
	unsigned int nseen;
};

static void fake_reply(struct fake *f, struct vu_msg *m, uint64_t val,
		       uint32_t size)
{
	uint32_t request = m->hdr.request;

	vu_msg_make_reply(m, size);
	m->payload.u64 = val;
	if (request == f->spoil) {
		switch (f->fault) {
		case FAULT_FLAGS: m->hdr.flags = 0x1; break;
		case FAULT_CODE: m->hdr.request = request + 1; break;
		case FAULT_SIZE: m->hdr.size = size + 4; break;
		case FAULT_FD: m->fds[0] = eventfd(0, EFD_CLOEXEC); m->nfds = 1; break;
		case FAULT_NACK: m->payload.u64 = 1; break;
		default: break;
		}
	}
	vu_msg_send(f->sock, m);
	vu_msg_close_fds(m);
}

static uint64_t fake_value(uint32_t request)
{
	switch (request) {
	case VHOST_USER_GET_FEATURES:
		return 1ull << VHOST_USER_F_PROTOCOL_FEATURES | 1ull << 32;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return PROTO_OFFERED;
	case VHOST_USER_GET_QUEUE_NUM:
		return 2;
	case VHOST_USER_GET_MAX_MEM_SLOTS:
		return 32;
	default:
		return 0;
	}
}

static void *fake_backend(void *arg)
{
	struct fake *f = arg;
	struct vu_msg m;

	while (vu_msg_recv(f->sock, &m) == 0) {
		uint32_t req = m.hdr.request;
		bool ack = m.hdr.flags & VHOST_USER_NEED_REPLY_MASK;

		if (f->nseen < 32)
			f->seen[f->nseen++] = req;
		if (req == f->spoil && f->fault == FAULT_EOF) {
			vu_msg_close_fds(&m);
			break;
		}
		if (req == VHOST_USER_GET_CONFIG)
			fake_reply(f, &m, 0, m.hdr.size);
		else if (req == VHOST_USER_GET_VRING_BASE)
			fake_reply(f, &m, 7ull << 32, 8);
		else if (fake_value(req) || req == VHOST_USER_GET_FEATURES)
			fake_reply(f, &m, fake_value(req), 8);
		else if (ack)
			fake_reply(f, &m, 0, 8);
		else
			vu_msg_close_fds(&m);
	}
	close(f->sock);
	return NULL;
}

static struct fake fake;
static pthread_t fake_thread;
static struct vu_frontend fe;

static void start_fake(uint32_t spoil, enum fault fault)
{
	int sv[2];

	make_sockpair(sv);
	memset(&fake, 0, sizeof(fake));
	fake.sock = sv[1];
	fake.spoil = spoil;
	fake.fault = fault;
	memset(&fe, 0, sizeof(fe));
	fe.sock = sv[0];
	ck_assert_int_eq(pthread_create(&fake_thread, NULL, fake_backend, &fake), 0);
}

static void stop_fake(void)
{
	vu_fe_close(&fe);
	pthread_join(fake_thread, NULL);
}

START_TEST(test_connect_sequence)
{
	static const uint32_t qemu_order[] = {
		VHOST_USER_GET_FEATURES, VHOST_USER_GET_PROTOCOL_FEATURES,
		VHOST_USER_SET_PROTOCOL_FEATURES, VHOST_USER_GET_QUEUE_NUM,
		VHOST_USER_GET_MAX_MEM_SLOTS, VHOST_USER_SET_OWNER,
	};
	uint16_t base;

	start_fake(0, FAULT_NONE);
	ck_assert_int_eq(vu_fe_negotiate(&fe, PROTO_OFFERED,
					 1ull << VHOST_USER_PROTOCOL_F_CONFIG), 0);
	ck_assert_uint_eq(fe.protocol_features, PROTO_OFFERED);
	ck_assert_uint_eq(fe.queue_num, 2);
	ck_assert_uint_eq(fe.max_mem_slots, 32);
	ck_assert_int_eq(vu_fe_get_vring_base(&fe, 0, &base), 0);
	ck_assert_uint_eq(base, 7);
	stop_fake();
	ck_assert_uint_ge(fake.nseen, 6);
	for (unsigned int i = 0; i < 6; i++)
		ck_assert_uint_eq(fake.seen[i], qemu_order[i]);
}
END_TEST

START_TEST(test_missing_required_feature)
{
	start_fake(0, FAULT_NONE);
	ck_assert_int_eq(vu_fe_negotiate(&fe, PROTO_OFFERED,
					 1ull << VHOST_USER_PROTOCOL_F_STATUS),
			 -ENOTSUP);
	stop_fake();
}
END_TEST

/* Each fault on GET_PROTOCOL_FEATURES' reply fails negotiation. */
static const struct { enum fault fault; int err; } faults[] = {
	{ FAULT_FLAGS, -EPROTO }, { FAULT_CODE, -EPROTO },
	{ FAULT_SIZE, -EPROTO }, { FAULT_FD, -EPROTO },
};

START_TEST(test_bad_reply)
{
	start_fake(VHOST_USER_GET_PROTOCOL_FEATURES, faults[_i].fault);
	ck_assert_int_eq(vu_fe_negotiate(&fe, PROTO_OFFERED, 0), faults[_i].err);
	stop_fake();
}
END_TEST

START_TEST(test_eof_instead_of_reply)
{
	start_fake(VHOST_USER_GET_QUEUE_NUM, FAULT_EOF);
	ck_assert_int_lt(vu_fe_negotiate(&fe, PROTO_OFFERED, 0), 0);
	stop_fake();
}
END_TEST

START_TEST(test_nack)
{
	/* With REPLY_ACK negotiated, SET_OWNER is acked: a nack is -EIO. */
	start_fake(VHOST_USER_SET_OWNER, FAULT_NACK);
	ck_assert_int_eq(vu_fe_negotiate(&fe, PROTO_OFFERED, 0), -EIO);
	stop_fake();
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct mem_region r[9] = { 0 };
	uint8_t buf[8];

	start_fake(0, FAULT_NONE);
	ck_assert_int_eq(vu_fe_set_mem_table(&fe, r, 9), -EINVAL);
	ck_assert_int_eq(vu_fe_set_mem_table(&fe, r, 0), -EINVAL);
	ck_assert_int_eq(vu_fe_get_config(&fe, 0, buf, VHOST_USER_CONFIG_MAX + 1),
			 -EINVAL);
	ck_assert_int_eq(vu_fe_set_vring_fd(&fe, VHOST_USER_SET_VRING_KICK, 256, -1),
			 -EINVAL);
	stop_fake();
	ck_assert_int_eq(vu_fe_connect(&fe, "/nonexistent/socket/path"), -ENOENT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vu_frontend");
	TCase *tc = tcase_create("frontend");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_connect_sequence);
	tcase_add_test(tc, test_missing_required_feature);
	tcase_add_loop_test(tc, test_bad_reply, 0, sizeof(faults) / sizeof(faults[0]));
	tcase_add_test(tc, test_eof_instead_of_reply);
	tcase_add_test(tc, test_nack);
	tcase_add_test(tc, test_bad_arguments);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
