/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A single PCI bus (bus 0) behind a host bridge at 00:00.0, reached through
 * configuration mechanism #1 (ports 0xcf8/0xcfc). The bus owns each
 * device's configuration space and BAR decoding: sizing, reprogramming by
 * the guest (the BAR's range moves on the MMIO bus and the device hears of
 * it, to move ioeventfds or memory slots that live in it), and the
 * capability list. The vmm assigns BAR addresses itself before boot, as
 * kvmtool does, so a guest without firmware finds its devices ready; the
 * windows it takes them from are the host bridge's _CRS in the DSDT.
 *
 * Devices are single-function and have memory BARs only (virtio-pci modern
 * needs no I/O space), and no INTx: they interrupt through MSI-X.
 */
#ifndef VMM_PCI_H
#define VMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/iobus.h"

#define PCI_CFG_SPACE_SIZE	256
#define PCI_NUM_BARS		6
#define PCI_MAX_SLOTS		32

/* Configuration space registers (PCI 3.0, 6.1). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define  PCI_COMMAND_MEMORY	0x0002
#define  PCI_COMMAND_MASTER	0x0004
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS		0x06
#define  PCI_STATUS_CAP_LIST	0x0010
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_CACHE_LINE_SIZE	0x0c
#define PCI_LATENCY_TIMER	0x0d
#define PCI_HEADER_TYPE		0x0e
#define PCI_BASE_ADDRESS_0	0x10
#define  PCI_BASE_ADDRESS_MEM_TYPE_64	0x04
#define  PCI_BASE_ADDRESS_MEM_PREFETCH	0x08
#define PCI_SUBSYSTEM_VENDOR_ID	0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_CAP_ID_VNDR		0x09
#define PCI_CAP_ID_MSIX		0x11

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* takes this BAR and the next */
};

struct pci_dev;

struct pci_bar {
	enum pci_bar_type type;
	bool prefetchable;
	uint64_t size;		/* power of two, >= 4 KiB */
	uint64_t addr;		/* where the guest put it */
	bool mapped;		/* decoding at addr */
	/*
	 * Accesses, offset relative to the BAR. NULL: nothing traps here
	 * (a BAR backed by KVM memory slots, which bar_moved places).
	 */
	io_handler_fn fn;
	void *opaque;
};

struct pci_dev_ops {
	/*
	 * Config-space bytes the device serves itself (a model in another
	 * process): called under the bus lock before the bus looks at cfg[];
	 * true if the device took the access (a read filled data), false to
	 * leave it to the bus. offset + len stays within one dword.
	 */
	bool (*cfg_access)(struct pci_dev *dev, uint32_t offset, uint8_t *data,
			   uint32_t len, bool is_write);
	/* After the bus applied a guest write to config space (MSI-X enable). */
	void (*cfg_write)(struct pci_dev *dev, uint32_t offset, uint32_t len);
	/* BAR bar now decodes at addr (mapped), or stopped decoding there. */
	void (*bar_moved)(struct pci_dev *dev, int bar, uint64_t addr, bool mapped);
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	uint8_t cfg_wmask[PCI_CFG_SPACE_SIZE];	/* guest-writable bits */
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_dev_ops *ops;
	void *opaque;
	int slot;		/* -1 until on a bus */
	uint8_t last_cap;	/* offset of the last capability, 0 if none */
	uint8_t next_cap;	/* where the next capability goes */
	const char *name;
};

/* Header type 0 with the given identity; subsystem = vendor/device. */
void pci_dev_init(struct pci_dev *dev, const char *name, uint16_t vendor,
		  uint16_t device, uint8_t class, uint8_t subclass,
		  uint8_t prog_if, uint8_t revision);
void pci_dev_set_subsystem(struct pci_dev *dev, uint16_t vendor, uint16_t id);

/* Declares BAR n (before pci_bus_add assigns its address). */
void pci_dev_set_bar(struct pci_dev *dev, int n, enum pci_bar_type type,
		     bool prefetchable, uint64_t size, io_handler_fn fn,
		     void *opaque);

/*
 * Appends a capability (cap[0] is the ID, cap[1] is overwritten with the
 * next pointer); returns its offset in config space, or -ENOSPC.
 */
int pci_dev_add_cap(struct pci_dev *dev, const void *cap, size_t len);

/* An address range BARs are allocated from, bottom up. */
struct pci_window {
	uint64_t base;
	uint64_t size;
	uint64_t next;		/* first free address */
};

struct vm;

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;	/* config space of every device, and cf8 */
	uint32_t config_address;
	struct pci_dev *devs[PCI_MAX_SLOTS];
	struct pci_dev host_bridge;
	struct pci_window mmio32;	/* below 4 GiB, under the IOAPIC */
	struct pci_window mmio64;	/* above RAM, under the address width */
};

/*
 * Creates vm->pci with its host bridge and claims ports 0xcf8-0xcff.
 * Needs vm->phys_bits (vcpus_create). 0 or -errno (logged).
 */
int pci_bus_create(struct vm *vm);
/* Unmaps every BAR and frees the bus; the devices stay their owners'. */
void pci_bus_destroy(struct vm *vm);

/*
 * Puts dev in slot (or the first free slot if slot < 0), assigns its BARs
 * from the windows (64-bit BARs above 4 GiB) with decoding off, as after a
 * reset. Returns the slot or -errno (logged, naming the device).
 */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev, int slot);
/* Takes dev off the bus, unmapping its BARs. */
void pci_bus_remove(struct pci_bus *bus, struct pci_dev *dev);

/*
 * Config space access as the guest makes it (exposed for tests): devfn is
 * slot << 3 | function, offset + len stays within one dword.
 */
void pci_config_read(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
		     uint8_t *data, uint32_t len);
void pci_config_write(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
		      const uint8_t *data, uint32_t len);

#endif /* VMM_PCI_H */
