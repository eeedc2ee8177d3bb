// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sibling of tests/kvm/guest/vvu.c: a vhost-user front-end on the
 * vvu-proxy device's socket, whose back-end is that tiny guest in the device
 * VM. It sends what the guest expects, in order, and checks its answers:
 *
 *   GET_FEATURES           the guest's reply (VERSION_1 | PROTOCOL_FEATURES)
 *   SET_MEM_TABLE          64 MiB of memfd, SIBLING_WORD at 40 MiB
 *   SET_VRING_KICK 0       an eventfd: its signal is the guest's interrupt
 *   SET_VRING_CALL 0       an eventfd: the guest's doorbell 0 signals it
 *   GET_PROTOCOL_FEATURES  the guest's reply; then it kicks and waits for
 *                          the call, and hangs up
 *
 * usage: vvu-sibling SOCK. Prints "sibling: ..." lines; exit 0 on success.
 *
 * vvu-sibling --hold MiB SOCK is a sibling with MiB of RAM that needs no
 * back-end (tests/e2e/vvu-device-test.sh): it sends its memory table and
 * then holds the connection until vvu-proxyd closes it or it is killed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/vu_msg.h"

#define SIBLING_RAM_MIB	64ull
#define SIBLING_WORD_AT	(40u << 20)
#define SIBLING_WORD	0x5a5a1234u
#define WAIT_MS		60000

static void die(const char *what)
{
	fprintf(stderr, "sibling: FAIL %s\n", what);
	exit(1);
}

/* The socket appears when vvu-proxyd is up: retry for a while. */
static int sibling_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(a.sun_path))
		die("socket path too long");
	strcpy(a.sun_path, path);
	for (int i = 0; i < 600; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			return s;
		if (s >= 0)
			close(s);
		usleep(100000);
	}
	die("cannot connect to the vvu-proxy socket");
	return -1;
}

static void send_msg(int s, struct vu_msg *m)
{
	if (vu_msg_send(s, m))
		die("send");
}

static uint64_t ask_u64(int s, uint32_t request)
{
	struct vu_msg m;

	vu_msg_init(&m, request);
	send_msg(s, &m);
	if (vu_msg_recv(s, &m) || m.hdr.request != request ||
	    m.hdr.flags != VHOST_USER_REPLY_FLAGS || m.hdr.size != 8)
		die("bad reply");
	return m.payload.u64;
}

static int memory_with_word(uint64_t size)
{
	int fd = memfd_create("sibling-ram", MFD_CLOEXEC);
	uint32_t word = SIBLING_WORD;

	if (fd < 0 || ftruncate(fd, (off_t)size) ||
	    pwrite(fd, &word, sizeof(word), SIBLING_WORD_AT) != sizeof(word))
		die("memfd");
	return fd;
}

static void send_with_fd(int s, uint32_t request, uint64_t u64, int fd)
{
	struct vu_msg m;

	vu_msg_init(&m, request);
	m.hdr.size = 8;
	m.payload.u64 = u64;
	m.fds[0] = fd;
	m.nfds = 1;
	send_msg(s, &m);
}

static void send_mem_table(int s, int fd, uint64_t size)
{
	struct vu_msg m;

	vu_msg_init(&m, VHOST_USER_SET_MEM_TABLE);
	m.hdr.size = VHOST_USER_MEMORY_SIZE(1);
	m.payload.memory.nregions = 1;
	m.payload.memory.regions[0] = (struct vhost_user_mem_region){
		.guest_phys_addr = 0,
		.memory_size = size,
		.userspace_addr = 0x7f0000000000ull,
		.mmap_offset = 0,
	};
	m.fds[0] = fd;
	m.nfds = 1;
	send_msg(s, &m);
}

/* Sends the memory table, then waits for the peer to close. */
static int hold(const char *path, uint64_t mib)
{
	int s = sibling_connect(path), ram = memory_with_word(mib << 20);
	char c;

	send_mem_table(s, ram, mib << 20);
	printf("sibling: %llu MiB memory table sent\n", (unsigned long long)mib);
	fflush(stdout);
	while (read(s, &c, 1) > 0)
		;
	printf("sibling: connection closed\n");
	return 0;
}

int main(int argc, char **argv)
{
	int s, ram, kick, call;
	struct pollfd p;

	if (argc == 4 && !strcmp(argv[1], "--hold") && atoi(argv[2]) > 0)
		return hold(argv[3], (uint64_t)atoi(argv[2]));
	if (argc != 2) {
		fprintf(stderr, "usage: vvu-sibling [--hold MiB] SOCK\n");
		return 2;
	}
	s = sibling_connect(argv[1]);
	printf("sibling: connected\n");
	if (!(ask_u64(s, VHOST_USER_GET_FEATURES) & 1ull << 32))
		die("GET_FEATURES reply without VERSION_1");
	printf("sibling: features\n");
	ram = memory_with_word(SIBLING_RAM_MIB << 20);
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (kick < 0 || call < 0)
		die("eventfd");
	send_mem_table(s, ram, SIBLING_RAM_MIB << 20);
	send_with_fd(s, VHOST_USER_SET_VRING_KICK, 0, kick);
	send_with_fd(s, VHOST_USER_SET_VRING_CALL, 0, call);
	if (!(ask_u64(s, VHOST_USER_GET_PROTOCOL_FEATURES) & 1ull << 3))
		die("GET_PROTOCOL_FEATURES reply without the guest's bit");
	printf("sibling: protocol features\n");
	if (eventfd_write(kick, 1))
		die("kick");
	p = (struct pollfd){ .fd = call, .events = POLLIN };
	if (poll(&p, 1, WAIT_MS) != 1)
		die("no call from the guest's doorbell");
	printf("sibling: call\n");
	close(s);
	return 0;
}
