/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A single PCI bus (bus 0) behind a host bridge, with configuration
 * mechanism #1 (0xcf8/0xcfc). The bus owns each device's configuration space
 * and BAR decoding: BAR sizing, guest reprogramming (the BAR's range moves on
 * the MMIO/PIO bus and the device hears of it), and the capability list.
 * The vmm assigns BAR addresses itself before boot, as kvmtool does, so a
 * guest without firmware finds its devices ready.
 */
#ifndef VMM_PCI_H
#define VMM_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/iobus.h"

#define PCI_CFG_SPACE_SIZE	256
#define PCI_NUM_BARS		6
#define PCI_MAX_SLOTS		32

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,		/* takes this BAR and the next */
};

struct pci_dev;

struct pci_bar {
	enum pci_bar_type type;
	bool prefetchable;
	uint64_t size;		/* power of two */
	uint64_t addr;		/* current guest address, 0 when unassigned */
	bool mapped;		/* registered on the bus (decode enabled) */
	io_handler_fn fn;	/* offset is relative to the BAR */
	void *opaque;
};

struct pci_dev_ops {
	/* After the bus applied a config-space write (e.g. MSI-X enable). */
	void (*cfg_write)(struct pci_dev *dev, uint32_t offset, uint32_t len);
	/*
	 * A BAR was mapped at addr (mapped) or unmapped from it: the device
	 * moves ioeventfds or KVM memory slots that live in it.
	 */
	void (*bar_moved)(struct pci_dev *dev, int bar, uint64_t addr, bool mapped);
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	uint8_t cfg_wmask[PCI_CFG_SPACE_SIZE];	/* guest-writable bits */
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_dev_ops *ops;
	void *opaque;
	uint8_t slot;
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

struct pci_bus;
struct vm;

/*
 * Puts dev in slot (or the first free slot if slot < 0), assigns its BARs
 * from the VM's PCI windows and maps them. Returns the slot or -errno.
 */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev, int slot);

/* The device's PCI INTx line is not modelled: devices use MSI-X. */

#endif /* VMM_PCI_H */
