// SPDX-License-Identifier: GPL-2.0-only
/*
 * pci_devchan without the driver above it: against a real vvu-proxyd (its
 * path is argv[1]) for identity, BARs and the loop ending with proxyd; and
 * against a scripted proxyd (a child process speaking the codec) for what
 * the real one only does with a whole session: slots mapped into the SHM
 * BAR and unmapped, irqfds watched as vectors, refused, deleted.
 */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/devchan.h"
#include "protocol/virtio.h"
#include "protocol/virtio_pci_layout.h"
#include "protocol/vvu.h"
#include "tests/unit/devchan_vvu.h"
#include "tests/unit/test_run.h"
#include "vblk-backend/pci_dev.h"

#define SHM_SIZE	(1ull << 30)
#define CFG(f)		offsetof(struct virtio_pci_common_cfg, f)

static const char *proxyd_path;

struct env {
	char dir[64];
	char ctrl[96];
	pid_t pid;
	struct event_base *base;
	struct pci_dev *d;
	unsigned int fired[VVU_MSIX_VECTORS];
};

static void env_init(struct env *e)
{
	memset(e, 0, sizeof(*e));
	strcpy(e->dir, "/tmp/vvu-pcidc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(e->dir));
	snprintf(e->ctrl, sizeof(e->ctrl), "%s/ctrl", e->dir);
	e->base = event_base_new();
	ck_assert_ptr_nonnull(e->base);
}

/* Closes the device, reaps the child: its exit status. */
static int env_fini(struct env *e)
{
	int status = -1;

	pci_dev_close(e->d);
	if (e->pid > 0)
		ck_assert_int_eq(waitpid(e->pid, &status, 0), e->pid);
	event_base_free(e->base);
	unlink(e->ctrl);
	rmdir(e->dir);
	return status;
}

static void on_irq(void *arg, unsigned int vector)
{
	struct env *e = arg;

	ck_assert_uint_lt(vector, VVU_MSIX_VECTORS);
	e->fired[vector]++;
}

/* Runs the loop until cond(e) or 2 s. */
static bool loop_until(struct env *e, bool (*cond)(struct env *))
{
	for (int i = 0; i < 2000 && !cond(e); i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	return cond(e);
}

/* --- a real vvu-proxyd -------------------------------------------------------- */

static void spawn_proxyd(struct env *e)
{
	char sock[96];

	snprintf(sock, sizeof(sock), "%s/sock", e->dir);
	e->pid = fork();
	ck_assert_int_ge(e->pid, 0);
	if (e->pid)
		return;
	/* Its seccomp filter forbids LeakSanitizer's exit-time scan. */
	setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
	execl(proxyd_path, proxyd_path, "--socket", sock, "--control", e->ctrl,
	      "--shm-size", "1G", (char *)NULL);
	_exit(127);
}

static uint32_t cfg16(struct pci_dev *d, uint32_t off)
{
	uint32_t v = 0;

	ck_assert_int_eq(pci_cfg_read(d, off, 2, &v), 0);
	return v;
}

/* Walks the capability list as a driver does: the MSI-X table size. */
static unsigned int msix_vectors(struct pci_dev *d)
{
	uint32_t at = 0, v = 0;
	unsigned int n = 0, vendor = 0;

	ck_assert_int_eq(pci_cfg_read(d, 0x34, 1, &at), 0);
	for (; at && n < 48; n++) {
		ck_assert_int_eq(pci_cfg_read(d, at, 4, &v), 0);
		if ((v & 0xff) == 0x11)
			break;
		vendor += (v & 0xff) == 0x09;	/* proxyd's bytes, our ID */
		at = (v >> 8) & 0xff;
	}
	ck_assert_uint_gt(vendor, 0);
	return at ? ((v >> 16) & 0x7ff) + 1 : 0;
}

static bool loop_broke(struct env *e)
{
	return event_base_got_break(e->base);
}

START_TEST(test_real_proxyd)
{
	struct env e;
	uint64_t v = 0;
	uint32_t v32;
	uint8_t *shm;
	void *base;
	size_t len;

	env_init(&e);
	spawn_proxyd(&e);
	e.d = pci_devchan_open(e.ctrl, e.base);
	ck_assert_ptr_nonnull(e.d);
	ck_assert_uint_eq(cfg16(e.d, 0), 0x1af4);
	ck_assert_uint_eq(cfg16(e.d, 2), 0x107d);
	ck_assert_int_eq(pci_cfg_read(e.d, 1, 2, &v32), -EINVAL);
	ck_assert_uint_eq(msix_vectors(e.d), VVU_MSIX_VECTORS);
	ck_assert_uint_eq(e.d->ops->bar_size(e.d, VVU_BAR2), VVU_BAR2_SIZE);
	ck_assert_uint_eq(e.d->ops->bar_size(e.d, VVU_BAR4), SHM_SIZE);
	ck_assert_uint_eq(e.d->ops->bar_size(e.d, 5), 0);
	ck_assert_uint_eq(e.d->ops->bar_size(e.d, 6), 0);
	shm = e.d->ops->bar_map(e.d, VVU_BAR4, 0, SHM_SIZE, &base, &len);
	ck_assert_ptr_nonnull(shm);
	ck_assert_uint_eq(len, 0);	/* the transport's: never unmapped */
	ck_assert_ptr_eq(e.d->ops->bar_map(e.d, VVU_BAR4, 4096, 8, &base, &len),
			 shm + 4096);
	ck_assert_ptr_null(e.d->ops->bar_map(e.d, VVU_BAR4, 4096, SHM_SIZE, &base, &len));
	ck_assert_ptr_null(e.d->ops->bar_map(e.d, VIRTIO_PCI_BAR, 0, 8, &base, &len));
	ck_assert_int_eq(e.d->ops->msix_enable(e.d, VVU_MSIX_VECTORS, on_irq, &e), 0);
	/* The driver's config vector: proxyd binds its irqfd to it. */
	ck_assert_int_eq(pci_cfg_write(e.d, 4, 2, 0x6), 0);
	ck_assert_int_eq(pci_bar_write(e.d, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF +
				       CFG(config_msix_vector), 2, 0), 0);
	ck_assert_int_eq(pci_bar_read(e.d, VIRTIO_PCI_BAR, VIRTIO_PCI_COMMON_OFF +
				      CFG(config_msix_vector), 2, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(pci_bar_read(e.d, VIRTIO_PCI_BAR, 0x8000, 4, &v), -EINVAL);
	/* proxyd going away ends the loop. */
	ck_assert(!loop_broke(&e));
	ck_assert_int_eq(kill(e.pid, SIGTERM), 0);
	ck_assert_int_eq(event_base_dispatch(e.base), 0);
	ck_assert(loop_broke(&e));
	ck_assert(WIFEXITED(env_fini(&e)));
}
END_TEST

/* --- a scripted proxyd ---------------------------------------------------------- */

/* The child's own checks: a failure is its exit status. */
#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "child: %s:%d: %s\n", \
	__FILE__, __LINE__, #c); _exit(1); } } while (0)

static uint64_t next_id = 100;

/* Sends m; the vmm's status, which also goes to the test over step. */
static int request(int ctrl, int step, struct devchan_msg *m)
{
	struct devchan_msg r;
	const char *why = "";
	uint8_t st;

	m->hdr.id = ++next_id;
	REQUIRE(!devchan_send(ctrl, m, DEVCHAN_FROM_PROXYD, &why));
	REQUIRE(!devchan_recv(ctrl, &r, DEVCHAN_FROM_VMM, &why));
	REQUIRE(r.hdr.type == DEVCHAN_MSG_REPLY && r.hdr.id == m->hdr.id);
	st = (uint8_t)r.payload.reply.status;
	REQUIRE(write(step, &st, 1) == 1);
	return st;
}

/* Waits for the test to say "go on" (it checked the last step). */
static void wait_go(int go)
{
	uint8_t b;

	REQUIRE(read(go, &b, 1) == 1);
}

static int accept_vmm(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0), c;

	strcpy(a.sun_path, path);
	REQUIRE(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)));
	REQUIRE(!listen(l, 1));
	c = accept(l, NULL, NULL);
	REQUIRE(c >= 0);
	close(l);
	return c;
}

static void handshake(int ctrl)
{
	struct devchan_device dev;
	struct devchan_msg m;
	const char *why = "";

	REQUIRE(!devchan_recv(ctrl, &m, DEVCHAN_FROM_VMM, &why));
	REQUIRE(m.hdr.type == DEVCHAN_MSG_HELLO);
	devchan_vvu_device(&dev, SHM_SIZE);
	devchan_build_device(&m, m.hdr.id, &dev);
	REQUIRE(!devchan_send(ctrl, &m, DEVCHAN_FROM_PROXYD, &why));
	for (int i = 0; i < 2; i++) {
		REQUIRE(!devchan_recv(ctrl, &m, DEVCHAN_FROM_VMM, &why));
		REQUIRE(m.hdr.type == DEVCHAN_MSG_RAM_ADD ||
			m.hdr.type == DEVCHAN_MSG_ACCESS_CHANNEL);
		devchan_msg_close_fds(&m);
		devchan_build_reply(&m, m.hdr.id, 0);
		REQUIRE(!devchan_send(ctrl, &m, DEVCHAN_FROM_PROXYD, &why));
	}
}

static int slot_memfd(void)
{
	int fd = memfd_create("slot", MFD_CLOEXEC);

	REQUIRE(fd >= 0 && !ftruncate(fd, 0x3000));
	REQUIRE(pwrite(fd, "hello", 5, 0x1000) == 5);
	return fd;
}

/*
 * The script, one step per request, each reported over step:
 * irqfd 0 on vector 1 (signalled before MSI-X is on); irqfd 1 on vector 9
 * (refused: the test enables 4); irqfd 2 on vector 2 signalled 3 times;
 * irqfd 2 deleted, then signalled; slot 0 mapped; slot 1 over it (EBUSY);
 * slot 0 unmapped; EOF.
 */
static void script(int ctrl, int step, int go)
{
	struct devchan_shm_map map = { .slot = 0, .bar = 4,
		.bar_offset = 0x200000, .size = 0x2000, .fd_offset = 0x1000 };
	struct devchan_msg m;
	int e0 = eventfd(0, 0), e2 = eventfd(0, 0), mfd = slot_memfd();

	handshake(ctrl);
	devchan_build_irqfd_add(&m, 0, 0, 1, e0);
	REQUIRE(!request(ctrl, step, &m) && !eventfd_write(e0, 1));
	wait_go(go);
	devchan_build_irqfd_add(&m, 0, 1, 9, e0);
	request(ctrl, step, &m);
	devchan_build_irqfd_add(&m, 0, 2, 2, e2);
	REQUIRE(!request(ctrl, step, &m));
	for (int i = 0; i < 3; i++)
		REQUIRE(!eventfd_write(e2, 1));
	wait_go(go);
	devchan_build_irqfd_del(&m, 0, 2);
	REQUIRE(!request(ctrl, step, &m) && !eventfd_write(e2, 1));
	devchan_build_shm_map(&m, 0, &map, mfd);
	request(ctrl, step, &m);
	map.slot = 1;
	devchan_build_shm_map(&m, 0, &map, mfd);
	request(ctrl, step, &m);
	wait_go(go);
	devchan_build_shm_unmap(&m, 0, 0);
	request(ctrl, step, &m);
	wait_go(go);
	_exit(0);
}

struct scripted {
	struct env e;
	int step;	/* the child's statuses */
	int go;		/* ours: "checked, go on" */
};

static void scripted_start(struct scripted *s)
{
	int step[2], go[2];

	env_init(&s->e);
	ck_assert_int_eq(pipe2(step, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(go, O_CLOEXEC), 0);
	s->e.pid = fork();
	ck_assert_int_ge(s->e.pid, 0);
	if (!s->e.pid) {
		close(step[0]);
		close(go[1]);
		script(accept_vmm(s->e.ctrl), step[1], go[0]);
	}
	close(step[1]);
	close(go[0]);
	s->step = step[0];
	s->go = go[1];
	s->e.d = pci_devchan_open(s->e.ctrl, s->e.base);
	ck_assert_ptr_nonnull(s->e.d);
}

/* Runs the loop until the child's next step is answered: its status. */
static int next_step(struct scripted *s)
{
	struct pollfd p = { .fd = s->step, .events = POLLIN };
	uint8_t st;

	for (int i = 0; i < 2000 && poll(&p, 1, 0) != 1; i++) {
		event_base_loop(s->e.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_int_eq(read(s->step, &st, 1), 1);
	return st;
}

static void go_on(struct scripted *s)
{
	ck_assert_int_eq(write(s->go, "g", 1), 1);
}

static bool vector2_fired(struct env *e)
{
	return e->fired[2] > 0;
}

static bool vector1_fired(struct env *e)
{
	return e->fired[1] > 0;
}

/* Can we read this byte? A PROT_NONE page gives EFAULT, not a signal. */
static bool readable(const void *p)
{
	int fds[2];
	bool ok;

	ck_assert_int_eq(pipe(fds), 0);
	ok = write(fds[1], p, 1) == 1;
	close(fds[0]);
	close(fds[1]);
	return ok;
}

START_TEST(test_scripted_proxyd)
{
	struct scripted s;
	uint8_t *shm;
	void *base;
	size_t len;

	scripted_start(&s);
	shm = s.e.d->ops->bar_map(s.e.d, VVU_BAR4, 0, SHM_SIZE, &base, &len);
	ck_assert_ptr_nonnull(shm);
	ck_assert(!readable(shm + 0x200000));
	/* irqfd 0: remembered, watched once enabled; its pending edge comes. */
	ck_assert_int_eq(next_step(&s), 0);
	ck_assert_uint_eq(s.e.fired[1], 0);
	ck_assert_int_eq(s.e.d->ops->msix_enable(s.e.d, 100, on_irq, &s.e), -EINVAL);
	ck_assert_int_eq(s.e.d->ops->msix_enable(s.e.d, 4, on_irq, &s.e), 0);
	ck_assert_int_eq(s.e.d->ops->msix_enable(s.e.d, 4, on_irq, &s.e), -EBUSY);
	ck_assert(loop_until(&s.e, vector1_fired));
	go_on(&s);
	/* Vector 9 of 4: refused. Vector 2: three edges, at least one call. */
	ck_assert_int_eq(next_step(&s), EINVAL);
	ck_assert_int_eq(next_step(&s), 0);
	ck_assert(loop_until(&s.e, vector2_fired));
	ck_assert_uint_le(s.e.fired[2], 3);
	go_on(&s);
	/* Deleted: its signal is nobody's now. */
	ck_assert_int_eq(next_step(&s), 0);
	ck_assert_int_eq(next_step(&s), 0);	/* slot 0 */
	ck_assert_int_eq(next_step(&s), EBUSY);	/* slot 1 over it */
	s.e.fired[2] = 0;
	for (int i = 0; i < 20; i++)
		event_base_loop(s.e.base, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(s.e.fired[2], 0);
	ck_assert_mem_eq(shm + 0x200000, "hello", 5);
	shm[0x201000] = 1;	/* writable, both pages */
	go_on(&s);
	ck_assert_int_eq(next_step(&s), 0);
	ck_assert(!readable(shm + 0x200000));
	/* The child exits: the channel closes, the loop ends. */
	go_on(&s);
	ck_assert_int_eq(event_base_dispatch(s.e.base), 0);
	ck_assert(event_base_got_break(s.e.base));
	close(s.step);
	close(s.go);
	ck_assert_int_eq(env_fini(&s.e), 0);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("pci_devchan");
	TCase *tc = tcase_create("pci_devchan");

	if (argc < 2) {
		fprintf(stderr, "usage: %s VVU-PROXYD\n", argv[0]);
		return 2;
	}
	proxyd_path = argv[1];
	tcase_add_test(tc, test_real_proxyd);
	tcase_add_test(tc, test_scripted_proxyd);
	suite_add_tcase(s, tc);
	return test_run_suite(s);
}
