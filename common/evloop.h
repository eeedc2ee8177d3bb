/* SPDX-License-Identifier: GPL-2.0-only */
/* libevent glue: a loop that SIGTERM/SIGINT end cleanly, and fd watches. */
#ifndef COMMON_EVLOOP_H
#define COMMON_EVLOOP_H

#include <stdbool.h>

struct event_base;
struct event;

typedef void (*evloop_fd_cb)(int fd, void *arg);

/*
 * A new event base whose loop exits (evloop_run returns) on SIGTERM or
 * SIGINT. NULL on failure (logged). libevent delivers signals to one base at
 * a time (the one that last added a signal or started its loop), so a
 * program with several loops should handle signals in one of them only.
 */
struct event_base *evloop_new(void);

/* Persistent read watch on fd; NULL on failure (logged). */
struct event *evloop_watch_fd(struct event_base *base, int fd,
			      evloop_fd_cb cb, void *arg);

/* Deletes and frees *ev and sets it to NULL; no-op on NULL. */
void evloop_unwatch(struct event **ev);

/* Runs until evloop_stop or a signal. 0 on a clean exit, -1 on loop error. */
int evloop_run(struct event_base *base);
void evloop_stop(struct event_base *base);

/* The signal that ended the loop, or 0. */
int evloop_exit_signal(struct event_base *base);

/* Frees the base and the signal events evloop_new made. */
void evloop_free(struct event_base *base);

#endif /* COMMON_EVLOOP_H */
