/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Port-I/O and MMIO dispatch: the vCPU threads look up the handler for an
 * exit's address; devices register and move ranges (PCI BAR programming).
 * Lookups take a read lock, so vCPUs dispatch in parallel.
 */
#ifndef VMM_IOBUS_H
#define VMM_IOBUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* data holds len bytes (1, 2, 4 or 8) in guest byte order (little-endian). */
typedef void (*io_handler_fn)(void *opaque, uint64_t offset, uint8_t *data,
			      uint32_t len, bool is_write);

struct io_range {
	uint64_t base;
	uint64_t len;
	io_handler_fn fn;
	void *opaque;
};

struct io_bus {
	pthread_rwlock_t lock;
	struct io_range *ranges;	/* sorted by base, non-overlapping */
	unsigned int nranges;
	unsigned int cap;
	const char *name;		/* "pio" or "mmio", for messages */
};

void io_bus_init(struct io_bus *bus, const char *name);
void io_bus_destroy(struct io_bus *bus);

/* -EEXIST if [base, base+len) overlaps a registered range. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn fn, void *opaque);
int io_bus_unregister(struct io_bus *bus, uint64_t base);

/*
 * Calls the handler covering [addr, addr+len) with the offset into its range.
 * Returns false if no range covers it (reads then see all-ones).
 */
bool io_bus_dispatch(struct io_bus *bus, uint64_t addr, uint8_t *data,
		     uint32_t len, bool is_write);

#endif /* VMM_IOBUS_H */
