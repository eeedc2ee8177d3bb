/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vmm's side of the device channel (protocol/devchan.md), for programs
 * that host a vvu-proxyd device without a VM: the handshake (HELLO, DEVICE,
 * RAM_ADD of one memfd, one access channel), proxyd's requests answered and
 * recorded (SHM_MAP/UNMAP, IOEVENTFD_ADD/DEL, IRQFD_ADD/DEL), guest
 * accesses over the access channel, and KVM's part: a write where an
 * ioeventfd is bound signals its eventfd instead.
 *
 * Synchronous and single-threaded: devchan_host_recv() answers one message
 * (call it when the control socket is readable, from poll or an event
 * loop); devchan_host_pump() and the requests poll for themselves.
 */
#ifndef COMMON_DEVCHAN_HOST_H
#define COMMON_DEVCHAN_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "common/devchan.h"

struct devchan_host_ioeventfd {
	bool used;
	struct devchan_ioeventfd_add add;
	int fd;
};

struct devchan_host_irqfd {
	bool used;
	uint16_t vector;
	int fd;
};

struct devchan_host_shm {
	bool used;
	struct devchan_shm_map map;
	int fd;
};

/*
 * What a user does when proxyd changes a binding. The adds run after every
 * check, before the record is made: a positive errno refuses the request
 * (nothing recorded, the fd closed). The deletes run before the record's fd
 * is closed. fds stay the library's: a hook never closes or keeps them.
 */
struct devchan_host_hooks {
	/* First for every request: a positive errno refuses it, uncounted. */
	int (*filter)(void *arg, const struct devchan_msg *m);
	int (*shm_map)(void *arg, const struct devchan_host_shm *s, int fd);
	void (*shm_unmap)(void *arg, const struct devchan_host_shm *s);
	int (*irqfd_add)(void *arg, uint32_t id, uint16_t vector, int fd);
	void (*irqfd_del)(void *arg, uint32_t id, const struct devchan_host_irqfd *q);
};

struct devchan_host {
	int ctrl;			/* control channel, -1 if none */
	int acc;			/* access channel 0, -1 if none */
	struct devchan_device dev;
	bool have_dev;
	uint64_t next_id;
	uint64_t wait_id;		/* our request in flight, 0 if none */
	bool wait_done;
	uint32_t wait_status;
	unsigned int refusals;		/* proxyd requests refused by the checks */
	unsigned int shm_maps, shm_unmaps;
	const struct devchan_host_hooks *hooks;
	void *hook_arg;
	struct devchan_host_ioeventfd ioev[DEVCHAN_MAX_IOEVENTFDS];
	struct devchan_host_irqfd irq[DEVCHAN_MAX_IRQFDS];
	struct devchan_host_shm shm[DEVCHAN_MAX_SHM_SLOTS];
};

/* ctrl (owned from now on, -1: none yet) is the control channel. */
void devchan_host_init(struct devchan_host *h, int ctrl,
		       const struct devchan_host_hooks *hooks, void *hook_arg);
/* Closes the channels and every recorded fd; no hook runs. */
void devchan_host_close(struct devchan_host *h);

/*
 * Connects to a proxyd listening on path (--control PATH), retrying for up
 * to timeout_ms while it comes up. A SOCK_SEQPACKET fd or -errno.
 */
int devchan_host_connect(const char *path, int timeout_ms);

/*
 * HELLO (one access channel) and DEVICE, RAM_ADD of ram_fd's
 * [0, size) at gpa, ACCESS_CHANNEL 0. ram_fd stays the caller's. 0 or -errno
 * (-EPROTO if proxyd refused or broke the protocol).
 */
int devchan_host_handshake(struct devchan_host *h, int ram_fd, uint64_t gpa,
			   uint64_t size);
/* RESET: proxyd's REPLY status (>= 0) or -errno. */
int devchan_host_reset(struct devchan_host *h);

/*
 * Receives one message (the socket should be readable) and acts on it:
 * records DEVICE or a REPLY, answers a request. 0, or -errno when the
 * channel is unusable (-ECONNRESET: proxyd closed it; a protocol fault).
 */
int devchan_host_recv(struct devchan_host *h);
/* Answers what comes for up to timeout_ms, then what is queued. 0 or -errno. */
int devchan_host_pump(struct devchan_host *h, int timeout_ms);

/* A guest read of region (BAR index or DEVCHAN_REGION_CONFIG). 0 or -errno. */
int devchan_host_read(struct devchan_host *h, uint8_t region, uint64_t off,
		      uint8_t size, uint64_t *val);
/* A guest write: the ioeventfd's eventfd if one matches, as KVM does. */
int devchan_host_write(struct devchan_host *h, uint8_t region, uint64_t off,
		       uint8_t size, uint64_t val);

/* Recorded state; NULL where nothing is (or the id is out of range). */
const struct devchan_host_ioeventfd *
devchan_host_ioeventfd_at(const struct devchan_host *h, uint8_t bar,
			  uint64_t off);
const struct devchan_host_irqfd *
devchan_host_irqfd(const struct devchan_host *h, uint32_t id);
const struct devchan_host_shm *
devchan_host_shm_slot(const struct devchan_host *h, uint32_t slot);
unsigned int devchan_host_shm_count(const struct devchan_host *h);

#endif /* COMMON_DEVCHAN_HOST_H */
