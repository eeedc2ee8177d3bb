// SPDX-License-Identifier: GPL-2.0-only
/* Scatter-gather helpers over struct iovec arrays. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/iov.h"

/* Copies len bytes between buf and the iovecs' bytes from skip on. */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip,
		       uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < n && done < len; i++) {
		uint8_t *base = iov[i].iov_base;
		size_t chunk;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		chunk = iov[i].iov_len - skip;
		if (chunk > len - done)
			chunk = len - done;
		if (to_iov)
			memcpy(base + skip, buf + done, chunk);
		else
			memcpy(buf + done, base + skip, chunk);
		done += chunk;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip,
		    const void *buf, size_t len)
{
	/* iov_copy only reads buf when copying towards the iovecs. */
	return iov_copy(iov, n, skip, (uint8_t *)buf, len, true);
}

size_t iov_total(const struct iovec *iov, unsigned int n)
{
	size_t total = 0;

	for (unsigned int i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

void iov_advance(struct iovec **iov, unsigned int *n, size_t done)
{
	while (*n && done >= (*iov)->iov_len) {
		done -= (*iov)->iov_len;
		(*iov)++;
		(*n)--;
	}
	if (*n && done) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + done;
		(*iov)->iov_len -= done;
	}
}
