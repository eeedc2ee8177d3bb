// SPDX-License-Identifier: GPL-2.0-only
/* The guest memory table: mapping, add/remove, overlap and overflow checks, translation. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/memtable.h"

#define PAGE	4096

static int make_memfd(size_t size)
{
	int fd = memfd_create("test_memtable", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static struct vhost_user_mem_region wire(uint64_t gpa, uint64_t size,
					 uint64_t uva, uint64_t offset)
{
	struct vhost_user_mem_region w = {
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = uva,
		.mmap_offset = offset,
	};
	return w;
}

/* A region over plain memory the table must not unmap (map_len 0). */
static struct mem_region fake(uint64_t gpa, uint64_t size, uint64_t uva, void *host)
{
	struct mem_region r = {
		.gpa = gpa, .size = size, .uva = uva, .host = host,
	};
	return r;
}

/* msync fails with ENOMEM on an address range that is not mapped. */
static bool is_mapped(void *base, size_t len)
{
	return msync(base, len, MS_ASYNC) == 0;
}

START_TEST(test_map_fd_shares_file)
{
	struct vhost_user_mem_region w = wire(0x100000, 2 * PAGE, 0x7f0000000000, PAGE);
	struct mem_region r;
	struct mem_table t;
	char buf[6] = "";
	int fd = make_memfd(3 * PAGE);

	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), 0);
	/* The mapping keeps the file alive. */
	close(fd);
	ck_assert_uint_eq(r.gpa, 0x100000);
	ck_assert_uint_eq(r.size, 2 * PAGE);
	ck_assert_uint_eq(r.uva, 0x7f0000000000);
	ck_assert_uint_ge(r.map_len, r.size);
	ck_assert_ptr_eq(r.host, r.map_base);
	/* Where it came from, but not the fd, which the caller closes. */
	ck_assert_int_eq(r.fd, -1);
	ck_assert_uint_eq(r.fd_offset, PAGE);

	mem_table_init(&t);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	memcpy(mem_gpa_to_host(&t, 0x100000 + PAGE, 6), "hello", 6);
	memcpy(buf, r.host + PAGE, 6);
	ck_assert_str_eq(buf, "hello");
	ck_assert(is_mapped(r.map_base, r.map_len));
	ck_assert_int_eq(mem_table_remove(&t, 0x100000, 2 * PAGE, 0x7f0000000000), 0);
	ck_assert_uint_eq(t.nregions, 0);
	ck_assert(!is_mapped(r.map_base, r.map_len));
}
END_TEST

START_TEST(test_map_fd_unaligned_offset)
{
	struct vhost_user_mem_region w = wire(0, 200, 0x1000, PAGE + 100);
	struct mem_region r;
	char buf[4] = "";
	int fd = make_memfd(2 * PAGE);

	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), 0);
	memcpy(r.host, "abc", 4);
	/* host is file offset PAGE + 100, whatever mmap needed to get there. */
	ck_assert_int_eq(pread(fd, buf, 4, PAGE + 100), 4);
	ck_assert_str_eq(buf, "abc");
	ck_assert_ptr_eq(r.host, (uint8_t *)r.map_base + 100);
	close(fd);
	ck_assert_int_eq(munmap(r.map_base, r.map_len), 0);
}
END_TEST

START_TEST(test_map_fd_rejects)
{
	struct vhost_user_mem_region w;
	struct mem_region r;
	int fd = make_memfd(2 * PAGE);
	int pipefd[2];

	/* The whole file is fine... */
	w = wire(0, 2 * PAGE, 0, 0);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), 0);
	ck_assert_int_eq(munmap(r.map_base, r.map_len), 0);
	/* ...one byte more, or the same size further in, would SIGBUS. */
	w = wire(0, 2 * PAGE + 1, 0, 0);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), -EINVAL);
	w = wire(0, 2 * PAGE, 0, PAGE);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), -EINVAL);
	w = wire(0, 1, 0, 2 * PAGE);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), -EINVAL);
	/* Zero size. */
	w = wire(0, 0, 0, 0);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), -EINVAL);
	/* mmap_offset + size wraps to something small (CVE-2020-10722). */
	w = wire(0, 0x2000, 0, UINT64_MAX - 0xfff);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), -EINVAL);
	w = wire(0, UINT64_MAX, 0, 2);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), -EINVAL);
	close(fd);

	/* No size to trust. */
	ck_assert_int_eq(pipe(pipefd), 0);
	w = wire(0, PAGE, 0, 0);
	ck_assert_int_eq(mem_region_map_fd(&w, pipefd[0], &r), -EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);
	ck_assert_int_eq(mem_region_map_fd(&w, -1, &r), -EBADF);
}
END_TEST

START_TEST(test_add_remove_replace)
{
	static uint8_t a[PAGE], b[PAGE], c[PAGE];
	struct mem_region r;
	struct mem_table t;

	mem_table_init(&t);
	r = fake(0x0, PAGE, 0x10000, a);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	r = fake(0x4000, PAGE, 0x20000, b);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	ck_assert_uint_eq(t.nregions, 2);

	/* Removal needs gpa, size and uva to match exactly. */
	ck_assert_int_eq(mem_table_remove(&t, 0x8000, PAGE, 0x10000), -ENOENT);
	ck_assert_int_eq(mem_table_remove(&t, 0x0, PAGE / 2, 0x10000), -ENOENT);
	ck_assert_int_eq(mem_table_remove(&t, 0x0, PAGE, 0x20000), -ENOENT);
	ck_assert_uint_eq(t.nregions, 2);

	ck_assert_int_eq(mem_table_remove(&t, 0x0, PAGE, 0x10000), 0);
	ck_assert_uint_eq(t.nregions, 1);
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0x10, 1));
	ck_assert_ptr_eq(mem_gpa_to_host(&t, 0x4010, 1), b + 0x10);
	ck_assert_int_eq(mem_table_remove(&t, 0x0, PAGE, 0x10000), -ENOENT);

	/* Replace: the same guest range now lands somewhere else. */
	r = fake(0x0, PAGE, 0x10000, c);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	ck_assert_ptr_eq(mem_gpa_to_host(&t, 0x10, 1), c + 0x10);
	ck_assert_ptr_eq(mem_uva_to_host(&t, 0x10010, 1), c + 0x10);

	/* Fake regions are not ours to unmap: clear must leave them alone. */
	mem_table_clear(&t);
	ck_assert_uint_eq(t.nregions, 0);
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0x4010, 1));
}
END_TEST

START_TEST(test_overlap)
{
	static uint8_t mem[4 * PAGE];
	struct mem_region r;
	struct mem_table t;

	mem_table_init(&t);
	r = fake(0x10000, 0x2000, 0x100000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);

	/* gpa: identical, tail, head, inside, around. */
	r = fake(0x10000, 0x2000, 0x200000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0x11fff, 0x1000, 0x200000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0xf000, 0x1001, 0x200000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0x10800, 0x100, 0x200000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0x0, 0x100000, 0x200000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	/* uva overlaps although gpa does not. */
	r = fake(0x20000, 0x2000, 0x101fff, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0x20000, 0x2000, 0xff001, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	ck_assert_uint_eq(t.nregions, 1);

	/* Touching on both sides, in both spaces, is fine. */
	r = fake(0x12000, 0x1000, 0x102000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	r = fake(0xf000, 0x1000, 0xff000, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	ck_assert_uint_eq(t.nregions, 3);
}
END_TEST

START_TEST(test_zero_size_overflow_full)
{
	static uint8_t mem[PAGE];
	struct iovec iov[2];
	unsigned int niov = 0;
	struct mem_region r;
	struct mem_table t;
	unsigned int i;

	mem_table_init(&t);
	r = fake(0, 0, 0, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0, PAGE, 0, NULL);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	/* gpa + size or uva + size wraps. */
	r = fake(UINT64_MAX - 0xfff, 0x1000, 0, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(UINT64_MAX - 0x7ff, 0x1000, 0, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0, 0x1000, UINT64_MAX - 0x7ff, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	r = fake(0x1000, UINT64_MAX, 0, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	ck_assert_uint_eq(t.nregions, 0);

	/* Just below the top is a valid region... */
	r = fake(UINT64_MAX - 0xfff, 0x800, UINT64_MAX - 0xfff, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	ck_assert_ptr_eq(mem_gpa_to_host(&t, UINT64_MAX - 0x801, 2), mem + 0x7fe);
	/* ...but lengths that wrap past 2^64 must not slip through. */
	ck_assert_ptr_null(mem_gpa_to_host(&t, UINT64_MAX - 0xff0, UINT64_MAX));
	ck_assert_ptr_null(mem_gpa_to_host(&t, UINT64_MAX - 0xff0, UINT64_MAX - 0xff0));
	ck_assert_ptr_null(mem_uva_to_host(&t, UINT64_MAX - 0xff0, UINT64_MAX));
	ck_assert_int_eq(mem_gpa_to_iov(&t, UINT64_MAX - 0xff0, UINT64_MAX, iov, &niov, 2),
			 -EFAULT);
	ck_assert_int_eq(mem_gpa_to_iov(&t, UINT64_MAX - 0xff0, 0x1000, iov, &niov, 2),
			 -EFAULT);
	ck_assert_uint_eq(niov, 0);

	/* A full table refuses more. */
	mem_table_init(&t);
	for (i = 0; i < MEM_TABLE_MAX_REGIONS; i++) {
		r = fake((uint64_t)i * PAGE, PAGE, (uint64_t)i * PAGE, mem);
		ck_assert_int_eq(mem_table_add(&t, &r), 0);
	}
	r = fake((uint64_t)i * PAGE, PAGE, (uint64_t)i * PAGE, mem);
	ck_assert_int_eq(mem_table_add(&t, &r), -ENOSPC);
	ck_assert_uint_eq(t.nregions, MEM_TABLE_MAX_REGIONS);
}
END_TEST

START_TEST(test_translate_edges)
{
	static uint8_t mem[PAGE];
	struct mem_region r = fake(0x10000, PAGE, 0x7000, mem);
	struct mem_table t;

	mem_table_init(&t);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);

	ck_assert_ptr_eq(mem_gpa_to_host(&t, 0x10000, PAGE), mem);
	ck_assert_ptr_eq(mem_gpa_to_host(&t, 0x10fff, 1), mem + 0xfff);
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0x10fff, 2));
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0x10000, PAGE + 1));
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0x11000, 1));
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0xffff, 1));
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0xffff, 2));
	/* An empty range still has to start inside. */
	ck_assert_ptr_eq(mem_gpa_to_host(&t, 0x10fff, 0), mem + 0xfff);
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0x11000, 0));

	ck_assert_ptr_eq(mem_uva_to_host(&t, 0x7000, PAGE), mem);
	ck_assert_ptr_eq(mem_uva_to_host(&t, 0x7fff, 1), mem + 0xfff);
	ck_assert_ptr_null(mem_uva_to_host(&t, 0x7fff, 2));
	ck_assert_ptr_null(mem_uva_to_host(&t, 0x8000, 1));
	ck_assert_ptr_null(mem_uva_to_host(&t, 0x6fff, 1));
	/* gpa and uva are different spaces. */
	ck_assert_ptr_null(mem_uva_to_host(&t, 0x10000, 1));
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0x7000, 1));

	/* The empty table translates nothing. */
	mem_table_init(&t);
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0, 1));
	ck_assert_ptr_null(mem_uva_to_host(&t, 0, 1));
}
END_TEST

START_TEST(test_iov_span)
{
	static uint8_t a[PAGE], b[PAGE], c[PAGE], d[PAGE];
	struct iovec iov[4];
	struct mem_region r;
	struct mem_table t;
	unsigned int niov;

	/* a, b, c adjacent in guest space (added out of order); then a gap; d. */
	mem_table_init(&t);
	r = fake(0x1000, PAGE, 0x100000, b);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	r = fake(0x0, PAGE, 0x300000, a);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	r = fake(0x2000, PAGE, 0x200000, c);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);
	r = fake(0x4000, PAGE, 0x400000, d);
	ck_assert_int_eq(mem_table_add(&t, &r), 0);

	/* Wholly inside one region: one iovec, appended after what is there. */
	niov = 1;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x10, 0x20, iov, &niov, 4), 0);
	ck_assert_uint_eq(niov, 2);
	ck_assert_ptr_eq(iov[1].iov_base, a + 0x10);
	ck_assert_uint_eq(iov[1].iov_len, 0x20);

	/* Across a border: two iovecs, split exactly at it. */
	niov = 0;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0xff0, 0x20, iov, &niov, 4), 0);
	ck_assert_uint_eq(niov, 2);
	ck_assert_ptr_eq(iov[0].iov_base, a + 0xff0);
	ck_assert_uint_eq(iov[0].iov_len, 0x10);
	ck_assert_ptr_eq(iov[1].iov_base, b);
	ck_assert_uint_eq(iov[1].iov_len, 0x10);
	/* One region is not enough for the single-pointer lookup. */
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0xff0, 0x20));

	/* All three adjacent regions. */
	niov = 0;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x800, 0x2000, iov, &niov, 4), 0);
	ck_assert_uint_eq(niov, 3);
	ck_assert_ptr_eq(iov[0].iov_base, a + 0x800);
	ck_assert_uint_eq(iov[0].iov_len, 0x800);
	ck_assert_ptr_eq(iov[1].iov_base, b);
	ck_assert_uint_eq(iov[1].iov_len, PAGE);
	ck_assert_ptr_eq(iov[2].iov_base, c);
	ck_assert_uint_eq(iov[2].iov_len, 0x800);

	/* Into the gap, or starting in it: nothing is appended. */
	niov = 1;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x2ff0, 0x20, iov, &niov, 4), -EFAULT);
	ck_assert_uint_eq(niov, 1);
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x3000, 1, iov, &niov, 4), -EFAULT);
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x3fff, 2, iov, &niov, 4), -EFAULT);
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x5000, 1, iov, &niov, 4), -EFAULT);
	ck_assert_uint_eq(niov, 1);
	/* Exactly the last region. */
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x4000, PAGE, iov, &niov, 4), 0);
	ck_assert_uint_eq(niov, 2);
	ck_assert_ptr_eq(iov[1].iov_base, d);

	/* Not enough room: -ENOBUFS, nothing appended. */
	niov = 0;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0xff0, 0x20, iov, &niov, 1), -ENOBUFS);
	ck_assert_uint_eq(niov, 0);
	niov = 3;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x800, 0x2000, iov, &niov, 4), -ENOBUFS);
	ck_assert_uint_eq(niov, 3);
	niov = 4;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x10, 1, iov, &niov, 4), -ENOBUFS);
	ck_assert_uint_eq(niov, 4);

	/* len 0 appends nothing and succeeds, wherever it points. */
	niov = 0;
	ck_assert_int_eq(mem_gpa_to_iov(&t, 0x3000, 0, iov, &niov, 4), 0);
	ck_assert_int_eq(mem_gpa_to_iov(&t, UINT64_MAX, 0, iov, &niov, 0), 0);
	ck_assert_uint_eq(niov, 0);
}
END_TEST

START_TEST(test_clear_unmaps)
{
	struct vhost_user_mem_region w;
	struct mem_region r1, r2;
	struct mem_table t;
	int fd = make_memfd(2 * PAGE);

	mem_table_init(&t);
	w = wire(0, PAGE, 0x1000, 0);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r1), 0);
	ck_assert_int_eq(mem_table_add(&t, &r1), 0);
	w = wire(PAGE, PAGE, 0x2000, PAGE);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r2), 0);
	ck_assert_int_eq(mem_table_add(&t, &r2), 0);
	close(fd);

	/* One memfd, two mappings: writes through one show in the file the other maps. */
	memset(mem_gpa_to_host(&t, 0, PAGE), 0x5a, PAGE);
	ck_assert_uint_eq(*(uint8_t *)mem_gpa_to_host(&t, PAGE - 1, 1), 0x5a);
	ck_assert_uint_eq(*(uint8_t *)mem_gpa_to_host(&t, PAGE, 1), 0);

	mem_table_clear(&t);
	ck_assert_uint_eq(t.nregions, 0);
	ck_assert(!is_mapped(r1.map_base, r1.map_len));
	ck_assert(!is_mapped(r2.map_base, r2.map_len));
	ck_assert_ptr_null(mem_gpa_to_host(&t, 0, 1));
}
END_TEST

START_TEST(test_failed_add_keeps_mapping)
{
	static uint8_t mem[PAGE];
	struct vhost_user_mem_region w = wire(0, PAGE, 0x9000, 0);
	struct mem_region r, other = fake(0, PAGE, 0x1000, mem);
	struct mem_table t;
	int fd = make_memfd(PAGE);

	mem_table_init(&t);
	ck_assert_int_eq(mem_table_add(&t, &other), 0);
	ck_assert_int_eq(mem_region_map_fd(&w, fd, &r), 0);
	close(fd);
	/* The gpa overlap rejects it; the caller still owns the mapping. */
	ck_assert_int_eq(mem_table_add(&t, &r), -EINVAL);
	ck_assert(is_mapped(r.map_base, r.map_len));
	ck_assert_int_eq(munmap(r.map_base, r.map_len), 0);
	mem_table_clear(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("memtable");
	TCase *tc = tcase_create("memtable");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_map_fd_shares_file);
	tcase_add_test(tc, test_map_fd_unaligned_offset);
	tcase_add_test(tc, test_map_fd_rejects);
	tcase_add_test(tc, test_add_remove_replace);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_zero_size_overflow_full);
	tcase_add_test(tc, test_translate_edges);
	tcase_add_test(tc, test_iov_span);
	tcase_add_test(tc, test_clear_unmaps);
	tcase_add_test(tc, test_failed_add_keeps_mapping);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
