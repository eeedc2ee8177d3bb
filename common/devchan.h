/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device channel codec (protocol/devchan.h, protocol/devchan.md): one
 * control message with its fds over SOCK_SEQPACKET, the checks a receiver
 * makes, builders for every message, and access-channel commands.
 *
 * Errors, as negative errno values, come with a static string naming the
 * fault ("why"), for a log line such as
 *	pr_warn("devchan: bad %s: %s", devchan_msg_name(m.hdr.type), why);
 *	-ECONNRESET	the peer closed the socket
 *	-EMSGSIZE	a packet longer than any message, or more than
 *			DEVCHAN_MAX_FDS fds
 *	-EPROTO		framing: short header, size not the one the type
 *			takes, unknown type or one not sent in this direction,
 *			wrong number of fds, id 0
 *	-EBADMSG	a field out of range (enum, BAR index, overflow, pad)
 * A receiver that gets any of them closes the channel.
 */
#ifndef COMMON_DEVCHAN_H
#define COMMON_DEVCHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/devchan.h"

/* Who sent a message: the types each side may send differ. */
enum devchan_side {
	DEVCHAN_FROM_VMM,
	DEVCHAN_FROM_PROXYD,
};

struct devchan_msg {
	struct devchan_hdr hdr;
	union devchan_payload payload;
	int fds[DEVCHAN_MAX_FDS];	/* -1 where none */
	size_t nfds;
};

/*
 * An empty message of type with id, hdr.size the size the type takes,
 * payload zero, no fds (all -1).
 */
void devchan_msg_init(struct devchan_msg *m, uint32_t type, uint64_t id);

/*
 * Stateless checks of a message from side `from` (framing, fd count, every
 * field); 0 or -EPROTO/-EBADMSG with *why set. Never closes fds.
 */
int devchan_msg_check(const struct devchan_msg *m, enum devchan_side from,
		      const char **why);

/* The DEVICE payload alone (part of devchan_msg_check). */
int devchan_device_check(const struct devchan_device *dev, const char **why);

/*
 * Checks that need the device (the vmm's view after the handshake): an
 * SHM_MAP inside an SHM BAR, an IOEVENTFD_ADD inside a REMOTE BAR and off
 * the MSI-X table and PBA, an IRQFD_ADD vector below msix.nvectors. Other
 * types pass. 0 or -EBADMSG with *why set.
 */
int devchan_msg_check_device(const struct devchan_msg *m,
			     const struct devchan_device *dev, const char **why);

/*
 * Sends m (after devchan_msg_check for side from: a bad message is not
 * sent, -EPROTO/-EBADMSG with *why) in one packet with its fds. The fds
 * stay the caller's: never closed here. 0 or -errno.
 */
int devchan_send(int sock, const struct devchan_msg *m, enum devchan_side from,
		 const char **why);

/*
 * Receives one packet and checks it as sent by side from. 0, or an error
 * above with *why set; on error no fd received is left open and m holds
 * none. On success the caller owns m->fds (devchan_msg_take_fd /
 * devchan_msg_close_fds).
 */
int devchan_recv(int sock, struct devchan_msg *m, enum devchan_side from,
		 const char **why);

/* Closes the fds still in m. */
void devchan_msg_close_fds(struct devchan_msg *m);
/* Takes fd i out of m (the caller owns it now); -1 if none. */
int devchan_msg_take_fd(struct devchan_msg *m, size_t i);

/* "SHM_MAP" etc.; "UNKNOWN" for a type outside the protocol. */
const char *devchan_msg_name(uint32_t type);

/*
 * Builders. Each fills m completely (devchan_msg_init first). A message
 * that carries an fd borrows it: m->fds[0] = fd, and devchan_send leaves
 * it open. The builders do not check; devchan_send does.
 */
/* err: 0 or an errno, either sign. */
void devchan_build_reply(struct devchan_msg *m, uint64_t request_id, int err);
void devchan_build_hello(struct devchan_msg *m, uint64_t id,
			 uint32_t nr_access_channels);
void devchan_build_device(struct devchan_msg *m, uint64_t id,
			  const struct devchan_device *dev);
void devchan_build_ram_add(struct devchan_msg *m, uint64_t id, uint64_t gpa,
			   uint64_t size, uint64_t fd_offset, int memfd);
void devchan_build_access_channel(struct devchan_msg *m, uint64_t id,
				  uint32_t index, int sock);
void devchan_build_reset(struct devchan_msg *m, uint64_t id);
void devchan_build_shm_map(struct devchan_msg *m, uint64_t id,
			   const struct devchan_shm_map *map, int fd);
void devchan_build_shm_unmap(struct devchan_msg *m, uint64_t id, uint32_t slot);
void devchan_build_ioeventfd_add(struct devchan_msg *m, uint64_t id,
				 const struct devchan_ioeventfd_add *add,
				 int efd);
void devchan_build_ioeventfd_del(struct devchan_msg *m, uint64_t id,
				 uint32_t ioeventfd_id);
void devchan_build_irqfd_add(struct devchan_msg *m, uint64_t id,
			     uint32_t irqfd_id, uint16_t vector, int efd);
void devchan_build_irqfd_del(struct devchan_msg *m, uint64_t id,
			     uint32_t irqfd_id);

/* --- Access channels ------------------------------------------------------ */

/* An access command decoded. */
struct devchan_access {
	bool write;
	bool resp;		/* the vmm waits for a response */
	uint8_t region;		/* BAR index or DEVCHAN_REGION_CONFIG */
	uint8_t size;		/* 1, 2, 4 or 8 */
	uint64_t offset;
	uint64_t data;
	uint64_t user_data;
};

/*
 * Encodes a into c (reads always ask for a response). -EINVAL if size is not
 * 1, 2, 4 or 8; c is not checked further (devchan_access_check is).
 */
int devchan_access_encode(struct devchan_access_cmd *c,
			  const struct devchan_access *a);

/*
 * Checks c: op, size exponent <= 3, reserved info bits and pad 0, region a
 * BAR index or config, a read waits for a response and has data 0, write
 * data fits the size, offset + size does not overflow (and stays inside
 * config space for config). 0 or -EBADMSG with *why.
 */
int devchan_access_check(const struct devchan_access_cmd *c, const char **why);

/* devchan_access_check, then decodes c into a. */
int devchan_access_decode(const struct devchan_access_cmd *c,
			  struct devchan_access *a, const char **why);

/*
 * Checks a decoded access against the device (proxyd's side): the region
 * is a REMOTE BAR (or config space) and offset + size lies inside it.
 * 0 or -EBADMSG with *why.
 */
int devchan_access_check_device(const struct devchan_access *a,
				const struct devchan_device *dev,
				const char **why);

/* Checks a response to access a: pad 0, data fits the size (0 after a write). */
int devchan_access_resp_check(const struct devchan_access_resp *r,
			      const struct devchan_access *a, const char **why);

/*
 * One command or response per packet on an access channel. Send: 0 or
 * -errno. Receive: 0, -ECONNRESET on EOF, -EPROTO for a packet of another
 * size or one carrying fds (closed), or -errno; then the *_check above (a
 * bad command or response is an error as well, with *why).
 */
int devchan_access_send_cmd(int sock, const struct devchan_access_cmd *c);
int devchan_access_recv_cmd(int sock, struct devchan_access *a,
			    const char **why);
int devchan_access_send_resp(int sock, uint64_t data);
int devchan_access_recv_resp(int sock, const struct devchan_access *a,
			     uint64_t *data, const char **why);

#endif /* COMMON_DEVCHAN_H */
