/* SPDX-License-Identifier: GPL-2.0-only */
/* What the scenarios of vu-harness share. */
#ifndef HARNESS_HARNESS_H
#define HARNESS_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "tests/harness/driver.h"

#define HARNESS_MAX_PIDS	2

struct harness {
	const char *sock;
	const char *file;	/* the back-end's disk, checked on the host */
	const char *serial;	/* expected GET_ID, or NULL */
	/*
	 * The processes behind the socket (the back-end; for the vvu chain
	 * vvu-proxyd and the back-end), for liveness and fd counts.
	 */
	pid_t pids[HARNESS_MAX_PIDS];
	unsigned int npids;
};

struct scenario {
	const char *name;
	int (*run)(struct harness *h);
};

/* Failure with a reason: every check goes through this. */
#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		pr_err("check failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
		pr_err(__VA_ARGS__);					\
		return -1;						\
	}								\
} while (0)

/*
 * A vhost-user message of any shape (size need not match the len payload
 * bytes sent), with up to 16 fds, in one sendmsg: 0 or -errno.
 */
int raw_send(int sock, uint32_t request, uint32_t size, const void *payload,
	     uint32_t len, const int *fds, int nfds);

/* Open fds of process pid (/proc/PID/fd), -1 if unreadable. */
int count_fds(pid_t pid);

int session_open(struct drv *d, const char *sock, unsigned int nqueues);
void fill_pattern(void *buf, uint32_t len, uint32_t seed);
int file_matches(const char *path, uint64_t off, const void *expect, uint32_t len);
/* Writes a pattern and reads it back through the back-end: a working session. */
int io_roundtrip(struct drv *d, unsigned int q, uint64_t sector, uint32_t seed);

/* DISCARD or WRITE_ZEROES of num sectors at sector: the status byte or -errno. */
int blk_range_op(struct drv *d, uint32_t type, uint64_t sector, uint32_t num);

extern const struct scenario io_scenarios[];
/* Runs a bad-input case ("bad-all" for every one); -2 if name is unknown. */
int bad_scenario_run(struct harness *h, const char *name);
void bad_scenario_list(FILE *out);

#endif /* HARNESS_HARNESS_H */
