/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Half-open address ranges [start, start + len), compared without ever
 * computing an end that could overflow: peers (front-ends, guests) choose
 * these numbers, and "start + len" wrapping past zero is how range checks
 * go wrong (DPDK's CVE-2018-1059).
 */
#ifndef COMMON_RANGE_H
#define COMMON_RANGE_H

#include <stdbool.h>
#include <stdint.h>

/* Do [a, a + alen) and [b, b + blen) share a byte? Empty ranges share none. */
static inline bool range_overlaps(uint64_t a, uint64_t alen, uint64_t b,
				  uint64_t blen)
{
	if (!alen || !blen)
		return false;
	return a <= b ? b - a < alen : a - b < blen;
}

/*
 * Does [base, base + size) hold all of [addr, addr + len)? addr itself must
 * lie inside, even when len is 0.
 */
static inline bool range_contains(uint64_t base, uint64_t size, uint64_t addr,
				  uint64_t len)
{
	return addr >= base && addr - base < size && len <= size - (addr - base);
}

#endif /* COMMON_RANGE_H */
