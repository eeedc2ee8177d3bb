/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One vhost-user message with its fds: parse and serialize it as bytes (for
 * a transport that carries messages as buffers), or receive and send it on
 * a socket (fds via SCM_RIGHTS).
 */
#ifndef COMMON_VU_MSG_H
#define COMMON_VU_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol/vhost_user.h"

struct vu_msg {
	struct vhost_user_hdr hdr;
	union vhost_user_payload payload;
	int fds[VHOST_USER_MAX_FDS];
	size_t nfds;
};

/* Bytes of the largest message: the header and the largest payload. */
#define VU_MSG_MAX_LEN	(sizeof(struct vhost_user_hdr) + VHOST_USER_PAYLOAD_MAX)

/* Empty message for request, no fds (all -1). */
void vu_msg_init(struct vu_msg *m, uint32_t request);

/*
 * Parses one whole message from buf[0..len): no fds (nfds 0, all -1).
 * Returns 0 or -EPROTO when len is shorter than a header, the header is
 * malformed (bad version, size > VHOST_USER_PAYLOAD_MAX), len is not exactly
 * header + hdr.size (truncated or trailing bytes), or a request (REPLY flag
 * clear) is unknown or its payload size is not what vu_msg_check_size wants.
 */
int vu_msg_parse(struct vu_msg *m, const void *buf, size_t len);

/*
 * Writes header + hdr.size payload bytes to buf (cap bytes); fds are the
 * transport's business. Returns the length, -EINVAL if hdr.size exceeds
 * VHOST_USER_PAYLOAD_MAX, or -ENOBUFS if cap is too small.
 */
ssize_t vu_msg_serialize(const struct vu_msg *m, void *buf, size_t cap);

/*
 * Reads one message: the header (with any fds), then hdr.size payload bytes.
 * Returns 0; -ECONNRESET on orderly EOF before a header; -EPROTO when the
 * header is malformed (bad version, size > VHOST_USER_PAYLOAD_MAX, or
 * truncated); -EMSGSIZE on too many fds; other -errno. On error no fd is left
 * open. After -EMSGSIZE the header and payload were still read (m holds them,
 * without fds), so the caller may reply with an error and carry on.
 */
int vu_msg_recv(int sock, struct vu_msg *m);

/*
 * Writes the message (vu_msg_serialize) with m->fds. 0, -EINVAL for a bad
 * size or too many fds, or -errno.
 */
int vu_msg_send(int sock, const struct vu_msg *m);

/* Closes the message's fds that the handler did not take (set to -1). */
void vu_msg_close_fds(struct vu_msg *m);

/* Takes fd i out of the message (the caller now owns it); -1 if none. */
int vu_msg_take_fd(struct vu_msg *m, size_t i);

/*
 * Builds the reply to req in place: flags VHOST_USER_REPLY_FLAGS, size bytes.
 * Closes the request fds still in m, so none travel back with the reply; set
 * reply fds (e.g. GET_INFLIGHT_FD's) after this call.
 */
void vu_msg_make_reply(struct vu_msg *m, uint32_t size);

/* "SET_MEM_TABLE" etc.; "UNKNOWN" outside the table. */
const char *vu_request_name(uint32_t request);

/*
 * Exact or minimum payload size a front-end request must carry, from the
 * spec: returns true and sets *size / *exact; false for unknown requests.
 * SET_MEM_TABLE and GET/SET_CONFIG are variable (exact = false, size = min).
 */
bool vu_request_payload_size(uint32_t request, size_t *size, bool *exact);

/*
 * Does request m carry the payload size vu_request_payload_size wants?
 * 0, or -EPROTO (logged) for a wrong size or an unknown request.
 */
int vu_msg_check_size(const struct vu_msg *m);

#endif /* COMMON_VU_MSG_H */
