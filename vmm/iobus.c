// SPDX-License-Identifier: GPL-2.0-only
/* Port-I/O and MMIO dispatch over a sorted array of ranges. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/range.h"
#include "vmm/iobus.h"

void io_bus_init(struct io_bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
	bus->name = name;
}

void io_bus_destroy(struct io_bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nranges = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first range whose base is >= base. */
static unsigned int io_bus_slot(const struct io_bus *bus, uint64_t base)
{
	unsigned int i = 0;

	while (i < bus->nranges && bus->ranges[i].base < base)
		i++;
	return i;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len,
		    io_handler_fn fn, void *opaque)
{
	struct io_range *grown;
	unsigned int i;
	int r = 0;

	if (!len || base + len < base)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	for (i = 0; i < bus->nranges; i++)
		if (range_overlaps(base, len, bus->ranges[i].base, bus->ranges[i].len)) {
			r = -EEXIST;
			goto out;
		}
	if (bus->nranges == bus->cap) {
		grown = realloc(bus->ranges, (bus->cap + 8) * sizeof(*grown));
		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		bus->ranges = grown;
		bus->cap += 8;
	}
	i = io_bus_slot(bus, base);
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nranges - i) * sizeof(*bus->ranges));
	bus->ranges[i] = (struct io_range){ base, len, fn, opaque };
	bus->nranges++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base)
{
	unsigned int i;
	int r = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = io_bus_slot(bus, base);
	if (i < bus->nranges && bus->ranges[i].base == base) {
		memmove(&bus->ranges[i], &bus->ranges[i + 1],
			(bus->nranges - i - 1) * sizeof(*bus->ranges));
		bus->nranges--;
		r = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	return r;
}

bool io_bus_dispatch(struct io_bus *bus, uint64_t addr, uint8_t *data,
		     uint32_t len, bool is_write)
{
	const struct io_range *r = NULL;
	unsigned int lo = 0, hi;

	pthread_rwlock_rdlock(&bus->lock);
	hi = bus->nranges;
	while (lo < hi) {	/* binary search for the last base <= addr */
		unsigned int mid = (lo + hi) / 2;

		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo && range_contains(bus->ranges[lo - 1].base, bus->ranges[lo - 1].len,
				 addr, len))
		r = &bus->ranges[lo - 1];
	if (r)
		r->fn(r->opaque, addr - r->base, data, len, is_write);
	pthread_rwlock_unlock(&bus->lock);
	if (!r && !is_write)
		memset(data, 0xff, len);
	return r != NULL;
}
