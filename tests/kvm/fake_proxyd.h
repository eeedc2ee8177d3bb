/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A stand-in for vvu-proxyd in the test process, speaking the device
 * channel through the codec: a thread answers the handshake with a given
 * DEVICE, then another serves access channel 0 (logging every command,
 * answering reads from a pattern or its config bytes), while the test sends
 * control requests itself.
 */
#ifndef TESTS_KVM_FAKE_PROXYD_H
#define TESTS_KVM_FAKE_PROXYD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/devchan.h"

#define FAKE_LOG_MAX	64

struct fake_proxyd {
	int ctrl;			/* our end of the control channel */
	int vmm_end;			/* the vmm's end, until it takes it */
	struct devchan_device dev;
	uint8_t cfg[DEVCHAN_CONFIG_SIZE];	/* config reads answer from here */
	uint32_t nr_channels;		/* from HELLO */
	int chan0;			/* access channel 0 */
	unsigned int nram;
	struct devchan_ram_add ram[4];
	uint64_t next_id;

	pthread_t thread;
	bool serving;
	pthread_mutex_t lock;
	bool silent;			/* read commands get no response */
	struct devchan_access log[FAKE_LOG_MAX];
	unsigned int nlog;
};

/* What the fake answers a BAR read of size bytes at offset. */
uint64_t fake_bar_value(uint64_t offset, unsigned int size);

/* Socket pair; then fake_handshake_start before remote_pci_create(vmm_end). */
void fake_init(struct fake_proxyd *f, const struct devchan_device *dev);
void fake_handshake_start(struct fake_proxyd *f);
/* Joins the handshake thread; starts serving channel 0. */
void fake_handshake_end(struct fake_proxyd *f);
void fake_destroy(struct fake_proxyd *f);

/* Sends a request, dispatching the vmm's loop until its REPLY; the status. */
int fake_request(struct fake_proxyd *f, struct devchan_msg *m, void *evbase);
/* Dispatches the vmm's loop until our control channel reads EOF: true if so. */
bool fake_sees_close(struct fake_proxyd *f, void *evbase);

void fake_set_silent(struct fake_proxyd *f, bool silent);
/* Copies the log out (returns its length) and clears it. */
unsigned int fake_take_log(struct fake_proxyd *f, struct devchan_access *out);

#endif /* TESTS_KVM_FAKE_PROXYD_H */
