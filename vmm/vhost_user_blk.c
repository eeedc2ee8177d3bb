// SPDX-License-Identifier: GPL-2.0-only
/*
 * vhost-user-blk front-end device. Control path only; see vhost_user_blk.h.
 *
 * Threads: the guest's register accesses (start on DRIVER_OK, stop on
 * reset) run on vCPU threads; noticing a dead back-end and reconnecting run
 * on the VM's device thread. Everything holds blk->vp.lock. A vCPU that hits
 * a socket error only marks the connection broken and shuts the socket
 * down; the device thread's watch then sees EOF and does the teardown, so
 * libevent events are only ever touched from the device thread.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/evloop.h"
#include "common/log.h"
#include "common/vu_frontend.h"
#include "protocol/vhost_user.h"
#include "protocol/virtio_blk.h"
#include "vmm/vhost_user_blk.h"
#include "vmm/virtio_pci.h"
#include "vmm/vm.h"

#define VUB_MAX_QUEUES		8
#define VUB_QUEUE_SIZE		256
#define VUB_RETRY_MIN_SEC	1
#define VUB_RETRY_MAX_SEC	16

/* Config bytes the back-end serves, by feature (as QEMU 7.2 sizes it). */
#define VUB_CFG_BASE		offsetof(struct virtio_blk_config, max_discard_sectors)
#define VUB_CFG_DISCARD		offsetof(struct virtio_blk_config, max_write_zeroes_sectors)
#define VUB_CFG_WZEROES		(offsetof(struct virtio_blk_config, write_zeroes_may_unmap) + 1)

/* Features the guest may see: virtio-blk's own, minus CONFIG_WCE (no SET_CONFIG). */
#define VUB_GUEST_FEATURES						\
	(VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |	\
	 VIRTIO_BIT(VIRTIO_BLK_F_GEOMETRY) | VIRTIO_BIT(VIRTIO_BLK_F_RO) |	\
	 VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |	\
	 VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) | VIRTIO_BIT(VIRTIO_BLK_F_MQ) |	\
	 VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |					\
	 VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES) |				\
	 VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) |				\
	 VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) | VIRTIO_BIT(VIRTIO_F_VERSION_1))

/* What the front-end needs from the back-end, like QEMU's vhost-user-blk. */
#define VUB_PROTOCOL_REQUIRED	VIRTIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG)
#define VUB_PROTOCOL_WANTED	(VUB_PROTOCOL_REQUIRED |			\
				 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_MQ) |		\
				 VIRTIO_BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK))

struct vhost_user_blk {
	struct virtio_pci vp;		/* first: vp.opaque points back */
	struct vm *vm;
	char *sock_path;
	struct vu_frontend fe;
	bool broken;			/* fe.sock is dead; device thread cleans up */
	bool running;			/* the back-end has our queues */
	bool served;			/* this connection has started the queues */
	unsigned int retry_sec;		/* until the next reconnect attempt */
	unsigned int nqueues;
	uint64_t guest_features;	/* offered to the guest */
	struct virtio_blk_config config;
	uint32_t config_size;
	struct event *sock_ev;		/* EOF / unsolicited data on fe.sock */
	struct event *retry_ev;
};

static bool connected(const struct vhost_user_blk *blk)
{
	return blk->fe.sock >= 0 && !blk->broken;
}

/*
 * A request failed: from here on nothing is sent; the device thread's
 * socket watch sees the shutdown and closes and reconnects.
 */
static void mark_broken(struct vhost_user_blk *blk, const char *what, int err)
{
	if (blk->broken || blk->fe.sock < 0)
		return;
	pr_err("vhost-user-blk %s: %s: %s; dropping the connection",
	       blk->sock_path, what, strerror(-err));
	blk->broken = true;
	blk->running = false;
	shutdown(blk->fe.sock, SHUT_RDWR);
}

/* --- connect ------------------------------------------------------------- */

static uint32_t config_size_for(uint64_t features)
{
	if (features & VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES))
		return VUB_CFG_WZEROES;
	if (features & VIRTIO_BIT(VIRTIO_BLK_F_DISCARD))
		return VUB_CFG_DISCARD;
	return VUB_CFG_BASE;
}

/* What one connection to the back-end found out; nothing of the device's. */
struct backend {
	struct vu_frontend fe;
	struct virtio_blk_config cfg;
	uint32_t config_size;
	unsigned int nqueues;
};

static int read_config(const char *path, struct backend *b)
{
	int ret;

	memset(&b->cfg, 0, sizeof(b->cfg));
	b->config_size = config_size_for(b->fe.features);
	ret = vu_fe_get_config(&b->fe, 0, &b->cfg, b->config_size);
	if (ret)
		return ret;
	if (b->cfg.capacity > UINT64_MAX >> VIRTIO_BLK_SECTOR_SHIFT) {
		pr_err("vhost-user-blk %s: capacity %llu sectors is absurd", path,
		       (unsigned long long)b->cfg.capacity);
		return -EPROTO;
	}
	return 0;
}

/* Queues the device can have with this back-end. */
static unsigned int queues_for(const struct backend *b)
{
	unsigned int n = 1;

	if ((b->fe.features & VIRTIO_BIT(VIRTIO_BLK_F_MQ)) &&
	    (b->fe.protocol_features & VIRTIO_BIT(VHOST_USER_PROTOCOL_F_MQ))) {
		n = b->cfg.num_queues;
		if (n > b->fe.queue_num)
			n = b->fe.queue_num;
		if (n > VUB_MAX_QUEUES)
			n = VUB_MAX_QUEUES;
		if (n == 0)
			n = 1;
	}
	return n;
}

/*
 * The connect sequence, on a connection of its own: it blocks for as long
 * as the socket timeouts allow, so it runs without vp.lock.
 */
static int backend_probe(const char *path, struct backend *b)
{
	int ret = vu_fe_connect(&b->fe, path);

	if (ret)
		return ret;
	ret = vu_fe_negotiate(&b->fe, VUB_PROTOCOL_WANTED, VUB_PROTOCOL_REQUIRED);
	if (!ret && !(b->fe.features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		pr_err("vhost-user-blk %s: back-end lacks VERSION_1", path);
		ret = -ENOTSUP;
	}
	if (!ret)
		ret = read_config(path, b);
	if (ret) {
		vu_fe_close(&b->fe);
		return ret;
	}
	b->nqueues = queues_for(b);
	return 0;
}

/*
 * A back-end that comes back must serve the device the guest already
 * knows: as many queues, every feature offered, the same read-only-ness
 * and config layout. Capacity and limits may change (a config interrupt).
 */
static bool backend_fits(const struct vhost_user_blk *blk, const struct backend *b)
{
	uint64_t ro = VIRTIO_BIT(VIRTIO_BLK_F_RO);
	const char *why = NULL;

	if (b->nqueues < blk->nqueues)
		why = "has fewer queues";
	else if (blk->guest_features & ~b->fe.features)
		why = "dropped features the guest was offered";
	else if ((b->fe.features ^ blk->guest_features) & ro)
		why = "became read-only";
	else if (b->config_size != blk->config_size)
		why = "has another configuration layout";
	if (why)
		pr_err("vhost-user-blk %s: the new back-end %s; not using it",
		       blk->sock_path, why);
	return !why;
}

/* The device takes b's connection and configuration (vp.lock held, or before the device exists). */
static void backend_adopt(struct vhost_user_blk *blk, struct backend *b, bool first)
{
	bool changed;

	b->cfg.num_queues = (uint16_t)blk->nqueues;
	changed = !first && memcmp(&b->cfg, &blk->config, sizeof(b->cfg));
	blk->fe = b->fe;
	blk->config = b->cfg;
	blk->config_size = b->config_size;
	blk->broken = false;
	blk->served = false;
	if (changed)
		virtio_pci_config_changed(&blk->vp);
}

/* --- start / stop -------------------------------------------------------- */

static uint64_t host_addr(struct vhost_user_blk *blk, uint64_t gpa, uint64_t len)
{
	return (uint64_t)(uintptr_t)vm_gpa_to_host(blk->vm, gpa, len);
}

static int send_mem_table(struct vhost_user_blk *blk)
{
	const struct mem_table *mem = &blk->vm->mem;

	if (mem->nregions > VHOST_USER_MEM_REGIONS_MAX)
		return -E2BIG;
	return vu_fe_set_mem_table(&blk->fe, mem->regions, mem->nregions);
}

/*
 * Where the back-end resumes ring q. After a reset the rings are new (0);
 * after losing a back-end, the used index: requests it had taken but not
 * completed are then run again, as QEMU does without inflight tracking.
 */
static uint16_t ring_base(struct vhost_user_blk *blk,
			  const struct virtio_pci_model_queue *q, bool resume)
{
	struct vring_used *used;

	if (!resume)
		return 0;
	used = vm_gpa_to_host(blk->vm, q->used, VRING_USED_SIZE(q->size));
	if (!used)
		return 0;
	return __atomic_load_n(&used->idx, __ATOMIC_ACQUIRE);
}

static int start_queue(struct vhost_user_blk *blk, unsigned int i, bool resume)
{
	const struct virtio_pci_model_queue *q = &blk->vp.model.queues[i];
	uint64_t desc = host_addr(blk, q->desc, VRING_DESC_SIZE(q->size));
	uint64_t avail = host_addr(blk, q->avail, VRING_AVAIL_SIZE(q->size));
	uint64_t used = host_addr(blk, q->used, VRING_USED_SIZE(q->size));
	int ret;

	if (!desc || !avail || !used)
		return -EFAULT;		/* the transport checked this at enable */
	ret = vu_fe_set_vring(&blk->fe, i, q->size, ring_base(blk, q, resume),
			      desc, avail, used, false);
	if (!ret)
		ret = vu_fe_set_vring_fd(&blk->fe, VHOST_USER_SET_VRING_KICK, i,
					 blk->vp.queues[i].kick_fd);
	return ret;
}

static void signal_eventfd(int fd, const char *what, struct vhost_user_blk *blk,
			   unsigned int q)
{
	if (fd >= 0 && eventfd_write(fd, 1))
		pr_warn("vhost-user-blk %s: queue %u: %s failed: %m", blk->sock_path, q, what);
}

/*
 * The start sequence QEMU 7.2 sends on DRIVER_OK (REFERENCE.md). The call
 * fds go first: libvhost-user starts a ring on its kick fd and may complete
 * a request at once, and a completion without a call fd is its panic.
 */
static int backend_start(struct vhost_user_blk *blk, bool resume)
{
	uint64_t features = blk->vp.model.driver_features |
			    VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES);
	int ret;

	ret = vu_fe_set_features(&blk->fe, features);
	for (unsigned int i = 0; !ret && i < blk->nqueues; i++)
		if (blk->vp.model.queues[i].enabled)
			ret = vu_fe_set_vring_fd(&blk->fe, VHOST_USER_SET_VRING_CALL, i,
						 virtio_pci_queue_irqfd(&blk->vp, i));
	if (!ret)
		ret = send_mem_table(blk);
	for (unsigned int i = 0; !ret && i < blk->nqueues; i++)
		if (blk->vp.model.queues[i].enabled)
			ret = start_queue(blk, i, resume);
	for (unsigned int i = 0; !ret && i < blk->nqueues; i++)
		ret = vu_fe_set_vring_enable(&blk->fe, i, true);
	if (ret) {
		mark_broken(blk, "starting the queues", ret);
		return ret;
	}
	blk->running = true;
	blk->served = true;
	blk->retry_sec = VUB_RETRY_MIN_SEC;
	/*
	 * After a lost back-end: kicks the guest made meanwhile may have gone
	 * to the dead one, and so may the interrupt for completions it had
	 * published. Kick and interrupt once more; both are harmless if
	 * nothing is new.
	 */
	for (unsigned int i = 0; resume && i < blk->nqueues; i++) {
		if (!blk->vp.model.queues[i].enabled)
			continue;
		signal_eventfd(blk->vp.queues[i].kick_fd, "re-kick", blk, i);
		signal_eventfd(virtio_pci_queue_irqfd(&blk->vp, i), "re-notify", blk, i);
	}
	pr_info("vhost-user-blk %s: %s %u queue(s)", blk->sock_path,
		resume ? "resumed" : "started", blk->nqueues);
	return 0;
}

static void backend_stop(struct vhost_user_blk *blk)
{
	uint16_t base;
	int ret = 0;

	for (unsigned int i = 0; !ret && i < blk->nqueues; i++)
		ret = vu_fe_set_vring_enable(&blk->fe, i, false);
	/* The bases are of no further use: the rings die with the reset. */
	for (unsigned int i = 0; !ret && i < blk->nqueues; i++) {
		if (blk->vp.model.queues[i].enabled)
			ret = vu_fe_get_vring_base(&blk->fe, i, &base);
	}
	if (ret)
		mark_broken(blk, "stopping the queues", ret);
	blk->running = false;
}

/* --- virtio_dev_ops ------------------------------------------------------ */

static struct vhost_user_blk *to_blk(struct virtio_pci *vp)
{
	return vp->opaque;
}

static void vub_config_read(struct virtio_pci *vp, uint32_t off, void *buf,
			    uint32_t len)
{
	struct vhost_user_blk *blk = to_blk(vp);

	/* vp checked off + len against config_size, which is <= sizeof(config). */
	memcpy(buf, (uint8_t *)&blk->config + off, len);
}

static int vub_start(struct virtio_pci *vp)
{
	struct vhost_user_blk *blk = to_blk(vp);

	/* Without a back-end the queues start when it comes back. */
	if (!connected(blk))
		return 0;
	backend_start(blk, false);
	return 0;
}

static void vub_reset(struct virtio_pci *vp)
{
	struct vhost_user_blk *blk = to_blk(vp);

	if (connected(blk) && blk->running)
		backend_stop(blk);
	blk->running = false;
}

static const struct virtio_dev_ops vub_ops = {
	.config_read = vub_config_read,
	.start = vub_start,
	.reset = vub_reset,
};

/* --- device thread: disconnect and reconnect ------------------------------ */

/*
 * A back-end that is not there (nobody listening, or one that served the
 * queues and then went away) is looked for every second, so a restarted
 * one is found at once. One that accepts the connection and then fails
 * (a bad reply, a NACK, a device that no longer fits, hanging up during
 * the start) would fail the same way again: its retries back off,
 * doubling up to VUB_RETRY_MAX_SEC, so it neither spins nor floods the log.
 */
static void arm_retry(struct vhost_user_blk *blk, bool failing)
{
	struct timeval tv;

	if (!failing)
		blk->retry_sec = VUB_RETRY_MIN_SEC;
	else if (blk->retry_sec < VUB_RETRY_MAX_SEC)
		blk->retry_sec *= 2;
	tv = (struct timeval){ .tv_sec = blk->retry_sec };
	event_add(blk->retry_ev, &tv);
}

static void sock_cb(int fd, void *arg);

static int watch_socket(struct vhost_user_blk *blk)
{
	blk->sock_ev = evloop_watch_fd(blk->vm->evbase, blk->fe.sock,
				       sock_cb, blk);
	return blk->sock_ev ? 0 : -ENOMEM;
}

/* Called with vp.lock held, on the device thread. */
static void disconnect(struct vhost_user_blk *blk)
{
	evloop_unwatch(&blk->sock_ev);
	vu_fe_close(&blk->fe);
	blk->broken = false;
	blk->running = false;
	/* Unstarted and idle (the driver not ready yet) is no failure. */
	arm_retry(blk, !blk->served && virtio_pci_driver_ok(&blk->vp));
	pr_warn("vhost-user-blk %s: back-end gone; guest I/O stalls, retrying in %u s",
		blk->sock_path, blk->retry_sec);
}

/*
 * The back-end never speaks unasked on this socket, so readability outside
 * a request means EOF, an error, or a protocol violation. A vCPU may be in
 * the middle of a request (holding the lock, about to read the reply); by
 * the time we hold the lock, that reply is consumed and the peek is empty.
 */
static void sock_cb(int fd, void *arg)
{
	struct vhost_user_blk *blk = arg;
	char c;
	ssize_t n;

	pthread_mutex_lock(&blk->vp.lock);
	if (blk->fe.sock != fd) {
		pthread_mutex_unlock(&blk->vp.lock);
		return;
	}
	n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR) && !blk->broken) {
		pthread_mutex_unlock(&blk->vp.lock);
		return;
	}
	if (n > 0 && !blk->broken)
		pr_err("vhost-user-blk %s: unsolicited message from the back-end",
		       blk->sock_path);
	disconnect(blk);
	pthread_mutex_unlock(&blk->vp.lock);
}

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct vhost_user_blk *blk = arg;
	struct backend b;
	int ret;

	(void)fd;
	(void)what;
	ret = backend_probe(blk->sock_path, &b);
	if (ret) {
		arm_retry(blk, ret != -ENOENT && ret != -ECONNREFUSED);
		return;
	}
	pthread_mutex_lock(&blk->vp.lock);
	if (!backend_fits(blk, &b)) {
		vu_fe_close(&b.fe);
		arm_retry(blk, true);
	} else {
		backend_adopt(blk, &b, false);
		if (watch_socket(blk)) {
			vu_fe_close(&blk->fe);
			arm_retry(blk, true);
		} else {
			pr_info("vhost-user-blk %s: back-end reconnected", blk->sock_path);
			if (virtio_pci_driver_ok(&blk->vp))
				backend_start(blk, true);
		}
	}
	pthread_mutex_unlock(&blk->vp.lock);
}

/* --- creation ------------------------------------------------------------ */

static void blk_free(struct vhost_user_blk *blk)
{
	if (blk->retry_ev)
		event_free(blk->retry_ev);
	evloop_unwatch(&blk->sock_ev);
	vu_fe_close(&blk->fe);
	free(blk->sock_path);
	free(blk);
}

static int device_init(struct vhost_user_blk *blk, int slot)
{
	struct virtio_pci_params p = {
		.name = "vhost-user-blk",
		.device_type = VIRTIO_ID_BLOCK,
		.class_code = 0x0180,		/* mass storage, other */
		.features = blk->guest_features,
		.config_size = blk->config_size,
		.nqueues = blk->nqueues,
		.queue_max_size = VUB_QUEUE_SIZE,
		.ops = &vub_ops,
		.opaque = blk,
	};
	int ret;

	ret = virtio_pci_init(&blk->vp, blk->vm, &p);
	if (ret)
		return ret;
	ret = virtio_pci_add(&blk->vp, slot);
	if (ret < 0) {
		virtio_pci_destroy(&blk->vp);
		return ret;
	}
	return 0;
}

struct vhost_user_blk *vhost_user_blk_create(struct vm *vm, const char *sock_path,
					     int slot)
{
	struct vhost_user_blk *blk = calloc(1, sizeof(*blk));
	struct backend b;
	int ret;

	if (!blk)
		return NULL;
	blk->vm = vm;
	blk->fe.sock = -1;
	blk->retry_sec = VUB_RETRY_MIN_SEC;
	blk->sock_path = strdup(sock_path);
	blk->retry_ev = evtimer_new(vm->evbase, retry_cb, blk);
	if (!blk->sock_path || !blk->retry_ev) {
		blk_free(blk);
		return NULL;
	}
	ret = backend_probe(sock_path, &b);
	if (ret) {
		pr_err("vhost-user-blk %s: cannot set up the back-end: %s",
		       sock_path, strerror(-ret));
		blk_free(blk);
		return NULL;
	}
	blk->nqueues = b.nqueues;
	blk->guest_features = b.fe.features & VUB_GUEST_FEATURES;
	if (blk->nqueues == 1)
		blk->guest_features &= ~VIRTIO_BIT(VIRTIO_BLK_F_MQ);
	backend_adopt(blk, &b, true);
	ret = device_init(blk, slot);
	if (!ret)
		ret = watch_socket(blk);
	if (ret) {
		pr_err("vhost-user-blk %s: %s", sock_path, strerror(-ret));
		if (blk->vp.ops)
			virtio_pci_destroy(&blk->vp);
		blk_free(blk);
		return NULL;
	}
	pr_info("vhost-user-blk %s: %llu sectors, %u queue(s), features 0x%llx",
		sock_path, (unsigned long long)blk->config.capacity,
		blk->nqueues, (unsigned long long)blk->guest_features);
	return blk;
}

void vhost_user_blk_destroy(struct vhost_user_blk *blk)
{
	if (!blk)
		return;
	virtio_pci_destroy(&blk->vp);
	blk_free(blk);
}
