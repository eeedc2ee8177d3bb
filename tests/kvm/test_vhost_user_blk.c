// SPDX-License-Identifier: GPL-2.0-only
/*
 * The --vhost-user-blk device against a real back-end (qemu-storage-daemon,
 * or vblk-backend with VVU_BLK_BACKEND=path), with the test as the guest
 * driving the BAR and rings in the VM's RAM (the vmm's own VM core): negotiation, memory table,
 * kick eventfd -> back-end -> call eventfd (the MSI-X vector's, pending
 * because MSI-X is left disabled), a read and a write checked against the
 * disk file, then back-end death and restart with the ring resuming, and a
 * back-end that sends bad replies. Skips (77) without /dev/kvm or a back-end.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/vring_driver.h"
#include "protocol/vhost_user.h"
#include "protocol/virtio_blk.h"
#include "tests/kvm/vm_fixture.h"
#include "tests/unit/test_fds.h"
#include "vmm/vhost_user_blk.h"
#include "vmm/virtio_pci.h"
#include "vmm/vm.h"

#define QSD		"/usr/bin/qemu-storage-daemon"
#define DISK_SECTORS	2048
#define QSIZE		8
#define C(f)		offsetof(struct virtio_pci_common_cfg, f)

/* Guest-physical layout in the VM's RAM. */
#define GPA_DESC	0x10000
#define GPA_AVAIL	0x11000
#define GPA_USED	0x12000
#define GPA_HDR		0x20000
#define GPA_DATA	0x21000
#define GPA_STATUS	0x22000

static char dir[80], sock_path[108], disk_path[108];
static pid_t backend = -1;
static struct vm *vm;
static struct vhost_user_blk *blk;
static struct virtio_pci *vp;
static struct vring_drv ring;

static uint8_t pat0(unsigned int k) { return (uint8_t)(k * 7 + 3); }
static uint8_t pat1(unsigned int k) { return (uint8_t)(k ^ 0xa5); }

static void make_disk(void)
{
	uint8_t sector[512];
	int fd = open(disk_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, DISK_SECTORS * 512), 0);
	for (unsigned int k = 0; k < 512; k++)
		sector[k] = pat0(k);
	ck_assert_int_eq(pwrite(fd, sector, 512, 0), 512);
	close(fd);
}

static void start_backend(void)
{
	const char *alt = getenv("VVU_BLK_BACKEND");
	char blockdev[160], export[200];

	unlink(sock_path);
	snprintf(blockdev, sizeof(blockdev),
		 "driver=file,node-name=f0,filename=%s", disk_path);
	snprintf(export, sizeof(export),
		 "type=vhost-user-blk,id=e0,node-name=f0,addr.type=unix,"
		 "addr.path=%s,writable=on,num-queues=1", sock_path);
	backend = fork();
	ck_assert_int_ge(backend, 0);
	if (backend == 0) {
		if (alt)
			execl(alt, alt, "--socket", sock_path, "--file", disk_path,
			      (char *)NULL);
		else
			execl(QSD, QSD, "--blockdev", blockdev, "--export", export,
			      (char *)NULL);
		_exit(127);
	}
	/*
	 * qsd accepts one front-end at a time and a probe connection counts,
	 * so wait for the socket file, then for it to accept.
	 */
	for (int i = 0; i < 500; i++) {
		struct stat st;

		if (stat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode))
			break;
		usleep(10000);
	}
	usleep(100000);
}

static void stop_backend(void)
{
	if (backend > 0) {
		kill(backend, SIGKILL);
		waitpid(backend, NULL, 0);
	}
	backend = -1;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	/* TMPDIR: where UNIX sockets work (not on with-kvm.sh's 9p /tmp). */
	snprintf(dir, sizeof(dir), "%s/vub-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
	snprintf(disk_path, sizeof(disk_path), "%s/disk.img", dir);
	make_disk();
	vm = fixture_vm_create();
	ck_assert_ptr_nonnull(vm);
	blk = NULL;
}

static void teardown(void)
{
	stop_backend();
	unlink(sock_path);
	unlink(disk_path);
	rmdir(dir);
	vhost_user_blk_destroy(blk);
	vring_drv_destroy(&ring);
	fixture_vm_destroy(vm);
}

/* --- the test as a guest driver ------------------------------------------- */

static uint64_t rd(uint32_t off, uint32_t len)
{
	uint64_t v = 0;

	virtio_pci_bar_access(vp, off, (uint8_t *)&v, len, false);
	return v;
}

static void wr(uint32_t off, uint32_t len, uint64_t v)
{
	virtio_pci_bar_access(vp, off, (uint8_t *)&v, len, true);
}

static void *gpa(uint64_t a)
{
	return vm_gpa_to_host(vm, a, 0x1000);
}

static void driver_init(void)
{
	struct pci_dev *dev = fixture_pci_dev(vm, 1);

	ck_assert_ptr_nonnull(dev);
	vp = (struct virtio_pci *)dev;	/* pdev is its first member */
	/* Fresh rings, as after a reset. */
	vring_drv_destroy(&ring);
	ck_assert_int_eq(vring_drv_init(&ring, QSIZE, gpa(GPA_DESC), gpa(GPA_AVAIL),
					gpa(GPA_USED), false), 0);
	ck_assert_int_eq(dev->cfg[2] | dev->cfg[3] << 8, 0x1042);
	wr(C(device_status), 1, 0);
	wr(C(device_status), 1, 3);
	wr(C(driver_feature_select), 4, 1);
	wr(C(driver_feature), 4, 1);
	wr(C(device_status), 1, 11);
	ck_assert_uint_eq(rd(C(device_status), 1), 11);
	wr(C(queue_select), 2, 0);
	wr(C(queue_size), 2, QSIZE);
	wr(C(queue_msix_vector), 2, 1);
	wr(C(queue_desc_lo), 4, GPA_DESC);
	wr(C(queue_driver_lo), 4, GPA_AVAIL);
	wr(C(queue_device_lo), 4, GPA_USED);
	wr(C(queue_enable), 2, 1);
	ck_assert_uint_eq(rd(C(queue_enable), 2), 1);
	ck_assert_uint_eq(rd(VIRTIO_PCI_DEVCFG_OFF, 4), DISK_SECTORS);
	wr(C(device_status), 1, 15);
	ck_assert_uint_eq(rd(C(device_status), 1), 15);
}

static void submit(uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr *h = gpa(GPA_HDR);
	const struct vring_buf bufs[3] = {
		{ GPA_HDR, sizeof(*h), false },
		{ GPA_DATA, 512, type == VIRTIO_BLK_T_IN },
		{ GPA_STATUS, 1, true },
	};

	*h = (struct virtio_blk_outhdr){ .type = type, .sector = sector };
	*(uint8_t *)gpa(GPA_STATUS) = 0xff;
	ck_assert_int_ge(vring_drv_add(&ring, bufs, 3, NULL), 0);
	wr(VIRTIO_PCI_NOTIFY_OFF, 2, 0);	/* the doorbell: kick eventfd */
}

/* Polls for the request's used entry (running the device thread's loop meanwhile). */
static bool wait_used(int ms)
{
	uint16_t id;
	uint32_t len;

	for (int t = 0; t < ms; t += 10) {
		int r = vring_drv_get_used(&ring, &id, &len, NULL);

		ck_assert_int_ge(r, 0);
		if (r)
			return true;
		fixture_vm_poll(vm, 10);
	}
	return false;
}

static bool interrupt_pending(void)
{
	struct pollfd p = { .fd = msix_vector_fd(&vp->msix, 1), .events = POLLIN };
	uint64_t v;
	bool pending = poll(&p, 1, 1000) == 1;

	/* The PBA agrees (MSI-X is disabled, so the vector is masked). */
	ck_assert_uint_eq(rd(VIRTIO_PCI_MSIX_PBA_OFF, 8) & 2, pending ? 2 : 0);
	if (pending)
		ck_assert_int_eq(read(p.fd, &v, sizeof(v)), sizeof(v));
	return pending;
}

static void check_data(uint8_t (*pat)(unsigned int))
{
	uint8_t *data = gpa(GPA_DATA);

	for (unsigned int k = 0; k < 512; k++)
		ck_assert_uint_eq(data[k], pat(k));
}

static void do_read_within(int ms, uint64_t sector, uint8_t (*pat)(unsigned int))
{
	memset(gpa(GPA_DATA), 0, 512);
	submit(VIRTIO_BLK_T_IN, sector);
	ck_assert(wait_used(ms));
	ck_assert_uint_eq(*(uint8_t *)gpa(GPA_STATUS), VIRTIO_BLK_S_OK);
	ck_assert(interrupt_pending());
	check_data(pat);
}

static void do_read(uint64_t sector, uint8_t (*pat)(unsigned int))
{
	do_read_within(5000, sector, pat);
}

START_TEST(read_write_reconnect)
{
	uint8_t sector[512];
	int fd;

	start_backend();
	blk = vhost_user_blk_create(vm, sock_path, -1);
	ck_assert_ptr_nonnull(blk);
	driver_init();

	do_read(0, pat0);

	for (unsigned int k = 0; k < 512; k++)
		((uint8_t *)gpa(GPA_DATA))[k] = pat1(k);
	submit(VIRTIO_BLK_T_OUT, 1);
	ck_assert(wait_used(5000));
	ck_assert_uint_eq(*(uint8_t *)gpa(GPA_STATUS), VIRTIO_BLK_S_OK);
	ck_assert(interrupt_pending());
	fd = open(disk_path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(pread(fd, sector, 512, 512), 512);
	close(fd);
	for (unsigned int k = 0; k < 512; k++)
		ck_assert_uint_eq(sector[k], pat1(k));

	/* The back-end dies; a request made meanwhile stalls... */
	stop_backend();
	fixture_vm_poll(vm, 50);		/* the device thread sees EOF */
	memset(gpa(GPA_DATA), 0, 512);
	submit(VIRTIO_BLK_T_IN, 1);
	ck_assert(!wait_used(300));
	/* ...and completes once a new back-end is up and we replayed. */
	start_backend();
	ck_assert(wait_used(5000));
	ck_assert_uint_eq(*(uint8_t *)gpa(GPA_STATUS), VIRTIO_BLK_S_OK);
	ck_assert(interrupt_pending());
	check_data(pat1);

	/* And the ring goes on. */
	do_read(0, pat0);

	/* A virtio reset stops the queues cleanly (GET_VRING_BASE). */
	wr(C(device_status), 1, 0);
	ck_assert_uint_eq(rd(C(device_status), 1), 0);
	driver_init();
	do_read(1, pat1);
}
END_TEST

/* --- back-ends that answer badly ------------------------------------------- */

enum bad_kind {
	BAD_FLAGS,		/* GET_FEATURES reply flags 0x1, not 0x5 */
	BAD_REQUEST,		/* reply carries another request code */
	BAD_SIZE,		/* GET_FEATURES reply of 4 bytes */
	BAD_HUGE,		/* reply size beyond any payload */
	BAD_CONFIG_SIZE,	/* GET_CONFIG reply echoes a different size */
	BAD_CONFIG_SHORT,	/* GET_CONFIG reply shorter than asked */
	BAD_NO_CONFIG,		/* no CONFIG protocol feature */
	BAD_HANGUP,		/* accepts, then closes at once */
	BAD_KINDS,
};

static bool read_full(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len; ) {
		ssize_t n = read(fd, (uint8_t *)buf + done, len - done);

		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

static void send_reply(int c, struct vhost_user_hdr h, const void *p, size_t len)
{
	uint8_t buf[sizeof(h) + 4096];

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), p, len);
	if (write(c, buf, sizeof(h) + len) < 0)
		_exit(1);
}

/* A front-end conversation until the faulty reply, for every connection. */
static void serve_bad(int c, enum bad_kind kind)
{
	struct vhost_user_hdr h;
	uint8_t p[4096];

	while (kind != BAD_HANGUP && read_full(c, &h, sizeof(h)) && h.size <= sizeof(p) &&
	       read_full(c, p, h.size)) {
		uint64_t v = 0;
		bool reply = true;
		size_t len = 8;

		switch (h.request) {
		case VHOST_USER_GET_FEATURES:
			v = VIRTIO_BIT(VHOST_USER_F_PROTOCOL_FEATURES) |
			    VIRTIO_BIT(VIRTIO_F_VERSION_1);
			break;
		case VHOST_USER_GET_PROTOCOL_FEATURES:
			v = kind == BAD_NO_CONFIG ? 0 :
			    VIRTIO_BIT(VHOST_USER_PROTOCOL_F_CONFIG);
			break;
		case VHOST_USER_GET_QUEUE_NUM:
			v = 1;
			break;
		case VHOST_USER_GET_CONFIG: {
			struct vhost_user_config *cfg = (void *)p;

			len = h.size;
			if (kind == BAD_CONFIG_SIZE)
				cfg->size -= 4;
			if (kind == BAD_CONFIG_SHORT) {
				len -= 4;
				cfg->size -= 4;
			}
			h.flags = VHOST_USER_REPLY_FLAGS;
			h.size = (uint32_t)len;
			send_reply(c, h, p, len);
			continue;
		}
		default:
			reply = h.flags & VHOST_USER_NEED_REPLY_MASK;
			break;
		}
		if (!reply)
			continue;
		h.flags = VHOST_USER_REPLY_FLAGS;
		h.size = (uint32_t)len;
		if (h.request == VHOST_USER_GET_FEATURES) {
			if (kind == BAD_FLAGS)
				h.flags = VHOST_USER_VERSION;
			if (kind == BAD_REQUEST)
				h.request = VHOST_USER_GET_QUEUE_NUM;
			if (kind == BAD_SIZE)
				h.size = (uint32_t)(len = 4);
			if (kind == BAD_HUGE)
				h.size = (uint32_t)(len = 4096);
		}
		memset(p, 0, sizeof(p));
		memcpy(p, &v, 8);
		send_reply(c, h, p, len);
	}
}

/* A faulty back-end; it writes a byte to tally_fd (if >= 0) per connection. */
static pid_t start_bad_backend(enum bad_kind kind, int tally_fd)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	unlink(sock_path);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (;;) {
			int c = accept(l, NULL, NULL);

			if (c < 0)
				_exit(1);
			if (tally_fd >= 0 && write(tally_fd, "c", 1) != 1)
				_exit(1);
			serve_bad(c, kind);
			close(c);
		}
	}
	close(l);
	return pid;
}

START_TEST(bad_replies)
{
	for (int kind = 0; kind < BAD_KINDS; kind++) {
		int fds_before = count_open_fds();
		pid_t pid = start_bad_backend((enum bad_kind)kind, -1);

		ck_assert_ptr_null(vhost_user_blk_create(vm, sock_path, -1));
		ck_assert_int_eq(count_open_fds(), fds_before);
		ck_assert_ptr_null(fixture_pci_dev(vm, 1));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}
END_TEST

/*
 * A running device whose back-end is replaced by a bad one keeps retrying,
 * backing off: attempts 1, 2 and 4 s apart reach it twice in 6.5 s, where
 * a fixed second would reach it six times. Once it is gone, an attempt
 * that finds nobody listening resets the delay to a second: the good one
 * is back before the next 4 s step would have come.
 */
static void bad_backend_backs_off(enum bad_kind kind)
{
	int tally[2];
	char buf[16];
	ssize_t n;
	pid_t bad;

	start_backend();
	blk = vhost_user_blk_create(vm, sock_path, -1);
	ck_assert_ptr_nonnull(blk);
	driver_init();
	do_read(0, pat0);
	ck_assert_int_eq(pipe2(tally, O_CLOEXEC | O_NONBLOCK), 0);
	stop_backend();
	bad = start_bad_backend(kind, tally[1]);
	fixture_vm_poll(vm, 6500);		/* attempts at 1 and 3 s */
	kill(bad, SIGKILL);
	waitpid(bad, NULL, 0);
	n = read(tally[0], buf, sizeof(buf));
	ck_assert_msg(n >= 1 && n <= 3, "%zd connections to the bad back-end", n);
	close(tally[0]);
	close(tally[1]);
	unlink(sock_path);
	fixture_vm_poll(vm, 1500);		/* the 7 s attempt: nobody there */
	start_backend();			/* the next attempt: at once */
	fixture_vm_poll(vm, 1000);
	do_read_within(1500, 0, pat0);		/* by 10.5 s; without the reset: 11 s */
}

START_TEST(bad_backend_on_reconnect)
{
	bad_backend_backs_off(BAD_CONFIG_SIZE);
}
END_TEST

/* A back-end that hangs up as soon as it is connected is failing, not absent. */
START_TEST(hangup_backend_on_reconnect)
{
	bad_backend_backs_off(BAD_HANGUP);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vhost_user_blk");
	TCase *tc = tcase_create("device");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, read_write_reconnect);
	tcase_add_test(tc, bad_replies);
	tcase_add_test(tc, bad_backend_on_reconnect);
	tcase_add_test(tc, hangup_backend_on_reconnect);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	log_init("test_vhost_user_blk", LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	if (!getenv("VVU_BLK_BACKEND") && access(QSD, X_OK) != 0) {
		printf("no %s: the back-end to test against\n", QSD);
		return 77;
	}
	return fixture_run_suite(suite());
}
