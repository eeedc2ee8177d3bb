/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vvu-proxyd: the vvu-proxy PCI device (protocol/vvu.h) as a process. The
 * vmm of the device VM hosts it as a generic remote PCI device over the
 * device channel (protocol/devchan.md); the sibling VM's vhost-user
 * front-end connects to its socket. Each file does one job:
 *
 *   device.c   identity, BAR layout and capabilities (the DEVICE message)
 *   regs.c     BAR0/BAR2/config-space accesses on top of virtio_pci_model
 *   queues.c   rxq/txq in device-VM RAM: messages in, replies out
 *   rules.c    what the proxy does with each vhost-user request, masks
 *   shm.c      the BAR4 layout of the sibling's memory regions
 *   sibling.c  the vhost-user session: fds consumed, messages forwarded
 *   chan.c     the control and access channels to the vmm
 *   seccomp.c  the sandbox's allow-list
 *
 * One thread, one libevent loop. What needs the VM fd (memory slots,
 * ioeventfds, irqfds) is asked of the vmm through proxy_host_ops, so the
 * model runs the same under tests with a fake host.
 */
#ifndef VVU_PROXYD_PROXYD_H
#define VVU_PROXYD_PROXYD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/devchan.h"
#include "common/memtable.h"
#include "common/virtio_pci_model.h"
#include "common/virtqueue.h"
#include "common/vu_msg.h"
#include "protocol/vvu.h"

/* --shm-size default: BAR4, independent of the device VM's RAM. */
#define PROXY_SHM_SIZE_DEFAULT	(64ull << 30)
#define PROXY_QUEUE_MAX_SIZE	256
/* Front-end messages waiting for rx buffers before the socket is paused. */
#define PROXY_RX_BACKLOG	64
/* Sibling memory regions (SET_MEM_TABLE takes 8; ADD_MEM_REG more). */
#define PROXY_SHM_MAX_REGIONS	64

/*
 * ioeventfd ids: the driver's rxq/txq doorbells in BAR0, then doorbell i
 * of BAR2 (the sibling's call eventfd of vhost queue i).
 */
#define PROXY_IOEVENTFD_QUEUE(q)	(q)
#define PROXY_IOEVENTFD_DOORBELL(i)	(VVU_NUM_QUEUES + (i))
/*
 * irqfd ids: the configuration vector, the rxq/txq vectors (eventfds of
 * proxyd's), then vhost queue i's notification vector (the sibling's kick
 * eventfd).
 */
#define PROXY_IRQFD_CONFIG		0
#define PROXY_IRQFD_QUEUE(q)		(1 + (q))
#define PROXY_IRQFD_VHOST(i)		(1 + VVU_NUM_QUEUES + (i))
#define PROXY_NUM_DRIVER_IRQS		(1 + VVU_NUM_QUEUES)

struct proxy;

/*
 * What only the vmm can do. Each request is sent and not waited for (the
 * device channel's replies come back in order; chan.c logs refusals). fds
 * are lent: the vmm gets its own copy.
 */
struct proxy_host_ops {
	void (*shm_map)(struct proxy *p, const struct devchan_shm_map *map, int fd);
	void (*shm_unmap)(struct proxy *p, uint32_t slot);
	void (*ioeventfd_add)(struct proxy *p,
			      const struct devchan_ioeventfd_add *add, int efd);
	void (*ioeventfd_del)(struct proxy *p, uint32_t id);
	void (*irqfd_add)(struct proxy *p, uint32_t id, uint16_t vector, int efd);
	void (*irqfd_del)(struct proxy *p, uint32_t id);
};

/* --- device.c, regs.c ----------------------------------------------------- */

struct proxy_kick_watch {
	struct proxy *p;
	unsigned int q;
	struct event *ev;
};

struct proxy_dev {
	struct virtio_pci_model model;
	struct devchan_device desc;	/* the DEVICE message */
	struct vvu_config config;
	uint64_t shm_size;
	bool bus_master;		/* Command register, as the vmm forwards it */
	uint16_t notif_select;
	uint16_t notif_vector[VVU_MAX_VHOST_QUEUES];
	/* Signalled to raise the driver's config/rxq/txq vector (irqfds). */
	int irq_fd[PROXY_NUM_DRIVER_IRQS];
	bool irq_bound[PROXY_NUM_DRIVER_IRQS];
	/* The driver's rxq/txq doorbells (ioeventfds), watched in the loop. */
	int kick_fd[VVU_NUM_QUEUES];
	struct proxy_kick_watch kick_watch[VVU_NUM_QUEUES];
};

/* Fills dev with the vvu-proxy device's identity, BARs and capabilities. */
void proxy_device_describe(struct devchan_device *dev, uint64_t shm_size);
/* Is size a valid BAR4 size (a power of two the device channel allows)? */
bool proxy_shm_size_valid(uint64_t size);

/* --- shm.c ---------------------------------------------------------------- */

/* One sibling region and where BAR4 holds it. */
struct shm_region {
	bool used;
	struct vhost_user_mem_region wire;	/* as the sibling sent it */
	uint64_t bar_off;	/* BAR4 offset of guest_phys_addr: forwarded mmap_offset */
	uint64_t map_off;	/* the slot: page-aligned BAR4 offset */
	uint64_t map_size;	/* page-aligned */
	uint64_t fd_off;	/* page-aligned file offset of the slot */
};

/* The slot of regions[i] is i. */
struct proxy_shm {
	uint64_t bar_size;
	struct shm_region regions[PROXY_SHM_MAX_REGIONS];
};

void shm_init(struct proxy_shm *s, uint64_t bar_size);
/*
 * Places wire (backed by a file of file_size bytes) in s: checks it
 * (size > 0, no overflow, inside the file, no gpa/uva overlap with a
 * region of s) and finds a slot and the lowest BAR4 range that fits.
 * Fills *out and returns the slot, or -errno (-EINVAL, -EEXIST for an
 * overlap, -ENOSPC when BAR4 or the slots are full). s is not changed.
 */
int shm_place(const struct proxy_shm *s, const struct vhost_user_mem_region *wire,
	      uint64_t file_size, struct shm_region *out);
/* The slot holding exactly this gpa, size and uva, or -ENOENT. */
int shm_find(const struct proxy_shm *s, const struct vhost_user_mem_region *wire);

/* --- rules.c -------------------------------------------------------------- */

enum proxy_rule {
	RULE_UNKNOWN = 0,	/* not a request: drop the sibling */
	RULE_CARRY,		/* forwarded as is (no fds) */
	RULE_MEM_TABLE,		/* fds -> BAR4 slots */
	RULE_ADD_MEM_REG,
	RULE_REM_MEM_REG,	/* an fd, if any, is closed */
	RULE_VRING_CALL,	/* fd -> doorbell */
	RULE_VRING_KICK,	/* fd -> notification vector */
	RULE_VRING_ERR,		/* fd closed, forwarded with NOFD */
	RULE_REFUSE,		/* what the proxy cannot carry: refused */
};

enum proxy_rule proxy_request_rule(uint32_t request);
/* Does the request name a vhost queue in its payload (state, addr, u64)? */
bool proxy_request_vring_index(const struct vu_msg *m, uint32_t *index);
/*
 * Masks a back-end reply to what the proxy can carry (features, protocol
 * features, queue and slot counts). Returns whether it changed m.
 */
bool proxy_mask_reply(struct vu_msg *m);
/* The protocol features the proxy can carry. */
extern const uint64_t proxy_protocol_mask;
extern const uint64_t proxy_features_mask;

/* --- queues.c ------------------------------------------------------------- */

struct proxy_rx_entry {
	uint32_t len;		/* 0: the sibling-disconnected marker */
	uint8_t data[VU_MSG_MAX_LEN];
};

struct proxy_queues {
	struct mem_table ram;	/* the device VM's RAM (RAM_ADD) */
	struct vq vq[VVU_NUM_QUEUES];
	bool ready[VVU_NUM_QUEUES];	/* enabled, rings checked */
	bool started;			/* DRIVER_OK */
	/* Scratch, one per queue: handling a tx message may deliver on rx. */
	struct vq_elem *elem[VVU_NUM_QUEUES];
	struct proxy_rx_entry *rx;	/* PROXY_RX_BACKLOG entries, a ring */
	unsigned int rx_head, rx_count;
	/*
	 * The vmm has requests of ours unanswered: a memory slot, doorbell or
	 * vector a message depends on may not be in place yet, so nothing
	 * goes to the driver until it has answered them all.
	 */
	bool rx_held;
};

int queues_init(struct proxy_queues *q);
void queues_destroy(struct proxy_queues *q);
/* RAM_ADD: maps [fd_offset, +size) of memfd at gpa. 0, -EEXIST, -errno. */
int queues_ram_add(struct proxy *p, uint64_t gpa, uint64_t size,
		   uint64_t fd_offset, int memfd);
bool queues_enable(struct proxy *p, unsigned int qi);
void queues_start(struct proxy *p);
void queues_stop(struct proxy *p);
/* The driver rang queue qi's doorbell. */
void queues_kick(struct proxy *p, unsigned int qi);
/* Holds rx delivery (true) while the vmm owes answers, or lets it go. */
void queues_rx_hold(struct proxy *p, bool hold);
/* Room for another front-end message? */
bool queues_rx_room(const struct proxy *p);
/* Queues one serialized message (len > 0) for rxq and delivers what fits. */
void queues_rx_send(struct proxy *p, const void *msg, uint32_t len);
/* The sibling went: its queued messages go, a zero-length buffer follows. */
void queues_rx_disconnected(struct proxy *p);

/* --- sibling.c ------------------------------------------------------------ */

struct proxy_sibling {
	const char *path;
	int listen_fd;
	int conn_fd;
	struct event *listen_ev;
	struct event *conn_ev;
	bool enabled;			/* the driver runs the device: accept */
	bool paused;			/* rx backlog full: socket not read */
	/*
	 * The driver was told that a sibling went and has not yet marked the
	 * end of that session on txq: what it sends until then belongs to
	 * the gone sibling, so the next one is not accepted before it.
	 */
	bool draining;
	uint32_t gen;			/* counts sessions; 0: none yet */
	uint64_t protocol;		/* negotiated protocol features */
	struct proxy_shm shm;
	bool call_bound[VVU_MAX_VHOST_QUEUES];
	int kick_fd[VVU_MAX_VHOST_QUEUES];	/* kept to rebind its vector */
	bool kick_bound[VVU_MAX_VHOST_QUEUES];
};

void sibling_init(struct proxy *p);
/* Listens on path (a stale socket is replaced). 0 or -errno (logged). */
int sibling_listen(struct proxy *p, const char *path);
/* Accept siblings (the driver is ready) or not (and drop the current one). */
void sibling_enable(struct proxy *p, bool on);
/* Ends the session, undoing everything it set up. */
void sibling_drop(struct proxy *p, const char *why);
void sibling_close(struct proxy *p);
/* A message the driver sent on txq. */
void sibling_from_driver(struct proxy *p, const void *buf, size_t len);
/* The driver's end-of-session mark (a zero-length txq buffer). */
void sibling_session_ended(struct proxy *p);
/* rxq has room again: read the socket if it was paused. */
void sibling_rx_drained(struct proxy *p);
/* The driver chose vector for vhost queue i's notifications. */
void sibling_vector_changed(struct proxy *p, unsigned int i);
/* A host request of session gen was refused: drop it if still current. */
void sibling_refused(struct proxy *p, uint32_t gen);

/* --- regs.c --------------------------------------------------------------- */

/* Sets the device up: the model, eventfds, the DEVICE description. */
int proxy_dev_init(struct proxy *p, uint64_t shm_size, const uint8_t uuid[16]);
void proxy_dev_destroy(struct proxy *p);
/* An access command from the vmm (already checked against the device). */
uint64_t proxy_access(struct proxy *p, const struct devchan_access *a);
/* After DEVICE: the driver's doorbells become ioeventfds. */
void proxy_dev_bind_kicks(struct proxy *p);
/* The vmm's RESET: the whole device back to power-on. */
void proxy_dev_reset(struct proxy *p);
/* Sets or clears status bits and tells the driver (config change). */
void proxy_dev_set_status(struct proxy *p, uint32_t bits, bool on);
/* Raises the driver's rxq/txq vector (the irqfd's eventfd). */
void proxy_dev_queue_irq(struct proxy *p, unsigned int qi);

/* --- seccomp.c ------------------------------------------------------------ */

/* no_new_privs and the running daemon's allow-list. 0 or -errno. */
int proxyd_sandbox_enter(void);

/* --- the whole daemon ------------------------------------------------------ */

struct proxy_chan;

struct proxy {
	struct event_base *base;	/* NULL under unit tests */
	const struct proxy_host_ops *host;
	struct proxy_chan *chan;
	struct proxy_dev dev;
	struct proxy_queues q;
	struct proxy_sibling sib;
};

#endif /* VVU_PROXYD_PROXYD_H */
