/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * MSI-X for an emulated PCI function: the capability, the vector table and
 * the pending-bit array (PBA), both living in one of the device's BARs.
 *
 * Every vector is an eventfd bound with KVM_IRQFD to a KVM GSI whose route
 * is the vector's (address, data). Whoever signals the vector - the vmm, a
 * vhost-user back-end, or another process - just writes the eventfd, and KVM
 * injects the MSI without a user-space hop.
 *
 * Masking (per-vector mask bit, function mask, MSI-X disabled) deassigns the
 * irqfd. The eventfd then keeps counting, so its counter *is* the pending
 * bit: a PBA read polls it, and on unmask re-assigning the irqfd makes KVM
 * inject at once if the counter is non-zero (kvm_irqfd_assign polls the
 * eventfd when it registers), which is the "deliver pending on unmask" the
 * PCI spec asks for.
 *
 * A vector may have more eventfds than its own (msix_add_irqfd: a remote
 * device model hands its own): each is bound and unbound with the vector,
 * and counts towards its pending bit the same way.
 */
#ifndef VMM_MSIX_H
#define VMM_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct pci_dev;

#define MSIX_MAX_VECTORS	2048
#define MSIX_ENTRY_SIZE		16

/* Vector control bit 0. */
#define MSIX_ENTRY_CTRL_MASKED	0x1u

/* Message control bits in the capability. */
#define MSIX_CTRL_FMASK		0x4000u
#define MSIX_CTRL_ENABLE	0x8000u

/* One more eventfd that fires a vector (msix_add_irqfd). */
struct msix_irqfd {
	int fd;			/* owned */
	bool assigned;		/* bound as KVM irqfd on the vector's gsi */
	unsigned int vector;
	struct msix_irqfd *next;
};

struct msix_vector {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;
	int gsi;		/* KVM GSI, -1 if none could be allocated */
	int efd;		/* the eventfd that fires the vector (owned) */
	bool routed;		/* KVM route holds (addr, data) */
	bool irqfd;		/* efd currently assigned as irqfd on gsi */
	struct msix_irqfd *extra;	/* more eventfds that fire it */
};

struct msix {
	struct vm *vm;
	struct pci_dev *pdev;
	pthread_mutex_t lock;
	unsigned int nvec;
	struct msix_vector *vec;
	uint8_t cap;		/* capability offset in config space */
	bool enabled;		/* message control: MSI-X enable */
	bool fmask;		/* message control: function mask */
};

/*
 * Adds the MSI-X capability to pdev (table at table_off, PBA at pba_off in
 * BAR bar; the caller routes those BAR ranges to msix_table_access and
 * msix_pba_access), allocates a GSI and an eventfd per vector. All vectors
 * start masked, as the spec requires. 0 or -errno (logged).
 */
int msix_init(struct msix *m, struct vm *vm, struct pci_dev *pdev,
	      unsigned int nvec, int bar, uint32_t table_off, uint32_t pba_off);
/* The same with the table and the PBA in BARs of their own. */
int msix_init_split(struct msix *m, struct vm *vm, struct pci_dev *pdev,
		    unsigned int nvec, int table_bar, uint32_t table_off,
		    int pba_bar, uint32_t pba_off);
void msix_destroy(struct msix *m);

/* Bytes the table and PBA of nvec vectors take in the BAR. */
static inline uint32_t msix_table_size(unsigned int nvec)
{
	return nvec * MSIX_ENTRY_SIZE;
}

static inline uint32_t msix_pba_size(unsigned int nvec)
{
	return ((nvec + 63) / 64) * 8;
}

/* BAR accesses, offset relative to the table / PBA start. */
void msix_table_access(struct msix *m, uint64_t offset, uint8_t *data,
		       uint32_t len, bool is_write);
void msix_pba_access(struct msix *m, uint64_t offset, uint8_t *data,
		     uint32_t len, bool is_write);

/*
 * To be called from the device's pci_dev_ops.cfg_write: picks up changes of
 * the enable and function-mask bits.
 */
void msix_cfg_write(struct msix *m, uint32_t offset, uint32_t len);

/* The eventfd that fires vector v, or -1 if v is out of range. Not a new fd. */
int msix_vector_fd(struct msix *m, unsigned int v);

/*
 * Replaces the eventfd of vector v with fd (taken: closed on destroy or the
 * next replacement). For devices whose interrupts come from another
 * process's eventfds. 0 or -errno (fd is then closed too).
 */
int msix_set_vector_fd(struct msix *m, unsigned int v, int fd);

/*
 * Adds fd (taken: closed by msix_del_irqfd, msix_destroy, or here on error)
 * as one more eventfd that fires vector v, bound while v is deliverable.
 * Returns the handle, or NULL with *err = -errno (-EINVAL: v out of range,
 * or the KVM error binding it to an unmasked vector).
 */
struct msix_irqfd *msix_add_irqfd(struct msix *m, unsigned int v, int fd, int *err);
/* Unbinds, closes and frees an irqfd from msix_add_irqfd. */
void msix_del_irqfd(struct msix *m, struct msix_irqfd *x);

/* Fires vector v from the vmm (e.g. a config change). Pending if masked. */
void msix_notify(struct msix *m, unsigned int v);

/* True if vector v is masked, by itself, the function mask or disable. */
bool msix_is_masked(struct msix *m, unsigned int v);

#endif /* VMM_MSIX_H */
