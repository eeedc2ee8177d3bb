/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device channel between the vmm and vvu-proxyd: the wire format of a
 * generic "remote PCI device" whose model lives in another process.
 * protocol/devchan.md beside this file is the specification: who sends what,
 * in which order, and what a receiver must check.
 *
 * Two kinds of AF_UNIX SOCK_SEQPACKET sockets, one message per packet:
 *  - the control channel (one per device): devchan_hdr + payload, with
 *    SCM_RIGHTS fds on the same packet;
 *  - access channels (one per vCPU): 32-byte devchan_access_cmd from the
 *    vmm, 32-byte devchan_access_resp back, ioregionfd-style.
 *
 * All fields are little-endian, naturally aligned, with explicit padding
 * that senders zero and receivers check.
 */
#ifndef PROTOCOL_DEVCHAN_H
#define PROTOCOL_DEVCHAN_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* The structs below are the wire: host order must be little-endian. */
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	      "devchan structs are little-endian on the wire");

#define DEVCHAN_MAGIC		0x4e484344u	/* "DCHN" as le32 bytes */
#define DEVCHAN_VERSION		1u

/* At most this many fds ride on one control message. */
#define DEVCHAN_MAX_FDS		8
#define DEVCHAN_NUM_BARS	6
/* The access-command region that means configuration space. */
#define DEVCHAN_REGION_CONFIG	0xffu
#define DEVCHAN_CONFIG_SIZE	256
/* MSI-X allows 2048 vectors. */
#define DEVCHAN_MAX_VECTORS	2048u
/* HELLO: one access channel per vCPU. */
#define DEVCHAN_MAX_ACCESS_CHANNELS	256u
/* Id spaces the proxy chooses from (exclusive upper bounds). */
#define DEVCHAN_MAX_SHM_SLOTS	128u
#define DEVCHAN_MAX_IOEVENTFDS	256u
#define DEVCHAN_MAX_IRQFDS	256u
/* RAM_ADD and SHM_MAP: address, size and file offset granularity. */
#define DEVCHAN_PAGE_SIZE	4096u
/* Largest status a REPLY carries (errno values are below 4096). */
#define DEVCHAN_MAX_ERRNO	4095u

/* Control message types. */
enum devchan_msg_type {
	DEVCHAN_MSG_NONE = 0,		/* never valid */
	DEVCHAN_MSG_REPLY = 1,		/* both ways */
	DEVCHAN_MSG_HELLO = 2,		/* vmm -> proxyd */
	DEVCHAN_MSG_DEVICE = 3,		/* proxyd -> vmm, answers HELLO */
	DEVCHAN_MSG_RAM_ADD = 4,	/* vmm -> proxyd, + memfd */
	DEVCHAN_MSG_ACCESS_CHANNEL = 5,	/* vmm -> proxyd, + socket */
	DEVCHAN_MSG_RESET = 6,		/* vmm -> proxyd */
	DEVCHAN_MSG_SHM_MAP = 7,	/* proxyd -> vmm, + fd */
	DEVCHAN_MSG_SHM_UNMAP = 8,	/* proxyd -> vmm */
	DEVCHAN_MSG_IOEVENTFD_ADD = 9,	/* proxyd -> vmm, + eventfd */
	DEVCHAN_MSG_IOEVENTFD_DEL = 10,	/* proxyd -> vmm */
	DEVCHAN_MSG_IRQFD_ADD = 11,	/* proxyd -> vmm, + eventfd */
	DEVCHAN_MSG_IRQFD_DEL = 12,	/* proxyd -> vmm */
	DEVCHAN_MSG_TYPE_MAX,
};

struct devchan_hdr {
	uint32_t type;		/* enum devchan_msg_type */
	uint32_t size;		/* payload bytes after the header */
	uint64_t id;		/* request id, never 0; a REPLY's is the request's */
};
static_assert(sizeof(struct devchan_hdr) == 16, "devchan header");

/* REPLY: the answer to every request except HELLO (answered by DEVICE). */
struct devchan_reply {
	uint64_t request_id;	/* = the request's hdr.id (and this hdr.id) */
	uint32_t status;	/* 0, or a positive errno */
	uint32_t pad;
};
static_assert(sizeof(struct devchan_reply) == 16, "reply");

/* HELLO: the first message on a control channel. Frozen in every version. */
struct devchan_hello {
	uint32_t magic;			/* DEVCHAN_MAGIC */
	uint32_t version;		/* highest version the vmm speaks, >= 1 */
	uint32_t nr_access_channels;	/* 1..DEVCHAN_MAX_ACCESS_CHANNELS */
	uint32_t flags;			/* none defined: 0 */
};
static_assert(sizeof(struct devchan_hello) == 16, "hello");

/* BAR types, as the PCI BAR register encodes them. */
enum devchan_bar_type {
	DEVCHAN_BAR_NONE = 0,
	DEVCHAN_BAR_MEM32 = 1,
	DEVCHAN_BAR_MEM64 = 2,		/* takes this BAR and the next */
};

/* What stands in a BAR. */
enum devchan_bar_kind {
	DEVCHAN_BAR_KIND_NONE = 0,	/* only with DEVCHAN_BAR_NONE */
	DEVCHAN_BAR_KIND_REMOTE = 1,	/* accesses go over access channels */
	DEVCHAN_BAR_KIND_SHM = 2,	/* SHM_MAP memory slots; nothing traps */
	DEVCHAN_BAR_KIND_MSIX = 3,	/* only the vmm's MSI-X table and/or PBA */
};

#define DEVCHAN_BAR_F_PREFETCH	0x01u
#define DEVCHAN_BAR_FLAGS_ALL	DEVCHAN_BAR_F_PREFETCH

/* BAR sizes: powers of two in [DEVCHAN_BAR_MIN_SIZE, max of the type]. */
#define DEVCHAN_BAR_MIN_SIZE	4096ull
#define DEVCHAN_BAR_MAX_SIZE32	(1ull << 31)
#define DEVCHAN_BAR_MAX_SIZE64	(1ull << 46)

struct devchan_bar {
	uint8_t type;		/* enum devchan_bar_type */
	uint8_t flags;		/* DEVCHAN_BAR_F_* */
	uint8_t kind;		/* enum devchan_bar_kind */
	uint8_t pad[5];
	uint64_t size;		/* bytes; 0 for DEVCHAN_BAR_NONE */
};
static_assert(sizeof(struct devchan_bar) == 16, "bar");

/* Where the vmm puts the MSI-X table and PBA; nvectors 0: no MSI-X. */
struct devchan_msix {
	uint16_t nvectors;	/* 0..DEVCHAN_MAX_VECTORS */
	uint8_t table_bar;
	uint8_t pba_bar;
	uint32_t table_off;	/* 8-byte aligned; table: 16 bytes a vector */
	uint32_t pba_off;	/* 8-byte aligned; PBA: 8 bytes per 64 vectors */
	uint32_t pad;
};
static_assert(sizeof(struct devchan_msix) == 16, "msix");

/* Size of the MSI-X capability the vmm adds after the vendor ones. */
#define DEVCHAN_MSIX_CAP_SIZE	12
/*
 * Vendor capabilities sit in config space from DEVCHAN_CAPS_START on, back
 * to back; with the vmm's MSI-X capability after them and the last dword
 * kept free (so a next pointer never wraps), they take at most this much.
 */
#define DEVCHAN_CAPS_START	0x40
#define DEVCHAN_CAPS_MAX	(DEVCHAN_CONFIG_SIZE - DEVCHAN_CAPS_START - \
				 DEVCHAN_MSIX_CAP_SIZE - 4)
#define DEVCHAN_PCI_CAP_ID_VNDR	0x09

/* DEVICE: the device's identity and layout, proxyd's answer to HELLO. */
struct devchan_device {
	uint32_t version;	/* the version both speak: DEVCHAN_VERSION */
	uint16_t vendor_id;	/* not 0 nor 0xffff */
	uint16_t device_id;
	uint16_t subsys_vendor_id;
	uint16_t subsys_id;
	uint8_t class_code;
	uint8_t subclass;
	uint8_t prog_if;
	uint8_t revision;
	struct devchan_bar bars[DEVCHAN_NUM_BARS];
	struct devchan_msix msix;
	uint32_t caps_len;	/* bytes of caps[] in use, <= DEVCHAN_CAPS_MAX */
	uint32_t pad;
	/*
	 * Vendor capabilities (ID 0x09) back to back, each {u8 id; u8 next
	 * (0: the vmm links them); u8 cap_len (a multiple of 4, >= 4); ...}.
	 * Capability at caps[i] lands at config offset DEVCHAN_CAPS_START + i.
	 * Bytes from caps_len on are 0.
	 */
	uint8_t caps[DEVCHAN_CAPS_MAX];
};
static_assert(offsetof(struct devchan_device, bars) == 16, "device bars");
static_assert(offsetof(struct devchan_device, caps) == 136, "device caps");
static_assert(sizeof(struct devchan_device) == 312, "device");

/* RAM_ADD + 1 memfd: device-VM RAM [gpa, gpa + size) at fd_offset. */
struct devchan_ram_add {
	uint64_t gpa;
	uint64_t size;
	uint64_t fd_offset;
};
static_assert(sizeof(struct devchan_ram_add) == 24, "ram add");

/* ACCESS_CHANNEL + 1 SOCK_SEQPACKET socket: the channel of vCPU index. */
struct devchan_access_channel {
	uint32_t index;		/* < HELLO's nr_access_channels */
	uint32_t flags;		/* none defined: 0 */
};
static_assert(sizeof(struct devchan_access_channel) == 8, "access channel");

#define DEVCHAN_SHM_F_READONLY	0x01u
#define DEVCHAN_SHM_FLAGS_ALL	DEVCHAN_SHM_F_READONLY

/* SHM_MAP + 1 fd: fd [fd_offset, +size) at bar_offset of SHM BAR bar. */
struct devchan_shm_map {
	uint32_t slot;		/* < DEVCHAN_MAX_SHM_SLOTS */
	uint8_t bar;
	uint8_t flags;		/* DEVCHAN_SHM_F_* */
	uint8_t pad[2];
	uint64_t bar_offset;
	uint64_t size;
	uint64_t fd_offset;
};
static_assert(sizeof(struct devchan_shm_map) == 32, "shm map");

/* SHM_UNMAP, IOEVENTFD_DEL, IRQFD_DEL: the id given at creation. */
struct devchan_del {
	uint32_t id;
	uint32_t pad;
};
static_assert(sizeof(struct devchan_del) == 8, "del");

#define DEVCHAN_IOEVENTFD_F_DATAMATCH	0x01u
#define DEVCHAN_IOEVENTFD_FLAGS_ALL	DEVCHAN_IOEVENTFD_F_DATAMATCH

/*
 * IOEVENTFD_ADD + 1 eventfd: a guest write of len bytes at offset of
 * REMOTE BAR bar signals the eventfd instead of crossing an access channel
 * (len 0: a write of any size; no datamatch then).
 */
struct devchan_ioeventfd_add {
	uint32_t id;		/* < DEVCHAN_MAX_IOEVENTFDS */
	uint8_t bar;
	uint8_t len;		/* 0, 1, 2, 4 or 8 */
	uint8_t flags;		/* DEVCHAN_IOEVENTFD_F_* */
	uint8_t pad;
	uint64_t offset;
	uint64_t datamatch;	/* with F_DATAMATCH: fits in len bytes; else 0 */
};
static_assert(sizeof(struct devchan_ioeventfd_add) == 24, "ioeventfd add");

/* IRQFD_ADD + 1 eventfd: signalling it raises MSI-X vector vector. */
struct devchan_irqfd_add {
	uint32_t id;		/* < DEVCHAN_MAX_IRQFDS */
	uint16_t vector;	/* < DEVICE's msix.nvectors (<= 2048) */
	uint16_t pad;
};
static_assert(sizeof(struct devchan_irqfd_add) == 8, "irqfd add");

union devchan_payload {
	struct devchan_reply reply;
	struct devchan_hello hello;
	struct devchan_device device;
	struct devchan_ram_add ram_add;
	struct devchan_access_channel access_channel;
	struct devchan_shm_map shm_map;
	struct devchan_del del;
	struct devchan_ioeventfd_add ioeventfd_add;
	struct devchan_irqfd_add irqfd_add;
};

/* The largest control message; a longer packet is bad. */
#define DEVCHAN_MSG_MAX	(sizeof(struct devchan_hdr) + sizeof(union devchan_payload))

/* --- Access channels ------------------------------------------------------ */

enum devchan_access_op {
	DEVCHAN_ACCESS_READ = 0,
	DEVCHAN_ACCESS_WRITE = 1,
};

/*
 * info: ioregionfd's bitfield byte spelled out. Bits 0-3: size exponent
 * (access of 1 << e bytes, e <= 3); bit 4: the vmm waits for a response
 * (always set on reads; clear on a posted write); bits 5-7: 0.
 */
#define DEVCHAN_ACCESS_SIZE_MASK	0x0fu
#define DEVCHAN_ACCESS_RESP		0x10u
#define DEVCHAN_ACCESS_MAX_SIZE_EXP	3u

struct devchan_access_cmd {
	uint8_t cmd;		/* enum devchan_access_op */
	uint8_t info;		/* size exponent, DEVCHAN_ACCESS_RESP */
	uint8_t region;		/* BAR index 0-5, DEVCHAN_REGION_CONFIG */
	uint8_t pad[5];
	uint64_t user_data;	/* the vmm's; proxyd ignores it */
	uint64_t offset;	/* in the BAR, or in config space */
	uint64_t data;		/* write data (low size bytes); 0 on reads */
};
static_assert(sizeof(struct devchan_access_cmd) == 32, "access command");
static_assert(offsetof(struct devchan_access_cmd, user_data) == 8, "user_data");

struct devchan_access_resp {
	uint64_t data;		/* read data (low size bytes); 0 after writes */
	uint8_t pad[24];
};
static_assert(sizeof(struct devchan_access_resp) == 32, "access response");

#endif /* PROTOCOL_DEVCHAN_H */
