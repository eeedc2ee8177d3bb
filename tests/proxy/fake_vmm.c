// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device VM and its driver as tests/proxy plays them; the vmm and KVM
 * are common/devchan_host.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "protocol/virtio_pci_layout.h"
#include "protocol/vvu.h"
#include "tests/harness/harness.h"
#include "tests/proxy/fake_vmm.h"

#define CFG(f)	offsetof(struct virtio_pci_common_cfg, f)

bool same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* --- the vmm: common/devchan_host ------------------------------------------ */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The scenarios' refuse_type: refused on purpose, so not a refusal counted. */
static int refuse_on_purpose(void *arg, const struct devchan_msg *m)
{
	const struct fvmm *v = arg;

	return m->hdr.type == v->refuse_type ? ENOSPC : 0;
}

static const struct devchan_host_hooks fv_hooks = {
	.filter = refuse_on_purpose,
};

int fv_pump(struct fvmm *v, int timeout_ms)
{
	return devchan_host_pump(&v->host, timeout_ms) ? -1 : 0;
}

uint64_t fv_read(struct fvmm *v, uint8_t region, uint64_t off, uint8_t size)
{
	uint64_t val = ~0ull;

	if (devchan_host_read(&v->host, region, off, size, &val))
		pr_err("fake vmm: read of region %u offset %#llx failed", region,
		       (unsigned long long)off);
	return val;
}

void fv_write(struct fvmm *v, uint8_t region, uint64_t off, uint8_t size,
	      uint64_t val)
{
	if (devchan_host_write(&v->host, region, off, size, val))
		pr_err("fake vmm: write of region %u offset %#llx failed",
		       region, (unsigned long long)off);
}

int fv_sync(struct fvmm *v)
{
	fv_read(v, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF + CFG(device_status), 1);
	return fv_pump(v, 0);
}

/* --- setup ------------------------------------------------------------------ */

static void exec_proxyd(struct fvmm *v, const char *proxyd, int fd)
{
	char fdarg[16], ctrl[128];

	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	snprintf(ctrl, sizeof(ctrl), "%s/ctrl", v->dir);
	fcntl(fd, F_SETFD, 0);
	execl(proxyd, proxyd, "--socket", v->sock,
	      v->control_path ? "--control" : "--control-fd",
	      v->control_path ? ctrl : fdarg,
	      "--shm-size", FV_SHM_SIZE,
	      "--uuid", "01234567-89ab-cdef-0123-456789abcdef", (char *)NULL);
}

static int spawn(struct fvmm *v, const char *proxyd, int fd)
{
	char asan[512];
	const char *old = getenv("ASAN_OPTIONS");

	/*
	 * LeakSanitizer's exit-time scan needs ptrace and threads the seccomp
	 * filter forbids: a sandboxed proxyd is leak-checked by the unit tests
	 * of its library instead.
	 */
	snprintf(asan, sizeof(asan), "%s%sdetect_leaks=0", old ? old : "",
		 old ? ":" : "");
	v->pid = fork();
	if (v->pid < 0)
		return -1;
	if (v->pid == 0) {
		setenv("ASAN_OPTIONS", asan, 1);
		exec_proxyd(v, proxyd, fd);
		_exit(127);
	}
	return 0;
}

static int ram_init(struct fvmm *v)
{
	v->ram_fd = memfd_create("device-vm-ram", MFD_CLOEXEC);
	if (v->ram_fd < 0 || ftruncate(v->ram_fd, FV_RAM_SIZE) < 0)
		return -1;
	v->ram = mmap(NULL, FV_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->ram_fd, 0);
	v->brk = FV_RAM_GPA;
	return v->ram == MAP_FAILED ? -1 : 0;
}

/* Which control channel: our end of the pair, or a connection to --control PATH. */
static int control_channel(struct fvmm *v, int pair_end)
{
	char path[128];
	int fd;

	if (!v->control_path)
		return pair_end;
	close(pair_end);
	snprintf(path, sizeof(path), "%s/ctrl", v->dir);
	fd = devchan_host_connect(path, 5000);
	return fd < 0 ? -1 : fd;
}

int fv_start(struct fvmm *v, const char *proxyd)
{
	bool control_path = v->control_path;
	uint32_t rx_len = v->rx_len;
	int sv[2];

	memset(v, 0, sizeof(*v));
	v->control_path = control_path;
	v->rx_len = rx_len ? rx_len : FV_RX_BUF_SIZE;
	v->ram_fd = -1;
	devchan_host_init(&v->host, -1, &fv_hooks, v);
	strcpy(v->dir, "/tmp/vvu-proxy.XXXXXX");
	if (!mkdtemp(v->dir))
		return -1;
	snprintf(v->sock, sizeof(v->sock), "%s/sock", v->dir);
	if (ram_init(v) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (spawn(v, proxyd, sv[1])) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	v->host.ctrl = control_channel(v, sv[0]);
	if (v->host.ctrl < 0)
		return -1;
	return devchan_host_handshake(&v->host, v->ram_fd, FV_RAM_GPA,
				      FV_RAM_SIZE) ? -1 : 0;
}

int fv_reset(struct fvmm *v)
{
	int r = devchan_host_reset(&v->host);

	return r < 0 ? -1 : r;
}

int fv_stop(struct fvmm *v)
{
	int status = 0;

	/* Control EOF first: that is what makes proxyd exit. */
	devchan_host_close(&v->host);
	if (v->pid > 0 && waitpid(v->pid, &status, 0) != v->pid)
		status = -1;
	vring_drv_destroy(&v->rx);
	vring_drv_destroy(&v->tx);
	if (v->ram && v->ram != MAP_FAILED)
		munmap(v->ram, FV_RAM_SIZE);
	close_fd(&v->ram_fd);
	unlink(v->sock);
	rmdir(v->dir);
	return status;
}

/* --- the driver ------------------------------------------------------------- */

static uint64_t ram_alloc(struct fvmm *v, uint64_t size, uint64_t align)
{
	uint64_t gpa = (v->brk + align - 1) & ~(align - 1);

	v->brk = gpa + size;
	return gpa;
}

static void *host(struct fvmm *v, uint64_t gpa)
{
	return v->ram + (gpa - FV_RAM_GPA);
}

static void common_write(struct fvmm *v, uint64_t field, uint8_t size,
			 uint64_t val)
{
	fv_write(v, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF + field, size, val);
}

static uint64_t common_read(struct fvmm *v, uint64_t field, uint8_t size)
{
	return fv_read(v, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF + field, size);
}

static void write64(struct fvmm *v, uint64_t lo_field, uint64_t val)
{
	common_write(v, lo_field, 4, (uint32_t)val);
	common_write(v, lo_field + 4, 4, val >> 32);
}

static int queue_setup(struct fvmm *v, uint16_t q, struct vring_drv *ring)
{
	uint64_t desc = ram_alloc(v, VRING_DESC_SIZE(FV_QUEUE_SIZE), 4096);
	uint64_t avail = ram_alloc(v, VRING_AVAIL_SIZE(FV_QUEUE_SIZE), 2);
	uint64_t used = ram_alloc(v, VRING_USED_SIZE(FV_QUEUE_SIZE), 4096);

	vring_drv_destroy(ring);	/* after a reset: new rings */
	if (vring_drv_init(ring, FV_QUEUE_SIZE, host(v, desc), host(v, avail),
			   host(v, used), false))
		return -1;
	common_write(v, CFG(queue_select), 2, q);
	common_write(v, CFG(queue_size), 2, FV_QUEUE_SIZE);
	common_write(v, CFG(queue_msix_vector), 2, 1 + q);
	write64(v, CFG(queue_desc_lo), desc);
	write64(v, CFG(queue_driver_lo), avail);
	write64(v, CFG(queue_device_lo), used);
	common_write(v, CFG(queue_enable), 2, 1);
	return common_read(v, CFG(queue_enable), 2) == 1 ? 0 : -1;
}

static void rx_post(struct fvmm *v, unsigned int i)
{
	struct vring_buf b = { .addr = v->rx_buf[i], .len = v->rx_len,
			       .write = true };

	vring_drv_add(&v->rx, &b, 1, (void *)(uintptr_t)(i + 1));
}

static void kick(struct fvmm *v, uint16_t q)
{
	fv_write(v, VIRTIO_PCI_BAR, VIRTIO_PCI_NOTIFY_OFF +
		 q * VIRTIO_PCI_NOTIFY_MULT, 2, q);
}

int fv_driver_init(struct fvmm *v)
{
	uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;

	/* Memory decoding and bus mastering, as the vmm forwards them. */
	fv_write(v, DEVCHAN_REGION_CONFIG, 4, 2, 0x6);
	common_write(v, CFG(device_status), 1, 0);
	common_write(v, CFG(device_status), 1, st);
	common_write(v, CFG(driver_feature_select), 4, 1);
	common_write(v, CFG(driver_feature), 4, 1);	/* VERSION_1 */
	st |= VIRTIO_CONFIG_S_FEATURES_OK;
	common_write(v, CFG(device_status), 1, st);
	if (!(common_read(v, CFG(device_status), 1) & VIRTIO_CONFIG_S_FEATURES_OK))
		return -1;
	common_write(v, CFG(config_msix_vector), 2, 0);
	if (queue_setup(v, VVU_RXQ, &v->rx) || queue_setup(v, VVU_TXQ, &v->tx))
		return -1;
	for (unsigned int i = 0; i < FV_RX_BUFS; i++) {
		v->rx_buf[i] = ram_alloc(v, v->rx_len, 64);
		rx_post(v, i);
	}
	v->tx_buf = ram_alloc(v, VU_MSG_MAX_LEN, 64);
	common_write(v, CFG(device_status), 1, st | VIRTIO_CONFIG_S_DRIVER_OK);
	kick(v, VVU_RXQ);
	return fv_sync(v);
}

uint32_t fv_status(struct fvmm *v)
{
	return (uint32_t)fv_read(v, VIRTIO_PCI_BAR, VIRTIO_PCI_DEVCFG_OFF, 4);
}

void fv_set_notification(struct fvmm *v, uint16_t i, uint16_t vector)
{
	fv_write(v, VVU_BAR2, VVU_NOTIFICATION_OFFSET, 2, i);
	fv_write(v, VVU_BAR2, VVU_NOTIFICATION_OFFSET + 2, 2, vector);
}

int fv_rx(struct fvmm *v, void *buf, uint32_t *len, int timeout_ms)
{
	void *token;
	uint16_t id;
	unsigned int i;

	for (int t = 0; t <= timeout_ms; t += 5) {
		if (vring_drv_has_used(&v->rx))
			break;
		if (fv_pump(v, 5))
			return -EPROTO;
	}
	if (!vring_drv_has_used(&v->rx))
		return -ETIMEDOUT;
	if (vring_drv_get_used(&v->rx, &id, len, &token) != 1)
		return -EPROTO;
	i = (unsigned int)(uintptr_t)token - 1;
	memcpy(buf, host(v, v->rx_buf[i]), *len);
	rx_post(v, i);
	kick(v, VVU_RXQ);
	return 0;
}

int fv_tx(struct fvmm *v, const void *buf, uint32_t len)
{
	struct vring_buf b = { .addr = v->tx_buf, .len = len };
	uint32_t ulen;
	uint16_t id;
	void *token;

	memcpy(host(v, v->tx_buf), buf, len);
	if (vring_drv_add(&v->tx, &b, 1, v) < 0)
		return -1;
	kick(v, VVU_TXQ);
	for (int t = 0; t < 2000 && !vring_drv_has_used(&v->tx); t += 5)
		if (fv_pump(v, 5))
			return -1;
	return vring_drv_get_used(&v->tx, &id, &ulen, &token) == 1 ? 0 : -1;
}

int fv_tx_reply_u64(struct fvmm *v, uint32_t request, uint64_t val)
{
	uint8_t buf[VU_MSG_MAX_LEN];
	struct vu_msg m;
	ssize_t len;

	vu_msg_init(&m, request);
	m.hdr.flags = VHOST_USER_REPLY_FLAGS;
	m.hdr.size = sizeof(m.payload.u64);
	m.payload.u64 = val;
	len = vu_msg_serialize(&m, buf, sizeof(buf));
	return len < 0 ? -1 : fv_tx(v, buf, (uint32_t)len);
}

/* --- recorded state ----------------------------------------------------------- */

const struct devchan_host_ioeventfd *fv_ioeventfd_at(const struct fvmm *v,
						     uint8_t bar, uint64_t off)
{
	return devchan_host_ioeventfd_at(&v->host, bar, off);
}

const struct devchan_host_irqfd *fv_irqfd(const struct fvmm *v, uint32_t id)
{
	return devchan_host_irqfd(&v->host, id);
}

unsigned int fv_shm_count(const struct fvmm *v)
{
	return devchan_host_shm_count(&v->host);
}

const struct devchan_host_shm *fv_shm_slot(const struct fvmm *v, uint32_t slot)
{
	return devchan_host_shm_slot(&v->host, slot);
}

int fv_proxyd_fds(const struct fvmm *v)
{
	return count_fds(v->pid);
}

bool fv_alive(struct fvmm *v)
{
	int status;

	return waitpid(v->pid, &status, WNOHANG) == 0;
}
