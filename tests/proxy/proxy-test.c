// SPDX-License-Identifier: GPL-2.0-only
/*
 * vvu-proxyd without QEMU and without KVM: this program is the vmm (and
 * KVM, and the device VM's driver: fake_vmm.c) on one side of a real
 * proxyd, and the sibling's vhost-user front-end on the other.
 *
 *   proxy-test PROXYD SCENARIO
 *
 * Every scenario ends with the vmm closing the device channel, and proxyd
 * must then exit 0: it did not crash, and nothing it was asked to do (by
 * the sibling or the driver) got it killed by its seccomp filter.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/vu_frontend.h"
#include "tests/harness/harness.h"
#include "tests/proxy/fake_vmm.h"
#include "vvu-proxyd/proxyd.h"

#define PF(b)		(1ull << VHOST_USER_PROTOCOL_F_##b)
#define TIMEOUT_MS	3000

/* --- the sibling ------------------------------------------------------------- */

static int sib_connect(struct fvmm *v)
{
	struct vu_frontend fe;
	int r = vu_fe_connect(&fe, v->sock);

	CHECK(!r, "cannot connect to %s: %s", v->sock, strerror(-r));
	for (int t = 0; t < TIMEOUT_MS && !(fv_status(v) & VVU_STATUS_BACKEND_UP); t += 5)
		CHECK(!fv_pump(v, 5), "pump");
	CHECK(fv_status(v) & VVU_STATUS_BACKEND_UP, "status bit 0 not set");
	return fe.sock;
}

static int sib_send(int sock, uint32_t request, uint32_t flags,
		    const void *payload, uint32_t size, const int *fds,
		    size_t nfds)
{
	struct vu_msg m;

	vu_msg_init(&m, request);
	m.hdr.flags |= flags;
	m.hdr.size = size;
	if (size)
		memcpy(&m.payload, payload, size);
	if (nfds)
		memcpy(m.fds, fds, nfds * sizeof(int));
	m.nfds = nfds;
	return vu_msg_send(sock, &m);
}

/* Waits for proxyd to close the sibling's socket. */
static bool sib_closed(int sock)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	char c;

	while (poll(&pfd, 1, TIMEOUT_MS) > 0) {
		ssize_t n = read(sock, &c, 1);

		if (n <= 0)
			return true;
	}
	return false;
}

static int new_eventfd(void)
{
	return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static int new_memfd(uint64_t size)
{
	int fd = memfd_create("sibling-ram", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* --- the back-end (the driver's side of rxq/txq) ------------------------------ */

/* The next message on rxq, parsed; it must be request. */
static int expect_rx(struct fvmm *v, uint32_t request, struct vu_msg *m)
{
	uint8_t buf[FV_RX_BUF_SIZE];
	uint32_t len = 0;
	int r = fv_rx(v, buf, &len, TIMEOUT_MS);

	CHECK(!r, "no rx message (%s), want %s", strerror(-r),
	      vu_request_name(request));
	CHECK(len && !vu_msg_parse(m, buf, len), "rx: %u bytes, no message", len);
	CHECK(m->hdr.request == request, "rx: %s, want %s",
	      vu_request_name(m->hdr.request), vu_request_name(request));
	return 0;
}

/* Skips messages until the zero-length buffer: the sibling went. */
static int expect_gone(struct fvmm *v)
{
	uint8_t buf[FV_RX_BUF_SIZE];
	uint32_t len = 1;

	while (len) {
		int r = fv_rx(v, buf, &len, TIMEOUT_MS);

		CHECK(!r, "no disconnect marker: %s", strerror(-r));
	}
	for (int t = 0; t < TIMEOUT_MS && (fv_status(v) & VVU_STATUS_BACKEND_UP); t += 5)
		CHECK(!fv_pump(v, 5), "pump");
	CHECK(!(fv_status(v) & VVU_STATUS_BACKEND_UP), "status bit 0 still set");
	return 0;
}

/* The sibling went, and the driver ends its session (a zero-length txq buffer). */
static int expect_marker(struct fvmm *v)
{
	if (expect_gone(v))
		return -1;
	CHECK(!fv_tx(v, "", 0), "the end-of-session mark was not taken");
	return 0;
}

/* A GET_FEATURES round trip: the session carries messages both ways. */
static int roundtrip(struct fvmm *v, int sock)
{
	uint64_t offered = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			   VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
			   VIRTIO_BIT(VHOST_F_LOG_ALL);
	struct vu_msg m;

	CHECK(!sib_send(sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0), "send");
	if (expect_rx(v, VHOST_USER_GET_FEATURES, &m))
		return -1;
	CHECK(!fv_tx_reply_u64(v, VHOST_USER_GET_FEATURES, offered), "tx");
	CHECK(!vu_msg_recv(sock, &m), "no GET_FEATURES reply");
	CHECK(m.hdr.flags == VHOST_USER_REPLY_FLAGS, "reply flags %#x", m.hdr.flags);
	CHECK(m.payload.u64 == (offered & ~VIRTIO_BIT(VHOST_F_LOG_ALL)),
	      "features %#llx not masked", (unsigned long long)m.payload.u64);
	return 0;
}

/* A sibling connects, is served, and goes: the device works. */
static int sibling_served(struct fvmm *v)
{
	int sock = sib_connect(v), r;

	if (sock < 0)
		return -1;
	r = roundtrip(v, sock);
	close(sock);
	return r || expect_marker(v);
}

static int setup(struct fvmm *v, const char *proxyd)
{
	CHECK(!fv_start(v, proxyd), "cannot start proxyd and shake hands");
	CHECK(!fv_driver_init(v), "driver init failed");
	return 0;
}

/* The vmm goes; proxyd must exit 0 and have refused nothing of ours. */
static int finish(struct fvmm *v, int ret)
{
	unsigned int refusals = v->host.refusals;
	int status = fv_stop(v);

	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "proxyd ended with status %#x", status);
	CHECK(!refusals, "proxyd made %u requests the vmm refused", refusals);
	return ret;
}

/* --- basic: identity, messages, fds ------------------------------------------- */

static int check_device(struct fvmm *v)
{
	const struct devchan_device *d = &v->host.dev;

	CHECK(d->vendor_id == 0x1af4 && d->device_id == 0x107d, "ids");
	CHECK(d->class_code == 0 && d->subclass == 0xff && d->revision == 1, "class");
	CHECK(d->bars[4].size == 1ull << 30, "BAR4 is --shm-size");
	CHECK(d->msix.nvectors == VVU_MSIX_VECTORS, "vectors");
	/* The driver's doorbells and vectors are proxyd's eventfds. */
	CHECK(fv_ioeventfd_at(v, 0, VIRTIO_PCI_NOTIFY_OFF), "rxq doorbell");
	CHECK(fv_ioeventfd_at(v, 0, VIRTIO_PCI_NOTIFY_OFF + 4), "txq doorbell");
	CHECK(fv_irqfd(v, PROXY_IRQFD_CONFIG)->vector == 0, "config vector");
	CHECK(fv_irqfd(v, PROXY_IRQFD_QUEUE(0))->vector == 1, "rxq vector");
	CHECK(fv_irqfd(v, PROXY_IRQFD_QUEUE(1))->vector == 2, "txq vector");
	return 0;
}

/* The running proxyd has its seccomp filter and no new privileges. */
static int check_sandboxed(struct fvmm *v)
{
	char path[64], line[256];
	bool seccomp = false, nnp = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)v->pid);
	f = fopen(path, "r");
	CHECK(f, "cannot read %s", path);
	while (fgets(line, sizeof(line), f)) {
		seccomp |= !strcmp(line, "Seccomp:\t2\n");
		nnp |= !strcmp(line, "NoNewPrivs:\t1\n");
	}
	fclose(f);
	CHECK(seccomp && nnp, "proxyd is not sandboxed (seccomp %d, no_new_privs %d)",
	      seccomp, nnp);
	return 0;
}

/* fwd (as forwarded) lies in BAR4 where a slot maps orig's bytes of fd. */
static int check_mapped(struct fvmm *v, const struct vhost_user_mem_region *fwd,
			const struct vhost_user_mem_region *orig, int fd)
{
	for (unsigned int i = 0; i < DEVCHAN_MAX_SHM_SLOTS; i++) {
		const struct devchan_host_shm *s = fv_shm_slot(v, i);
		uint64_t in;

		if (!s || fwd->mmap_offset < s->map.bar_offset ||
		    fwd->mmap_offset - s->map.bar_offset >= s->map.size)
			continue;
		in = fwd->mmap_offset - s->map.bar_offset;
		CHECK(same_file(s->fd, fd), "slot %u maps another file", i);
		CHECK(s->map.fd_offset + in == orig->mmap_offset, "slot %u file offset", i);
		CHECK(in + orig->memory_size <= s->map.size, "slot %u too small", i);
		CHECK(fwd->guest_phys_addr == orig->guest_phys_addr &&
		      fwd->memory_size == orig->memory_size &&
		      fwd->userspace_addr == orig->userspace_addr, "region changed");
		return 0;
	}
	CHECK(false, "BAR4 offset %#llx is in no slot",
	      (unsigned long long)fwd->mmap_offset);
	return -1;
}

/*
 * Waits ms with the vmm's requests left unanswered: true if a message
 * reached the driver meanwhile (one that depends on them must not).
 */
static bool rx_before_answers(struct fvmm *v, int ms)
{
	for (int t = 0; t < ms; t += 5) {
		if (vring_drv_has_used(&v->rx))
			return true;
		usleep(5000);
	}
	return false;
}

static int basic_mem_table(struct fvmm *v, int sock, int fa, int fb)
{
	struct vhost_user_memory mem = { .nregions = 3, .regions = {
		{ 0x0, 1 << 20, 0x7f0000000000, 0 },
		{ 0x100000, 1 << 20, 0x7f0000100000, 1 << 20 },
		{ 0x200000, 0x3000, 0x7f0000200000, 0x1800 },	/* not page aligned */
	} };
	int fds[3] = { fa, fa, fb };
	struct vu_msg m;

	CHECK(!sib_send(sock, VHOST_USER_SET_MEM_TABLE, 0, &mem,
			VHOST_USER_MEMORY_SIZE(3), fds, 3), "send");
	CHECK(!rx_before_answers(v, 300), "the table reached the driver before its slots");
	if (expect_rx(v, VHOST_USER_SET_MEM_TABLE, &m))
		return -1;
	CHECK(m.payload.memory.nregions == 3, "nregions");
	/* The driver sees the table only once the vmm has mapped every region. */
	CHECK(fv_shm_count(v) == 3, "the table came before its slots (%u)", fv_shm_count(v));
	for (unsigned int i = 0; i < 3; i++)
		if (check_mapped(v, &m.payload.memory.regions[i], &mem.regions[i], fds[i]))
			return -1;

	/* A second table replaces the first. */
	mem.nregions = 1;
	mem.regions[0] = (struct vhost_user_mem_region){ 0x0, 0x10000, 0x7f0000000000, 0 };
	CHECK(!sib_send(sock, VHOST_USER_SET_MEM_TABLE, 0, &mem,
			VHOST_USER_MEMORY_SIZE(1), &fb, 1), "send");
	if (expect_rx(v, VHOST_USER_SET_MEM_TABLE, &m))
		return -1;
	CHECK(fv_pump(v, 0) == 0 && fv_shm_count(v) == 1, "%u slots after replace",
	      fv_shm_count(v));
	return check_mapped(v, &m.payload.memory.regions[0], &mem.regions[0], fb);
}

static int basic_mem_reg(struct fvmm *v, int sock, int fa)
{
	struct vhost_user_mem_reg reg = { .region = { 0x400000, 1 << 20,
						      0x7f0000400000, 0 } };
	struct vu_msg m;

	CHECK(!sib_send(sock, VHOST_USER_ADD_MEM_REG, 0, &reg, sizeof(reg), &fa, 1),
	      "send");
	if (expect_rx(v, VHOST_USER_ADD_MEM_REG, &m))
		return -1;
	CHECK(fv_shm_count(v) == 2, "ADD came before its slot: %u slots", fv_shm_count(v));
	if (check_mapped(v, &m.payload.mem_reg.region, &reg.region, fa))
		return -1;
	/* QEMU sends the region's fd with REM_MEM_REG too. */
	CHECK(!sib_send(sock, VHOST_USER_REM_MEM_REG, 0, &reg, sizeof(reg), &fa, 1),
	      "send");
	if (expect_rx(v, VHOST_USER_REM_MEM_REG, &m))
		return -1;
	CHECK(fv_pump(v, 0) == 0 && fv_shm_count(v) == 1, "REM: %u slots",
	      fv_shm_count(v));
	return 0;
}

static int send_vring_fd(int sock, uint32_t request, uint32_t index, int fd)
{
	uint64_t u = index | (fd < 0 ? VHOST_USER_VRING_NOFD_MASK : 0);

	return sib_send(sock, request, 0, &u, sizeof(u), &fd, fd < 0 ? 0 : 1);
}

/* SET_VRING_CALL: doorbell 1 is the very eventfd; a second one replaces it. */
static int basic_call(struct fvmm *v, int sock)
{
	int c1 = new_eventfd(), c2 = new_eventfd();
	const struct devchan_host_ioeventfd *e;
	struct vu_msg m;
	eventfd_t n = 0;
	int ret = -1;

	if (send_vring_fd(sock, VHOST_USER_SET_VRING_CALL, 1, c1) ||
	    expect_rx(v, VHOST_USER_SET_VRING_CALL, &m))
		goto out;
	fv_pump(v, 0);
	e = fv_ioeventfd_at(v, VVU_BAR2, 4);
	CHECK(e && same_file(e->fd, c1) && e->add.len == 0, "doorbell 1 is not the call fd");
	fv_write(v, VVU_BAR2, 4, 4, 1);		/* the back-end rings doorbell 1 */
	CHECK(!eventfd_read(c1, &n) && n == 1, "call fd not signalled");
	if (send_vring_fd(sock, VHOST_USER_SET_VRING_CALL, 1, c2) ||
	    expect_rx(v, VHOST_USER_SET_VRING_CALL, &m))
		goto out;
	fv_pump(v, 0);
	e = fv_ioeventfd_at(v, VVU_BAR2, 4);
	CHECK(e && same_file(e->fd, c2), "doorbell 1 not replaced");
	ret = 0;
out:
	close(c1);
	close(c2);
	return ret;
}

/* SET_VRING_KICK: the very eventfd raises the driver's vector for queue 1. */
static int basic_kick(struct fvmm *v, int sock)
{
	int k = new_eventfd();
	const struct devchan_host_irqfd *q;
	struct vu_msg m;
	int ret = -1;

	fv_set_notification(v, 1, 5);
	if (send_vring_fd(sock, VHOST_USER_SET_VRING_KICK, 1, k) ||
	    expect_rx(v, VHOST_USER_SET_VRING_KICK, &m))
		goto out;
	fv_pump(v, 0);
	q = fv_irqfd(v, PROXY_IRQFD_VHOST(1));
	CHECK(q && q->vector == 5 && same_file(q->fd, k), "kick not bound to vector 5");
	fv_set_notification(v, 1, 6);
	fv_sync(v);
	q = fv_irqfd(v, PROXY_IRQFD_VHOST(1));
	CHECK(q && q->vector == 6 && same_file(q->fd, k), "kick not rebound to vector 6");
	CHECK(fv_read(v, VVU_BAR2, VVU_NOTIFICATION_OFFSET + 2, 2) == 6, "vector reads back");
	ret = 0;
out:
	close(k);
	return ret;
}

static int basic_err(struct fvmm *v, int sock)
{
	int e = new_eventfd();
	struct vu_msg m;
	int r = send_vring_fd(sock, VHOST_USER_SET_VRING_ERR, 0, e);

	close(e);
	CHECK(!r, "send");
	if (expect_rx(v, VHOST_USER_SET_VRING_ERR, &m))
		return -1;
	CHECK(m.payload.u64 == VHOST_USER_VRING_NOFD_MASK, "ERR forwarded as %#llx",
	      (unsigned long long)m.payload.u64);
	return 0;
}

static int basic_protocol(struct fvmm *v, int sock)
{
	uint64_t want = PF(REPLY_ACK) | PF(CONFIG) | PF(CONFIGURE_MEM_SLOTS);
	struct vu_msg m;

	CHECK(!sib_send(sock, VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0),
	      "send");
	if (expect_rx(v, VHOST_USER_GET_PROTOCOL_FEATURES, &m))
		return -1;
	CHECK(!fv_tx_reply_u64(v, VHOST_USER_GET_PROTOCOL_FEATURES, ~0ull), "tx");
	CHECK(!vu_msg_recv(sock, &m) && m.payload.u64 == proxy_protocol_mask,
	      "protocol features %#llx not masked", (unsigned long long)m.payload.u64);
	CHECK(!(m.payload.u64 & (PF(LOG_SHMFD) | PF(INFLIGHT_SHMFD) | PF(BACKEND_REQ) |
				 PF(HOST_NOTIFIER) | PF(PAGEFAULT) | PF(BACKEND_SEND_FD))),
	      "fd-carrying features offered");
	CHECK(!sib_send(sock, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &want, 8, NULL, 0),
	      "send");
	return expect_rx(v, VHOST_USER_SET_PROTOCOL_FEATURES, &m);
}

/* After a disconnect, nothing of the sibling's stays bound. */
static int check_clean(struct fvmm *v)
{
	fv_pump(v, 20);
	CHECK(fv_shm_count(v) == 0, "%u BAR4 slots left", fv_shm_count(v));
	for (unsigned int i = 0; i < VVU_MAX_VHOST_QUEUES; i++) {
		CHECK(!fv_ioeventfd_at(v, VVU_BAR2, 4 * i), "doorbell %u left", i);
		CHECK(!fv_irqfd(v, PROXY_IRQFD_VHOST(i)), "kick irqfd %u left", i);
	}
	return 0;
}

static int basic_session(struct fvmm *v, int sock)
{
	int fa = new_memfd(2 << 20), fb = new_memfd(64 << 10);
	int ret = -1;

	if (fa >= 0 && fb >= 0 && !roundtrip(v, sock) && !basic_protocol(v, sock) &&
	    !basic_mem_table(v, sock, fa, fb) && !basic_mem_reg(v, sock, fa) &&
	    !basic_call(v, sock) && !basic_kick(v, sock) && !basic_err(v, sock))
		ret = 0;
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ret;
}

static int scenario_basic(struct fvmm *v)
{
	eventfd_t n = 0;
	int sock;

	int fds = fv_proxyd_fds(v);

	if (check_device(v) || check_sandboxed(v))
		return -1;
	CHECK(fv_status(v) == 0, "status before any sibling");
	eventfd_read(fv_irqfd(v, PROXY_IRQFD_CONFIG)->fd, &n);
	sock = sib_connect(v);
	if (sock < 0)
		return -1;
	CHECK(!eventfd_read(fv_irqfd(v, PROXY_IRQFD_CONFIG)->fd, &n) && n,
	      "no config interrupt on connect");
	if (basic_session(v, sock)) {
		close(sock);
		return -1;
	}
	close(sock);
	if (expect_marker(v) || check_clean(v))
		return -1;
	CHECK(fv_proxyd_fds(v) == fds, "proxyd has %d fds, had %d", fv_proxyd_fds(v), fds);
	/* The next sibling is served. */
	return sibling_served(v);
}

/* --- reconnect cycles: no fd, no slot left behind ------------------------------ */

/* A memory table, a call and a kick eventfd: something to undo later. */
static int setup_session(struct fvmm *v, int sock)
{
	struct vhost_user_memory mem = { .nregions = 1, .regions = {
		{ 0x0, 1 << 20, 0x7f0000000000, 0 } } };
	int mfd = new_memfd(1 << 20), efd = new_eventfd(), kfd = new_eventfd();
	struct vu_msg m;
	int ret = -1;

	if (mfd >= 0 && efd >= 0 && kfd >= 0 &&
	    !sib_send(sock, VHOST_USER_SET_MEM_TABLE, 0, &mem,
		      VHOST_USER_MEMORY_SIZE(1), &mfd, 1) &&
	    !send_vring_fd(sock, VHOST_USER_SET_VRING_CALL, 0, efd) &&
	    !send_vring_fd(sock, VHOST_USER_SET_VRING_KICK, 0, kfd) &&
	    !expect_rx(v, VHOST_USER_SET_MEM_TABLE, &m) &&
	    !expect_rx(v, VHOST_USER_SET_VRING_CALL, &m) &&
	    !expect_rx(v, VHOST_USER_SET_VRING_KICK, &m))
		ret = 0;
	close(mfd);
	close(efd);
	close(kfd);
	fv_pump(v, 0);
	return ret;
}

static int one_cycle(struct fvmm *v)
{
	int sock = sib_connect(v), ret;

	if (sock < 0)
		return -1;
	ret = setup_session(v, sock);
	close(sock);
	return ret || expect_marker(v) || check_clean(v) ? -1 : 0;
}

/*
 * A reply the driver sends after its sibling went but before it marked the
 * session's end is the gone sibling's: the next sibling, which waits until
 * the mark, gets only its own reply. A mark outside a session's end is
 * ignored.
 */
static int scenario_late_reply(struct fvmm *v)
{
	uint8_t buf[FV_RX_BUF_SIZE];
	uint32_t len = 0;
	struct vu_frontend fe;
	struct vu_msg m;
	int a = sib_connect(v), r;

	CHECK(a >= 0, "first sibling");
	/* A mark while the sibling is there ends nothing. */
	CHECK(!fv_tx(v, "", 0), "a stray end-of-session mark was not taken");
	CHECK(fv_status(v) & VVU_STATUS_BACKEND_UP, "a stray mark dropped the sibling");
	CHECK(!sib_send(a, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0), "send");
	if (expect_rx(v, VHOST_USER_GET_FEATURES, &m))
		return -1;
	close(a);
	if (expect_gone(v))
		return -1;
	r = vu_fe_connect(&fe, v->sock);
	CHECK(!r, "second sibling: %s", strerror(-r));
	CHECK(!sib_send(fe.sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0), "send");
	CHECK(!fv_tx_reply_u64(v, VHOST_USER_GET_FEATURES, 1), "the late reply");
	r = fv_rx(v, buf, &len, 300);
	CHECK(r == -ETIMEDOUT, "the second sibling was served before the mark (%s)",
	      strerror(-r));
	CHECK(!(fv_status(v) & VVU_STATUS_BACKEND_UP), "status bit 0 set before the mark");
	CHECK(!fv_tx(v, "", 0), "the end-of-session mark was not taken");
	if (expect_rx(v, VHOST_USER_GET_FEATURES, &m))
		return -1;
	CHECK(!fv_tx_reply_u64(v, VHOST_USER_GET_FEATURES, VIRTIO_BIT(VIRTIO_F_VERSION_1)),
	      "tx");
	CHECK(!vu_msg_recv(fe.sock, &m), "no GET_FEATURES reply");
	CHECK(m.payload.u64 == VIRTIO_BIT(VIRTIO_F_VERSION_1),
	      "the second sibling got %#llx: the first one's late reply",
	      (unsigned long long)m.payload.u64);
	close(fe.sock);
	return expect_marker(v) || check_clean(v);
}

static int scenario_cycles(struct fvmm *v)
{
	int before, after;

	fv_set_notification(v, 0, 3);
	if (one_cycle(v))
		return -1;
	before = fv_proxyd_fds(v);
	for (int i = 0; i < 100; i++)
		if (one_cycle(v))
			return -1;
	after = fv_proxyd_fds(v);
	CHECK(before > 0 && after == before, "proxyd fds: %d before, %d after",
	      before, after);
	return 0;
}

/* --- bad input: the sibling goes, proxyd serves the next one --------------------- */

struct bad_case {
	const char *name;
	/* Sends the bad thing on sock; 0 when proxyd must drop the sibling. */
	int (*send)(struct fvmm *v, int sock);
};

static int bad_unknown_request(struct fvmm *v, int sock)
{
	(void)v;
	return raw_send(sock, 99, 0, NULL, 0, NULL, 0);
}

static int bad_wrong_size(struct fvmm *v, int sock)
{
	uint32_t half = 1;

	(void)v;
	return raw_send(sock, VHOST_USER_SET_FEATURES, sizeof(half), &half,
			sizeof(half), NULL, 0);
}

static int send_table(int sock, const struct vhost_user_memory *mem,
		      uint32_t n, const int *fds, int nfds)
{
	return raw_send(sock, VHOST_USER_SET_MEM_TABLE,
			(uint32_t)VHOST_USER_MEMORY_SIZE(n), mem,
			(uint32_t)VHOST_USER_MEMORY_SIZE(n), fds, nfds);
}

static int bad_too_many_fds(struct fvmm *v, int sock)
{
	struct vhost_user_memory mem = { .nregions = 1, .regions = {
		{ 0, 4096, 0x1000, 0 } } };
	int fds[10], r;

	(void)v;
	for (int i = 0; i < 10; i++)
		fds[i] = new_eventfd();
	r = send_table(sock, &mem, 1, fds, 10);
	for (int i = 0; i < 10; i++)
		close(fds[i]);
	return r;
}

static int bad_fd_on_plain_request(struct fvmm *v, int sock)
{
	int fd = new_eventfd(), r;

	(void)v;
	r = raw_send(sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, &fd, 1);
	close(fd);
	return r;
}

static int bad_table(int sock, const struct vhost_user_memory *mem,
		     uint32_t n, uint64_t memfd_size, int nfds)
{
	int fd = new_memfd(memfd_size), fds[2] = { fd, fd }, r;

	r = send_table(sock, mem, n, fds, nfds);
	close(fd);
	return r;
}

static int bad_nregions_40(struct fvmm *v, int sock)
{
	struct vhost_user_memory mem = { .nregions = 40 };

	(void)v;
	mem.regions[0] = (struct vhost_user_mem_region){ 0, 4096, 0x1000, 0 };
	return bad_table(sock, &mem, 1, 4096, 1);
}

static int bad_overlap(struct fvmm *v, int sock)
{
	struct vhost_user_memory mem = { .nregions = 2, .regions = {
		{ 0x0, 0x2000, 0x10000, 0 },
		{ 0x1000, 0x2000, 0x20000, 0 } } };

	(void)v;
	return bad_table(sock, &mem, 2, 0x4000, 2);
}

static int bad_huge_region(struct fvmm *v, int sock)
{
	/* 2 GiB, twice BAR4, backed by 1 MiB. */
	struct vhost_user_memory mem = { .nregions = 1, .regions = {
		{ 0x0, 2ull << 30, 0x10000, 0 } } };

	(void)v;
	return bad_table(sock, &mem, 1, 1 << 20, 1);
}

static int bad_region_past_memfd(struct fvmm *v, int sock)
{
	struct vhost_user_memory mem = { .nregions = 1, .regions = {
		{ 0x0, 0x2000, 0x10000, 0x1000 } } };

	(void)v;
	return bad_table(sock, &mem, 1, 0x2000, 1);
}

static int bad_rem_unknown(struct fvmm *v, int sock)
{
	struct vhost_user_mem_reg reg = { .region = { 0x5000000, 4096, 0x1000, 0 } };

	(void)v;
	return raw_send(sock, VHOST_USER_REM_MEM_REG, sizeof(reg), &reg,
			sizeof(reg), NULL, 0);
}

static int bad_vring_index(struct fvmm *v, int sock)
{
	struct vhost_user_vring_state s = { 5000, 128 };

	(void)v;
	return raw_send(sock, VHOST_USER_SET_VRING_NUM, sizeof(s), &s, sizeof(s),
			NULL, 0);
}

static int bad_log_base(struct fvmm *v, int sock)
{
	struct vhost_user_log log = { 4096, 0 };
	int fd = new_memfd(4096), r;

	(void)v;
	r = raw_send(sock, VHOST_USER_SET_LOG_BASE, sizeof(log), &log,
		     sizeof(log), &fd, 1);
	close(fd);
	return r;
}

/* The driver answers a request with garbage on txq. */
static int bad_txq_message(struct fvmm *v, int sock)
{
	static const uint8_t junk[5] = { 1, 2, 3, 4, 5 };
	struct vu_msg m;

	if (sib_send(sock, VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0) ||
	    expect_rx(v, VHOST_USER_GET_FEATURES, &m))
		return -1;
	return fv_tx(v, junk, sizeof(junk));
}

static const struct bad_case bad_cases[] = {
	{ "bad-unknown-request", bad_unknown_request },
	{ "bad-wrong-size", bad_wrong_size },
	{ "bad-too-many-fds", bad_too_many_fds },
	{ "bad-fd-on-plain-request", bad_fd_on_plain_request },
	{ "bad-nregions-40", bad_nregions_40 },
	{ "bad-regions-overlap", bad_overlap },
	{ "bad-huge-region", bad_huge_region },
	{ "bad-region-past-memfd", bad_region_past_memfd },
	{ "bad-rem-unknown-region", bad_rem_unknown },
	{ "bad-vring-index", bad_vring_index },
	{ "bad-log-base", bad_log_base },
	{ "bad-txq-message", bad_txq_message },
	{ NULL, NULL },
};

static int run_bad(struct fvmm *v, const struct bad_case *b)
{
	int fds = fv_proxyd_fds(v);
	int sock = sib_connect(v), bad;

	if (sock < 0)
		return -1;
	bad = b->send(v, sock);
	CHECK(!bad, "%s: could not send", b->name);
	CHECK(sib_closed(sock), "%s: the sibling was not dropped", b->name);
	close(sock);
	if (expect_marker(v) || check_clean(v))
		return -1;
	CHECK(fv_alive(v), "proxyd died");
	CHECK(fv_proxyd_fds(v) == fds, "%s: proxyd has %d fds, had %d", b->name,
	      fv_proxyd_fds(v), fds);
	/* ...and the next sibling is served. */
	return sibling_served(v);
}

/* With REPLY_ACK, a refused request is answered, and the session goes on. */
static int scenario_refuse_acked(struct fvmm *v)
{
	uint64_t want = PF(REPLY_ACK);
	struct vhost_user_memory mem = { .nregions = 40 };
	int sock = sib_connect(v), fd = new_memfd(4096);
	struct vu_msg m;

	CHECK(sock >= 0 && fd >= 0, "setup");
	CHECK(!sib_send(sock, VHOST_USER_SET_PROTOCOL_FEATURES, 0, &want, 8, NULL, 0),
	      "send");
	if (expect_rx(v, VHOST_USER_SET_PROTOCOL_FEATURES, &m))
		return -1;
	CHECK(!sib_send(sock, VHOST_USER_SET_MEM_TABLE, VHOST_USER_NEED_REPLY_MASK,
			&mem, (uint32_t)VHOST_USER_MEMORY_SIZE(1), &fd, 1), "send");
	close(fd);
	CHECK(!vu_msg_recv(sock, &m) && m.hdr.request == VHOST_USER_SET_MEM_TABLE &&
	      m.hdr.flags == VHOST_USER_REPLY_FLAGS && m.payload.u64 != 0,
	      "no error reply");
	if (roundtrip(v, sock))
		return -1;
	close(sock);
	return expect_marker(v);
}

/* --- lifecycle ---------------------------------------------------------------- */

static int check_driver_irqs_gone(struct fvmm *v)
{
	for (unsigned int i = 0; i < PROXY_NUM_DRIVER_IRQS; i++)
		CHECK(!fv_irqfd(v, i), "driver irqfd %u left after reset", i);
	return 0;
}

/* A reset (the driver's or the vmm's) ends the session; then all works again. */
static int reset_scenario(struct fvmm *v, bool by_vmm)
{
	int sock = sib_connect(v);

	if (sock < 0)
		return -1;
	fv_set_notification(v, 0, 4);
	if (setup_session(v, sock))
		return -1;
	CHECK(fv_shm_count(v) == 1 && fv_irqfd(v, PROXY_IRQFD_VHOST(0)), "session");
	if (by_vmm)
		CHECK(fv_reset(v) == 0, "RESET refused");
	else
		fv_write(v, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF +
			 offsetof(struct virtio_pci_common_cfg, device_status), 1, 0);
	fv_sync(v);
	CHECK(sib_closed(sock), "the sibling stayed connected");
	close(sock);
	CHECK(!vring_drv_has_used(&v->rx), "rxq written during the reset");
	if (check_clean(v) || check_driver_irqs_gone(v))
		return -1;
	CHECK(fv_status(v) == 0, "status bit 0 still set");
	CHECK(fv_read(v, VVU_BAR2, VVU_NOTIFICATION_OFFSET + 2, 2) ==
	      VIRTIO_MSI_NO_VECTOR, "notification vector survived the reset");
	CHECK(!fv_driver_init(v), "driver init after reset");
	return sibling_served(v);
}

static int scenario_driver_reset(struct fvmm *v)
{
	return reset_scenario(v, false);
}

static int scenario_vmm_reset(struct fvmm *v)
{
	return reset_scenario(v, true);
}

/* More messages than rx buffers and backlog: all arrive, in order. */
static int scenario_backlog(struct fvmm *v)
{
	int sock = sib_connect(v);
	struct vu_msg m;

	if (sock < 0)
		return -1;
	for (uint32_t i = 0; i < 200; i++) {
		struct vhost_user_vring_state st = { 0, i };

		CHECK(!sib_send(sock, VHOST_USER_SET_VRING_NUM, 0, &st, sizeof(st),
				NULL, 0), "send %u", i);
	}
	usleep(100 * 1000);
	for (uint32_t i = 0; i < 200; i++) {
		if (expect_rx(v, VHOST_USER_SET_VRING_NUM, &m))
			return -1;
		CHECK(m.payload.state.num == i, "message %u arrived as %u", i,
		      m.payload.state.num);
	}
	if (roundtrip(v, sock))
		return -1;
	close(sock);
	return expect_marker(v);
}

/* A message larger than the driver's buffer: never truncated, the sibling goes. */
static int scenario_rx_too_small(struct fvmm *v)
{
	struct vhost_user_memory mem = { .nregions = 1, .regions = {
		{ 0x0, 1 << 20, 0x7f0000000000, 0 } } };
	int sock = sib_connect(v), fd = new_memfd(1 << 20);

	CHECK(sock >= 0 && fd >= 0, "setup");
	CHECK(!sib_send(sock, VHOST_USER_SET_MEM_TABLE, 0, &mem,
			VHOST_USER_MEMORY_SIZE(1), &fd, 1), "send");
	close(fd);
	/* The message waits for the vmm's answer to its memory slot. */
	CHECK(!fv_pump(v, 500), "pump");
	CHECK(sib_closed(sock), "the sibling was not dropped");
	close(sock);
	if (expect_marker(v) || check_clean(v))
		return -1;
	return sibling_served(v);
}

static int scenario_control_socket(struct fvmm *v)
{
	return sibling_served(v);
}

/* SIGTERM: a clean exit, even sandboxed and with a sibling connected. */
static int scenario_sigterm(struct fvmm *v)
{
	int sock = sib_connect(v), status;

	if (sock < 0 || setup_session(v, sock))
		return -1;
	CHECK(!kill(v->pid, SIGTERM), "kill");
	CHECK(waitpid(v->pid, &status, 0) == v->pid, "waitpid");
	v->pid = 0;
	close(sock);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "proxyd ended with status %#x on SIGTERM", status);
	return 0;
}

/* --- the harness's front-end, as QEMU drives a back-end ---------------------- */

/* What a minimal back-end answers; false if the request wants no reply. */
static bool backend_answer(struct vu_msg *m)
{
	uint32_t req = m->hdr.request;
	bool ack = m->hdr.flags & VHOST_USER_NEED_REPLY_MASK;
	uint64_t v = 0;

	switch (req) {
	case VHOST_USER_GET_FEATURES:
		v = VIRTIO_BIT(VIRTIO_F_VERSION_1) |
		    VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
		break;
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		v = PF(MQ) | PF(REPLY_ACK) | PF(CONFIG) | PF(CONFIGURE_MEM_SLOTS) |
		    PF(INFLIGHT_SHMFD) | PF(BACKEND_REQ);
		break;
	case VHOST_USER_GET_QUEUE_NUM:
		v = 1;
		break;
	case VHOST_USER_GET_MAX_MEM_SLOTS:
		v = 8;
		break;
	case VHOST_USER_GET_CONFIG:
		memset(m->payload.config.region, 0, m->payload.config.size);
		vu_msg_make_reply(m, VHOST_USER_CONFIG_HDR_SIZE + m->payload.config.size);
		return true;
	case VHOST_USER_GET_VRING_BASE:
		m->payload.state.num = 0;
		vu_msg_make_reply(m, sizeof(m->payload.state));
		return true;
	default:
		if (!ack)
			return false;
	}
	vu_msg_make_reply(m, sizeof(m->payload.u64));
	m->payload.u64 = v;
	return true;
}

/* The sibling: the harness driver's connect, start and stop sequences. */
static int harness_frontend(const char *sock)
{
	uint16_t bases[1];
	struct drv d;
	int r = drv_init(&d);

	if (!r)
		r = drv_connect(&d, sock, 1);
	if (!r)
		r = drv_start(&d, 0);
	if (!r)
		r = drv_stop(&d, bases);
	drv_destroy(&d);
	return r ? 1 : 0;
}

/* Serves the front-end's messages until it goes; the most BAR4 slots seen. */
static int serve_backend(struct fvmm *v, unsigned int *max_slots)
{
	uint8_t buf[FV_RX_BUF_SIZE], out[VU_MSG_MAX_LEN];
	struct vu_msg m;
	uint32_t len = 1;
	ssize_t n;

	while (len) {
		CHECK(!fv_rx(v, buf, &len, TIMEOUT_MS), "the front-end stalled");
		if (fv_shm_count(v) > *max_slots)
			*max_slots = fv_shm_count(v);
		if (!len)
			break;
		CHECK(!vu_msg_parse(&m, buf, len), "rx: no message");
		if (!backend_answer(&m))
			continue;
		n = vu_msg_serialize(&m, out, sizeof(out));
		CHECK(n > 0 && !fv_tx(v, out, (uint32_t)n), "tx");
	}
	return 0;
}

static int scenario_harness_frontend(struct fvmm *v)
{
	unsigned int max_slots = 0;
	int status;
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(harness_frontend(v->sock));
	if (serve_backend(v, &max_slots)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return -1;
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0, "the front-end failed: %#x", status);
	/* Its RAM, two regions by ADD_MEM_REG, was in BAR4 while it ran. */
	CHECK(max_slots == 2, "%u BAR4 slots", max_slots);
	return check_clean(v);
}

/* A looping txq chain: the device needs a reset; after one, all works. */
static int scenario_bad_txq_chain(struct fvmm *v)
{
	uint16_t head = FV_QUEUE_SIZE - 1;	/* a descriptor no chain uses yet */
	uint64_t status_off = VIRTIO_PCI_COMMON_OFF +
			      offsetof(struct virtio_pci_common_cfg, device_status);

	v->tx.desc[head] = (struct vring_desc){ .addr = v->tx_buf, .len = 16,
		.flags = VRING_DESC_F_NEXT, .next = head };
	vring_drv_publish(&v->tx, head);
	fv_write(v, VIRTIO_PCI_BAR, VIRTIO_PCI_NOTIFY_OFF + 4, 2, VVU_TXQ);
	fv_sync(v);
	CHECK(fv_read(v, VIRTIO_PCI_BAR, status_off, 1) & VIRTIO_CONFIG_S_NEEDS_RESET,
	      "no DEVICE_NEEDS_RESET after a looping chain");
	CHECK(fv_alive(v), "proxyd died");
	CHECK(!fv_driver_init(v), "driver init after the reset");
	return sibling_served(v);
}

/* --- the vmm's side going wrong --------------------------------------------- */

/* The vmm refuses a memory slot: that sibling goes, the next one is served. */
static int scenario_vmm_refuses_map(struct fvmm *v)
{
	struct vhost_user_memory mem = { .nregions = 1, .regions = {
		{ 0x0, 1 << 20, 0x7f0000000000, 0 } } };
	int sock = sib_connect(v), fd = new_memfd(1 << 20);

	CHECK(sock >= 0 && fd >= 0, "setup");
	v->refuse_type = DEVCHAN_MSG_SHM_MAP;
	CHECK(!sib_send(sock, VHOST_USER_SET_MEM_TABLE, 0, &mem,
			VHOST_USER_MEMORY_SIZE(1), &fd, 1), "send");
	close(fd);
	/* Pumping answers the SHM_MAP: the marker follows the forwarded table. */
	if (expect_marker(v))
		return -1;
	CHECK(sib_closed(sock), "the sibling stayed after a refused SHM_MAP");
	close(sock);
	v->refuse_type = 0;
	if (check_clean(v))
		return -1;
	/*
	 * The drop unmaps every slot of the session, the refused one too
	 * (proxyd cannot know whether a later request reused it): at most
	 * that one ENOENT.
	 */
	CHECK(v->host.refusals <= 1, "%u requests refused", v->host.refusals);
	v->host.refusals = 0;
	return sibling_served(v);
}

/* A malformed control message ends proxyd, with status 1, not a crash. */
static int scenario_bad_control(struct fvmm *v)
{
	static const uint8_t junk[3] = { 1, 2, 3 };
	int status;

	CHECK(send(v->host.ctrl, junk, sizeof(junk), MSG_NOSIGNAL) == sizeof(junk), "send");
	CHECK(waitpid(v->pid, &status, 0) == v->pid, "waitpid");
	v->pid = 0;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	      "proxyd ended with status %#x", status);
	return 0;
}

/* --- main ------------------------------------------------------------------------ */

static int run(struct fvmm *v, const char *name)
{
	if (!strcmp(name, "basic"))
		return scenario_basic(v);
	if (!strcmp(name, "cycles"))
		return scenario_cycles(v);
	if (!strcmp(name, "refuse-acked"))
		return scenario_refuse_acked(v);
	if (!strcmp(name, "driver-reset"))
		return scenario_driver_reset(v);
	if (!strcmp(name, "vmm-reset"))
		return scenario_vmm_reset(v);
	if (!strcmp(name, "backlog"))
		return scenario_backlog(v);
	if (!strcmp(name, "rx-too-small"))
		return scenario_rx_too_small(v);
	if (!strcmp(name, "control-socket"))
		return scenario_control_socket(v);
	if (!strcmp(name, "harness-frontend"))
		return scenario_harness_frontend(v);
	if (!strcmp(name, "late-reply"))
		return scenario_late_reply(v);
	if (!strcmp(name, "bad-txq-chain"))
		return scenario_bad_txq_chain(v);
	if (!strcmp(name, "vmm-refuses-map"))
		return scenario_vmm_refuses_map(v);
	if (!strcmp(name, "bad-control"))
		return scenario_bad_control(v);
	if (!strcmp(name, "sigterm"))
		return scenario_sigterm(v);
	for (const struct bad_case *b = bad_cases; b->name; b++)
		if (!strcmp(name, b->name))
			return run_bad(v, b);
	pr_err("unknown scenario %s", name);
	return -2;
}

int main(int argc, char **argv)
{
	struct fvmm *v;
	int ret;

	log_init("proxy-test", LOG_LVL_INFO);
	if (argc != 3) {
		fprintf(stderr, "usage: proxy-test PROXYD SCENARIO\n");
		return 2;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return 1;
	v->control_path = !strcmp(argv[2], "control-socket");
	v->rx_len = !strcmp(argv[2], "rx-too-small") ? 40 : 0;
	if (setup(v, argv[1]))
		return 1;
	ret = finish(v, run(v, argv[2]));
	free(v);
	if (ret)
		pr_err("%s: FAILED", argv[2]);
	return ret ? 1 : 0;
}
