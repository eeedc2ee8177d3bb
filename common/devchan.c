/* SPDX-License-Identifier: GPL-2.0-only */
/* The device channel codec: control messages and access commands. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "common/devchan.h"
#include "common/fdpass.h"

static_assert(DEVCHAN_MAX_FDS <= FDPASS_MAX_FDS, "fd limits");
static_assert(DEVCHAN_MAX_VECTORS <= UINT16_MAX + 1u, "vector fits a u16");

/* --- Small checks ----------------------------------------------------------- */

static int fault(const char **why, int err, const char *what)
{
	if (why)
		*why = what;
	return err;
}

#define BAD(what)	fault(why, -EBADMSG, (what))
#define PROTO(what)	fault(why, -EPROTO, (what))

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* [off, off + len) does not wrap and ends at or below limit. */
static bool range_inside(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Page-aligned, non-empty, and [off, off + size) within the file's off_t. */
static int check_mapping(uint64_t size, uint64_t fd_offset, const char **why)
{
	if (!size)
		return BAD("size 0");
	if ((size | fd_offset) & (DEVCHAN_PAGE_SIZE - 1))
		return BAD("size or file offset not page aligned");
	if (!range_inside(fd_offset, size, INT64_MAX))
		return BAD("file offset + size overflows");
	return 0;
}

/* v uses only the low size bytes. */
static bool fits_size(uint64_t v, unsigned int size)
{
	return size >= 8 || !(v >> (size * 8));
}

/* --- DEVICE ----------------------------------------------------------------- */

static uint64_t bar_max_size(uint8_t type)
{
	return type == DEVCHAN_BAR_MEM32 ? DEVCHAN_BAR_MAX_SIZE32
					 : DEVCHAN_BAR_MAX_SIZE64;
}

static int check_bars(const struct devchan_device *dev, const char **why)
{
	const struct devchan_bar *b;
	int i;

	for (i = 0; i < DEVCHAN_NUM_BARS; i++) {
		b = &dev->bars[i];
		if (!all_zero(b->pad, sizeof(b->pad)))
			return BAD("BAR pad not zero");
		if (b->type > DEVCHAN_BAR_MEM64)
			return BAD("BAR type unknown");
		if (b->type == DEVCHAN_BAR_NONE) {
			if (b->flags || b->kind || b->size)
				return BAD("unused BAR has flags, kind or size");
			continue;
		}
		if (b->flags & ~DEVCHAN_BAR_FLAGS_ALL)
			return BAD("BAR flags unknown");
		if (b->kind == DEVCHAN_BAR_KIND_NONE ||
		    b->kind > DEVCHAN_BAR_KIND_MSIX)
			return BAD("BAR kind unknown");
		if (!is_pow2(b->size) || b->size < DEVCHAN_BAR_MIN_SIZE ||
		    b->size > bar_max_size(b->type))
			return BAD("BAR size not a power of two in range");
		if (b->type != DEVCHAN_BAR_MEM64)
			continue;
		if (i == DEVCHAN_NUM_BARS - 1)
			return BAD("64-bit BAR 5 has no upper half");
		i++;
		if (!all_zero(&dev->bars[i], sizeof(dev->bars[i])))
			return BAD("upper half of a 64-bit BAR in use");
	}
	return 0;
}

static bool msix_holder(const struct devchan_device *dev, uint8_t bar)
{
	uint8_t kind;

	if (bar >= DEVCHAN_NUM_BARS)
		return false;
	kind = dev->bars[bar].kind;
	return kind == DEVCHAN_BAR_KIND_REMOTE || kind == DEVCHAN_BAR_KIND_MSIX;
}

static uint64_t msix_table_len(const struct devchan_msix *x)
{
	return (uint64_t)x->nvectors * 16;
}

static uint64_t msix_pba_len(const struct devchan_msix *x)
{
	return ((uint64_t)x->nvectors + 63) / 64 * 8;
}

/* [off, off + len) of BAR bar touches the MSI-X table or PBA. */
static bool hits_msix(const struct devchan_device *dev, uint8_t bar,
		      uint64_t off, uint64_t len)
{
	const struct devchan_msix *x = &dev->msix;

	if (!x->nvectors)
		return false;
	return (bar == x->table_bar &&
		ranges_overlap(off, len, x->table_off, msix_table_len(x))) ||
	       (bar == x->pba_bar &&
		ranges_overlap(off, len, x->pba_off, msix_pba_len(x)));
}

static int check_msix(const struct devchan_device *dev, const char **why)
{
	const struct devchan_msix *x = &dev->msix;
	int i;

	if (x->pad)
		return BAD("MSI-X pad not zero");
	if (!x->nvectors) {
		if (x->table_bar || x->pba_bar || x->table_off || x->pba_off)
			return BAD("MSI-X table or PBA without vectors");
	} else {
		if (x->nvectors > DEVCHAN_MAX_VECTORS)
			return BAD("more than 2048 MSI-X vectors");
		if (!msix_holder(dev, x->table_bar) || !msix_holder(dev, x->pba_bar))
			return BAD("MSI-X table or PBA not in a REMOTE or MSIX BAR");
		if ((x->table_off | x->pba_off) & 7)
			return BAD("MSI-X table or PBA not 8-byte aligned");
		if (!range_inside(x->table_off, msix_table_len(x),
				  dev->bars[x->table_bar].size) ||
		    !range_inside(x->pba_off, msix_pba_len(x),
				  dev->bars[x->pba_bar].size))
			return BAD("MSI-X table or PBA beyond its BAR");
		if (x->table_bar == x->pba_bar &&
		    ranges_overlap(x->table_off, msix_table_len(x),
				   x->pba_off, msix_pba_len(x)))
			return BAD("MSI-X table and PBA overlap");
	}
	for (i = 0; i < DEVCHAN_NUM_BARS; i++)
		if (dev->bars[i].kind == DEVCHAN_BAR_KIND_MSIX &&
		    (!x->nvectors || (i != x->table_bar && i != x->pba_bar)))
			return BAD("MSIX BAR holds neither MSI-X table nor PBA");
	return 0;
}

static int check_caps(const struct devchan_device *dev, const char **why)
{
	uint32_t off = 0, len;

	if (dev->caps_len > DEVCHAN_CAPS_MAX)
		return BAD("capabilities longer than DEVCHAN_CAPS_MAX");
	while (off < dev->caps_len) {
		if (dev->caps_len - off < 4)
			return BAD("capability truncated");
		if (dev->caps[off] != DEVCHAN_PCI_CAP_ID_VNDR)
			return BAD("capability not a vendor capability");
		if (dev->caps[off + 1])
			return BAD("capability next pointer not 0");
		len = dev->caps[off + 2];
		if (len < 4 || len % 4 || len > dev->caps_len - off)
			return BAD("capability length not a multiple of 4 inside caps_len");
		off += len;
	}
	if (!all_zero(dev->caps + dev->caps_len, DEVCHAN_CAPS_MAX - dev->caps_len))
		return BAD("bytes after caps_len not zero");
	return 0;
}

int devchan_device_check(const struct devchan_device *dev, const char **why)
{
	int r;

	if (dev->version != DEVCHAN_VERSION)
		return BAD("device version not 1");
	if (dev->vendor_id == 0 || dev->vendor_id == 0xffff)
		return BAD("vendor ID 0 or 0xffff");
	if (dev->pad)
		return BAD("device pad not zero");
	r = check_bars(dev, why);
	if (!r)
		r = check_msix(dev, why);
	if (!r)
		r = check_caps(dev, why);
	return r;
}

/* --- Control messages: per-type checks ------------------------------------ */

static int check_reply(const struct devchan_msg *m, const char **why)
{
	const struct devchan_reply *r = &m->payload.reply;

	if (r->request_id != m->hdr.id)
		return BAD("request id differs from the header's id");
	if (r->status > DEVCHAN_MAX_ERRNO)
		return BAD("status not 0 or an errno");
	if (r->pad)
		return BAD("pad not zero");
	return 0;
}

static int check_hello(const struct devchan_msg *m, const char **why)
{
	const struct devchan_hello *h = &m->payload.hello;

	if (h->magic != DEVCHAN_MAGIC)
		return BAD("bad magic");
	if (h->version < 1)
		return BAD("version 0");
	if (h->nr_access_channels < 1 ||
	    h->nr_access_channels > DEVCHAN_MAX_ACCESS_CHANNELS)
		return BAD("access channels not in 1..256");
	if (h->flags)
		return BAD("unknown flags");
	return 0;
}

static int check_device(const struct devchan_msg *m, const char **why)
{
	return devchan_device_check(&m->payload.device, why);
}

static int check_ram_add(const struct devchan_msg *m, const char **why)
{
	const struct devchan_ram_add *r = &m->payload.ram_add;

	if (r->gpa & (DEVCHAN_PAGE_SIZE - 1))
		return BAD("guest address not page aligned");
	if (!range_inside(r->gpa, r->size, UINT64_MAX))
		return BAD("guest address + size overflows");
	return check_mapping(r->size, r->fd_offset, why);
}

static int check_access_channel(const struct devchan_msg *m, const char **why)
{
	const struct devchan_access_channel *a = &m->payload.access_channel;

	if (a->index >= DEVCHAN_MAX_ACCESS_CHANNELS)
		return BAD("channel index >= 256");
	if (a->flags)
		return BAD("unknown flags");
	return 0;
}

static int check_none(const struct devchan_msg *m, const char **why)
{
	(void)m;
	(void)why;
	return 0;
}

static int check_shm_map(const struct devchan_msg *m, const char **why)
{
	const struct devchan_shm_map *s = &m->payload.shm_map;

	if (s->slot >= DEVCHAN_MAX_SHM_SLOTS)
		return BAD("slot id >= 128");
	if (s->bar >= DEVCHAN_NUM_BARS)
		return BAD("BAR index >= 6");
	if (s->flags & ~DEVCHAN_SHM_FLAGS_ALL)
		return BAD("unknown flags");
	if (!all_zero(s->pad, sizeof(s->pad)))
		return BAD("pad not zero");
	if (s->bar_offset & (DEVCHAN_PAGE_SIZE - 1))
		return BAD("BAR offset not page aligned");
	if (!range_inside(s->bar_offset, s->size, UINT64_MAX))
		return BAD("BAR offset + size overflows");
	return check_mapping(s->size, s->fd_offset, why);
}

/* SHM_UNMAP, IOEVENTFD_DEL, IRQFD_DEL: an id below limit. */
static int check_del(const struct devchan_msg *m, uint32_t limit, const char **why)
{
	if (m->payload.del.id >= limit)
		return BAD("id out of range");
	if (m->payload.del.pad)
		return BAD("pad not zero");
	return 0;
}

static int check_shm_unmap(const struct devchan_msg *m, const char **why)
{
	return check_del(m, DEVCHAN_MAX_SHM_SLOTS, why);
}

static int check_ioeventfd_del(const struct devchan_msg *m, const char **why)
{
	return check_del(m, DEVCHAN_MAX_IOEVENTFDS, why);
}

static int check_irqfd_del(const struct devchan_msg *m, const char **why)
{
	return check_del(m, DEVCHAN_MAX_IRQFDS, why);
}

static int check_ioeventfd_add(const struct devchan_msg *m, const char **why)
{
	const struct devchan_ioeventfd_add *e = &m->payload.ioeventfd_add;

	if (e->id >= DEVCHAN_MAX_IOEVENTFDS)
		return BAD("id >= 256");
	if (e->bar >= DEVCHAN_NUM_BARS)
		return BAD("BAR index >= 6");
	if (e->len != 0 && e->len != 1 && e->len != 2 && e->len != 4 &&
	    e->len != 8)
		return BAD("length not 0, 1, 2, 4 or 8");
	if (e->flags & ~DEVCHAN_IOEVENTFD_FLAGS_ALL)
		return BAD("unknown flags");
	if (e->pad)
		return BAD("pad not zero");
	if (!range_inside(e->offset, e->len, UINT64_MAX))
		return BAD("offset + length overflows");
	if (!(e->flags & DEVCHAN_IOEVENTFD_F_DATAMATCH)) {
		if (e->datamatch)
			return BAD("datamatch value without the flag");
	} else if (!e->len) {
		return BAD("datamatch with length 0");
	} else if (!fits_size(e->datamatch, e->len)) {
		return BAD("datamatch value wider than the length");
	}
	return 0;
}

static int check_irqfd_add(const struct devchan_msg *m, const char **why)
{
	const struct devchan_irqfd_add *q = &m->payload.irqfd_add;

	if (q->id >= DEVCHAN_MAX_IRQFDS)
		return BAD("id >= 256");
	if (q->vector >= DEVCHAN_MAX_VECTORS)
		return BAD("vector >= 2048");
	if (q->pad)
		return BAD("pad not zero");
	return 0;
}

/* --- The message table ------------------------------------------------------ */

#define FROM_VMM	(1u << DEVCHAN_FROM_VMM)
#define FROM_PROXYD	(1u << DEVCHAN_FROM_PROXYD)

struct devchan_rule {
	const char *name;
	uint16_t size;
	uint8_t nfds;
	uint8_t from;
	int (*check)(const struct devchan_msg *m, const char **why);
};

#define RULE(type, sz, n, dir, fn) \
	[DEVCHAN_MSG_##type] = { #type, (sz), (n), (dir), (fn) }

static const struct devchan_rule rules[DEVCHAN_MSG_TYPE_MAX] = {
	RULE(REPLY, sizeof(struct devchan_reply), 0, FROM_VMM | FROM_PROXYD,
	     check_reply),
	RULE(HELLO, sizeof(struct devchan_hello), 0, FROM_VMM, check_hello),
	RULE(DEVICE, sizeof(struct devchan_device), 0, FROM_PROXYD, check_device),
	RULE(RAM_ADD, sizeof(struct devchan_ram_add), 1, FROM_VMM, check_ram_add),
	RULE(ACCESS_CHANNEL, sizeof(struct devchan_access_channel), 1, FROM_VMM,
	     check_access_channel),
	RULE(RESET, 0, 0, FROM_VMM, check_none),
	RULE(SHM_MAP, sizeof(struct devchan_shm_map), 1, FROM_PROXYD,
	     check_shm_map),
	RULE(SHM_UNMAP, sizeof(struct devchan_del), 0, FROM_PROXYD,
	     check_shm_unmap),
	RULE(IOEVENTFD_ADD, sizeof(struct devchan_ioeventfd_add), 1, FROM_PROXYD,
	     check_ioeventfd_add),
	RULE(IOEVENTFD_DEL, sizeof(struct devchan_del), 0, FROM_PROXYD,
	     check_ioeventfd_del),
	RULE(IRQFD_ADD, sizeof(struct devchan_irqfd_add), 1, FROM_PROXYD,
	     check_irqfd_add),
	RULE(IRQFD_DEL, sizeof(struct devchan_del), 0, FROM_PROXYD,
	     check_irqfd_del),
};

static const struct devchan_rule *rule_of(uint32_t type)
{
	if (type >= DEVCHAN_MSG_TYPE_MAX || !rules[type].name)
		return NULL;
	return &rules[type];
}

const char *devchan_msg_name(uint32_t type)
{
	const struct devchan_rule *r = rule_of(type);

	return r ? r->name : "UNKNOWN";
}

void devchan_msg_init(struct devchan_msg *m, uint32_t type, uint64_t id)
{
	const struct devchan_rule *r = rule_of(type);
	size_t i;

	memset(m, 0, sizeof(*m));
	m->hdr.type = type;
	m->hdr.size = r ? r->size : 0;
	m->hdr.id = id;
	for (i = 0; i < DEVCHAN_MAX_FDS; i++)
		m->fds[i] = -1;
}

int devchan_msg_check(const struct devchan_msg *m, enum devchan_side from,
		      const char **why)
{
	const struct devchan_rule *r = rule_of(m->hdr.type);
	size_t i;

	if (!r)
		return PROTO("unknown message type");
	if (!(r->from & (1u << from)))
		return PROTO("message type not sent in this direction");
	if (m->hdr.size != r->size)
		return PROTO("payload size not the one the type takes");
	if (!m->hdr.id)
		return PROTO("id 0");
	if (m->nfds > r->nfds)
		return PROTO(r->nfds ? "more fds than the type takes"
				     : "fds on a message that takes none");
	if (m->nfds < r->nfds)
		return PROTO("fd missing");
	for (i = 0; i < m->nfds; i++)
		if (m->fds[i] < 0)
			return PROTO("fd missing");
	return r->check(m, why);
}

/* --- Checks against the device --------------------------------------------- */

int devchan_msg_check_device(const struct devchan_msg *m,
			     const struct devchan_device *dev, const char **why)
{
	const struct devchan_shm_map *s = &m->payload.shm_map;
	const struct devchan_ioeventfd_add *e = &m->payload.ioeventfd_add;
	uint64_t len;

	switch (m->hdr.type) {
	case DEVCHAN_MSG_SHM_MAP:
		if (s->bar >= DEVCHAN_NUM_BARS)
			return BAD("BAR index >= 6");
		if (dev->bars[s->bar].kind != DEVCHAN_BAR_KIND_SHM)
			return BAD("BAR is not an SHM BAR");
		if (!range_inside(s->bar_offset, s->size, dev->bars[s->bar].size))
			return BAD("mapping beyond the BAR");
		return 0;
	case DEVCHAN_MSG_IOEVENTFD_ADD:
		/* Length 0 matches writes of any size: keep 8 bytes clear. */
		len = e->len ? e->len : 8;
		if (e->bar >= DEVCHAN_NUM_BARS)
			return BAD("BAR index >= 6");
		if (dev->bars[e->bar].kind != DEVCHAN_BAR_KIND_REMOTE)
			return BAD("BAR is not a REMOTE BAR");
		if (!range_inside(e->offset, len, dev->bars[e->bar].size))
			return BAD("ioeventfd beyond the BAR");
		if (hits_msix(dev, e->bar, e->offset, len))
			return BAD("ioeventfd on the MSI-X table or PBA");
		return 0;
	case DEVCHAN_MSG_IRQFD_ADD:
		if (m->payload.irqfd_add.vector >= dev->msix.nvectors)
			return BAD("vector >= the device's MSI-X vectors");
		return 0;
	default:
		return 0;
	}
}

/* --- Sending and receiving ------------------------------------------------- */

int devchan_send(int sock, const struct devchan_msg *m, enum devchan_side from,
		 const char **why)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)&m->hdr, .iov_len = sizeof(m->hdr) },
		{ .iov_base = (void *)&m->payload, .iov_len = m->hdr.size },
	};
	int r;

	r = devchan_msg_check(m, from, why);
	if (r)
		return r;
	r = fd_sendv(sock, iov, 2, m->fds, m->nfds);
	if (r)
		return fault(why, r, "sendmsg failed");
	return 0;
}

int devchan_recv(int sock, struct devchan_msg *m, enum devchan_side from,
		 const char **why)
{
	struct iovec iov[2] = {
		{ .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) },
		{ .iov_base = &m->payload, .iov_len = sizeof(m->payload) },
	};
	size_t len;
	int r;

	devchan_msg_init(m, DEVCHAN_MSG_NONE, 0);
	r = fd_recv_packet(sock, iov, 2, &len, m->fds, DEVCHAN_MAX_FDS, &m->nfds);
	if (r == -ECONNRESET)
		return fault(why, r, "peer closed the channel");
	if (r == -EMSGSIZE)
		return fault(why, r, "packet longer than any message, or too many fds");
	if (r)
		return fault(why, r, "recvmsg failed");

	if (len < sizeof(m->hdr))
		r = PROTO("packet shorter than a header");
	else if (len - sizeof(m->hdr) < m->hdr.size)
		r = PROTO("payload shorter than the header's size");
	else if (len - sizeof(m->hdr) > m->hdr.size)
		r = PROTO("payload longer than the header's size");
	else
		r = devchan_msg_check(m, from, why);
	if (r)
		devchan_msg_close_fds(m);
	return r;
}

void devchan_msg_close_fds(struct devchan_msg *m)
{
	fds_close(m->fds, DEVCHAN_MAX_FDS);
	m->nfds = 0;
}

int devchan_msg_take_fd(struct devchan_msg *m, size_t i)
{
	return fds_take(m->fds, m->nfds < DEVCHAN_MAX_FDS ? m->nfds
							  : DEVCHAN_MAX_FDS, i);
}

/* --- Builders --------------------------------------------------------------- */

static void set_fd(struct devchan_msg *m, int fd)
{
	m->fds[0] = fd;
	m->nfds = 1;
}

void devchan_build_reply(struct devchan_msg *m, uint64_t request_id, int err)
{
	devchan_msg_init(m, DEVCHAN_MSG_REPLY, request_id);
	m->payload.reply.request_id = request_id;
	m->payload.reply.status = (uint32_t)(err < 0 ? -err : err);
}

void devchan_build_hello(struct devchan_msg *m, uint64_t id,
			 uint32_t nr_access_channels)
{
	devchan_msg_init(m, DEVCHAN_MSG_HELLO, id);
	m->payload.hello.magic = DEVCHAN_MAGIC;
	m->payload.hello.version = DEVCHAN_VERSION;
	m->payload.hello.nr_access_channels = nr_access_channels;
}

void devchan_build_device(struct devchan_msg *m, uint64_t id,
			  const struct devchan_device *dev)
{
	devchan_msg_init(m, DEVCHAN_MSG_DEVICE, id);
	m->payload.device = *dev;
}

void devchan_build_ram_add(struct devchan_msg *m, uint64_t id, uint64_t gpa,
			   uint64_t size, uint64_t fd_offset, int memfd)
{
	devchan_msg_init(m, DEVCHAN_MSG_RAM_ADD, id);
	m->payload.ram_add.gpa = gpa;
	m->payload.ram_add.size = size;
	m->payload.ram_add.fd_offset = fd_offset;
	set_fd(m, memfd);
}

void devchan_build_access_channel(struct devchan_msg *m, uint64_t id,
				  uint32_t index, int sock)
{
	devchan_msg_init(m, DEVCHAN_MSG_ACCESS_CHANNEL, id);
	m->payload.access_channel.index = index;
	set_fd(m, sock);
}

void devchan_build_reset(struct devchan_msg *m, uint64_t id)
{
	devchan_msg_init(m, DEVCHAN_MSG_RESET, id);
}

void devchan_build_shm_map(struct devchan_msg *m, uint64_t id,
			   const struct devchan_shm_map *map, int fd)
{
	devchan_msg_init(m, DEVCHAN_MSG_SHM_MAP, id);
	m->payload.shm_map = *map;
	set_fd(m, fd);
}

static void build_del(struct devchan_msg *m, uint32_t type, uint64_t id,
		      uint32_t del_id)
{
	devchan_msg_init(m, type, id);
	m->payload.del.id = del_id;
}

void devchan_build_shm_unmap(struct devchan_msg *m, uint64_t id, uint32_t slot)
{
	build_del(m, DEVCHAN_MSG_SHM_UNMAP, id, slot);
}

void devchan_build_ioeventfd_add(struct devchan_msg *m, uint64_t id,
				 const struct devchan_ioeventfd_add *add,
				 int efd)
{
	devchan_msg_init(m, DEVCHAN_MSG_IOEVENTFD_ADD, id);
	m->payload.ioeventfd_add = *add;
	set_fd(m, efd);
}

void devchan_build_ioeventfd_del(struct devchan_msg *m, uint64_t id,
				 uint32_t ioeventfd_id)
{
	build_del(m, DEVCHAN_MSG_IOEVENTFD_DEL, id, ioeventfd_id);
}

void devchan_build_irqfd_add(struct devchan_msg *m, uint64_t id,
			     uint32_t irqfd_id, uint16_t vector, int efd)
{
	devchan_msg_init(m, DEVCHAN_MSG_IRQFD_ADD, id);
	m->payload.irqfd_add.id = irqfd_id;
	m->payload.irqfd_add.vector = vector;
	set_fd(m, efd);
}

void devchan_build_irqfd_del(struct devchan_msg *m, uint64_t id,
			     uint32_t irqfd_id)
{
	build_del(m, DEVCHAN_MSG_IRQFD_DEL, id, irqfd_id);
}

/* --- Access channels --------------------------------------------------------- */

int devchan_access_encode(struct devchan_access_cmd *c,
			  const struct devchan_access *a)
{
	uint8_t exp;

	switch (a->size) {
	case 1: exp = 0; break;
	case 2: exp = 1; break;
	case 4: exp = 2; break;
	case 8: exp = 3; break;
	default: return -EINVAL;
	}
	memset(c, 0, sizeof(*c));
	c->cmd = a->write ? DEVCHAN_ACCESS_WRITE : DEVCHAN_ACCESS_READ;
	c->info = exp;
	if (a->resp || !a->write)
		c->info |= DEVCHAN_ACCESS_RESP;
	c->region = a->region;
	c->user_data = a->user_data;
	c->offset = a->offset;
	c->data = a->write ? a->data : 0;
	return 0;
}

int devchan_access_check(const struct devchan_access_cmd *c, const char **why)
{
	unsigned int exp = c->info & DEVCHAN_ACCESS_SIZE_MASK;
	unsigned int size = 1u << (exp & 3);
	bool resp = c->info & DEVCHAN_ACCESS_RESP;

	if (c->cmd > DEVCHAN_ACCESS_WRITE)
		return BAD("access op not READ or WRITE");
	if (exp > DEVCHAN_ACCESS_MAX_SIZE_EXP)
		return BAD("size exponent above 3");
	if (c->info & ~(DEVCHAN_ACCESS_SIZE_MASK | DEVCHAN_ACCESS_RESP))
		return BAD("reserved info bits set");
	if (!all_zero(c->pad, sizeof(c->pad)))
		return BAD("pad not zero");
	if (c->region >= DEVCHAN_NUM_BARS && c->region != DEVCHAN_REGION_CONFIG)
		return BAD("region neither a BAR index nor config space");
	if (c->cmd == DEVCHAN_ACCESS_READ && !resp)
		return BAD("read without a response");
	if (c->cmd == DEVCHAN_ACCESS_READ && c->data)
		return BAD("read carries data");
	if (!fits_size(c->data, size))
		return BAD("write data wider than the access");
	if (!range_inside(c->offset, size, UINT64_MAX))
		return BAD("offset + size overflows");
	if (c->region == DEVCHAN_REGION_CONFIG &&
	    !range_inside(c->offset, size, DEVCHAN_CONFIG_SIZE))
		return BAD("access beyond config space");
	return 0;
}

int devchan_access_decode(const struct devchan_access_cmd *c,
			  struct devchan_access *a, const char **why)
{
	int r = devchan_access_check(c, why);

	if (r)
		return r;
	a->write = c->cmd == DEVCHAN_ACCESS_WRITE;
	a->resp = c->info & DEVCHAN_ACCESS_RESP;
	a->region = c->region;
	a->size = (uint8_t)(1u << (c->info & DEVCHAN_ACCESS_SIZE_MASK));
	a->offset = c->offset;
	a->data = c->data;
	a->user_data = c->user_data;
	return 0;
}

int devchan_access_check_device(const struct devchan_access *a,
				const struct devchan_device *dev,
				const char **why)
{
	const struct devchan_bar *b;

	if (a->region == DEVCHAN_REGION_CONFIG)
		return range_inside(a->offset, a->size, DEVCHAN_CONFIG_SIZE) ?
		       0 : BAD("access beyond config space");
	if (a->region >= DEVCHAN_NUM_BARS)
		return BAD("region neither a BAR index nor config space");
	b = &dev->bars[a->region];
	if (b->kind != DEVCHAN_BAR_KIND_REMOTE)
		return BAD("access to a BAR that is not REMOTE");
	if (!range_inside(a->offset, a->size, b->size))
		return BAD("access beyond the BAR");
	if (hits_msix(dev, a->region, a->offset, a->size))
		return BAD("access to the MSI-X table or PBA");
	return 0;
}

int devchan_access_resp_check(const struct devchan_access_resp *r,
			      const struct devchan_access *a, const char **why)
{
	if (!all_zero(r->pad, sizeof(r->pad)))
		return BAD("response pad not zero");
	if (a->write ? r->data != 0 : !fits_size(r->data, a->size))
		return BAD("response data wider than the access");
	return 0;
}

/* One 32-byte packet without fds, or -ECONNRESET / -EPROTO / -errno. */
static int recv_32(int sock, void *buf, const char **why)
{
	struct iovec iov = { .iov_base = buf, .iov_len = 32 };
	size_t len, nfds;
	int r;

	r = fd_recv_packet(sock, &iov, 1, &len, NULL, 0, &nfds);
	if (r == -ECONNRESET)
		return fault(why, r, "peer closed the channel");
	if (r == -EMSGSIZE)
		return PROTO("access packet longer than 32 bytes, or with fds");
	if (r)
		return fault(why, r, "recvmsg failed");
	if (len != 32)
		return PROTO("access packet shorter than 32 bytes");
	return 0;
}

int devchan_access_send_cmd(int sock, const struct devchan_access_cmd *c)
{
	return fd_send(sock, c, sizeof(*c), NULL, 0);
}

int devchan_access_recv_cmd(int sock, struct devchan_access *a,
			    const char **why)
{
	struct devchan_access_cmd c;
	int r;

	static_assert(sizeof(c) == 32, "access command");
	r = recv_32(sock, &c, why);
	if (r)
		return r;
	return devchan_access_decode(&c, a, why);
}

int devchan_access_send_resp(int sock, uint64_t data)
{
	struct devchan_access_resp resp = { .data = data };

	return fd_send(sock, &resp, sizeof(resp), NULL, 0);
}

int devchan_access_recv_resp(int sock, const struct devchan_access *a,
			     uint64_t *data, const char **why)
{
	struct devchan_access_resp resp;
	int r;

	static_assert(sizeof(resp) == 32, "access response");
	r = recv_32(sock, &resp, why);
	if (!r)
		r = devchan_access_resp_check(&resp, a, why);
	if (!r)
		*data = resp.data;
	return r;
}
