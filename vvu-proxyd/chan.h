/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device channel, proxyd's side (protocol/devchan.md): the control
 * channel to one vmm, its access channels, and the requests proxyd makes
 * (proxy_chan_host_ops), whose replies come back in order.
 */
#ifndef VVU_PROXYD_CHAN_H
#define VVU_PROXYD_CHAN_H

#include "vvu-proxyd/proxyd.h"

/* Requests in flight before proxyd gives up on a vmm that does not answer. */
#define CHAN_MAX_PENDING	4096

struct proxy_access_chan {
	struct proxy *p;
	int fd;
	struct event *ev;
};

struct proxy_pending {
	uint64_t id;
	uint32_t type;
	uint32_t sib_gen;	/* the session it was for; 0: the driver's */
};

struct proxy_chan {
	const char *path;		/* --control: unlinked once connected */
	int listen_fd;
	struct event *listen_ev;
	int ctrl_fd;
	struct event *ctrl_ev;
	bool hello_done;
	uint32_t nr_access;
	struct proxy_access_chan acc[DEVCHAN_MAX_ACCESS_CHANNELS];
	uint64_t next_id;
	struct proxy_pending pending[CHAN_MAX_PENDING];
	unsigned int pend_head, pend_count;
	int exit_code;			/* why the loop ended: 0 the vmm left */
	/* Called once the vmm is connected (main enters the sandbox). */
	int (*connected)(struct proxy *p);
};

extern const struct proxy_host_ops proxy_chan_host_ops;

void chan_init(struct proxy *p, struct proxy_chan *c);
/* --control PATH: listen for the vmm. 0 or -errno (logged). */
int chan_listen(struct proxy *p, const char *path);
/* --control-fd N: an already connected end. 0 or -errno. */
int chan_attach(struct proxy *p, int fd);
void chan_close(struct proxy *p);

#endif /* VVU_PROXYD_CHAN_H */
