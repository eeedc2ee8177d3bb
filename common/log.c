/* SPDX-License-Identifier: GPL-2.0-only */
/* Logging to stderr as "prog[pid]: level: message". */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* Longer messages are cut; the line still ends in '\n'. */
#define LOG_LINE_MAX	1024

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char *log_prog = "vvu";
static int log_level = LOG_LVL_INFO;

static const char *const log_level_names[] = {
	[LOG_LVL_ERR]	= "err",
	[LOG_LVL_WARN]	= "warn",
	[LOG_LVL_INFO]	= "info",
	[LOG_LVL_DEBUG]	= "debug",
};

void log_init(const char *prog, enum log_level level)
{
	if (prog && *prog)
		log_prog = prog;
	log_set_level(level);
}

void log_set_level(enum log_level level)
{
	if ((int)level < LOG_LVL_ERR)
		level = LOG_LVL_ERR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	/* Threads read it without a lock. */
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

enum log_level log_get_level(void)
{
	return (enum log_level)__atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

int log_level_parse(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < ARRAY_SIZE(log_level_names); i++)
		if (!strcmp(name, log_level_names[i]))
			return (int)i;
	return -1;
}

/*
 * A log line waits at most this long for stderr: a reader that stopped
 * reading (a stalled pipe or terminal) must not stall a vCPU or a daemon's
 * event loop. What is dropped is counted and said with the next line.
 */
#define LOG_STALL_MS	1000

static unsigned int log_dropped;

static bool log_stderr_writable(void)
{
	struct pollfd p = { .fd = STDERR_FILENO, .events = POLLOUT };
	int n;

	do
		n = poll(&p, 1, LOG_STALL_MS);
	while (n < 0 && errno == EINTR);
	return n == 1 && (p.revents & POLLOUT);
}

/* One write(2) per line so lines from several threads never interleave. */
static void log_write_line(const char *line, size_t len)
{
	unsigned int dropped = __atomic_exchange_n(&log_dropped, 0, __ATOMIC_RELAXED);
	ssize_t n;

	if (dropped) {
		char note[80];
		int m = snprintf(note, sizeof(note), "%s[%d]: warn: %u log lines dropped (stderr blocked)\n",
				 log_prog, (int)getpid(), dropped);

		if (m > 0)
			log_write_line(note, (size_t)m < sizeof(note) ? (size_t)m : sizeof(note) - 1);
	}
	while (len) {
		if (!log_stderr_writable()) {
			__atomic_add_fetch(&log_dropped, 1, __ATOMIC_RELAXED);
			return;
		}
		n = write(STDERR_FILENO, line, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	int saved_errno = errno;
	size_t len;
	va_list ap;
	int n;

	if ((int)level > (int)log_get_level() || (int)level < LOG_LVL_ERR)
		return;

	n = snprintf(line, sizeof(line), "%s[%d]: %s: ", log_prog,
		     (int)getpid(), log_level_names[level]);
	if (n < 0)
		goto out;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;

	/* fmt may use %m, which wants the caller's errno. */
	errno = saved_errno;
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto out;
	len += (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;	/* room for the newline */

	/* Callers may or may not end fmt with '\n'; print exactly one. */
	if (!len || line[len - 1] != '\n')
		line[len++] = '\n';
	log_write_line(line, len);
out:
	errno = saved_errno;
}
