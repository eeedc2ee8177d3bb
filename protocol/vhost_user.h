/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-user wire format (QEMU docs/interop/vhost-user.rst).
 * All fields are in host byte order: vhost-user only runs over AF_UNIX.
 */
#ifndef PROTOCOL_VHOST_USER_H
#define PROTOCOL_VHOST_USER_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Front-end -> back-end requests. */
enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_REQUEST_MAX,
};

/* Back-end -> front-end requests (on the SET_BACKEND_REQ_FD channel). */
enum vhost_user_backend_request {
	VHOST_USER_BACKEND_IOTLB_MSG = 1,
	VHOST_USER_BACKEND_CONFIG_CHANGE_MSG = 2,
	VHOST_USER_BACKEND_VRING_HOST_NOTIFIER_MSG = 3,
	VHOST_USER_BACKEND_VRING_CALL = 4,
	VHOST_USER_BACKEND_VRING_ERR = 5,
};

/* Header flags. */
#define VHOST_USER_VERSION		0x1u
#define VHOST_USER_VERSION_MASK		0x3u
#define VHOST_USER_REPLY_MASK		(1u << 2)
#define VHOST_USER_NEED_REPLY_MASK	(1u << 3)
/* The only flags value QEMU 7.2 accepts on a reply. */
#define VHOST_USER_REPLY_FLAGS		(VHOST_USER_VERSION | VHOST_USER_REPLY_MASK)

/* Virtio feature bits that only vhost(-user) defines. */
#define VHOST_F_LOG_ALL			26
#define VHOST_USER_F_PROTOCOL_FEATURES	30

enum vhost_user_protocol_feature {
	VHOST_USER_PROTOCOL_F_MQ = 0,
	VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,
	VHOST_USER_PROTOCOL_F_RARP = 2,
	VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,
	VHOST_USER_PROTOCOL_F_MTU = 4,
	VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,
	VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,
	VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,
	VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,
	VHOST_USER_PROTOCOL_F_CONFIG = 9,
	VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,
	VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,
	VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,
	VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,
	VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14,
	VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,
	VHOST_USER_PROTOCOL_F_STATUS = 16,
};

/* At most this many fds ride on one message (SCM_RIGHTS). */
#define VHOST_USER_MAX_FDS		8
/* SET_MEM_TABLE carries at most this many regions. */
#define VHOST_USER_MEM_REGIONS_MAX	8

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;		/* payload bytes that follow */
} __attribute__((packed));
static_assert(sizeof(struct vhost_user_hdr) == 12, "vhost-user header");

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
};
static_assert(sizeof(struct vhost_user_vring_state) == 8, "vring state");

#define VHOST_VRING_F_LOG	0

struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};
static_assert(sizeof(struct vhost_user_vring_addr) == 40, "vring addr");

struct vhost_user_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};
static_assert(sizeof(struct vhost_user_mem_region) == 32, "memory region");

/* SET_MEM_TABLE; senders put only nregions entries on the wire. */
struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_mem_region regions[VHOST_USER_MEM_REGIONS_MAX];
};
static_assert(offsetof(struct vhost_user_memory, regions) == 8, "memory");
#define VHOST_USER_MEMORY_SIZE(n) \
	(offsetof(struct vhost_user_memory, regions) + \
	 (n) * sizeof(struct vhost_user_mem_region))

/* ADD_MEM_REG / REM_MEM_REG. */
struct vhost_user_mem_reg {
	uint64_t padding;
	struct vhost_user_mem_region region;
};
static_assert(sizeof(struct vhost_user_mem_reg) == 40, "single memory region");

struct vhost_user_log {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};
static_assert(sizeof(struct vhost_user_log) == 16, "log");

#define VHOST_USER_CONFIG_HDR_SIZE	12
#define VHOST_USER_CONFIG_MAX		256
#define VHOST_SET_CONFIG_TYPE_FRONTEND	0
#define VHOST_SET_CONFIG_TYPE_MIGRATION	1

struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_CONFIG_MAX];
};
static_assert(offsetof(struct vhost_user_config, region) ==
	      VHOST_USER_CONFIG_HDR_SIZE, "config header");

struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
	uint32_t padding;	/* QEMU sends sizeof() of its unpacked struct: 24 */
};
static_assert(sizeof(struct vhost_user_inflight) == 24, "inflight");

/* Device IOTLB message (IOTLB_MSG), as in linux/vhost_types.h. */
struct vhost_user_iotlb {
	uint64_t iova;
	uint64_t size;
	uint64_t uaddr;
	uint8_t perm;
	uint8_t type;
	uint8_t padding[6];
};
static_assert(sizeof(struct vhost_user_iotlb) == 32, "iotlb");

/* u64 payload of SET_VRING_KICK/CALL/ERR. */
#define VHOST_USER_VRING_IDX_MASK	0xffu
#define VHOST_USER_VRING_NOFD_MASK	(1u << 8)

union vhost_user_payload {
	uint64_t u64;
	struct vhost_user_vring_state state;
	struct vhost_user_vring_addr addr;
	struct vhost_user_memory memory;
	struct vhost_user_mem_reg mem_reg;
	struct vhost_user_log log;
	struct vhost_user_config config;
	struct vhost_user_inflight inflight;
	struct vhost_user_iotlb iotlb;
};

/* The largest payload any request or reply may carry. */
#define VHOST_USER_PAYLOAD_MAX	sizeof(union vhost_user_payload)
static_assert(VHOST_USER_PAYLOAD_MAX >= VHOST_USER_MEMORY_SIZE(8) &&
	      VHOST_USER_PAYLOAD_MAX >= sizeof(struct vhost_user_config),
	      "payload max");

#endif /* PROTOCOL_VHOST_USER_H */
