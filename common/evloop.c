/* SPDX-License-Identifier: GPL-2.0-only */
/* libevent glue: a loop that SIGTERM/SIGINT end cleanly, and fd watches. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/evloop.h"
#include "common/log.h"

/* What evloop_new adds to a base; found again through evloop_bases. */
struct evloop {
	struct event_base *base;
	struct event *sigterm;
	struct event *sigint;
	volatile sig_atomic_t exit_signal;
	struct evloop *next;
};

/* A user callback behind libevent's three-argument one. */
struct evloop_watch {
	evloop_fd_cb cb;
	void *arg;
};

static struct evloop *evloop_bases;
static pthread_mutex_t evloop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t evloop_once = PTHREAD_ONCE_INIT;
static int evloop_threads_err;

/* libevent's own warnings, in our line format. */
static void evloop_libevent_log(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		pr_debug("libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		pr_info("libevent: %s", msg);
		break;
	case EVENT_LOG_WARN:
		pr_warn("libevent: %s", msg);
		break;
	default:
		pr_err("libevent: %s", msg);
		break;
	}
}

static void evloop_global_init(void)
{
	event_set_log_callback(evloop_libevent_log);
	/* Lets evloop_stop wake a loop running in another thread. */
	evloop_threads_err = evthread_use_pthreads();
}

static struct evloop *evloop_find(struct event_base *base)
{
	struct evloop *l;

	pthread_mutex_lock(&evloop_lock);
	for (l = evloop_bases; l && l->base != base; l = l->next)
		;
	pthread_mutex_unlock(&evloop_lock);
	return l;
}

static void evloop_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct evloop *l = arg;

	(void)what;
	pr_info("%s: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	l->exit_signal = (int)sig;
	event_base_loopbreak(l->base);
}

static void evloop_release(struct evloop *l)
{
	if (l->sigterm)
		event_free(l->sigterm);
	if (l->sigint)
		event_free(l->sigint);
	if (l->base)
		event_base_free(l->base);
	free(l);
}

static struct event *evloop_add_signal(struct evloop *l, int sig)
{
	struct event *ev = evsignal_new(l->base, sig, evloop_on_signal, l);

	if (ev && event_add(ev, NULL)) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

struct event_base *evloop_new(void)
{
	struct evloop *l;

	pthread_once(&evloop_once, evloop_global_init);
	if (evloop_threads_err) {
		pr_err("evloop: evthread_use_pthreads failed");
		return NULL;
	}

	l = calloc(1, sizeof(*l));
	if (!l) {
		pr_err("evloop: out of memory");
		return NULL;
	}
	l->base = event_base_new();
	if (!l->base) {
		pr_err("evloop: event_base_new failed");
		goto fail;
	}
	l->sigterm = evloop_add_signal(l, SIGTERM);
	l->sigint = evloop_add_signal(l, SIGINT);
	if (!l->sigterm || !l->sigint) {
		pr_err("evloop: cannot watch SIGTERM/SIGINT");
		goto fail;
	}

	pthread_mutex_lock(&evloop_lock);
	l->next = evloop_bases;
	evloop_bases = l;
	pthread_mutex_unlock(&evloop_lock);
	return l->base;

fail:
	evloop_release(l);
	return NULL;
}

static void evloop_on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct evloop_watch *w = arg;

	(void)what;
	/* w may be freed by an evloop_unwatch inside cb: touch it no more. */
	w->cb((int)fd, w->arg);
}

struct event *evloop_watch_fd(struct event_base *base, int fd,
			      evloop_fd_cb cb, void *arg)
{
	struct evloop_watch *w;
	struct event *ev;

	w = malloc(sizeof(*w));
	if (!w) {
		pr_err("evloop: out of memory");
		return NULL;
	}
	w->cb = cb;
	w->arg = arg;
	ev = event_new(base, fd, EV_READ | EV_PERSIST, evloop_on_fd, w);
	if (!ev) {
		pr_err("evloop: event_new for fd %d failed", fd);
		free(w);
		return NULL;
	}
	if (event_add(ev, NULL)) {
		pr_err("evloop: cannot watch fd %d", fd);
		event_free(ev);
		free(w);
		return NULL;
	}
	return ev;
}

void evloop_unwatch(struct event **ev)
{
	struct evloop_watch *w;

	if (!ev || !*ev)
		return;
	w = event_get_callback_arg(*ev);
	event_free(*ev);
	free(w);
	*ev = NULL;
}

int evloop_run(struct event_base *base)
{
	struct evloop *l = evloop_find(base);

	if (l)
		l->exit_signal = 0;
	return event_base_dispatch(base) < 0 ? -1 : 0;
}

void evloop_stop(struct event_base *base)
{
	event_base_loopbreak(base);
}

int evloop_exit_signal(struct event_base *base)
{
	struct evloop *l = evloop_find(base);

	return l ? l->exit_signal : 0;
}

void evloop_free(struct event_base *base)
{
	struct evloop **pp, *l = NULL;

	if (!base)
		return;
	pthread_mutex_lock(&evloop_lock);
	for (pp = &evloop_bases; *pp; pp = &(*pp)->next) {
		if ((*pp)->base == base) {
			l = *pp;
			*pp = l->next;
			break;
		}
	}
	pthread_mutex_unlock(&evloop_lock);

	if (l)
		evloop_release(l);
	else
		event_base_free(base);
}
