/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The remote PCI device's insides, shared by its three files:
 *  remote_pci.c      the PCI function, guest accesses, death;
 *  remote_pci_ctrl.c the control channel: handshake and proxyd's requests;
 *  remote_pci_res.c  memory slots, ioeventfds and irqfds proxyd asks for.
 *
 * Threads: vCPUs make accesses and move BARs (under the PCI bus lock), the
 * device thread runs the control channel. rp->lock guards the resource
 * tables and where each BAR decodes (taken after the bus lock).
 */
#ifndef VMM_REMOTE_PCI_INT_H
#define VMM_REMOTE_PCI_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "protocol/devchan.h"
#include "vmm/msix.h"
#include "vmm/pci.h"

/*
 * How long a vCPU waits for an access response (and any send waits for
 * room): a model answers in microseconds, so a second means it hangs, and
 * a vCPU (maybe holding the PCI bus lock) must not wait on it for ever.
 */
#define REMOTE_ACCESS_TIMEOUT_MS	1000
/* How long the handshake may take: proxyd answers HELLO at once. */
#define REMOTE_HANDSHAKE_TIMEOUT_MS	5000

struct remote_pci;

struct remote_bar {
	struct remote_pci *rp;
	uint8_t index;
	uint8_t kind;		/* enum devchan_bar_kind */
	uint64_t addr;		/* where it decodes, if mapped */
	bool mapped;
};

struct remote_shm {
	bool used;
	uint8_t bar;
	uint64_t bar_offset;
	uint64_t size;
	int kvm_slot;		/* vmm/memslot.c's id */
};

struct remote_ioeventfd {
	int fd;			/* -1: id free */
	uint8_t bar;
	uint8_t len;
	bool datamatch;
	uint64_t offset;
	uint64_t value;
	uint64_t addr;		/* where KVM has it, if assigned */
	bool assigned;
};

/* One vCPU's access channel: commands of one vCPU go in order. */
struct remote_chan {
	pthread_mutex_t lock;
	int fd;
	uint64_t seq;		/* user_data, for proxyd's logs */
};

struct remote_pci {
	struct vm *vm;
	char *name;
	struct pci_dev pdev;
	struct devchan_device dev;	/* the DEVICE accepted */
	struct msix msix;
	bool has_msix;
	bool added;			/* on the PCI bus */
	bool ready;			/* set up: a death now is at run time */
	struct remote_bar bars[DEVCHAN_NUM_BARS];
	/* Config bytes (capability IDs and next pointers) the vmm serves. */
	bool cfg_owned[DEVCHAN_CONFIG_SIZE];

	int ctrl;			/* control channel, -1 once closed */
	struct event *ctrl_ev;
	struct event *dead_ev;		/* cleanup on the device thread */
	uint64_t next_id;		/* id of our next request */
	uint64_t oldest;		/* our oldest unanswered request */
	bool handshake_failed;		/* a request refused during it */

	unsigned int nchan;
	struct remote_chan *chans;
	bool dead;			/* atomic */

	pthread_mutex_t lock;
	struct remote_shm shm[DEVCHAN_MAX_SHM_SLOTS];
	struct remote_ioeventfd ioev[DEVCHAN_MAX_IOEVENTFDS];
	struct msix_irqfd *irqfd[DEVCHAN_MAX_IRQFDS];
};

/* remote_pci.c: makes the device dead (once; logs why). Any thread. */
void remote_die(struct remote_pci *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* remote_pci_ctrl.c */
int remote_handshake(struct remote_pci *rp);
int remote_hand_over(struct remote_pci *rp);
int remote_ctrl_watch(struct remote_pci *rp);
void remote_ctrl_close(struct remote_pci *rp);

/* remote_pci_res.c: each takes fd (closes it unless it keeps it). 0 or -errno. */
void remote_res_init(struct remote_pci *rp);
int remote_shm_map(struct remote_pci *rp, const struct devchan_shm_map *map, int fd);
int remote_shm_unmap(struct remote_pci *rp, uint32_t slot);
int remote_ioeventfd_add(struct remote_pci *rp, const struct devchan_ioeventfd_add *a,
			 int fd);
int remote_ioeventfd_del(struct remote_pci *rp, uint32_t id);
int remote_irqfd_add(struct remote_pci *rp, uint32_t id, uint16_t vector, int fd);
int remote_irqfd_del(struct remote_pci *rp, uint32_t id);
/* BAR bar decodes at addr now, or (mapped false) nowhere. */
void remote_res_bar_moved(struct remote_pci *rp, int bar, uint64_t addr, bool mapped);
/* Removes every slot, ioeventfd and irqfd. */
void remote_res_clear(struct remote_pci *rp);

#endif /* VMM_REMOTE_PCI_INT_H */
