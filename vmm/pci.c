// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI bus 0: configuration mechanism #1, config space with write masks,
 * BAR assignment and decoding. See pci.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vmm/pci.h"
#include "vmm/vm.h"

#define PCI_CONFIG_ADDRESS	0xcf8
#define PCI_CONFIG_PORTS	8		/* address 0xcf8, data 0xcfc */
#define PCI_CONFIG_ENABLE	0x80000000u

#define PCI_CAP_START		0x40

/* The host bridge: Red Hat's "QEMU PCIe Host bridge" id, class host bridge. */
#define HOST_BRIDGE_VENDOR	0x1b36
#define HOST_BRIDGE_DEVICE	0x0008

/* MMIO windows: 32-bit up to the IOAPIC, 64-bit above RAM. */
#define MMIO32_END		0xfec00000ull
#define MMIO64_ALIGN		(1ull << 30)
#define MMIO64_MAX_SIZE		(256ull << 30)

static void cfg_put16(struct pci_dev *dev, uint32_t off, uint16_t v)
{
	memcpy(&dev->cfg[off], &v, sizeof(v));
}

static void cfg_put32(struct pci_dev *dev, uint32_t off, uint32_t v)
{
	memcpy(&dev->cfg[off], &v, sizeof(v));
}

static uint32_t cfg_get32(const struct pci_dev *dev, uint32_t off)
{
	uint32_t v;

	memcpy(&v, &dev->cfg[off], sizeof(v));
	return v;
}

static void wmask_put(struct pci_dev *dev, uint32_t off, uint32_t mask,
		      unsigned int len)
{
	memcpy(&dev->cfg_wmask[off], &mask, len);
}

void pci_dev_init(struct pci_dev *dev, const char *name, uint16_t vendor,
		  uint16_t device, uint8_t class, uint8_t subclass,
		  uint8_t prog_if, uint8_t revision)
{
	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->slot = -1;
	dev->next_cap = PCI_CAP_START;
	cfg_put16(dev, PCI_VENDOR_ID, vendor);
	cfg_put16(dev, PCI_DEVICE_ID, device);
	dev->cfg[PCI_REVISION_ID] = revision;
	dev->cfg[PCI_CLASS_PROG] = prog_if;
	dev->cfg[PCI_CLASS_DEVICE] = subclass;
	dev->cfg[PCI_CLASS_DEVICE + 1] = class;
	pci_dev_set_subsystem(dev, vendor, device);
	/* No I/O space, no INTx: memory decode and bus mastering only. */
	wmask_put(dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		  PCI_COMMAND_INTX_DISABLE, 2);
	dev->cfg[PCI_COMMAND + 1] = PCI_COMMAND_INTX_DISABLE >> 8;
	dev->cfg_wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	dev->cfg_wmask[PCI_LATENCY_TIMER] = 0xff;
	dev->cfg_wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void pci_dev_set_subsystem(struct pci_dev *dev, uint16_t vendor, uint16_t id)
{
	cfg_put16(dev, PCI_SUBSYSTEM_VENDOR_ID, vendor);
	cfg_put16(dev, PCI_SUBSYSTEM_ID, id);
}

static uint32_t bar_reg(int n)
{
	return PCI_BASE_ADDRESS_0 + 4 * (uint32_t)n;
}

void pci_dev_set_bar(struct pci_dev *dev, int n, enum pci_bar_type type,
		     bool prefetchable, uint64_t size, io_handler_fn fn,
		     void *opaque)
{
	uint32_t flags = (type == PCI_BAR_MEM64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
			 (prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
	uint64_t mask = ~(size - 1);

	dev->bars[n] = (struct pci_bar){
		.type = type, .prefetchable = prefetchable, .size = size,
		.fn = fn, .opaque = opaque,
	};
	cfg_put32(dev, bar_reg(n), flags);
	wmask_put(dev, bar_reg(n), (uint32_t)mask & ~0xfu, 4);
	if (type == PCI_BAR_MEM64)
		wmask_put(dev, bar_reg(n + 1), (uint32_t)(mask >> 32), 4);
}

int pci_dev_add_cap(struct pci_dev *dev, const void *cap, size_t len)
{
	unsigned int off = dev->next_cap;

	/* next_cap is a byte: a capability ending in the last dword is the last. */
	if (len < 2 || !off || off + len > PCI_CFG_SPACE_SIZE - 4)
		return -ENOSPC;
	memcpy(&dev->cfg[off], cap, len);
	dev->cfg[off + 1] = 0;
	if (dev->last_cap)
		dev->cfg[dev->last_cap + 1] = (uint8_t)off;
	else
		dev->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
	dev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	dev->last_cap = (uint8_t)off;
	dev->next_cap = (uint8_t)((off + len + 3) & ~3u);
	return (int)off;
}

/* --- BAR decoding ---------------------------------------------------------- */

/* The address the BAR registers hold now. */
static uint64_t bar_addr(const struct pci_dev *dev, int n)
{
	uint64_t addr = cfg_get32(dev, bar_reg(n)) & ~0xfull;

	if (dev->bars[n].type == PCI_BAR_MEM64)
		addr |= (uint64_t)cfg_get32(dev, bar_reg(n + 1)) << 32;
	return addr;
}

static bool decode_enabled(const struct pci_dev *dev)
{
	return dev->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY;
}

static void bar_unmap(struct pci_bus *bus, struct pci_dev *dev, int n)
{
	struct pci_bar *bar = &dev->bars[n];

	if (!bar->mapped)
		return;
	if (bar->fn)
		io_bus_unregister(&bus->vm->mmio, bar->addr);
	bar->mapped = false;
	if (dev->ops && dev->ops->bar_moved)
		dev->ops->bar_moved(dev, n, bar->addr, false);
}

/*
 * Decodes BAR n where its registers point. A guest may leave a BAR at an
 * address that overlaps another one or wraps (mid-sizing, or on purpose):
 * such a BAR just does not decode, as on hardware with an address conflict.
 */
static void bar_map(struct pci_bus *bus, struct pci_dev *dev, int n)
{
	struct pci_bar *bar = &dev->bars[n];
	uint64_t addr = bar_addr(dev, n);
	int r = 0;

	bar->addr = addr;
	if (!addr || addr + bar->size < addr || addr + bar->size > (1ull << bus->vm->phys_bits)) {
		pr_debug("%s: BAR%d at %#llx does not decode", dev->name, n,
			 (unsigned long long)addr);
		return;
	}
	if (bar->fn)
		r = io_bus_register(&bus->vm->mmio, addr, bar->size, bar->fn, bar->opaque);
	if (r) {
		pr_warn_limited("%s: BAR%d at %#llx (+%#llx) overlaps another range; not decoding",
			dev->name, n, (unsigned long long)addr,
			(unsigned long long)bar->size);
		return;
	}
	bar->mapped = true;
	if (dev->ops && dev->ops->bar_moved)
		dev->ops->bar_moved(dev, n, addr, true);
}

/*
 * Brings the BARs' decoding in line with the command register and the BAR
 * registers after a write; decode_on: the write just enabled decoding.
 */
static void dev_update_bars(struct pci_bus *bus, struct pci_dev *dev,
			    bool decode_on)
{
	bool want = decode_enabled(dev);

	for (int n = 0; n < PCI_NUM_BARS; n++) {
		struct pci_bar *bar = &dev->bars[n];
		uint64_t addr;
		bool moved;

		if (bar->type == PCI_BAR_NONE)
			continue;
		addr = bar_addr(dev, n);
		moved = addr != bar->addr;
		if (bar->mapped && (!want || moved))
			bar_unmap(bus, dev, n);
		if (want && !bar->mapped && (moved || decode_on))
			bar_map(bus, dev, n);
		bar->addr = addr;
	}
}

/* --- config space ---------------------------------------------------------- */

static struct pci_dev *bus_dev(struct pci_bus *bus, unsigned int devfn)
{
	if ((devfn & 7) || devfn >= PCI_MAX_SLOTS << 3)
		return NULL;	/* single-function devices, bus 0 only */
	return bus->devs[devfn >> 3];
}

/* Lets a device claim the access (pci_dev_ops.cfg_access). */
static bool device_cfg_access(struct pci_dev *dev, uint32_t offset,
			      uint8_t *data, uint32_t len, bool is_write)
{
	return dev->ops && dev->ops->cfg_access &&
	       dev->ops->cfg_access(dev, offset, data, len, is_write);
}

void pci_config_read(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
		     uint8_t *data, uint32_t len)
{
	struct pci_dev *dev;

	memset(data, 0xff, len);
	if (offset >= PCI_CFG_SPACE_SIZE || len > PCI_CFG_SPACE_SIZE - offset)
		return;
	pthread_mutex_lock(&bus->lock);
	dev = bus_dev(bus, devfn);
	if (dev && !device_cfg_access(dev, offset, data, len, false))
		memcpy(data, &dev->cfg[offset], len);
	pthread_mutex_unlock(&bus->lock);
}

void pci_config_write(struct pci_bus *bus, unsigned int devfn, uint32_t offset,
		      const uint8_t *data, uint32_t len)
{
	struct pci_dev *dev;

	if (offset >= PCI_CFG_SPACE_SIZE || len > PCI_CFG_SPACE_SIZE - offset)
		return;
	pthread_mutex_lock(&bus->lock);
	dev = bus_dev(bus, devfn);
	if (dev && device_cfg_access(dev, offset, (uint8_t *)data, len, true))
		dev = NULL;
	if (dev) {
		bool was_on = decode_enabled(dev);

		for (uint32_t i = 0; i < len; i++) {
			uint8_t m = dev->cfg_wmask[offset + i];

			dev->cfg[offset + i] = (uint8_t)((dev->cfg[offset + i] & ~m) |
							 (data[i] & m));
		}
		if (offset < bar_reg(PCI_NUM_BARS) && offset + len > PCI_COMMAND)
			dev_update_bars(bus, dev, !was_on && decode_enabled(dev));
		if (dev->ops && dev->ops->cfg_write)
			dev->ops->cfg_write(dev, offset, len);
	}
	pthread_mutex_unlock(&bus->lock);
}

/*
 * Ports 0xcf8-0xcfb are CONFIG_ADDRESS (dword accesses only: Linux probes
 * with a byte write to 0xcfb that must not change it); 0xcfc-0xcff the data
 * window into the dword it selects. Only bus 0 exists.
 */
static void pci_config_io(void *opaque, uint64_t offset, uint8_t *data,
			  uint32_t len, bool is_write)
{
	struct pci_bus *bus = opaque;
	uint32_t addr, reg;

	if (offset < 4) {
		if (offset || len != 4) {
			if (!is_write)
				memset(data, 0xff, len);
			return;
		}
		pthread_mutex_lock(&bus->lock);
		if (is_write)
			memcpy(&bus->config_address, data, 4);
		else
			memcpy(data, &bus->config_address, 4);
		pthread_mutex_unlock(&bus->lock);
		return;
	}
	__atomic_load(&bus->config_address, &addr, __ATOMIC_RELAXED);
	reg = (addr & 0xfc) + (uint32_t)(offset - 4);
	if (!(addr & PCI_CONFIG_ENABLE) || ((addr >> 16) & 0xff) || (reg & 3) + len > 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write)
		pci_config_write(bus, (addr >> 8) & 0xff, reg, data, len);
	else
		pci_config_read(bus, (addr >> 8) & 0xff, reg, data, len);
}

/* --- the bus --------------------------------------------------------------- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int window_alloc(struct pci_window *w, uint64_t size, uint64_t *addr)
{
	uint64_t at = align_up(w->next, size), end = w->base + w->size;

	if (at < w->next || at > end || size > end - at)
		return -ENOSPC;
	*addr = at;
	w->next = at + size;
	return 0;
}

static void windows_init(struct pci_bus *bus, struct vm *vm)
{
	uint64_t top = VM_4G, limit = 1ull << vm->phys_bits;

	for (unsigned int i = 0; i < vm->mem.nregions; i++)
		if (vm->mem.regions[i].gpa + vm->mem.regions[i].size > top)
			top = vm->mem.regions[i].gpa + vm->mem.regions[i].size;
	bus->mmio32 = (struct pci_window){ VM_PCI_HOLE_START,
					   MMIO32_END - VM_PCI_HOLE_START,
					   VM_PCI_HOLE_START };
	top = align_up(top, MMIO64_ALIGN);
	bus->mmio64 = (struct pci_window){ top, 0, top };
	if (limit > top)
		bus->mmio64.size = limit - top < MMIO64_MAX_SIZE ? limit - top
								 : MMIO64_MAX_SIZE;
}

static int bars_assign(struct pci_bus *bus, struct pci_dev *dev)
{
	for (int n = 0; n < PCI_NUM_BARS; n++) {
		struct pci_bar *bar = &dev->bars[n];
		struct pci_window *w = bar->type == PCI_BAR_MEM64 ? &bus->mmio64
								  : &bus->mmio32;
		uint64_t addr;

		if (bar->type == PCI_BAR_NONE)
			continue;
		if (window_alloc(w, bar->size, &addr)) {
			pr_err("%s: no room for BAR%d (%#llx bytes) in the PCI window",
			       dev->name, n, (unsigned long long)bar->size);
			return -ENOSPC;
		}
		bar->addr = addr;
		cfg_put32(dev, bar_reg(n), (cfg_get32(dev, bar_reg(n)) & 0xf) |
			  (uint32_t)addr);
		if (bar->type == PCI_BAR_MEM64)
			cfg_put32(dev, bar_reg(++n), (uint32_t)(addr >> 32));
	}
	return 0;
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *dev, int slot)
{
	int r;

	pthread_mutex_lock(&bus->lock);
	if (slot < 0)
		for (slot = 1; slot < PCI_MAX_SLOTS && bus->devs[slot]; slot++)
			;
	if (slot >= PCI_MAX_SLOTS || bus->devs[slot]) {
		pr_err("%s: PCI slot %d is %s", dev->name, slot,
		       slot >= PCI_MAX_SLOTS ? "out of range" : "taken");
		pthread_mutex_unlock(&bus->lock);
		return slot >= PCI_MAX_SLOTS ? -ENOSPC : -EBUSY;
	}
	r = bars_assign(bus, dev);
	if (!r) {
		dev->slot = slot;
		bus->devs[slot] = dev;
	}
	pthread_mutex_unlock(&bus->lock);
	return r ? r : slot;
}

void pci_bus_remove(struct pci_bus *bus, struct pci_dev *dev)
{
	pthread_mutex_lock(&bus->lock);
	if (dev->slot >= 0 && bus->devs[dev->slot] == dev) {
		for (int n = 0; n < PCI_NUM_BARS; n++)
			bar_unmap(bus, dev, n);
		bus->devs[dev->slot] = NULL;
		dev->slot = -1;
	}
	pthread_mutex_unlock(&bus->lock);
}

int pci_bus_create(struct vm *vm)
{
	struct pci_bus *bus = calloc(1, sizeof(*bus));
	int r;

	if (!bus)
		return -ENOMEM;
	bus->vm = vm;
	pthread_mutex_init(&bus->lock, NULL);
	windows_init(bus, vm);
	pci_dev_init(&bus->host_bridge, "host bridge", HOST_BRIDGE_VENDOR,
		     HOST_BRIDGE_DEVICE, 0x06, 0x00, 0x00, 0);
	bus->devs[0] = &bus->host_bridge;
	bus->host_bridge.slot = 0;
	r = io_bus_register(&vm->pio, PCI_CONFIG_ADDRESS, PCI_CONFIG_PORTS,
			    pci_config_io, bus);
	if (r) {
		pr_err("PCI: ports %#x-%#x are taken", PCI_CONFIG_ADDRESS,
		       PCI_CONFIG_ADDRESS + PCI_CONFIG_PORTS - 1);
		pthread_mutex_destroy(&bus->lock);
		free(bus);
		return r;
	}
	vm->pci = bus;
	return 0;
}

void pci_bus_destroy(struct vm *vm)
{
	struct pci_bus *bus = vm->pci;

	if (!bus)
		return;
	io_bus_unregister(&vm->pio, PCI_CONFIG_ADDRESS);
	for (int slot = 1; slot < PCI_MAX_SLOTS; slot++)
		if (bus->devs[slot])
			pci_bus_remove(bus, bus->devs[slot]);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
	vm->pci = NULL;
}
