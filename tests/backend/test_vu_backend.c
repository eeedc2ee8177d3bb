// SPDX-License-Identifier: GPL-2.0-only
/*
 * The vhost-user back-end driven message by message, without a socket:
 * guest RAM is a memfd the test maps too, so it plays the driver (writing
 * descriptors and avail entries) and checks what the back-end did to the
 * used ring, the disk file and the call eventfd.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vblk-backend/blk.h"
#include "vblk-backend/vu_backend.h"

#define RAM_SIZE	(1u << 20)
#define RAM_GPA		0x40000000ull
#define RAM_UVA		0x7f1200000000ull
#define QSIZE		16
#define NQUEUES		2
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x1000
#define USED_OFF	0x2000
#define HDR_OFF		0x8000
#define STATUS_OFF	0x8100
#define DATA_OFF	0x10000
#define DISK_SECTORS	128

#define F_RING		(VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
			 VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES))
#define PF_ALL		0x8209ull	/* MQ, REPLY_ACK, CONFIG, CONFIGURE_MEM_SLOTS */

static struct blk_dev blk;
static struct vu_backend vb;
static struct vu_msg m;
static int disk_fd = -1, ram_fd = -1, kick_efd = -1, call_efd = -1;
static uint8_t *ram;
static int watched[VU_MAX_QUEUES];
static uint16_t next_desc;

static int stub_watch_kick(void *opaque, unsigned int qidx, int fd)
{
	(void)opaque;
	watched[qidx] = fd;
	return 0;
}

static const struct vu_transport_ops stub_ops = {
	.watch_kick = stub_watch_kick,
};

static void setup(void)
{
	char path[] = "/tmp/test_vu_backend.XXXXXX";
	unsigned int i;

	disk_fd = mkstemp(path);
	ck_assert_int_ge(disk_fd, 0);
	unlink(path);
	ck_assert_int_eq(ftruncate(disk_fd, DISK_SECTORS * 512), 0);
	ck_assert_int_eq(blk_init(&blk, disk_fd, false, NQUEUES, "unit"), 0);
	ck_assert_int_eq(vu_backend_init(&vb, NQUEUES, &blk_device_ops, &blk,
					 &stub_ops, NULL), 0);

	ram_fd = memfd_create("guest-ram", MFD_CLOEXEC);
	ck_assert_int_ge(ram_fd, 0);
	ck_assert_int_eq(ftruncate(ram_fd, RAM_SIZE), 0);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	ck_assert_ptr_ne(ram, MAP_FAILED);
	kick_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	call_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(kick_efd, 0);
	ck_assert_int_ge(call_efd, 0);
	for (i = 0; i < VU_MAX_QUEUES; i++)
		watched[i] = -1;
	next_desc = 0;
}

static void teardown(void)
{
	vu_backend_destroy(&vb);
	munmap(ram, RAM_SIZE);
	close(ram_fd);
	close(disk_fd);
	close(kick_efd);
	close(call_efd);
}

static bool fd_is_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/* Handles m; returns the handler's verdict, *reply whether m is a reply. */
static int handle(bool *reply)
{
	bool r;
	int ret = vu_backend_handle_msg(&vb, &m, &r);

	if (reply)
		*reply = r;
	if (r) {
		ck_assert_uint_eq(m.hdr.flags, VHOST_USER_REPLY_FLAGS);
		ck_assert_uint_le(m.hdr.size, VHOST_USER_PAYLOAD_MAX);
		ck_assert_uint_eq(m.nfds, 0);
	}
	return ret;
}

static int send_u64(uint32_t req, uint64_t v)
{
	vu_msg_init(&m, req);
	m.hdr.size = sizeof(uint64_t);
	m.payload.u64 = v;
	return handle(NULL);
}

static int send_state(uint32_t req, uint32_t idx, uint32_t num)
{
	vu_msg_init(&m, req);
	m.hdr.size = sizeof(m.payload.state);
	m.payload.state.index = idx;
	m.payload.state.num = num;
	return handle(NULL);
}

/* A request with a u64 and a dup of fd (the test keeps fd); *sent = the dup. */
static int send_fd(uint32_t req, uint64_t v, int fd, int *sent)
{
	vu_msg_init(&m, req);
	m.hdr.size = sizeof(uint64_t);
	m.payload.u64 = v;
	m.fds[0] = dup(fd);
	ck_assert_int_ge(m.fds[0], 0);
	m.nfds = 1;
	if (sent)
		*sent = m.fds[0];
	return handle(NULL);
}

/* A request without payload whose reply is one u64. */
static uint64_t get_u64(uint32_t req)
{
	bool reply;

	vu_msg_init(&m, req);
	ck_assert_int_eq(handle(&reply), 0);
	ck_assert(reply);
	ck_assert_uint_eq(m.hdr.request, req);
	ck_assert_uint_eq(m.hdr.size, 8);
	return m.payload.u64;
}

static void negotiate(uint64_t extra_features)
{
	uint64_t offered = get_u64(VHOST_USER_GET_FEATURES);

	ck_assert_uint_eq(offered & (F_RING | extra_features), F_RING | extra_features);
	ck_assert_int_eq(send_u64(VHOST_USER_SET_FEATURES, F_RING | extra_features), 0);
	ck_assert_uint_eq(get_u64(VHOST_USER_GET_PROTOCOL_FEATURES), PF_ALL);
	ck_assert_int_eq(send_u64(VHOST_USER_SET_PROTOCOL_FEATURES, PF_ALL), 0);
	vu_msg_init(&m, VHOST_USER_SET_OWNER);
	ck_assert_int_eq(handle(NULL), 0);
}

static struct vhost_user_mem_region region(uint64_t gpa, uint64_t size,
					   uint64_t uva, uint64_t offset)
{
	struct vhost_user_mem_region r = {
		.guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = uva, .mmap_offset = offset,
	};
	return r;
}

/* SET_MEM_TABLE with n regions over dups of ram_fd; fds[] gets the dups. */
static int send_mem_table(const struct vhost_user_mem_region *r, uint32_t n,
			  unsigned int nfds, int *fds)
{
	unsigned int i;

	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE);
	m.payload.memory.nregions = n;
	for (i = 0; i < n && i < VHOST_USER_MEM_REGIONS_MAX; i++)
		m.payload.memory.regions[i] = r[i];
	m.hdr.size = VHOST_USER_MEMORY_SIZE(n < 8 ? n : 8);
	for (i = 0; i < nfds; i++) {
		m.fds[i] = dup(ram_fd);
		ck_assert_int_ge(m.fds[i], 0);
		if (fds)
			fds[i] = m.fds[i];
	}
	m.nfds = nfds;
	return handle(NULL);
}

static void set_mem(void)
{
	struct vhost_user_mem_region r = region(RAM_GPA, RAM_SIZE, RAM_UVA, 0);

	ck_assert_int_eq(send_mem_table(&r, 1, 1, NULL), 0);
}

static int send_addr(uint32_t idx, uint64_t desc, uint64_t avail, uint64_t used)
{
	vu_msg_init(&m, VHOST_USER_SET_VRING_ADDR);
	m.hdr.size = sizeof(m.payload.addr);
	m.payload.addr.index = idx;
	m.payload.addr.desc_user_addr = desc;
	m.payload.addr.avail_user_addr = avail;
	m.payload.addr.used_user_addr = used;
	return handle(NULL);
}

static void start_ring(uint32_t q, uint16_t base)
{
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_NUM, q, QSIZE), 0);
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_BASE, q, base), 0);
	ck_assert_int_eq(send_addr(q, RAM_UVA + DESC_OFF, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + USED_OFF), 0);
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_CALL, q, call_efd, NULL), 0);
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_KICK, q, kick_efd, NULL), 0);
	ck_assert_int_ge(watched[q], 0);
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_ENABLE, q, 1), 0);
}

/* The usual session: features, memory, queue 0 running. */
static void bring_up(uint64_t extra_features)
{
	negotiate(extra_features);
	set_mem();
	start_ring(0, 0);
}

static struct vring_desc *ring_desc(void) { return (void *)(ram + DESC_OFF); }
static struct vring_avail *ring_avail(void) { return (void *)(ram + AVAIL_OFF); }
static struct vring_used *ring_used(void) { return (void *)(ram + USED_OFF); }

/* Writes a descriptor and returns its index. */
static uint16_t put_desc(uint64_t off, uint32_t len, uint16_t flags)
{
	uint16_t i = next_desc++ % QSIZE;

	ring_desc()[i].addr = RAM_GPA + off;
	ring_desc()[i].len = len;
	ring_desc()[i].flags = flags;
	ring_desc()[i].next = (uint16_t)((i + 1) % QSIZE);
	return i;
}

static void publish(uint16_t head)
{
	struct vring_avail *a = ring_avail();

	a->ring[a->idx % QSIZE] = head;
	__atomic_store_n(&a->idx, (uint16_t)(a->idx + 1), __ATOMIC_RELEASE);
}

/* Queues header + data (len bytes at DATA_OFF + data_off) + status. */
static uint16_t submit(uint32_t type, uint64_t sector, uint64_t data_off, uint32_t len)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	uint16_t head;

	/* Header and status slots per head: a batch does not share them. */
	head = next_desc % QSIZE;
	memcpy(ram + HDR_OFF + head * sizeof(h), &h, sizeof(h));
	ram[STATUS_OFF + head] = 0xee;
	put_desc(HDR_OFF + head * sizeof(h), sizeof(h), VRING_DESC_F_NEXT);
	if (len)
		put_desc(DATA_OFF + data_off, len,
			 VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0));
	put_desc(STATUS_OFF + head, 1, VRING_DESC_F_WRITE);
	publish(head);
	return head;
}

static uint8_t status_of(uint16_t head)
{
	return ram[STATUS_OFF + head];
}

static uint64_t calls(void)
{
	uint64_t v = 0;

	if (read(call_efd, &v, sizeof(v)) < 0)
		ck_assert_int_eq(errno, EAGAIN);
	return v;
}

START_TEST(test_features_and_replies)
{
	uint64_t f = get_u64(VHOST_USER_GET_FEATURES);
	bool reply;

	ck_assert(f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	ck_assert(f & VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	ck_assert(f & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
	ck_assert(f & VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC));
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD));
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_MQ));
	ck_assert(!(f & VIRTIO_BIT(VIRTIO_BLK_F_RO)));
	ck_assert(!(f & VIRTIO_BIT(VIRTIO_F_RING_PACKED)));
	ck_assert_uint_eq(get_u64(VHOST_USER_GET_PROTOCOL_FEATURES), PF_ALL);

	/* Bits we never offered are refused. */
	ck_assert_int_ne(send_u64(VHOST_USER_SET_FEATURES, f | VIRTIO_BIT(VHOST_F_LOG_ALL)), 0);
	ck_assert_int_ne(send_u64(VHOST_USER_SET_PROTOCOL_FEATURES, PF_ALL | 0x10000), 0);

	/* No REPLY_ACK negotiated: NEED_REPLY gets no reply. */
	vu_msg_init(&m, VHOST_USER_SET_OWNER);
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	ck_assert_int_eq(handle(&reply), 0);
	ck_assert(!reply);
}
END_TEST

START_TEST(test_reply_ack)
{
	bool reply;

	negotiate(0);
	vu_msg_init(&m, VHOST_USER_SET_OWNER);
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	ck_assert_int_eq(handle(&reply), 0);
	ck_assert(reply);
	ck_assert_uint_eq(m.hdr.request, VHOST_USER_SET_OWNER);
	ck_assert_uint_eq(m.hdr.size, 8);
	ck_assert_uint_eq(m.payload.u64, 0);

	/* A failing request still gets its nack before the drop. */
	vu_msg_init(&m, VHOST_USER_SET_VRING_NUM);
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	m.hdr.size = 8;
	m.payload.state.index = 0;
	m.payload.state.num = 3;
	ck_assert_int_ne(handle(&reply), 0);
	ck_assert(reply);
	ck_assert_uint_eq(m.hdr.request, VHOST_USER_SET_VRING_NUM);
	ck_assert_uint_ne(m.payload.u64, 0);

	/* Requests with their own reply ignore NEED_REPLY. */
	vu_msg_init(&m, VHOST_USER_GET_FEATURES);
	m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	ck_assert_int_eq(handle(&reply), 0);
	ck_assert(reply);
	ck_assert_uint_eq(m.payload.u64, vb.offered_features);
}
END_TEST

START_TEST(test_queue_num_and_slots_need_negotiation)
{
	bool reply;

	vu_msg_init(&m, VHOST_USER_GET_QUEUE_NUM);
	ck_assert_int_ne(handle(&reply), 0);
	ck_assert(!reply);
	negotiate(0);
	ck_assert_uint_eq(get_u64(VHOST_USER_GET_QUEUE_NUM), NQUEUES);
	ck_assert_uint_eq(get_u64(VHOST_USER_GET_MAX_MEM_SLOTS), VU_MAX_MEM_SLOTS);
}
END_TEST

static int get_config(uint32_t off, uint32_t size, uint32_t payload, bool *reply)
{
	vu_msg_init(&m, VHOST_USER_GET_CONFIG);
	m.payload.config.offset = off;
	m.payload.config.size = size;
	m.hdr.size = payload;
	return handle(reply);
}

/* Config bytes sit at odd offsets in the payload: read them unaligned. */
static uint64_t cfg_u64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof(v)); return v; }
static uint32_t cfg_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }
static uint16_t cfg_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof(v)); return v; }

START_TEST(test_get_config)
{
	bool reply;
	uint32_t sizes[] = { 36, 48, 57, 60 };
	unsigned int i;

	negotiate(0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(get_config(0, sizes[i], 12 + sizes[i], &reply), 0);
		ck_assert(reply);
		ck_assert_uint_eq(m.hdr.request, VHOST_USER_GET_CONFIG);
		ck_assert_uint_eq(m.hdr.size, 12 + sizes[i]);
		ck_assert_uint_eq(m.payload.config.size, sizes[i]);
		ck_assert_uint_eq(cfg_u64(m.payload.config.region), DISK_SECTORS);
		ck_assert_uint_eq(cfg_u16(m.payload.config.region + 34), NQUEUES);
	}
	/* A window inside the config. */
	ck_assert_int_eq(get_config(20, 4, 16, &reply), 0);
	ck_assert_uint_eq(cfg_u32(m.payload.config.region), 512);

	ck_assert_int_ne(get_config(0, 61, 12 + 61, &reply), 0);
	ck_assert(!reply);
	ck_assert_int_ne(get_config(58, 4, 16, &reply), 0);
	ck_assert_int_ne(get_config(0xfffffff0u, 0x20, 12 + 0x20, &reply), 0);
	ck_assert_int_ne(get_config(0, 300, 12 + 60, &reply), 0);
	ck_assert_int_ne(get_config(0, 36, 12 + 40, &reply), 0);

	vu_msg_init(&m, VHOST_USER_SET_CONFIG);
	m.hdr.size = 12 + 1;
	m.payload.config.offset = 32;
	m.payload.config.size = 1;
	ck_assert_int_ne(handle(&reply), 0);
}
END_TEST

START_TEST(test_config_needs_negotiation)
{
	bool reply;

	ck_assert_int_ne(get_config(0, 36, 48, &reply), 0);
	ck_assert(!reply);
}
END_TEST

START_TEST(test_bad_ring_index)
{
	int sent;

	negotiate(0);
	set_mem();
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_NUM, 5000, QSIZE), 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_BASE, 5000, 0), 0);
	ck_assert_int_ne(send_state(VHOST_USER_GET_VRING_BASE, 100000, 0), 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_ENABLE, NQUEUES, 1), 0);
	ck_assert_int_ne(send_addr(NQUEUES, RAM_UVA, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + USED_OFF), 0);
	ck_assert_int_ne(send_fd(VHOST_USER_SET_VRING_KICK, NQUEUES, kick_efd, &sent), 0);
	ck_assert(fd_is_closed(sent));
	ck_assert_int_ne(send_fd(VHOST_USER_SET_VRING_CALL, 200, call_efd, &sent), 0);
	ck_assert(fd_is_closed(sent));
	/* An index in the upper bits of the u64 is not truncated to 8 bits. */
	ck_assert_int_ne(send_fd(VHOST_USER_SET_VRING_ERR, 5000, call_efd, &sent), 0);
	ck_assert(fd_is_closed(sent));
	ck_assert_int_ne(send_fd(VHOST_USER_SET_VRING_CALL, 1ull << 32, call_efd, &sent), 0);
	ck_assert(fd_is_closed(sent));
}
END_TEST

START_TEST(test_bad_ring_size)
{
	negotiate(0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_NUM, 0, 0), 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_NUM, 0, 3), 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_NUM, 0, 65536), 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_NUM, 0, 0x80000000u), 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_BASE, 0, 0x10000), 0);
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_NUM, 0, 32768), 0);
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_NUM, 0, 1), 0);
}
END_TEST

START_TEST(test_mem_table_bad_input)
{
	struct vhost_user_mem_region r[8];
	int fds[8];
	unsigned int i;

	negotiate(0);
	/* 40 regions with one fd (qemu-storage-daemon 7.2 crashes on this). */
	r[0] = region(0, RAM_SIZE, RAM_UVA, 0);
	ck_assert_int_ne(send_mem_table(r, 40, 1, fds), 0);
	ck_assert(fd_is_closed(fds[0]));
	/* Fewer fds than regions, and more. */
	r[1] = region(RAM_SIZE, RAM_SIZE, RAM_UVA + RAM_SIZE, 0);
	ck_assert_int_ne(send_mem_table(r, 2, 1, fds), 0);
	ck_assert(fd_is_closed(fds[0]));
	ck_assert_int_ne(send_mem_table(r, 1, 2, fds), 0);
	ck_assert(fd_is_closed(fds[0]) && fd_is_closed(fds[1]));
	/* Overlapping guest-physical ranges; the good first map is undone. */
	r[1] = region(RAM_SIZE / 2, RAM_SIZE / 2, RAM_UVA + 2 * RAM_SIZE, 0);
	ck_assert_int_ne(send_mem_table(r, 2, 2, fds), 0);
	ck_assert(fd_is_closed(fds[0]) && fd_is_closed(fds[1]));
	ck_assert_uint_eq(vb.mem.nregions, 0);
	/* mmap_offset + size overflows; region larger than its memfd. */
	r[0] = region(0, RAM_SIZE, RAM_UVA, UINT64_MAX - 4095);
	ck_assert_int_ne(send_mem_table(r, 1, 1, fds), 0);
	ck_assert(fd_is_closed(fds[0]));
	r[0] = region(0, 2 * RAM_SIZE, RAM_UVA, 0);
	ck_assert_int_ne(send_mem_table(r, 1, 1, fds), 0);
	r[0] = region(0, RAM_SIZE, RAM_UVA, 4096);
	ck_assert_int_ne(send_mem_table(r, 1, 1, fds), 0);
	/* Size 0; gpa + size wrapping. */
	r[0] = region(0, 0, RAM_UVA, 0);
	ck_assert_int_ne(send_mem_table(r, 1, 1, fds), 0);
	r[0] = region(UINT64_MAX - 4095, RAM_SIZE, RAM_UVA, 0);
	ck_assert_int_ne(send_mem_table(r, 1, 1, fds), 0);
	/* The payload must hold every region it announces. */
	r[0] = region(0, RAM_SIZE, RAM_UVA, 0);
	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE);
	m.payload.memory.nregions = 2;
	m.payload.memory.regions[0] = r[0];
	m.hdr.size = VHOST_USER_MEMORY_SIZE(1);
	m.fds[0] = dup(ram_fd);
	m.fds[1] = dup(ram_fd);
	fds[0] = m.fds[0];
	fds[1] = m.fds[1];
	m.nfds = 2;
	ck_assert_int_ne(handle(NULL), 0);
	ck_assert(fd_is_closed(fds[0]) && fd_is_closed(fds[1]));
	ck_assert_uint_eq(vb.mem.nregions, 0);

	/* Eight good regions are fine. */
	for (i = 0; i < 8; i++)
		r[i] = region(i * 0x10000, 0x10000, RAM_UVA + i * 0x10000, i * 0x10000);
	ck_assert_int_eq(send_mem_table(r, 8, 8, fds), 0);
	ck_assert_uint_eq(vb.mem.nregions, 8);
	for (i = 0; i < 8; i++)
		ck_assert(fd_is_closed(fds[i]));
}
END_TEST

static int mem_reg(uint32_t req, struct vhost_user_mem_region r, unsigned int nfds, int *fd)
{
	vu_msg_init(&m, req);
	m.hdr.size = sizeof(m.payload.mem_reg);
	m.payload.mem_reg.region = r;
	if (nfds) {
		m.fds[0] = dup(ram_fd);
		m.nfds = 1;
		if (fd)
			*fd = m.fds[0];
	}
	return handle(NULL);
}

START_TEST(test_add_rem_mem_reg)
{
	struct vhost_user_mem_region a = region(0, 0x10000, RAM_UVA, 0);
	struct vhost_user_mem_region b = region(0x10000, 0x10000, RAM_UVA + 0x10000, 0x10000);
	int fd;

	/* Without CONFIGURE_MEM_SLOTS negotiated they are refused. */
	ck_assert_int_ne(mem_reg(VHOST_USER_ADD_MEM_REG, a, 1, &fd), 0);
	ck_assert(fd_is_closed(fd));
	negotiate(0);
	ck_assert_int_eq(mem_reg(VHOST_USER_ADD_MEM_REG, a, 1, &fd), 0);
	ck_assert(fd_is_closed(fd));
	ck_assert_int_eq(mem_reg(VHOST_USER_ADD_MEM_REG, b, 1, NULL), 0);
	ck_assert_uint_eq(vb.mem.nregions, 2);
	/* Overlapping an existing one; no fd. */
	ck_assert_int_ne(mem_reg(VHOST_USER_ADD_MEM_REG, a, 1, NULL), 0);
	ck_assert_int_ne(mem_reg(VHOST_USER_ADD_MEM_REG, region(0x20000, 0x1000, 0, 0), 0, NULL), 0);
	/* REM matches gpa, size and uva; an fd on it is closed unused. */
	ck_assert_int_eq(mem_reg(VHOST_USER_REM_MEM_REG, a, 1, &fd), 0);
	ck_assert(fd_is_closed(fd));
	ck_assert_uint_eq(vb.mem.nregions, 1);
	ck_assert_int_ne(mem_reg(VHOST_USER_REM_MEM_REG, a, 0, NULL), 0);
	b.memory_size /= 2;
	ck_assert_int_ne(mem_reg(VHOST_USER_REM_MEM_REG, b, 0, NULL), 0);
	b.memory_size *= 2;
	ck_assert_int_eq(mem_reg(VHOST_USER_REM_MEM_REG, b, 0, NULL), 0);
	ck_assert_uint_eq(vb.mem.nregions, 0);
}
END_TEST

START_TEST(test_ring_outside_memory)
{
	struct vhost_user_mem_region r[2] = {
		region(RAM_GPA, 0x1000, RAM_UVA, 0),
		region(RAM_GPA + 0x1000, RAM_SIZE - 0x1000, RAM_UVA + 0x1000, 0x1000),
	};

	negotiate(0);
	ck_assert_int_eq(send_mem_table(r, 2, 2, NULL), 0);
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_NUM, 0, QSIZE), 0);
	/* Not in any region. */
	ck_assert_int_ne(send_addr(0, RAM_UVA + RAM_SIZE, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + USED_OFF), 0);
	ck_assert_int_ne(send_addr(0, 0x1000, RAM_UVA + AVAIL_OFF, RAM_UVA + USED_OFF), 0);
	/* Descriptor table 16 bytes before a region's end: crosses it. */
	ck_assert_int_ne(send_addr(0, RAM_UVA + 0x1000 - 16, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + USED_OFF), 0);
	/* Used ring running off the end of guest memory. */
	ck_assert_int_ne(send_addr(0, RAM_UVA + DESC_OFF, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + RAM_SIZE - 8), 0);
	/* Misaligned descriptor table. */
	ck_assert_int_ne(send_addr(0, RAM_UVA + 0x1008, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + USED_OFF), 0);
	/* Guest-physical addresses are not user addresses. */
	ck_assert_int_ne(send_addr(0, RAM_GPA, RAM_GPA + AVAIL_OFF, RAM_GPA + USED_OFF), 0);
}
END_TEST

START_TEST(test_kick_before_setup_fails)
{
	int sent;

	negotiate(0);
	set_mem();
	ck_assert_int_ne(send_fd(VHOST_USER_SET_VRING_KICK, 0, kick_efd, &sent), 0);
	ck_assert_int_eq(watched[0], -1);
	/* The fd was kept by the ring; a reset closes it. */
	vu_backend_reset(&vb);
	ck_assert(fd_is_closed(sent));
}
END_TEST

START_TEST(test_fds_where_none_belong)
{
	int sent;

	vu_msg_init(&m, VHOST_USER_GET_FEATURES);
	m.fds[0] = sent = dup(ram_fd);
	m.nfds = 1;
	ck_assert_int_ne(handle(NULL), 0);
	ck_assert(fd_is_closed(sent));

	negotiate(0);
	vu_msg_init(&m, VHOST_USER_SET_VRING_NUM);
	m.hdr.size = 8;
	m.payload.state.num = QSIZE;
	m.fds[0] = sent = dup(ram_fd);
	m.nfds = 1;
	ck_assert_int_ne(handle(NULL), 0);
	ck_assert(fd_is_closed(sent));

	/* NOFD set but an fd attached; NOFD clear and none attached. */
	ck_assert_int_ne(send_fd(VHOST_USER_SET_VRING_CALL, VHOST_USER_VRING_NOFD_MASK,
				 call_efd, &sent), 0);
	ck_assert(fd_is_closed(sent));
	ck_assert_int_ne(send_u64(VHOST_USER_SET_VRING_CALL, 0), 0);
	ck_assert_int_eq(send_u64(VHOST_USER_SET_VRING_CALL, VHOST_USER_VRING_NOFD_MASK), 0);

	/* SET_BACKEND_REQ_FD: not offered; the fd is closed, no harm done. */
	ck_assert_int_eq(send_fd(VHOST_USER_SET_BACKEND_REQ_FD, 0, call_efd, &sent), 0);
	ck_assert(fd_is_closed(sent));
}
END_TEST

START_TEST(test_payload_size_checked)
{
	negotiate(0);
	vu_msg_init(&m, VHOST_USER_SET_VRING_NUM);
	m.hdr.size = 4;
	ck_assert_int_ne(handle(NULL), 0);
	vu_msg_init(&m, VHOST_USER_SET_FEATURES);
	m.hdr.size = 16;
	ck_assert_int_ne(handle(NULL), 0);
	vu_msg_init(&m, VHOST_USER_GET_FEATURES);
	m.hdr.size = 8;
	ck_assert_int_ne(handle(NULL), 0);
	vu_msg_init(&m, VHOST_USER_SET_VRING_ADDR);
	m.hdr.size = 32;
	ck_assert_int_ne(handle(NULL), 0);
	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE);
	m.hdr.size = 4;
	ck_assert_int_ne(handle(NULL), 0);
}
END_TEST

START_TEST(test_unsupported_requests)
{
	uint32_t reqs[] = {
		0, 41, 99, 0xffffffffu, VHOST_USER_SET_LOG_BASE, VHOST_USER_SEND_RARP,
		VHOST_USER_IOTLB_MSG, VHOST_USER_GET_INFLIGHT_FD, VHOST_USER_RESET_DEVICE,
		VHOST_USER_SET_STATUS, VHOST_USER_GET_STATUS, VHOST_USER_POSTCOPY_ADVISE,
	};
	unsigned int i;
	bool reply;
	int sent;

	negotiate(0);
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		vu_msg_init(&m, reqs[i]);
		m.hdr.size = 8;
		ck_assert_int_ne(handle(&reply), 0);
		ck_assert(!reply);
	}
	/* With fds: they are closed. */
	ck_assert_int_ne(send_fd(VHOST_USER_SET_LOG_FD, 0, call_efd, &sent), 0);
	ck_assert(fd_is_closed(sent));
	vu_msg_init(&m, VHOST_USER_SET_INFLIGHT_FD);
	m.hdr.size = sizeof(m.payload.inflight);
	m.payload.inflight.mmap_size = 4096;
	m.payload.inflight.num_queues = 64;
	m.payload.inflight.queue_size = 1024;
	m.fds[0] = sent = dup(ram_fd);
	m.nfds = 1;
	ck_assert_int_ne(handle(NULL), 0);
	ck_assert(fd_is_closed(sent));
	vu_msg_init(&m, 77);
	m.fds[0] = sent = dup(ram_fd);
	m.nfds = 1;
	ck_assert_int_ne(handle(NULL), 0);
	ck_assert(fd_is_closed(sent));
}
END_TEST

START_TEST(test_io_through_the_ring)
{
	uint16_t head, flush, get_id, past_end;
	uint8_t back[1024];

	bring_up(0);
	ck_assert_uint_eq(calls(), 0);	/* nothing queued at start */

	memset(ram + DATA_OFF, 0x5a, 1024);
	head = submit(VIRTIO_BLK_T_OUT, 4, 0, 1024);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 1);
	ck_assert_uint_eq(ring_used()->ring[0].id, head);
	ck_assert_uint_eq(ring_used()->ring[0].len, 1);
	ck_assert_uint_eq(status_of(head), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(calls(), 1);
	ck_assert_int_eq(pread(disk_fd, back, sizeof(back), 4 * 512), 1024);
	ck_assert_uint_eq(back[0], 0x5a);
	ck_assert_uint_eq(back[1023], 0x5a);

	memset(ram + DATA_OFF + 4096, 0, 1024);
	head = submit(VIRTIO_BLK_T_IN, 4, 4096, 1024);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 2);
	ck_assert_uint_eq(ring_used()->ring[1].id, head);
	ck_assert_uint_eq(ring_used()->ring[1].len, 1025);
	ck_assert_uint_eq(status_of(head), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(ram + DATA_OFF + 4096, back, 1024);
	ck_assert_uint_eq(calls(), 1);

	/* A batch of three: all served, one call. */
	flush = submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	get_id = submit(VIRTIO_BLK_T_GET_ID, 0, 0, 20);
	past_end = submit(VIRTIO_BLK_T_IN, DISK_SECTORS, 8192, 512);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 5);
	ck_assert_uint_eq(ring_used()->ring[3].id, get_id);
	ck_assert_uint_eq(ring_used()->ring[3].len, 21);
	ck_assert_mem_eq(ram + DATA_OFF, "unit\0", 5);
	ck_assert_uint_eq(status_of(flush), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(status_of(get_id), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(status_of(past_end), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(calls(), 1);

	/* NO_INTERRUPT without EVENT_IDX: served, no call. */
	ring_avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 6);
	ck_assert_uint_eq(calls(), 0);
}
END_TEST

START_TEST(test_event_idx)
{
	uint16_t *used_event = &ring_avail()->ring[QSIZE];
	uint16_t *avail_event;

	bring_up(VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX));
	avail_event = (uint16_t *)&ring_used()->ring[QSIZE];

	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(calls(), 1);
	/* We asked to be kicked at the next avail entry. */
	ck_assert_uint_eq(*avail_event, 1);

	/* The driver wants a call only once used passes entry 5. */
	*used_event = 5;
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 2);
	ck_assert_uint_eq(calls(), 0);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 6);
	ck_assert_uint_eq(calls(), 1);
}
END_TEST

START_TEST(test_disabled_ring_waits_for_enable)
{
	bring_up(0);
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_ENABLE, 0, 0), 0);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_ENABLE, 0, 2), 0);
	/* Enabling serves what queued up meanwhile. */
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_ENABLE, 0, 1), 0);
	ck_assert_uint_eq(ring_used()->idx, 1);
	ck_assert_uint_eq(calls(), 1);
}
END_TEST

START_TEST(test_stop_and_restart)
{
	int kick_sent;
	bool reply;

	bring_up(0);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	kick_sent = vb.vrings[0].kick_fd;

	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_ENABLE, 0, 0), 0);
	vu_msg_init(&m, VHOST_USER_GET_VRING_BASE);
	m.hdr.size = 8;
	ck_assert_int_eq(handle(&reply), 0);
	ck_assert(reply);
	ck_assert_uint_eq(m.hdr.request, VHOST_USER_GET_VRING_BASE);
	ck_assert_uint_eq(m.hdr.size, 8);
	ck_assert_uint_eq(m.payload.state.index, 0);
	ck_assert_uint_eq(m.payload.state.num, 2);
	ck_assert_int_eq(watched[0], -1);
	ck_assert(fd_is_closed(kick_sent));
	ck_assert(!vb.vrings[0].started);
	/* Memory stays across a stop. */
	ck_assert_uint_eq(vb.mem.nregions, 1);

	/* Queued while stopped: served once restarted from base 2. */
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 2);
	start_ring(0, 2);
	ck_assert_uint_eq(ring_used()->idx, 3);
	ck_assert_uint_eq(ring_used()->ring[2].id, 4);
}
END_TEST

START_TEST(test_running_ring_rejects_num_and_base)
{
	bring_up(0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_NUM, 0, 32), 0);
	ck_assert_int_ne(send_state(VHOST_USER_SET_VRING_BASE, 0, 0), 0);
}
END_TEST

START_TEST(test_mem_table_replaced_while_running)
{
	struct vhost_user_mem_region r = region(RAM_GPA, RAM_SIZE, RAM_UVA, 0);

	bring_up(0);
	/* Same layout, new mapping: rings must follow it. */
	ck_assert_int_eq(send_mem_table(&r, 1, 1, NULL), 0);
	ck_assert_ptr_ne(vb.vrings[0].vq.desc, NULL);
	ck_assert(vb.vrings[0].mapped);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 1);

	/* A table without the ring's memory pauses the ring ... */
	r = region(RAM_GPA + RAM_SIZE, RAM_SIZE, RAM_UVA + RAM_SIZE, 0);
	ck_assert_int_eq(send_mem_table(&r, 1, 1, NULL), 0);
	ck_assert(!vb.vrings[0].mapped);
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 1);
	/* ... until it comes back, and what queued up is served. */
	ck_assert_int_eq(mem_reg(VHOST_USER_ADD_MEM_REG,
				 region(RAM_GPA, RAM_SIZE, RAM_UVA, 0), 1, NULL), 0);
	ck_assert(vb.vrings[0].mapped);
	ck_assert_uint_eq(ring_used()->idx, 2);

	/* REM_MEM_REG of the ring's region pauses it too. */
	ck_assert_int_eq(mem_reg(VHOST_USER_REM_MEM_REG,
				 region(RAM_GPA, RAM_SIZE, RAM_UVA, 0), 0, NULL), 0);
	ck_assert(!vb.vrings[0].mapped);
	ck_assert_int_eq(vu_backend_process_vring(&vb, 0), 0);
}
END_TEST

START_TEST(test_broken_ring_drops)
{
	bring_up(0);
	ring_avail()->ring[0] = QSIZE;	/* head out of range */
	ring_avail()->idx = 1;
	ck_assert_int_ne(vu_backend_process_vring(&vb, 0), 0);
	ck_assert_uint_eq(ring_used()->idx, 0);
}
END_TEST

START_TEST(test_bad_request_layout_drops)
{
	uint16_t head;

	bring_up(0);
	/* Status descriptor read-only. */
	head = put_desc(HDR_OFF, 16, VRING_DESC_F_NEXT);
	put_desc(STATUS_OFF, 1, 0);
	publish(head);
	ck_assert_int_ne(vu_backend_process_vring(&vb, 0), 0);
}
END_TEST

START_TEST(test_buffer_outside_memory_drops)
{
	uint16_t head;

	bring_up(0);
	head = put_desc(HDR_OFF, 16, VRING_DESC_F_NEXT);
	ring_desc()[head].addr = RAM_GPA + RAM_SIZE - 8;
	put_desc(STATUS_OFF, 1, VRING_DESC_F_WRITE);
	publish(head);
	ck_assert_int_ne(vu_backend_process_vring(&vb, 0), 0);
}
END_TEST

START_TEST(test_reset_closes_everything)
{
	int kick, call, err;

	negotiate(0);
	set_mem();
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_NUM, 1, QSIZE), 0);
	ck_assert_int_eq(send_addr(1, RAM_UVA + DESC_OFF, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + USED_OFF), 0);
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_CALL, 1, call_efd, &call), 0);
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_ERR, 1, call_efd, &err), 0);
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_KICK, 1, kick_efd, &kick), 0);
	ck_assert_int_eq(watched[1], kick);
	/* Replacing a call fd closes the old one. */
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_CALL, 1, call_efd, NULL), 0);
	ck_assert(fd_is_closed(call));
	call = vb.vrings[1].call_fd;

	vu_backend_reset(&vb);
	ck_assert(fd_is_closed(kick));
	ck_assert(fd_is_closed(call));
	ck_assert(fd_is_closed(err));
	ck_assert_int_eq(watched[1], -1);
	ck_assert_uint_eq(vb.mem.nregions, 0);
	ck_assert_uint_eq(vb.features, 0);
	ck_assert_uint_eq(vb.protocol, 0);
	ck_assert(!vb.vrings[1].started);
}
END_TEST

START_TEST(test_without_protocol_features_ring_starts_enabled)
{
	ck_assert_int_eq(send_u64(VHOST_USER_SET_FEATURES,
				  VIRTIO_BIT(VIRTIO_F_VERSION_1)), 0);
	set_mem();
	submit(VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	ck_assert_int_eq(send_state(VHOST_USER_SET_VRING_NUM, 0, QSIZE), 0);
	ck_assert_int_eq(send_addr(0, RAM_UVA + DESC_OFF, RAM_UVA + AVAIL_OFF,
				   RAM_UVA + USED_OFF), 0);
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_CALL, 0, call_efd, NULL), 0);
	ck_assert_int_eq(send_fd(VHOST_USER_SET_VRING_KICK, 0, kick_efd, NULL), 0);
	/* Served at start: the request was already there. */
	ck_assert_uint_eq(ring_used()->idx, 1);
	ck_assert_uint_eq(calls(), 1);
}
END_TEST

static Suite *vu_backend_suite(void)
{
	Suite *s = suite_create("vu_backend");
	TCase *proto = tcase_create("protocol");
	TCase *bad = tcase_create("bad input");
	TCase *ring = tcase_create("rings");

	tcase_add_checked_fixture(proto, setup, teardown);
	tcase_add_test(proto, test_features_and_replies);
	tcase_add_test(proto, test_reply_ack);
	tcase_add_test(proto, test_queue_num_and_slots_need_negotiation);
	tcase_add_test(proto, test_get_config);
	tcase_add_test(proto, test_config_needs_negotiation);
	tcase_add_test(proto, test_add_rem_mem_reg);
	tcase_add_test(proto, test_reset_closes_everything);
	suite_add_tcase(s, proto);

	tcase_add_checked_fixture(bad, setup, teardown);
	tcase_add_test(bad, test_bad_ring_index);
	tcase_add_test(bad, test_bad_ring_size);
	tcase_add_test(bad, test_mem_table_bad_input);
	tcase_add_test(bad, test_ring_outside_memory);
	tcase_add_test(bad, test_kick_before_setup_fails);
	tcase_add_test(bad, test_fds_where_none_belong);
	tcase_add_test(bad, test_payload_size_checked);
	tcase_add_test(bad, test_unsupported_requests);
	tcase_add_test(bad, test_broken_ring_drops);
	tcase_add_test(bad, test_bad_request_layout_drops);
	tcase_add_test(bad, test_buffer_outside_memory_drops);
	tcase_add_test(bad, test_running_ring_rejects_num_and_base);
	suite_add_tcase(s, bad);

	tcase_add_checked_fixture(ring, setup, teardown);
	tcase_add_test(ring, test_io_through_the_ring);
	tcase_add_test(ring, test_event_idx);
	tcase_add_test(ring, test_disabled_ring_waits_for_enable);
	tcase_add_test(ring, test_stop_and_restart);
	tcase_add_test(ring, test_mem_table_replaced_while_running);
	tcase_add_test(ring, test_without_protocol_features_ring_starts_enabled);
	suite_add_tcase(s, ring);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vu_backend_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
