/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --vvu-proxy: a remote PCI device (remote_pci.h) whose model is a
 * vvu-proxyd process. Either the vmm starts vvu-proxyd itself, handing it
 * one end of a socketpair as its control channel and stopping it when the
 * VM ends, or it connects to a running one's control socket (proxyd=CTRL).
 */
#ifndef VMM_PROXYD_H
#define VMM_PROXYD_H

#include <stdint.h>

struct vm;
struct proxyd;

struct proxyd_opts {
	const char *arg;	/* the whole option, for messages */
	char *sock;		/* the vhost-user socket vvu-proxyd serves */
	int slot;		/* PCI slot, -1: the first free one */
	uint64_t shm_size;	/* 0: vvu-proxyd's default */
	char *uuid;		/* NULL: vvu-proxyd's default */
	char *ctrl_path;	/* a running vvu-proxyd's control socket, or NULL */
};

/*
 * Parses SOCK[,addr=[DDDD:]BB:DD.F][,shm=SIZE][,uuid=UUID][,proxyd=CTRL]
 * into o (strings allocated: proxyd_opts_free). On a bad value prints
 * "prog: --vvu-proxy ...: ..." naming it and returns -1.
 */
int proxyd_parse(const char *prog, const char *arg, struct proxyd_opts *o);
void proxyd_opts_free(struct proxyd_opts *o);

/*
 * Starts (or connects to) vvu-proxyd and puts its device on the PCI bus.
 * A vvu-proxyd of ours that exits is reported from vm->evbase.
 * NULL on failure (logged).
 */
struct proxyd *proxyd_create(struct vm *vm, const struct proxyd_opts *o);
/* After vm_stop_device_thread: removes the device, stops vvu-proxyd. */
void proxyd_destroy(struct proxyd *p);

#endif /* VMM_PROXYD_H */
