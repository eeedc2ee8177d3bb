// SPDX-License-Identifier: GPL-2.0-only
/*
 * bar-read: how fast the CPU reads a PCI BAR's memory through the mapping
 * vblk-backend --vfio gets, against the same reads from ordinary memory.
 *
 * vfio-pci and sysfs resourceN files both map a BAR with pgprot_noncached,
 * so a read of the vvu-proxy device's shared-memory BAR (BAR4: the sibling's
 * RAM) here costs what the back-end's data path pays: uncached on hardware
 * whose second-level page tables honour the guest's memory type (AMD NPT),
 * write-back where the hypervisor overrides it (Intel EPT with KVM's
 * "ignore guest PAT"). scripts/bench-vm.sh runs this in the device VM while
 * a sibling is connected, so that the BAR's first MiBs are backed.
 *
 * usage: bar-read BDF BAR [MiB]   (default 16 MiB, at most 1024; read-only)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* MB/s of memcpy(dst, src, len), over at least half a second of copies. */
static double copy_rate(void *dst, const volatile void *src, size_t len)
{
	double t0 = now(), t;
	size_t n = 0;

	do {
		memcpy(dst, (const void *)src, len);
		n++;
		t = now() - t0;
	} while (t < 0.5 || n < 3);
	return n * (double)len / t / 1e6;
}

/* An unbacked range of the shared-memory BAR reads as all ones. */
static int all_ones(const volatile uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 0xff)
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	unsigned long mib = 16;
	char path[128], *end;
	size_t len;
	int fd;

	if (argc < 3 || argc > 4 || strchr(argv[1], '/') || strlen(argv[2]) != 1 ||
	    argv[2][0] < '0' || argv[2][0] > '5') {
		fprintf(stderr, "usage: bar-read BDF BAR [MiB]   (BAR 0 to 5)\n");
		return 2;
	}
	if (argc == 4) {
		mib = strtoul(argv[3], &end, 10);
		if (*end || !mib || mib > 1024) {
			fprintf(stderr, "bar-read: MiB '%s' is not 1 to 1024\n", argv[3]);
			return 2;
		}
	}
	len = (size_t)mib << 20;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource%s", argv[1], argv[2]);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "bar-read: %s: %s\n", path, strerror(errno));
		return 1;
	}
	const volatile uint8_t *bar = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	uint8_t *ram = malloc(len), *dst = malloc(len);

	if (bar == MAP_FAILED || !ram || !dst) {
		fprintf(stderr, "bar-read: map %zu MiB of %s: %s\n", len >> 20, path, strerror(errno));
		return 1;
	}
	if (all_ones(bar, 4096)) {
		fprintf(stderr, "bar-read: %s reads all ones: nothing is mapped there\n", path);
		return 1;
	}
	memset(ram, 0x5a, len);
	double bar_rate = copy_rate(dst, bar, len);
	double ram_rate = copy_rate(dst, ram, len);

	printf("bar-read: %zu MiB: BAR%s (uncached mapping, as vfio-pci's) %.0f MB/s, "
	       "anonymous memory (write-back) %.0f MB/s, ratio %.2f\n",
	       len >> 20, argv[2], bar_rate, ram_rate, bar_rate / ram_rate);
	return 0;
}
