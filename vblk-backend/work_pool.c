// SPDX-License-Identifier: GPL-2.0-only
/* Fork-join pool for serving a batch of requests on several threads. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "vblk-backend/work_pool.h"

struct work_pool {
	pthread_mutex_t lock;
	pthread_cond_t start;		/* a new round, or stop */
	pthread_cond_t done;		/* the last helper finished its part */
	unsigned int nthreads;
	pthread_t *threads;
	uint64_t round;
	bool stop;
	unsigned int busy;		/* helpers still in this round */
	/* The round: items are claimed with an atomic counter. */
	work_fn fn;
	void *arg;
	unsigned int n;
	unsigned int next;
};

static void work_pool_drain(struct work_pool *p)
{
	unsigned int i;

	while ((i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED)) < p->n)
		p->fn(p->arg, i);
}

static void *work_pool_thread(void *opaque)
{
	struct work_pool *p = opaque;
	uint64_t seen = 0;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->round == seen && !p->stop)
			pthread_cond_wait(&p->start, &p->lock);
		if (p->stop)
			break;
		seen = p->round;
		pthread_mutex_unlock(&p->lock);
		work_pool_drain(p);
		pthread_mutex_lock(&p->lock);
		if (--p->busy == 0)
			pthread_cond_signal(&p->done);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Helpers must not take the process's signals: the event loop handles them. */
static int work_pool_spawn(struct work_pool *p, unsigned int i)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&p->threads[i], NULL, work_pool_thread, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

struct work_pool *work_pool_new(unsigned int nthreads)
{
	struct work_pool *p;
	int ret;

	if (nthreads < 1 || nthreads > 64)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->threads = calloc(nthreads, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->start, NULL);
	pthread_cond_init(&p->done, NULL);
	for (; p->nthreads < nthreads; p->nthreads++) {
		ret = work_pool_spawn(p, p->nthreads);
		if (ret) {
			pr_err("cannot start an I/O thread: %s", strerror(ret));
			work_pool_free(p);
			return NULL;
		}
	}
	return p;
}

void work_pool_free(struct work_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->start);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}

void work_pool_run(struct work_pool *p, work_fn fn, void *arg, unsigned int n)
{
	pthread_mutex_lock(&p->lock);
	p->fn = fn;
	p->arg = arg;
	p->n = n;
	p->next = 0;
	p->busy = p->nthreads;
	p->round++;
	pthread_cond_broadcast(&p->start);
	pthread_mutex_unlock(&p->lock);

	work_pool_drain(p);

	/* The helpers' writes to the items are visible after this lock. */
	pthread_mutex_lock(&p->lock);
	while (p->busy)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}
