/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vhost-user front-end side of the protocol: connect, negotiate, hand
 * over memory and rings, start and stop queues. Used by the vmm for
 * --vhost-user-blk and by the test harness. Every reply is validated as
 * strictly as QEMU does (flags exactly VHOST_USER_REPLY_FLAGS, same request,
 * expected size); anything else is -EPROTO with a log line naming the fault.
 */
#ifndef COMMON_VU_FRONTEND_H
#define COMMON_VU_FRONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/memtable.h"
#include "common/vu_msg.h"

struct vu_frontend {
	int sock;
	uint64_t features;		/* back-end's GET_FEATURES */
	uint64_t protocol_features;	/* negotiated */
	uint32_t queue_num;		/* GET_QUEUE_NUM, 1 without MQ */
	uint64_t max_mem_slots;		/* GET_MAX_MEM_SLOTS, 0 without the feature */
};

/* Connects to a UNIX socket path; 0 or -errno. */
int vu_fe_connect(struct vu_frontend *fe, const char *path);
void vu_fe_close(struct vu_frontend *fe);

/*
 * The connect sequence: GET_FEATURES, GET_PROTOCOL_FEATURES,
 * SET_PROTOCOL_FEATURES (offered & want_protocol), GET_QUEUE_NUM,
 * GET_MAX_MEM_SLOTS (if negotiated), SET_OWNER. -ENOTSUP if the back-end lacks
 * PROTOCOL_FEATURES or a protocol feature in required_protocol.
 */
int vu_fe_negotiate(struct vu_frontend *fe, uint64_t want_protocol,
		    uint64_t required_protocol);

int vu_fe_set_features(struct vu_frontend *fe, uint64_t features);
int vu_fe_get_config(struct vu_frontend *fe, uint32_t offset, void *buf,
		     uint32_t size);

/*
 * SET_MEM_TABLE with n <= 8 regions, or ADD_MEM_REG / REM_MEM_REG: each
 * region's gpa, size, uva and fd_offset, with its fd (lent).
 */
int vu_fe_set_mem_table(struct vu_frontend *fe, const struct mem_region *r,
			unsigned int n);
int vu_fe_add_mem_reg(struct vu_frontend *fe, const struct mem_region *r);
int vu_fe_rem_mem_reg(struct vu_frontend *fe, const struct mem_region *r);

/* SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR (user addresses). */
int vu_fe_set_vring(struct vu_frontend *fe, uint32_t index, uint16_t num,
		    uint16_t base, uint64_t desc_uva, uint64_t avail_uva,
		    uint64_t used_uva, bool log);
/* SET_VRING_KICK / CALL / ERR; fd -1 sends NOFD. */
int vu_fe_set_vring_fd(struct vu_frontend *fe, uint32_t request,
		       uint32_t index, int fd);
int vu_fe_set_vring_enable(struct vu_frontend *fe, uint32_t index, bool on);
int vu_fe_get_vring_base(struct vu_frontend *fe, uint32_t index, uint16_t *base);

/*
 * Sends m; if want_reply, receives the reply into m and validates flags,
 * request and reply_size (exact). With REPLY_ACK negotiated and no reply
 * expected, sets NEED_REPLY and checks the ack (u64 0). 0 or -errno.
 */
int vu_fe_request(struct vu_frontend *fe, struct vu_msg *m, bool want_reply,
		  size_t reply_size);

#endif /* COMMON_VU_FRONTEND_H */
