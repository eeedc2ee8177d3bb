// SPDX-License-Identifier: GPL-2.0-only
/* vhost-user message framing: good messages, malformed ones, and their fds. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/vu_msg.h"
#include "tests/unit/test_fds.h"
#include "tests/unit/test_run.h"


static int devnull(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* A raw header, n fresh fds riding on it; our copies are closed. */
static void send_hdr(int sock, uint32_t req, uint32_t flags, uint32_t size,
		     size_t n)
{
	struct vhost_user_hdr hdr = { .request = req, .flags = flags, .size = size };
	int fds[FDPASS_MAX_FDS];
	size_t i;

	ck_assert_uint_le(n, FDPASS_MAX_FDS);
	for (i = 0; i < n; i++)
		fds[i] = devnull();
	ck_assert_int_eq(fd_send(sock, &hdr, sizeof(hdr), fds, n), 0);
	fds_close(fds, n);
}

START_TEST(test_init)
{
	struct vu_msg m;

	memset(&m, 0x5a, sizeof(m));
	vu_msg_init(&m, VHOST_USER_GET_FEATURES);
	ck_assert_uint_eq(m.hdr.request, VHOST_USER_GET_FEATURES);
	ck_assert_uint_eq(m.hdr.flags, VHOST_USER_VERSION);
	ck_assert_uint_eq(m.hdr.size, 0);
	ck_assert_uint_eq(m.nfds, 0);
	for (int i = 0; i < VHOST_USER_MAX_FDS; i++)
		ck_assert_int_eq(m.fds[i], -1);
	ck_assert_uint_eq(m.payload.u64, 0);
}
END_TEST

START_TEST(test_round_trip_mem_table)
{
	struct vu_msg out, in;
	int sv[2], fd, p[2];
	char c;

	make_sockpair(sv);
	ck_assert_int_eq(pipe(p), 0);
	vu_msg_init(&out, VHOST_USER_SET_MEM_TABLE);
	out.payload.memory.nregions = 1;
	out.payload.memory.regions[0].guest_phys_addr = 0x100000;
	out.payload.memory.regions[0].memory_size = 0x200000;
	out.payload.memory.regions[0].userspace_addr = 0x7f0000000000;
	out.payload.memory.regions[0].mmap_offset = 4096;
	out.hdr.size = VHOST_USER_MEMORY_SIZE(1);
	out.fds[0] = p[1];
	out.nfds = 1;
	ck_assert_int_eq(vu_msg_send(sv[0], &out), 0);

	ck_assert_int_eq(vu_msg_recv(sv[1], &in), 0);
	ck_assert_uint_eq(in.hdr.request, VHOST_USER_SET_MEM_TABLE);
	ck_assert_uint_eq(in.hdr.flags, VHOST_USER_VERSION);
	ck_assert_uint_eq(in.hdr.size, 40);
	ck_assert_int_eq(memcmp(&in.payload, &out.payload, 40), 0);
	ck_assert_uint_eq(in.nfds, 1);

	/* The fd taken is the pipe sent; taking twice or past nfds gives -1. */
	fd = vu_msg_take_fd(&in, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vu_msg_take_fd(&in, 0), -1);
	ck_assert_int_eq(vu_msg_take_fd(&in, 1), -1);
	ck_assert_int_eq(vu_msg_take_fd(&in, 1000), -1);
	vu_msg_close_fds(&in);
	ck_assert_int_eq(write(fd, "m", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'm');
	close(fd);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_round_trip_no_payload)
{
	struct vu_msg out, in;
	int sv[2];

	make_sockpair(sv);
	vu_msg_init(&out, VHOST_USER_GET_FEATURES);
	out.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	ck_assert_int_eq(vu_msg_send(sv[0], &out), 0);
	/* Two back to back: framing keeps them apart. */
	vu_msg_init(&out, VHOST_USER_SET_FEATURES);
	out.hdr.size = 8;
	out.payload.u64 = 0x140000000ull;
	ck_assert_int_eq(vu_msg_send(sv[0], &out), 0);

	ck_assert_int_eq(vu_msg_recv(sv[1], &in), 0);
	ck_assert_uint_eq(in.hdr.request, VHOST_USER_GET_FEATURES);
	ck_assert_uint_eq(in.hdr.flags, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY_MASK);
	ck_assert_uint_eq(in.hdr.size, 0);
	ck_assert_uint_eq(in.nfds, 0);
	ck_assert_int_eq(vu_msg_recv(sv[1], &in), 0);
	ck_assert_uint_eq(in.hdr.request, VHOST_USER_SET_FEATURES);
	ck_assert_uint_eq(in.payload.u64, 0x140000000ull);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static void expect_recv_fails(uint32_t flags, uint32_t size, size_t nfds,
			      const void *payload, size_t payload_len, int err)
{
	struct vu_msg m;
	int sv[2], before;

	make_sockpair(sv);
	before = count_open_fds();
	send_hdr(sv[0], VHOST_USER_SET_VRING_CALL, flags, size, nfds);
	if (payload_len)
		ck_assert_int_eq(write(sv[0], payload, payload_len),
				 (ssize_t)payload_len);
	close(sv[0]);
	ck_assert_int_eq(vu_msg_recv(sv[1], &m), err);
	/* Only sv[0] went away; every fd that came in is closed again. */
	ck_assert_int_eq(count_open_fds(), before - 1);
	for (int i = 0; i < VHOST_USER_MAX_FDS; i++)
		ck_assert_int_eq(m.fds[i], -1);
	ck_assert_uint_eq(m.nfds, 0);
	close(sv[1]);
}

START_TEST(test_bad_version)
{
	uint64_t v = 0;

	expect_recv_fails(0, 8, 2, &v, 8, -EPROTO);
	expect_recv_fails(2, 8, 1, &v, 8, -EPROTO);
	expect_recv_fails(3 | VHOST_USER_REPLY_MASK, 8, 1, &v, 8, -EPROTO);
}
END_TEST

START_TEST(test_oversize)
{
	static char big[VHOST_USER_PAYLOAD_MAX + 1];

	expect_recv_fails(VHOST_USER_VERSION, VHOST_USER_PAYLOAD_MAX + 1, 3,
			  big, sizeof(big), -EPROTO);
	expect_recv_fails(VHOST_USER_VERSION, 0xffffffffu, 1, NULL, 0, -EPROTO);
}
END_TEST

START_TEST(test_truncated_payload)
{
	uint32_t half = 7;

	/* Header then nothing; header then half the payload. */
	expect_recv_fails(VHOST_USER_VERSION, 8, 1, NULL, 0, -EPROTO);
	expect_recv_fails(VHOST_USER_VERSION, 8, 2, &half, 4, -EPROTO);
}
END_TEST

START_TEST(test_truncated_header)
{
	struct vu_msg m;
	int sv[2], fd, before;

	make_sockpair(sv);
	before = count_open_fds();
	fd = devnull();
	ck_assert_int_eq(fd_send(sv[0], "\x0c\0\0\0\x01\0", 6, &fd, 1), 0);
	close(fd);
	close(sv[0]);
	ck_assert_int_eq(vu_msg_recv(sv[1], &m), -EPROTO);
	ck_assert_int_eq(count_open_fds(), before - 1);
	close(sv[1]);
}
END_TEST

START_TEST(test_eof_before_header)
{
	struct vu_msg m;
	int sv[2];

	make_sockpair(sv);
	close(sv[0]);
	ck_assert_int_eq(vu_msg_recv(sv[1], &m), -ECONNRESET);
	ck_assert_uint_eq(m.nfds, 0);
	close(sv[1]);
}
END_TEST

/* Too many fds: all closed, the message consumed, the next one intact. */
START_TEST(test_too_many_fds)
{
	struct vhost_user_hdr hdr = {
		.request = VHOST_USER_SET_VRING_KICK,
		.flags = VHOST_USER_VERSION, .size = 8,
	};
	char cbuf[CMSG_SPACE(sizeof(int) * 12)] __attribute__((aligned(8)));
	struct iovec iov = { .iov_base = &hdr, .iov_len = sizeof(hdr) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	uint64_t idx = 1;
	struct vu_msg m;
	int sv[2], fds[12], before;
	size_t i;

	make_sockpair(sv);
	before = count_open_fds();
	for (i = 0; i < 12; i++)
		fds[i] = devnull();
	memset(cbuf, 0, sizeof(cbuf));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	ck_assert_int_eq(sendmsg(sv[0], &msg, 0), (ssize_t)sizeof(hdr));
	fds_close(fds, 12);
	ck_assert_int_eq(write(sv[0], &idx, 8), 8);
	send_hdr(sv[0], VHOST_USER_GET_QUEUE_NUM, VHOST_USER_VERSION, 0, 0);

	ck_assert_int_eq(vu_msg_recv(sv[1], &m), -EMSGSIZE);
	ck_assert_int_eq(count_open_fds(), before);
	ck_assert_uint_eq(m.nfds, 0);
	ck_assert_uint_eq(m.hdr.request, VHOST_USER_SET_VRING_KICK);
	ck_assert_uint_eq(m.payload.u64, 1);
	ck_assert_int_eq(vu_msg_recv(sv[1], &m), 0);
	ck_assert_uint_eq(m.hdr.request, VHOST_USER_GET_QUEUE_NUM);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static void *split_reply_run(void *arg)
{
	struct vhost_user_hdr hdr = {
		.request = VHOST_USER_GET_FEATURES,
		.flags = VHOST_USER_REPLY_FLAGS, .size = 8,
	};
	uint64_t features = 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
	int sock = *(int *)arg;

	/* As QEMU may: header in one write, payload later in another. */
	write_full(sock, &hdr, sizeof(hdr));
	usleep(100 * 1000);
	write_full(sock, &features, sizeof(features));
	return NULL;
}

START_TEST(test_split_header_payload)
{
	struct vu_msg m;
	pthread_t t;
	int sv[2];

	make_sockpair(sv);
	ck_assert_int_eq(pthread_create(&t, NULL, split_reply_run, &sv[0]), 0);
	ck_assert_int_eq(vu_msg_recv(sv[1], &m), 0);
	pthread_join(t, NULL);
	ck_assert_uint_eq(m.hdr.flags, VHOST_USER_REPLY_FLAGS);
	ck_assert_uint_eq(m.payload.u64, 1ull << VHOST_USER_F_PROTOCOL_FEATURES);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_send_rejects_bad_msg)
{
	struct vu_msg m;
	int sv[2];

	make_sockpair(sv);
	vu_msg_init(&m, VHOST_USER_SET_CONFIG);
	m.hdr.size = VHOST_USER_PAYLOAD_MAX + 1;
	ck_assert_int_eq(vu_msg_send(sv[0], &m), -EINVAL);
	m.hdr.size = 12;
	m.nfds = VHOST_USER_MAX_FDS + 1;
	ck_assert_int_eq(vu_msg_send(sv[0], &m), -EINVAL);
	close(sv[1]);
	m.nfds = 0;
	ck_assert_int_eq(vu_msg_send(sv[0], &m), -EPIPE);
	close(sv[0]);
}
END_TEST

START_TEST(test_make_reply)
{
	struct vu_msg m;
	int before, kept;

	vu_msg_init(&m, VHOST_USER_GET_VRING_BASE);
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	m.hdr.size = 8;
	before = count_open_fds();
	m.fds[0] = devnull();
	m.fds[1] = devnull();
	m.nfds = 2;
	kept = vu_msg_take_fd(&m, 1);	/* the handler keeps this one */
	ck_assert_int_ge(kept, 0);

	vu_msg_make_reply(&m, 8);
	ck_assert_uint_eq(m.hdr.request, VHOST_USER_GET_VRING_BASE);
	ck_assert_uint_eq(m.hdr.flags, 0x5);
	ck_assert_uint_eq(m.hdr.size, 8);
	/* The request fd left behind is closed, not sent back. */
	ck_assert_uint_eq(m.nfds, 0);
	ck_assert_int_eq(m.fds[0], -1);
	ck_assert_int_eq(count_open_fds(), before + 1);
	ck_assert_int_eq(fcntl(kept, F_GETFD) >= 0, 1);
	close(kept);
}
END_TEST

START_TEST(test_request_names)
{
	uint32_t i, j;

	ck_assert_str_eq(vu_request_name(1), "GET_FEATURES");
	ck_assert_str_eq(vu_request_name(5), "SET_MEM_TABLE");
	ck_assert_str_eq(vu_request_name(11), "GET_VRING_BASE");
	ck_assert_str_eq(vu_request_name(21), "SET_BACKEND_REQ_FD");
	ck_assert_str_eq(vu_request_name(37), "ADD_MEM_REG");
	ck_assert_str_eq(vu_request_name(40), "GET_STATUS");
	ck_assert_str_eq(vu_request_name(0), "UNKNOWN");
	ck_assert_str_eq(vu_request_name(41), "UNKNOWN");
	ck_assert_str_eq(vu_request_name(0xffffffffu), "UNKNOWN");
	/* Every request has its own name. */
	for (i = 1; i <= 40; i++) {
		ck_assert_str_ne(vu_request_name(i), "UNKNOWN");
		for (j = 1; j < i; j++)
			ck_assert_str_ne(vu_request_name(i), vu_request_name(j));
	}
}
END_TEST

struct size_case {
	uint32_t req;
	size_t size;
	bool exact;
};

static const struct size_case size_cases[] = {
	{ VHOST_USER_GET_FEATURES, 0, true },
	{ VHOST_USER_SET_FEATURES, 8, true },
	{ VHOST_USER_SET_OWNER, 0, true },
	{ VHOST_USER_RESET_OWNER, 0, true },
	{ VHOST_USER_SET_MEM_TABLE, 8, false },
	{ VHOST_USER_SET_LOG_BASE, 16, true },
	{ VHOST_USER_SET_LOG_FD, 0, false },
	{ VHOST_USER_SET_VRING_NUM, 8, true },
	{ VHOST_USER_SET_VRING_ADDR, 40, true },
	{ VHOST_USER_SET_VRING_BASE, 8, true },
	{ VHOST_USER_GET_VRING_BASE, 8, true },
	{ VHOST_USER_SET_VRING_KICK, 8, true },
	{ VHOST_USER_SET_VRING_CALL, 8, true },
	{ VHOST_USER_SET_VRING_ERR, 8, true },
	{ VHOST_USER_GET_PROTOCOL_FEATURES, 0, true },
	{ VHOST_USER_SET_PROTOCOL_FEATURES, 8, true },
	{ VHOST_USER_GET_QUEUE_NUM, 0, true },
	{ VHOST_USER_SET_VRING_ENABLE, 8, true },
	{ VHOST_USER_SEND_RARP, 8, true },
	{ VHOST_USER_NET_SET_MTU, 8, true },
	{ VHOST_USER_SET_BACKEND_REQ_FD, 0, false },
	{ VHOST_USER_IOTLB_MSG, 32, true },
	{ VHOST_USER_SET_VRING_ENDIAN, 8, true },
	{ VHOST_USER_GET_CONFIG, 12, false },
	{ VHOST_USER_SET_CONFIG, 12, false },
	{ VHOST_USER_CLOSE_CRYPTO_SESSION, 8, true },
	{ VHOST_USER_POSTCOPY_ADVISE, 0, true },
	{ VHOST_USER_POSTCOPY_LISTEN, 0, true },
	{ VHOST_USER_POSTCOPY_END, 0, true },
	{ VHOST_USER_GET_INFLIGHT_FD, 24, true },
	{ VHOST_USER_SET_INFLIGHT_FD, 24, true },
	{ VHOST_USER_GPU_SET_SOCKET, 0, true },
	{ VHOST_USER_RESET_DEVICE, 0, true },
	{ VHOST_USER_VRING_KICK, 8, true },
	{ VHOST_USER_GET_MAX_MEM_SLOTS, 0, true },
	{ VHOST_USER_ADD_MEM_REG, 40, true },
	{ VHOST_USER_REM_MEM_REG, 40, true },
	{ VHOST_USER_SET_STATUS, 8, true },
	{ VHOST_USER_GET_STATUS, 0, true },
};

START_TEST(test_payload_sizes)
{
	const struct size_case *c = &size_cases[_i];
	size_t size = 999;
	bool exact = !c->exact;

	ck_assert_msg(vu_request_payload_size(c->req, &size, &exact),
		      "%s unknown", vu_request_name(c->req));
	ck_assert_msg(size == c->size && exact == c->exact,
		      "%s: size %zu exact %d", vu_request_name(c->req), size, exact);
}
END_TEST

START_TEST(test_payload_size_unknown)
{
	size_t size = 77;
	bool exact = true;

	ck_assert(!vu_request_payload_size(VHOST_USER_NONE, &size, &exact));
	ck_assert(!vu_request_payload_size(VHOST_USER_REQUEST_MAX, &size, &exact));
	ck_assert(!vu_request_payload_size(0xffffffffu, &size, &exact));
	/* Its payload is bigger than any message VVU takes. */
	ck_assert(!vu_request_payload_size(VHOST_USER_CREATE_CRYPTO_SESSION,
					   &size, &exact));
	ck_assert_uint_eq(size, 77);
	/* Every covered size fits the payload union. */
	for (uint32_t r = 1; r < VHOST_USER_REQUEST_MAX; r++)
		if (vu_request_payload_size(r, &size, &exact))
			ck_assert_uint_le(size, VHOST_USER_PAYLOAD_MAX);
}
END_TEST

/* --- the buffer path: one message per buffer, no fds ---------------------- */

/* A raw message in buf: header, then payload_len bytes of payload. */
static size_t raw_msg(uint8_t *buf, uint32_t req, uint32_t flags, uint32_t size,
		      const void *payload, size_t payload_len)
{
	struct vhost_user_hdr hdr = { .request = req, .flags = flags, .size = size };

	memcpy(buf, &hdr, sizeof(hdr));
	if (payload_len)
		memcpy(buf + sizeof(hdr), payload, payload_len);
	return sizeof(hdr) + payload_len;
}

START_TEST(test_buf_round_trip)
{
	uint8_t buf[VU_MSG_MAX_LEN];
	struct vu_msg out, in;
	ssize_t len;

	vu_msg_init(&out, VHOST_USER_SET_MEM_TABLE);
	out.payload.memory.nregions = 2;
	out.payload.memory.regions[1].guest_phys_addr = 0x100000;
	out.payload.memory.regions[1].memory_size = 0x200000;
	out.hdr.size = VHOST_USER_MEMORY_SIZE(2);
	len = vu_msg_serialize(&out, buf, sizeof(buf));
	ck_assert_int_eq(len, 12 + 72);
	memset(&in, 0x5a, sizeof(in));
	ck_assert_int_eq(vu_msg_parse(&in, buf, (size_t)len), 0);
	ck_assert_uint_eq(in.hdr.request, VHOST_USER_SET_MEM_TABLE);
	ck_assert_uint_eq(in.hdr.flags, VHOST_USER_VERSION);
	ck_assert_uint_eq(in.hdr.size, 72);
	ck_assert_int_eq(memcmp(&in.payload, &out.payload, 72), 0);
	ck_assert_uint_eq(in.nfds, 0);
	for (int i = 0; i < VHOST_USER_MAX_FDS; i++)
		ck_assert_int_eq(in.fds[i], -1);

	/* No payload; and a reply, whose size no request rule governs. */
	vu_msg_init(&out, VHOST_USER_GET_FEATURES);
	ck_assert_int_eq(vu_msg_serialize(&out, buf, 12), 12);
	ck_assert_int_eq(vu_msg_parse(&in, buf, 12), 0);
	ck_assert_uint_eq(in.hdr.size, 0);
	vu_msg_make_reply(&out, 8);
	out.payload.u64 = 0x140000000ull;
	ck_assert_int_eq(vu_msg_serialize(&out, buf, sizeof(buf)), 20);
	ck_assert_int_eq(vu_msg_parse(&in, buf, 20), 0);
	ck_assert_uint_eq(in.hdr.flags, VHOST_USER_REPLY_FLAGS);
	ck_assert_uint_eq(in.payload.u64, 0x140000000ull);
}
END_TEST

START_TEST(test_buf_serialize_bad)
{
	uint8_t buf[VU_MSG_MAX_LEN + 1];
	struct vu_msg m;

	vu_msg_init(&m, VHOST_USER_SET_FEATURES);
	m.hdr.size = 8;
	/* Too small for the header, or for the payload: nothing is written. */
	memset(buf, 0xee, sizeof(buf));
	ck_assert_int_eq(vu_msg_serialize(&m, buf, 0), -ENOBUFS);
	ck_assert_int_eq(vu_msg_serialize(&m, buf, 11), -ENOBUFS);
	ck_assert_int_eq(vu_msg_serialize(&m, buf, 19), -ENOBUFS);
	ck_assert_uint_eq(buf[0], 0xee);
	ck_assert_int_eq(vu_msg_serialize(&m, buf, 20), 20);
	m.hdr.size = VHOST_USER_PAYLOAD_MAX + 1;
	ck_assert_int_eq(vu_msg_serialize(&m, buf, sizeof(buf)), -EINVAL);
	m.hdr.size = 0xffffffffu;
	ck_assert_int_eq(vu_msg_serialize(&m, buf, sizeof(buf)), -EINVAL);
	m.hdr.size = VHOST_USER_PAYLOAD_MAX;
	ck_assert_int_eq(vu_msg_serialize(&m, buf, VU_MSG_MAX_LEN), VU_MSG_MAX_LEN);
}
END_TEST

static void expect_parse_fails(const uint8_t *buf, size_t len)
{
	struct vu_msg m;

	ck_assert_int_eq(vu_msg_parse(&m, buf, len), -EPROTO);
	ck_assert_uint_eq(m.nfds, 0);
	for (int i = 0; i < VHOST_USER_MAX_FDS; i++)
		ck_assert_int_eq(m.fds[i], -1);
}

START_TEST(test_buf_parse_bad)
{
	static uint8_t big[VU_MSG_MAX_LEN + 1], zeros[VHOST_USER_PAYLOAD_MAX + 1];
	uint8_t buf[VU_MSG_MAX_LEN] = { 0 };
	uint64_t v = 3;
	size_t len;

	/* Short header: nothing, or part of one. */
	expect_parse_fails(buf, 0);
	len = raw_msg(buf, VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 8, &v, 8);
	expect_parse_fails(buf, 11);
	/* Truncated payload, and trailing bytes past hdr.size. */
	expect_parse_fails(buf, len - 1);
	expect_parse_fails(buf, 12);
	len = raw_msg(buf, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0, &v, 8);
	expect_parse_fails(buf, len);
	/* Bad version. */
	len = raw_msg(buf, VHOST_USER_SET_FEATURES, 0, 8, &v, 8);
	expect_parse_fails(buf, len);
	len = raw_msg(buf, VHOST_USER_SET_FEATURES, 2 | VHOST_USER_REPLY_MASK, 8, &v, 8);
	expect_parse_fails(buf, len);
	/* size > VHOST_USER_PAYLOAD_MAX, whether the bytes are there or not. */
	len = raw_msg(big, VHOST_USER_SET_CONFIG, VHOST_USER_VERSION,
		      VHOST_USER_PAYLOAD_MAX + 1, zeros, sizeof(zeros));
	expect_parse_fails(big, len);
	len = raw_msg(buf, VHOST_USER_SET_CONFIG, VHOST_USER_VERSION, 0xffffffffu, NULL, 0);
	expect_parse_fails(buf, len);
	/* Requests: the payload size their rule wants, and known requests only. */
	len = raw_msg(buf, VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 4, &v, 4);
	expect_parse_fails(buf, len);
	len = raw_msg(buf, VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, 4, &v, 4);
	expect_parse_fails(buf, len);
	len = raw_msg(buf, 999, VHOST_USER_VERSION, 8, &v, 8);
	expect_parse_fails(buf, len);
	len = raw_msg(buf, VHOST_USER_CREATE_CRYPTO_SESSION, VHOST_USER_VERSION, 8, &v, 8);
	expect_parse_fails(buf, len);
}
END_TEST

START_TEST(test_check_size)
{
	struct vu_msg m;

	vu_msg_init(&m, VHOST_USER_SET_VRING_NUM);
	m.hdr.size = 8;
	ck_assert_int_eq(vu_msg_check_size(&m), 0);
	m.hdr.size = 16;
	ck_assert_int_eq(vu_msg_check_size(&m), -EPROTO);
	vu_msg_init(&m, VHOST_USER_SET_CONFIG);
	m.hdr.size = VHOST_USER_CONFIG_HDR_SIZE + 4;
	ck_assert_int_eq(vu_msg_check_size(&m), 0);
	m.hdr.size = VHOST_USER_CONFIG_HDR_SIZE - 1;
	ck_assert_int_eq(vu_msg_check_size(&m), -EPROTO);
	vu_msg_init(&m, VHOST_USER_NONE);
	ck_assert_int_eq(vu_msg_check_size(&m), -EPROTO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vu_msg");
	TCase *tc = tcase_create("vu_msg");

	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_round_trip_mem_table);
	tcase_add_test(tc, test_round_trip_no_payload);
	tcase_add_test(tc, test_bad_version);
	tcase_add_test(tc, test_oversize);
	tcase_add_test(tc, test_truncated_payload);
	tcase_add_test(tc, test_truncated_header);
	tcase_add_test(tc, test_eof_before_header);
	tcase_add_test(tc, test_too_many_fds);
	tcase_add_test(tc, test_split_header_payload);
	tcase_add_test(tc, test_send_rejects_bad_msg);
	tcase_add_test(tc, test_make_reply);
	tcase_add_test(tc, test_request_names);
	tcase_add_loop_test(tc, test_payload_sizes, 0,
			    sizeof(size_cases) / sizeof(size_cases[0]));
	tcase_add_test(tc, test_payload_size_unknown);
	tcase_add_test(tc, test_buf_round_trip);
	tcase_add_test(tc, test_buf_serialize_bad);
	tcase_add_test(tc, test_buf_parse_bad);
	tcase_add_test(tc, test_check_size);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
