/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vmm and the device VM's guest driver, played by a test program
 * against a real vvu-proxyd: the device channel's vmm side (HELLO, RAM_ADD
 * of a memfd that is the device VM's RAM, one access channel; SHM_MAP,
 * IOEVENTFD and IRQFD answered and recorded), KVM's part (a guest write on
 * an ioeventfd's address signals its eventfd), and a driver of the
 * vvu-proxy device with rxq/txq in that RAM (common/vring_driver).
 */
#ifndef TESTS_PROXY_FAKE_VMM_H
#define TESTS_PROXY_FAKE_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/devchan_host.h"
#include "common/vring_driver.h"
#include "common/vu_msg.h"

#define FV_RAM_GPA		0x40000000ull
#define FV_RAM_SIZE		(4u << 20)
#define FV_QUEUE_SIZE		64
#define FV_RX_BUFS		32
#define FV_RX_BUF_SIZE		512
#define FV_SHM_SIZE		"1G"

struct fvmm {
	pid_t pid;
	bool control_path;		/* --control PATH instead of --control-fd */
	uint32_t rx_len;		/* rx buffer size, FV_RX_BUF_SIZE by default */
	char dir[64];
	char sock[96];
	uint32_t refuse_type;		/* refuse these on purpose (ENOSPC) */
	struct devchan_host host;	/* the vmm's side of the device channel */
	/* the device VM */
	int ram_fd;
	uint8_t *ram;
	uint64_t brk;
	struct vring_drv rx, tx;
	uint64_t rx_buf[FV_RX_BUFS];
	uint64_t tx_buf;
};

/*
 * Starts proxyd (on --control-fd, or --control PATH if v->control_path)
 * and does the handshake. 0 or -1.
 */
int fv_start(struct fvmm *v, const char *proxyd);
/* The vmm's RESET of the device: proxyd's REPLY status, or -1. */
int fv_reset(struct fvmm *v);
/* The vmm goes (control EOF); proxyd's exit status (waitpid), -1 on error. */
int fv_stop(struct fvmm *v);

/* Reads and answers what proxyd sent, for up to timeout_ms. 0, -1: fault. */
int fv_pump(struct fvmm *v, int timeout_ms);
/* A read through the access channel, then the control channel drained. */
int fv_sync(struct fvmm *v);

/* Guest accesses (BAR index or DEVCHAN_REGION_CONFIG). */
uint64_t fv_read(struct fvmm *v, uint8_t region, uint64_t off, uint8_t size);
/* A guest write: an ioeventfd's eventfd if one is bound there, as KVM does. */
void fv_write(struct fvmm *v, uint8_t region, uint64_t off, uint8_t size,
	      uint64_t val);

/*
 * The driver: reset, features, rxq/txq with vectors 1 and 2, rx buffers of
 * v->rx_len bytes, DRIVER_OK. Again after a reset: new rings.
 */
int fv_driver_init(struct fvmm *v);
/* Device config status (bit 0: a sibling is connected). */
uint32_t fv_status(struct fvmm *v);
/* Sets vhost queue i's notification vector (BAR2). */
void fv_set_notification(struct fvmm *v, uint16_t i, uint16_t vector);

/*
 * Waits up to timeout_ms for a used rx buffer: its bytes in buf (capacity
 * FV_RX_BUF_SIZE), length in *len (0: the sibling disconnected). The buffer
 * goes back to the ring. 0, -ETIMEDOUT, or -EPROTO.
 */
int fv_rx(struct fvmm *v, void *buf, uint32_t *len, int timeout_ms);
/* Sends one message on txq and waits until the device used it. */
int fv_tx(struct fvmm *v, const void *buf, uint32_t len);
/* A reply the back-end sends: the request's code, a u64 payload. */
int fv_tx_reply_u64(struct fvmm *v, uint32_t request, uint64_t val);

/* Recorded state. */
const struct devchan_host_ioeventfd *fv_ioeventfd_at(const struct fvmm *v,
						     uint8_t bar, uint64_t off);
const struct devchan_host_irqfd *fv_irqfd(const struct fvmm *v, uint32_t id);
unsigned int fv_shm_count(const struct fvmm *v);
const struct devchan_host_shm *fv_shm_slot(const struct fvmm *v, uint32_t slot);
/* proxyd's open fds (/proc/PID/fd). */
int fv_proxyd_fds(const struct fvmm *v);
/* Is proxyd still running? */
bool fv_alive(struct fvmm *v);

/* Two fds name the same file (the very eventfd or memfd). */
bool same_file(int a, int b);

#endif /* TESTS_PROXY_FAKE_VMM_H */
