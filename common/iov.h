/* SPDX-License-Identifier: GPL-2.0-only */
/* Scatter-gather helpers over struct iovec arrays. */
#ifndef COMMON_IOV_H
#define COMMON_IOV_H

#include <stddef.h>
#include <sys/uio.h>

/* Copies between iov[0..n), from byte skip on, and a flat buffer; bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip,
		    const void *buf, size_t len);

/* Total bytes of iov[0..n). */
size_t iov_total(const struct iovec *iov, unsigned int n);

/*
 * Drops done bytes from the front of *iov / *n after a short transfer,
 * skipping emptied entries and trimming a partly used one in place.
 */
void iov_advance(struct iovec **iov, unsigned int *n, size_t done);

#endif /* COMMON_IOV_H */
