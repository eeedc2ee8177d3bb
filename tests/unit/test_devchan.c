// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device channel codec over real SOCK_SEQPACKET pairs with real fds:
 * every message type round trip, every class of bad input refused (with
 * the fault named), and no fd left open on any error path.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/devchan.h"
#include "tests/unit/devchan_vvu.h"
#include "tests/unit/test_fds.h"

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* The vvu-proxy device as crosvm laid it out, with an 8 GiB shared-memory BAR. */
static void vvu_device(struct devchan_device *d)
{
	devchan_vvu_device(d, 1ull << 33);
}

static enum devchan_side sender_of(uint32_t type)
{
	switch (type) {
	case DEVCHAN_MSG_HELLO:
	case DEVCHAN_MSG_RAM_ADD:
	case DEVCHAN_MSG_ACCESS_CHANNEL:
	case DEVCHAN_MSG_RESET:
	case DEVCHAN_MSG_REPLY:
		return DEVCHAN_FROM_VMM;
	default:
		return DEVCHAN_FROM_PROXYD;
	}
}

/* A valid message of type with id 5; fd rides on the types that take one. */
static void build_valid(struct devchan_msg *m, uint32_t type, int fd)
{
	struct devchan_device dev;
	struct devchan_shm_map map = { .slot = 3, .bar = 4,
		.flags = DEVCHAN_SHM_F_READONLY, .bar_offset = 0x200000,
		.size = 0x100000, .fd_offset = 0x1000 };
	struct devchan_ioeventfd_add ioe = { .id = 7, .bar = 2, .len = 4,
		.flags = DEVCHAN_IOEVENTFD_F_DATAMATCH, .offset = 0x8,
		.datamatch = 2 };

	switch (type) {
	case DEVCHAN_MSG_REPLY:
		devchan_build_reply(m, 5, -ENOENT);
		break;
	case DEVCHAN_MSG_HELLO:
		devchan_build_hello(m, 5, 4);
		break;
	case DEVCHAN_MSG_DEVICE:
		vvu_device(&dev);
		devchan_build_device(m, 5, &dev);
		break;
	case DEVCHAN_MSG_RAM_ADD:
		devchan_build_ram_add(m, 5, 0x100000, 0x2000, 0x1000, fd);
		break;
	case DEVCHAN_MSG_ACCESS_CHANNEL:
		devchan_build_access_channel(m, 5, 1, fd);
		break;
	case DEVCHAN_MSG_RESET:
		devchan_build_reset(m, 5);
		break;
	case DEVCHAN_MSG_SHM_MAP:
		devchan_build_shm_map(m, 5, &map, fd);
		break;
	case DEVCHAN_MSG_SHM_UNMAP:
		devchan_build_shm_unmap(m, 5, 3);
		break;
	case DEVCHAN_MSG_IOEVENTFD_ADD:
		devchan_build_ioeventfd_add(m, 5, &ioe, fd);
		break;
	case DEVCHAN_MSG_IOEVENTFD_DEL:
		devchan_build_ioeventfd_del(m, 5, 7);
		break;
	case DEVCHAN_MSG_IRQFD_ADD:
		devchan_build_irqfd_add(m, 5, 9, 18, fd);
		break;
	case DEVCHAN_MSG_IRQFD_DEL:
		devchan_build_irqfd_del(m, 5, 9);
		break;
	default:
		ck_abort_msg("no valid message of type %u", type);
	}
}

static bool takes_fd(uint32_t type)
{
	return type == DEVCHAN_MSG_RAM_ADD || type == DEVCHAN_MSG_ACCESS_CHANNEL ||
	       type == DEVCHAN_MSG_SHM_MAP || type == DEVCHAN_MSG_IOEVENTFD_ADD ||
	       type == DEVCHAN_MSG_IRQFD_ADD;
}

/* hdr + payload as one buffer, the way devchan_send puts it on the wire. */
static size_t wire_bytes(const struct devchan_msg *m, uint8_t *buf)
{
	memcpy(buf, &m->hdr, sizeof(m->hdr));
	memcpy(buf + sizeof(m->hdr), &m->payload, m->hdr.size);
	return sizeof(m->hdr) + m->hdr.size;
}

/* Receives from sock expecting err (and a why containing expect). */
static void expect_recv(int sock, enum devchan_side from, int err,
			const char *expect)
{
	struct devchan_msg m;
	const char *why = NULL;
	size_t i;

	ck_assert_int_eq(devchan_recv(sock, &m, from, &why), err);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, expect), "why \"%s\" lacks \"%s\"", why, expect);
	ck_assert_uint_eq(m.nfds, 0);
	for (i = 0; i < DEVCHAN_MAX_FDS; i++)
		ck_assert_int_eq(m.fds[i], -1);
}

/* --- Round trips ------------------------------------------------------------ */

START_TEST(test_round_trip_every_type)
{
	uint32_t type = (uint32_t)_i;
	struct devchan_msg out, in;
	const char *why = "unset";
	int sv[2], fd = -1, before;

	before = count_open_fds();
	make_seqpacket_pair(sv);
	if (takes_fd(type))
		fd = new_eventfd();
	build_valid(&out, type, fd);
	ck_assert_int_eq(devchan_send(sv[0], &out, sender_of(type), &why), 0);
	/* The sender's fd stays the sender's. */
	if (fd >= 0)
		ck_assert(fd_is_open(fd));

	ck_assert_int_eq(devchan_recv(sv[1], &in, sender_of(type), &why), 0);
	ck_assert_int_eq(memcmp(&in.hdr, &out.hdr, sizeof(in.hdr)), 0);
	ck_assert_int_eq(memcmp(&in.payload, &out.payload, in.hdr.size), 0);
	ck_assert_uint_eq(in.nfds, takes_fd(type) ? 1 : 0);
	if (fd >= 0) {
		ck_assert_int_ne(in.fds[0], fd);
		ck_assert(test_same_file(in.fds[0], fd));
		ck_assert_int_eq(fcntl(in.fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		close(fd);
	}
	/* The other side may not send this type. */
	build_valid(&out, type, fd >= 0 ? sv[0] : -1);
	if (type != DEVCHAN_MSG_REPLY)
		ck_assert_int_eq(devchan_send(sv[0], &out, !sender_of(type), &why),
				 -EPROTO);
	devchan_msg_close_fds(&in);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

START_TEST(test_round_trip_values)
{
	struct devchan_msg m, in;
	struct devchan_device dev;
	const char *why;
	int sv[2];

	make_seqpacket_pair(sv);
	devchan_build_reply(&m, 42, -EINVAL);
	ck_assert_int_eq(devchan_send(sv[1], &m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_int_eq(devchan_recv(sv[0], &in, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_uint_eq(in.hdr.type, DEVCHAN_MSG_REPLY);
	ck_assert_uint_eq(in.hdr.id, 42);
	ck_assert_uint_eq(in.payload.reply.request_id, 42);
	ck_assert_uint_eq(in.payload.reply.status, EINVAL);

	devchan_build_hello(&m, 1, 3);
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_VMM, &why), 0);
	ck_assert_int_eq(devchan_recv(sv[1], &in, DEVCHAN_FROM_VMM, &why), 0);
	ck_assert_uint_eq(in.payload.hello.magic, DEVCHAN_MAGIC);
	ck_assert_uint_eq(in.payload.hello.version, 1);
	ck_assert_uint_eq(in.payload.hello.nr_access_channels, 3);

	vvu_device(&dev);
	devchan_build_device(&m, 1, &dev);
	ck_assert_int_eq(devchan_send(sv[1], &m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_int_eq(devchan_recv(sv[0], &in, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_uint_eq(in.hdr.size, sizeof(struct devchan_device));
	ck_assert_uint_eq(in.payload.device.bars[4].size, 1ull << 33);
	ck_assert_uint_eq(in.payload.device.msix.nvectors, 19);
	ck_assert_uint_eq(in.payload.device.caps_len, 60);
	ck_assert_int_eq(memcmp(&in.payload.device, &dev, sizeof(dev)), 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* RAM_ADD's memfd reaches proxyd as the same memory. */
START_TEST(test_ram_add_memfd)
{
	struct devchan_msg m, in;
	const char *why;
	int sv[2], memfd, fd;
	char buf[4] = { 0 };
	uint8_t *p;

	make_seqpacket_pair(sv);
	memfd = memfd_create("ram", MFD_CLOEXEC);
	ck_assert_int_ge(memfd, 0);
	ck_assert_int_eq(ftruncate(memfd, 0x3000), 0);
	ck_assert_int_eq(pwrite(memfd, "ram", 3, 0x1000), 3);

	devchan_build_ram_add(&m, 9, 0x100000, 0x2000, 0x1000, memfd);
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_VMM, &why), 0);
	close(memfd);
	ck_assert_int_eq(devchan_recv(sv[1], &in, DEVCHAN_FROM_VMM, &why), 0);
	ck_assert_uint_eq(in.payload.ram_add.gpa, 0x100000);
	fd = devchan_msg_take_fd(&in, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(in.fds[0], -1);
	ck_assert_int_eq(devchan_msg_take_fd(&in, 0), -1);
	ck_assert_int_eq(devchan_msg_take_fd(&in, 1), -1);

	p = mmap(NULL, in.payload.ram_add.size, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, (off_t)in.payload.ram_add.fd_offset);
	ck_assert_ptr_ne(p, MAP_FAILED);
	ck_assert_int_eq(memcmp(p, "ram", 3), 0);
	memcpy(p + 0x1000, "dev", 3);
	ck_assert_int_eq(pread(fd, buf, 3, 0x2000), 3);
	ck_assert_int_eq(memcmp(buf, "dev", 3), 0);
	munmap(p, in.payload.ram_add.size);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* IOEVENTFD_ADD and IRQFD_ADD carry eventfds that still signal the sender's. */
START_TEST(test_eventfds_signal)
{
	struct devchan_msg m, in;
	const char *why;
	int sv[2], efd;
	uint64_t v = 0;

	make_seqpacket_pair(sv);
	efd = new_eventfd();
	devchan_build_irqfd_add(&m, 11, 2, 17, efd);
	ck_assert_int_eq(devchan_send(sv[1], &m, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_int_eq(devchan_recv(sv[0], &in, DEVCHAN_FROM_PROXYD, &why), 0);
	ck_assert_uint_eq(in.payload.irqfd_add.id, 2);
	ck_assert_uint_eq(in.payload.irqfd_add.vector, 17);
	v = 3;
	ck_assert_int_eq(write(in.fds[0], &v, sizeof(v)), sizeof(v));
	ck_assert_int_eq(read(efd, &v, sizeof(v)), sizeof(v));
	ck_assert_uint_eq(v, 3);
	devchan_msg_close_fds(&in);
	ck_assert_int_eq(in.fds[0], -1);
	ck_assert_uint_eq(in.nfds, 0);
	close(efd);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* ACCESS_CHANNEL hands over a socket that then carries access commands. */
START_TEST(test_access_channel_over_passed_socket)
{
	struct devchan_access a = { .write = false, .region = 0, .size = 4,
		.offset = 0x14, .user_data = 77 };
	struct devchan_access got;
	struct devchan_access_cmd c;
	struct devchan_msg m, in;
	const char *why;
	int sv[2], ch[2], proxy_end;
	uint64_t data = 0;

	make_seqpacket_pair(sv);
	make_seqpacket_pair(ch);
	devchan_build_access_channel(&m, 2, 0, ch[1]);
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_VMM, &why), 0);
	close(ch[1]);
	ck_assert_int_eq(devchan_recv(sv[1], &in, DEVCHAN_FROM_VMM, &why), 0);
	proxy_end = devchan_msg_take_fd(&in, 0);

	/* vCPU side: a read of 4 bytes at BAR0 + 0x14. */
	ck_assert_int_eq(devchan_access_encode(&c, &a), 0);
	ck_assert_int_eq(devchan_access_send_cmd(ch[0], &c), 0);
	/* proxyd side. */
	ck_assert_int_eq(devchan_access_recv_cmd(proxy_end, &got, &why), 0);
	ck_assert(!got.write);
	ck_assert(got.resp);
	ck_assert_uint_eq(got.size, 4);
	ck_assert_uint_eq(got.offset, 0x14);
	ck_assert_uint_eq(got.user_data, 77);
	ck_assert_int_eq(devchan_access_send_resp(proxy_end, 0xdeadbeef), 0);
	ck_assert_int_eq(devchan_access_recv_resp(ch[0], &a, &data, &why), 0);
	ck_assert_uint_eq(data, 0xdeadbeef);

	/* proxyd closing its end is EOF on the vCPU side. */
	close(proxy_end);
	ck_assert_int_eq(devchan_access_recv_resp(ch[0], &a, &data, &why),
			 -ECONNRESET);
	close(ch[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* --- Framing errors ------------------------------------------------------- */

START_TEST(test_truncated_and_long)
{
	uint8_t buf[DEVCHAN_MSG_MAX + 16];
	struct devchan_msg m;
	int sv[2], before;
	size_t len;

	before = count_open_fds();
	make_seqpacket_pair(sv);
	build_valid(&m, DEVCHAN_MSG_HELLO, -1);
	len = wire_bytes(&m, buf);

	raw_send_fds(sv[0], buf, len - 1, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "shorter than the header's size");
	raw_send_fds(sv[0], buf, sizeof(struct devchan_hdr) - 1, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "shorter than a header");
	/* Longer than hdr.size, still below the largest message. */
	raw_send_fds(sv[0], buf, len + 8, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "longer than the header's size");

	/* hdr.size agrees with the packet but not with the type. */
	m.hdr.size = sizeof(struct devchan_hello) - 4;
	len = wire_bytes(&m, buf);
	raw_send_fds(sv[0], buf, len, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "payload size");

	/* Oversize: longer than any message. */
	memset(buf, 0, sizeof(buf));
	raw_send_fds(sv[0], buf, DEVCHAN_MSG_MAX + 1, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EMSGSIZE, "longer than any message");

	/* The stream stays at a message boundary: the next one is fine. */
	build_valid(&m, DEVCHAN_MSG_RESET, -1);
	len = wire_bytes(&m, buf);
	raw_send_fds(sv[0], buf, len, NULL, 0);
	ck_assert_int_eq(devchan_recv(sv[1], &m, DEVCHAN_FROM_VMM, NULL), 0);
	ck_assert_uint_eq(m.hdr.type, DEVCHAN_MSG_RESET);

	close(sv[0]);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -ECONNRESET, "closed");
	close(sv[1]);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

START_TEST(test_unknown_type_direction_id)
{
	uint8_t buf[DEVCHAN_MSG_MAX];
	struct devchan_msg m;
	const char *why;
	int sv[2];
	size_t len;

	make_seqpacket_pair(sv);
	build_valid(&m, DEVCHAN_MSG_RESET, -1);
	m.hdr.type = 99;
	ck_assert_str_eq(devchan_msg_name(99), "UNKNOWN");
	len = wire_bytes(&m, buf);
	raw_send_fds(sv[0], buf, len, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "unknown message type");

	m.hdr.type = DEVCHAN_MSG_NONE;
	len = wire_bytes(&m, buf);
	raw_send_fds(sv[0], buf, len, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "unknown message type");

	/* RESET comes from the vmm only. */
	build_valid(&m, DEVCHAN_MSG_RESET, -1);
	len = wire_bytes(&m, buf);
	raw_send_fds(sv[0], buf, len, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_PROXYD, -EPROTO, "direction");

	build_valid(&m, DEVCHAN_MSG_RESET, -1);
	m.hdr.id = 0;
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_VMM, &why), -EPROTO);
	ck_assert_str_eq(why, "id 0");
	len = wire_bytes(&m, buf);
	raw_send_fds(sv[0], buf, len, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "id 0");
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* --- Wrong fd counts: refused, and every fd received closed ---------------- */

static void send_with_fds(int sock, uint32_t type, const int *fds, size_t n)
{
	uint8_t buf[DEVCHAN_MSG_MAX];
	struct devchan_msg m;
	size_t len;

	build_valid(&m, type, fds && n ? fds[0] : -1);
	len = wire_bytes(&m, buf);
	raw_send_fds(sock, buf, len, fds, n);
}

START_TEST(test_wrong_fd_counts)
{
	int sv[2], fds[DEVCHAN_MAX_FDS + 1], before, i;
	struct devchan_msg m;
	const char *why;

	make_seqpacket_pair(sv);
	for (i = 0; i < DEVCHAN_MAX_FDS + 1; i++)
		fds[i] = new_eventfd();
	before = count_open_fds();

	/* An fd on a type that takes none. */
	send_with_fds(sv[1], DEVCHAN_MSG_SHM_UNMAP, fds, 1);
	expect_recv(sv[0], DEVCHAN_FROM_PROXYD, -EPROTO, "fds on a message that takes none");
	ck_assert_int_eq(count_open_fds(), before);
	send_with_fds(sv[0], DEVCHAN_MSG_HELLO, fds, 3);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "fds on a message that takes none");
	ck_assert_int_eq(count_open_fds(), before);

	/* No fd where one is needed. */
	send_with_fds(sv[0], DEVCHAN_MSG_RAM_ADD, NULL, 0);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EPROTO, "fd missing");
	send_with_fds(sv[1], DEVCHAN_MSG_IRQFD_ADD, NULL, 0);
	expect_recv(sv[0], DEVCHAN_FROM_PROXYD, -EPROTO, "fd missing");

	/* Two where one is needed. */
	send_with_fds(sv[1], DEVCHAN_MSG_SHM_MAP, fds, 2);
	expect_recv(sv[0], DEVCHAN_FROM_PROXYD, -EPROTO, "more fds than the type takes");
	ck_assert_int_eq(count_open_fds(), before);

	/* More than DEVCHAN_MAX_FDS: the kernel delivers them, we close all. */
	send_with_fds(sv[0], DEVCHAN_MSG_ACCESS_CHANNEL, fds, DEVCHAN_MAX_FDS + 1);
	expect_recv(sv[1], DEVCHAN_FROM_VMM, -EMSGSIZE, "too many fds");
	ck_assert_int_eq(count_open_fds(), before);

	/* The sending side refuses the same mistakes and keeps its fds. */
	build_valid(&m, DEVCHAN_MSG_RAM_ADD, fds[0]);
	m.nfds = 0;
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_VMM, &why), -EPROTO);
	build_valid(&m, DEVCHAN_MSG_RAM_ADD, -1);
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_VMM, &why), -EPROTO);
	ck_assert_str_eq(why, "fd missing");
	build_valid(&m, DEVCHAN_MSG_RESET, -1);
	m.fds[0] = fds[0];
	m.nfds = 1;
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_VMM, &why), -EPROTO);
	assert_open_then_close(fds, DEVCHAN_MAX_FDS + 1);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_send_to_closed_peer)
{
	struct devchan_msg m;
	const char *why;
	int sv[2], efd;

	make_seqpacket_pair(sv);
	close(sv[1]);
	efd = new_eventfd();
	build_valid(&m, DEVCHAN_MSG_IRQFD_ADD, efd);
	ck_assert_int_eq(devchan_send(sv[0], &m, DEVCHAN_FROM_PROXYD, &why), -EPIPE);
	ck_assert(fd_is_open(efd));
	close(efd);
	close(sv[0]);
}
END_TEST

/* --- Bad fields -------------------------------------------------------------- */

/* Writes width bytes of v (little-endian) at payload offset off. */
struct poke {
	uint16_t off;
	uint8_t width;		/* 0: unused */
	uint64_t v;
};

#define F(st, field)	offsetof(st, field), sizeof(((st *)0)->field)
#define DEV(field)	F(struct devchan_device, field)

struct bad_case {
	uint32_t type;
	struct poke pokes[3];
	const char *expect;	/* part of the why string */
};

static const struct bad_case bad_cases[] = {
	/* REPLY */
	{ DEVCHAN_MSG_REPLY, { { F(struct devchan_reply, request_id), 6 } }, "request id" },
	{ DEVCHAN_MSG_REPLY, { { F(struct devchan_reply, status), 4096 } }, "status" },
	{ DEVCHAN_MSG_REPLY, { { F(struct devchan_reply, pad), 1 } }, "pad" },
	/* HELLO */
	{ DEVCHAN_MSG_HELLO, { { F(struct devchan_hello, magic), 0x12345678 } }, "magic" },
	{ DEVCHAN_MSG_HELLO, { { F(struct devchan_hello, version), 0 } }, "version" },
	{ DEVCHAN_MSG_HELLO, { { F(struct devchan_hello, nr_access_channels), 0 } }, "access channels" },
	{ DEVCHAN_MSG_HELLO, { { F(struct devchan_hello, nr_access_channels), 257 } }, "access channels" },
	{ DEVCHAN_MSG_HELLO, { { F(struct devchan_hello, flags), 1 } }, "flags" },
	/* DEVICE: identity */
	{ DEVCHAN_MSG_DEVICE, { { DEV(version), 2 } }, "version" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(vendor_id), 0xffff } }, "vendor ID" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(vendor_id), 0 } }, "vendor ID" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(pad), 1 } }, "device pad" },
	/* DEVICE: BARs */
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].type), 3 } }, "BAR type unknown" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].kind), 0 } }, "BAR kind unknown" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].kind), 4 } }, "BAR kind unknown" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].flags), 2 } }, "BAR flags" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].pad[4]), 1 } }, "BAR pad" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].size), 0x9000 } }, "power of two" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].size), 0x800 } }, "power of two" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[0].size), 1ull << 32 } }, "power of two" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[4].size), 1ull << 47 } }, "power of two" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[1].size), 0x1000 } }, "unused BAR" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[3].type), DEVCHAN_BAR_MEM32 } }, "upper half" },
	/* DEVICE: MSI-X */
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.nvectors), 2049 } }, "2048" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.table_bar), 6 } }, "REMOTE or MSIX" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.pba_bar), 4 } }, "REMOTE or MSIX" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.table_bar), 1 } }, "REMOTE or MSIX" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.table_off), 0x6004 } }, "aligned" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.table_off), 0x7f00 } }, "beyond its BAR" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.pba_off), 0xfffffff8 } }, "beyond its BAR" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.table_off), 0x7000 } }, "overlap" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.nvectors), 0 } }, "without vectors" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(msix.pad), 1 } }, "MSI-X pad" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(bars[1].type), DEVCHAN_BAR_MEM32 },
				{ DEV(bars[1].kind), DEVCHAN_BAR_KIND_MSIX },
				{ DEV(bars[1].size), 0x1000 } }, "neither" },
	/* DEVICE: capabilities */
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps_len), DEVCHAN_CAPS_MAX + 1 } }, "longer" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps_len), 62 } }, "truncated" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps[20]), 0x11 } }, "not a vendor" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps[1]), 0x54 } }, "next pointer" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps[2]), 0 } }, "length" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps[2]), 18 } }, "length" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps[38]), 64 } }, "length" },
	{ DEVCHAN_MSG_DEVICE, { { DEV(caps[100]), 1 } }, "after caps_len" },
	/* RAM_ADD */
	{ DEVCHAN_MSG_RAM_ADD, { { F(struct devchan_ram_add, size), 0 } }, "size 0" },
	{ DEVCHAN_MSG_RAM_ADD, { { F(struct devchan_ram_add, gpa), 0x100800 } }, "page aligned" },
	{ DEVCHAN_MSG_RAM_ADD, { { F(struct devchan_ram_add, size), 0x2800 } }, "page aligned" },
	{ DEVCHAN_MSG_RAM_ADD, { { F(struct devchan_ram_add, fd_offset), 0x10 } }, "page aligned" },
	{ DEVCHAN_MSG_RAM_ADD, { { F(struct devchan_ram_add, gpa), UINT64_MAX - 0xfff } }, "overflows" },
	{ DEVCHAN_MSG_RAM_ADD, { { F(struct devchan_ram_add, fd_offset), INT64_MAX - 0xfff } }, "overflows" },
	/* ACCESS_CHANNEL */
	{ DEVCHAN_MSG_ACCESS_CHANNEL, { { F(struct devchan_access_channel, index), 256 } }, "index" },
	{ DEVCHAN_MSG_ACCESS_CHANNEL, { { F(struct devchan_access_channel, flags), 4 } }, "flags" },
	/* SHM_MAP */
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, slot), 128 } }, "slot" },
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, bar), 6 } }, "BAR index" },
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, flags), 2 } }, "flags" },
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, pad[1]), 1 } }, "pad" },
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, bar_offset), 0x200008 } }, "page aligned" },
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, bar_offset), UINT64_MAX - 0xfff } }, "overflows" },
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, size), 0 } }, "size 0" },
	{ DEVCHAN_MSG_SHM_MAP, { { F(struct devchan_shm_map, fd_offset), (uint64_t)INT64_MAX + 1 } }, "overflows" },
	/* the id messages */
	{ DEVCHAN_MSG_SHM_UNMAP, { { F(struct devchan_del, id), 128 } }, "id out of range" },
	{ DEVCHAN_MSG_IOEVENTFD_DEL, { { F(struct devchan_del, id), 256 } }, "id out of range" },
	{ DEVCHAN_MSG_IRQFD_DEL, { { F(struct devchan_del, id), 256 } }, "id out of range" },
	{ DEVCHAN_MSG_IRQFD_DEL, { { F(struct devchan_del, pad), 1 } }, "pad" },
	/* IOEVENTFD_ADD */
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, id), 256 } }, "id" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, bar), 6 } }, "BAR index" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, len), 3 } }, "length" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, len), 16 } }, "length" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, flags), 3 } }, "flags" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, pad), 1 } }, "pad" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, offset), UINT64_MAX - 2 } }, "overflows" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, len), 0 } }, "datamatch with length 0" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, len), 1 },
				       { F(struct devchan_ioeventfd_add, datamatch), 0x100 } }, "wider" },
	{ DEVCHAN_MSG_IOEVENTFD_ADD, { { F(struct devchan_ioeventfd_add, flags), 0 } }, "without the flag" },
	/* IRQFD_ADD */
	{ DEVCHAN_MSG_IRQFD_ADD, { { F(struct devchan_irqfd_add, id), 256 } }, "id" },
	{ DEVCHAN_MSG_IRQFD_ADD, { { F(struct devchan_irqfd_add, vector), 2048 } }, "vector" },
	{ DEVCHAN_MSG_IRQFD_ADD, { { F(struct devchan_irqfd_add, pad), 1 } }, "pad" },
};

static void apply_pokes(struct devchan_msg *m, const struct poke *pokes)
{
	size_t i;

	for (i = 0; i < 3 && pokes[i].width; i++) {
		ck_assert_uint_le(pokes[i].off + pokes[i].width, m->hdr.size);
		memcpy((uint8_t *)&m->payload + pokes[i].off, &pokes[i].v,
		       pokes[i].width);
	}
}

/*
 * One case: refused by the check, by devchan_send and by devchan_recv.
 * The cases share one test process (forks are slow under ASan); every
 * failure message names the case.
 */
static void run_bad_case(size_t i)
{
	const struct bad_case *bc = &bad_cases[i];
	enum devchan_side from = sender_of(bc->type);
	uint8_t buf[DEVCHAN_MSG_MAX];
	struct devchan_msg m;
	const char *why = NULL;
	int sv[2], fd = -1, before;
	size_t len;

	before = count_open_fds();
	make_seqpacket_pair(sv);
	if (takes_fd(bc->type))
		fd = new_eventfd();
	build_valid(&m, bc->type, fd);
	/* Valid as built: the poke alone makes it bad. */
	ck_assert_msg(devchan_msg_check(&m, from, &why) == 0,
		      "case %zu: valid %s refused", i, devchan_msg_name(bc->type));
	apply_pokes(&m, bc->pokes);

	ck_assert_msg(devchan_msg_check(&m, from, &why) == -EBADMSG,
		      "case %zu: bad %s not refused", i, devchan_msg_name(bc->type));
	ck_assert_msg(strstr(why, bc->expect), "case %zu: %s: why \"%s\" lacks \"%s\"",
		      i, devchan_msg_name(bc->type), why, bc->expect);

	/* Not sent... */
	why = NULL;
	ck_assert_msg(devchan_send(sv[0], &m, from, &why) == -EBADMSG && why,
		      "case %zu: bad %s sent", i, devchan_msg_name(bc->type));
	if (fd >= 0)
		ck_assert(fd_is_open(fd));

	/* ...and refused when a peer sends it anyway, its fd closed. */
	len = wire_bytes(&m, buf);
	raw_send_fds(sv[0], buf, len, &fd, fd >= 0 ? 1 : 0);
	if (fd >= 0)
		close(fd);
	expect_recv(sv[1], from, -EBADMSG, bc->expect);
	close(sv[0]);
	close(sv[1]);
	ck_assert_msg(count_open_fds() == before, "case %zu: fd leak", i);
}

START_TEST(test_bad_fields)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		run_bad_case(i);
}
END_TEST

/* --- Checks against the device ---------------------------------------------- */

START_TEST(test_check_device)
{
	struct devchan_ioeventfd_add ioe = { .id = 1, .bar = 2, .len = 4 };
	struct devchan_shm_map map = { .slot = 0, .bar = 4, .size = 0x1000 };
	struct devchan_device dev;
	struct devchan_msg m;
	const char *why = NULL;

	vvu_device(&dev);
	ck_assert_int_eq(devchan_device_check(&dev, &why), 0);

	devchan_build_shm_map(&m, 1, &map, 0);
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), 0);
	m.payload.shm_map.bar_offset = (1ull << 33) - 0x1000;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), 0);
	m.payload.shm_map.bar_offset = 1ull << 33;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "mapping beyond the BAR");
	m.payload.shm_map.bar_offset = 0;
	m.payload.shm_map.bar = 0;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "BAR is not an SHM BAR");

	/* Doorbells in BAR2; not in SHM BAR4, not on BAR0's MSI-X table. */
	devchan_build_ioeventfd_add(&m, 1, &ioe, 0);
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), 0);
	m.payload.ioeventfd_add.offset = 0x3ffc;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), 0);
	m.payload.ioeventfd_add.offset = 0x3ffe;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "ioeventfd beyond the BAR");
	m.payload.ioeventfd_add.bar = 4;
	m.payload.ioeventfd_add.offset = 0;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "BAR is not a REMOTE BAR");
	m.payload.ioeventfd_add.bar = 0;
	m.payload.ioeventfd_add.offset = 0x6000 + 18 * 16 + 12;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "ioeventfd on the MSI-X table or PBA");
	m.payload.ioeventfd_add.offset = 0x6000 + 19 * 16;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), 0);
	/* Length 0 (any size) keeps 8 bytes clear of the PBA. */
	m.payload.ioeventfd_add.len = 0;
	m.payload.ioeventfd_add.offset = 0x7000 - 4;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), -EBADMSG);

	devchan_build_irqfd_add(&m, 1, 0, 18, 0);
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), 0);
	m.payload.irqfd_add.vector = 19;
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "vector >= the device's MSI-X vectors");

	/* Types without device-dependent fields pass. */
	devchan_build_reset(&m, 1);
	ck_assert_int_eq(devchan_msg_check_device(&m, &dev, &why), 0);
}
END_TEST

START_TEST(test_device_variants)
{
	struct devchan_device dev;
	const char *why = NULL;

	/* MSI-X in a BAR of its own; PBA in the register BAR. */
	vvu_device(&dev);
	dev.bars[1] = (struct devchan_bar){ .type = DEVCHAN_BAR_MEM32,
		.kind = DEVCHAN_BAR_KIND_MSIX, .size = 0x1000 };
	dev.msix.table_bar = 1;
	dev.msix.table_off = 0;
	ck_assert_int_eq(devchan_device_check(&dev, &why), 0);

	/* No MSI-X at all, and room for every capability byte. */
	vvu_device(&dev);
	memset(&dev.msix, 0, sizeof(dev.msix));
	dev.caps_len = DEVCHAN_CAPS_MAX;
	memset(dev.caps, 0, sizeof(dev.caps));
	dev.caps[0] = DEVCHAN_PCI_CAP_ID_VNDR;
	dev.caps[2] = DEVCHAN_CAPS_MAX;
	ck_assert_int_eq(devchan_device_check(&dev, &why), 0);

	/* No capabilities; 2048 vectors with the table filling a 32 KiB BAR. */
	vvu_device(&dev);
	dev.caps_len = 0;
	memset(dev.caps, 0, sizeof(dev.caps));
	dev.bars[0].size = 0x10000;
	dev.msix.nvectors = 2048;
	dev.msix.table_off = 0;
	dev.msix.pba_off = 0x8000;
	ck_assert_int_eq(devchan_device_check(&dev, &why), 0);
	dev.msix.pba_off = 0x10000 - 0x100;
	ck_assert_int_eq(devchan_device_check(&dev, &why), 0);
	dev.msix.pba_off = 0x10000 - 0xf8;
	ck_assert_int_eq(devchan_device_check(&dev, &why), -EBADMSG);

	/* A 64-bit BAR needs the next BAR for its upper half: not BAR 5. */
	vvu_device(&dev);
	dev.bars[5] = dev.bars[4];
	memset(&dev.bars[4], 0, sizeof(dev.bars[4]));
	ck_assert_int_eq(devchan_device_check(&dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "64-bit BAR 5 has no upper half");
	dev.bars[5].type = DEVCHAN_BAR_MEM32;
	dev.bars[5].size = 0x1000;
	ck_assert_int_eq(devchan_device_check(&dev, &why), 0);
}
END_TEST

/* --- Access commands ---------------------------------------------------------- */

START_TEST(test_access_encode_decode)
{
	static const uint8_t sizes[] = { 1, 2, 4, 8 };
	struct devchan_access a, b;
	struct devchan_access_cmd c;
	const char *why;
	size_t i;

	for (i = 0; i < 4; i++) {
		a = (struct devchan_access){ .write = true, .resp = false,
			.region = 2, .size = sizes[i], .offset = 0x100 + i,
			.data = sizes[i] == 8 ? UINT64_MAX : (1ull << (8 * sizes[i])) - 1,
			.user_data = i };
		ck_assert_int_eq(devchan_access_encode(&c, &a), 0);
		ck_assert_uint_eq(c.cmd, DEVCHAN_ACCESS_WRITE);
		ck_assert_uint_eq(c.info, i);	/* posted: no RESP bit */
		ck_assert_int_eq(devchan_access_decode(&c, &b, &why), 0);
		ck_assert(b.write && !b.resp);
		ck_assert_uint_eq(b.region, a.region);
		ck_assert_uint_eq(b.size, a.size);
		ck_assert_uint_eq(b.offset, a.offset);
		ck_assert_uint_eq(b.data, a.data);
		ck_assert_uint_eq(b.user_data, a.user_data);
	}
	/* Reads always want a response, and carry no data. */
	a = (struct devchan_access){ .write = false, .resp = false,
		.region = DEVCHAN_REGION_CONFIG, .size = 2, .offset = 0x44,
		.data = 0x1234 };
	ck_assert_int_eq(devchan_access_encode(&c, &a), 0);
	ck_assert_uint_eq(c.info, 1 | DEVCHAN_ACCESS_RESP);
	ck_assert_uint_eq(c.data, 0);
	ck_assert_int_eq(devchan_access_decode(&c, &b, &why), 0);
	ck_assert(b.resp);
	ck_assert_uint_eq(b.region, DEVCHAN_REGION_CONFIG);

	a.size = 3;
	ck_assert_int_eq(devchan_access_encode(&c, &a), -EINVAL);
	a.size = 16;
	ck_assert_int_eq(devchan_access_encode(&c, &a), -EINVAL);
}
END_TEST

struct bad_cmd {
	struct devchan_access_cmd c;
	const char *expect;
};

#define RD(sz_exp)	DEVCHAN_ACCESS_READ, (sz_exp) | DEVCHAN_ACCESS_RESP
#define WR(sz_exp)	DEVCHAN_ACCESS_WRITE, (sz_exp)

static const struct bad_cmd bad_cmds[] = {
	{ { 2, 2 | DEVCHAN_ACCESS_RESP, 0, { 0 }, 0, 0, 0 }, "op" },
	{ { RD(4), 0, { 0 }, 0, 0, 0 }, "size exponent" },
	{ { RD(0xf), 0, { 0 }, 0, 0, 0 }, "size exponent" },
	{ { RD(2) | 0x20, 0, { 0 }, 0, 0, 0 }, "reserved info" },
	{ { RD(2), 0, { 0, 0, 0, 0, 1 }, 0, 0, 0 }, "pad" },
	{ { RD(2), 6, { 0 }, 0, 0, 0 }, "region" },
	{ { RD(2), 0xfe, { 0 }, 0, 0, 0 }, "region" },
	{ { DEVCHAN_ACCESS_READ, 2, 0, { 0 }, 0, 0, 0 }, "read without a response" },
	{ { RD(2), 0, { 0 }, 0, 0, 1 }, "read carries data" },
	{ { WR(0), 0, { 0 }, 0, 0, 0x100 }, "wider" },
	{ { WR(2), 0, { 0 }, 0, 0, 1ull << 32 }, "wider" },
	{ { RD(0), 0, { 0 }, 0, UINT64_MAX, 0 }, "overflows" },
	{ { WR(3), 0, { 0 }, 0, UINT64_MAX - 6, 0 }, "overflows" },
	{ { RD(2), DEVCHAN_REGION_CONFIG, { 0 }, 0, 0xfe, 0 }, "config space" },
	{ { RD(0), DEVCHAN_REGION_CONFIG, { 0 }, 0, 0x100, 0 }, "config space" },
};

START_TEST(test_access_bad_cmds)
{
	const struct bad_cmd *bc;
	struct devchan_access a;
	const char *why;
	int sv[2];
	size_t i;

	make_seqpacket_pair(sv);
	for (i = 0; i < sizeof(bad_cmds) / sizeof(bad_cmds[0]); i++) {
		bc = &bad_cmds[i];
		why = NULL;
		ck_assert_msg(devchan_access_check(&bc->c, &why) == -EBADMSG &&
			      strstr(why, bc->expect),
			      "case %zu: why \"%s\", expected \"%s\"", i, why,
			      bc->expect);
		ck_assert_msg(devchan_access_decode(&bc->c, &a, &why) == -EBADMSG,
			      "case %zu: decoded", i);

		/* Over a channel the same. */
		ck_assert_int_eq(devchan_access_send_cmd(sv[0], &bc->c), 0);
		why = NULL;
		ck_assert_msg(devchan_access_recv_cmd(sv[1], &a, &why) == -EBADMSG &&
			      strstr(why, bc->expect),
			      "case %zu: received: why \"%s\"", i, why);
	}
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_access_framing)
{
	struct devchan_access a = { .write = true, .resp = true, .region = 0,
		.size = 4, .offset = 0x10, .data = 1 };
	struct devchan_access got;
	struct devchan_access_cmd c;
	uint8_t buf[40] = { 0 };
	const char *why;
	int sv[2], efd, before;
	uint64_t data;

	before = count_open_fds();
	make_seqpacket_pair(sv);
	ck_assert_int_eq(devchan_access_encode(&c, &a), 0);
	memcpy(buf, &c, sizeof(c));

	raw_send_fds(sv[0], buf, 31, NULL, 0);
	ck_assert_int_eq(devchan_access_recv_cmd(sv[1], &got, &why), -EPROTO);
	ck_assert_str_eq(why, "access packet shorter than 32 bytes");
	raw_send_fds(sv[0], buf, 40, NULL, 0);
	ck_assert_int_eq(devchan_access_recv_cmd(sv[1], &got, &why), -EPROTO);
	efd = new_eventfd();
	raw_send_fds(sv[0], buf, 32, &efd, 1);
	close(efd);
	ck_assert_int_eq(devchan_access_recv_cmd(sv[1], &got, &why), -EPROTO);
	ck_assert_int_eq(count_open_fds(), before + 2);

	/* A good one still goes through, and a good response. */
	ck_assert_int_eq(devchan_access_send_cmd(sv[0], &c), 0);
	ck_assert_int_eq(devchan_access_recv_cmd(sv[1], &got, &why), 0);
	ck_assert(got.write && got.resp);
	ck_assert_uint_eq(got.data, 1);
	ck_assert_int_eq(devchan_access_send_resp(sv[1], 0), 0);
	ck_assert_int_eq(devchan_access_recv_resp(sv[0], &got, &data, &why), 0);
	ck_assert_uint_eq(data, 0);

	/* Responses: data after a write, data wider than a read, pad. */
	ck_assert_int_eq(devchan_access_send_resp(sv[1], 5), 0);
	ck_assert_int_eq(devchan_access_recv_resp(sv[0], &got, &data, &why), -EBADMSG);
	got.write = false;
	got.size = 2;
	ck_assert_int_eq(devchan_access_send_resp(sv[1], 0x10000), 0);
	ck_assert_int_eq(devchan_access_recv_resp(sv[0], &got, &data, &why), -EBADMSG);
	ck_assert_str_eq(why, "response data wider than the access");
	memset(buf, 0, sizeof(buf));
	buf[31] = 1;
	raw_send_fds(sv[1], buf, 32, NULL, 0);
	ck_assert_int_eq(devchan_access_recv_resp(sv[0], &got, &data, &why), -EBADMSG);
	ck_assert_str_eq(why, "response pad not zero");
	ck_assert_int_eq(devchan_access_send_resp(sv[1], 0xffff), 0);
	ck_assert_int_eq(devchan_access_recv_resp(sv[0], &got, &data, &why), 0);
	ck_assert_uint_eq(data, 0xffff);

	close(sv[1]);
	ck_assert_int_eq(devchan_access_recv_cmd(sv[0], &got, &why), -ECONNRESET);
	close(sv[0]);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

START_TEST(test_access_check_device)
{
	struct devchan_device dev;
	struct devchan_access a = { .write = false, .resp = true, .region = 0,
		.size = 4, .offset = 0 };
	const char *why = NULL;

	vvu_device(&dev);
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), 0);
	a.offset = 0x5ffc;
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), 0);
	a.offset = 0x5ffe;	/* straddles into the MSI-X table */
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "access to the MSI-X table or PBA");
	a.offset = 0x7000;
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), -EBADMSG);
	a.offset = 0x7ffc;	/* past the PBA, inside BAR0 */
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), 0);
	a.offset = 0x7ffe;
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "access beyond the BAR");

	a.offset = 0;
	a.region = 4;		/* SHM: nothing traps there */
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), -EBADMSG);
	ck_assert_str_eq(why, "access to a BAR that is not REMOTE");
	a.region = 3;		/* upper half of BAR2 */
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), -EBADMSG);
	a.region = 6;
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), -EBADMSG);
	a.region = DEVCHAN_REGION_CONFIG;
	a.offset = 0x40;
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), 0);
	a.offset = 0xfd;
	ck_assert_int_eq(devchan_access_check_device(&a, &dev, &why), -EBADMSG);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(devchan_msg_name(DEVCHAN_MSG_REPLY), "REPLY");
	ck_assert_str_eq(devchan_msg_name(DEVCHAN_MSG_SHM_MAP), "SHM_MAP");
	ck_assert_str_eq(devchan_msg_name(DEVCHAN_MSG_IRQFD_DEL), "IRQFD_DEL");
	ck_assert_str_eq(devchan_msg_name(DEVCHAN_MSG_NONE), "UNKNOWN");
	ck_assert_str_eq(devchan_msg_name(DEVCHAN_MSG_TYPE_MAX), "UNKNOWN");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("devchan");
	TCase *tc = tcase_create("control");
	TCase *ta = tcase_create("access");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_round_trip_every_type, DEVCHAN_MSG_REPLY,
			    DEVCHAN_MSG_TYPE_MAX);
	tcase_add_test(tc, test_round_trip_values);
	tcase_add_test(tc, test_ram_add_memfd);
	tcase_add_test(tc, test_eventfds_signal);
	tcase_add_test(tc, test_access_channel_over_passed_socket);
	tcase_add_test(tc, test_truncated_and_long);
	tcase_add_test(tc, test_unknown_type_direction_id);
	tcase_add_test(tc, test_wrong_fd_counts);
	tcase_add_test(tc, test_send_to_closed_peer);
	tcase_add_test(tc, test_bad_fields);
	tcase_add_test(tc, test_check_device);
	tcase_add_test(tc, test_device_variants);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tcase_add_test(ta, test_access_encode_decode);
	tcase_add_test(ta, test_access_bad_cmds);
	tcase_add_test(ta, test_access_framing);
	tcase_add_test(ta, test_access_check_device);
	suite_add_tcase(s, ta);

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
