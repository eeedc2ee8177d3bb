/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fork-join pool: run fn(arg, i) for i in [0, n) on the caller and the
 * pool's threads, and return when all are done. The back-end uses it to
 * serve one batch of popped requests in parallel while the ring itself stays
 * single-threaded (pops and pushes happen on the event loop only).
 */
#ifndef VBLK_WORK_POOL_H
#define VBLK_WORK_POOL_H

typedef void (*work_fn)(void *arg, unsigned int i);

struct work_pool;

/* nthreads helper threads (1..64); NULL (logged) on failure. */
struct work_pool *work_pool_new(unsigned int nthreads);
void work_pool_free(struct work_pool *p);

void work_pool_run(struct work_pool *p, work_fn fn, void *arg, unsigned int n);

#endif /* VBLK_WORK_POOL_H */
