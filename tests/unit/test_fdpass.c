// SPDX-License-Identifier: GPL-2.0-only
/* fd_send/fd_recv over AF_UNIX stream sockets, including hostile peers. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "tests/unit/test_fds.h"


static void dup_n(int fd, int *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[i] = dup(fd);
		ck_assert_int_ge(out[i], 0);
	}
}

START_TEST(test_round_trip_with_fds)
{
	int sv[2], p[2], fds[FDPASS_MAX_FDS], sent[2];
	char buf[6] = { 0 }, c;
	size_t nfds = 99;

	make_sockpair(sv);
	ck_assert_int_eq(pipe(p), 0);
	sent[0] = p[1];
	sent[1] = p[0];
	ck_assert_int_eq(fd_send(sv[0], "hello", 6, sent, 2), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 6, fds, FDPASS_MAX_FDS, &nfds), 0);
	ck_assert_str_eq(buf, "hello");
	ck_assert_uint_eq(nfds, 2);

	/* New fds, close-on-exec, and the same pipe as sent. */
	ck_assert_int_ne(fds[0], p[1]);
	ck_assert_int_eq(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fcntl(fds[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(write(fds[0], "x", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x');

	fds_close(fds, nfds);
	ck_assert_int_eq(fds[0], -1);
	ck_assert_int_eq(fds[1], -1);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_no_fds)
{
	int sv[2], fds[2] = { -1, -1 };
	size_t nfds = 5;
	char buf[3];

	make_sockpair(sv);
	ck_assert_int_eq(fd_send(sv[0], "abc", 3, NULL, 0), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 3, fds, 2, &nfds), 0);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(memcmp(buf, "abc", 3), 0);
	/* No room for fds at all is fine when none come. */
	ck_assert_int_eq(fd_send(sv[0], "d", 1, NULL, 0), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 1, NULL, 0, &nfds), 0);
	ck_assert_int_eq(buf[0], 'd');
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_send_bad_args)
{
	int sv[2], fds[FDPASS_MAX_FDS + 1];

	make_sockpair(sv);
	dup_n(sv[0], fds, FDPASS_MAX_FDS + 1);
	ck_assert_int_eq(fd_send(sv[0], "a", 1, fds, FDPASS_MAX_FDS + 1), -EINVAL);
	/* fds need a byte to ride on. */
	ck_assert_int_eq(fd_send(sv[0], "", 0, fds, 1), -EINVAL);
	ck_assert_int_eq(fd_send(sv[0], "", 0, NULL, 0), 0);
	/* fd_send never closes the caller's fds. */
	assert_open_then_close(fds, FDPASS_MAX_FDS + 1);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_send_to_closed_peer)
{
	int sv[2], fd;

	/* MSG_NOSIGNAL: an error, not a SIGPIPE that kills the test. */
	make_sockpair(sv);
	close(sv[1]);
	ck_assert_int_eq(fd_send(sv[0], "a", 1, NULL, 0), -EPIPE);
	fd = dup(sv[0]);
	ck_assert_int_eq(fd_send(sv[0], "a", 1, &fd, 1), -EPIPE);
	ck_assert(fd_is_open(fd));
	close(fd);
	close(sv[0]);
}
END_TEST

START_TEST(test_too_many_fds_all_closed)
{
	int sv[2], p[2], sent[3], fds[2] = { -1, -1 };
	char buf[4];
	size_t nfds = 7;
	int before;

	make_sockpair(sv);
	ck_assert_int_eq(pipe(p), 0);
	dup_n(p[1], sent, 3);
	ck_assert_int_eq(fd_send(sv[0], "abcd", 4, sent, 3), 0);
	fds_close(sent, 3);
	before = count_open_fds();

	ck_assert_int_eq(fd_recv(sv[1], buf, 4, fds, 2, &nfds), -EMSGSIZE);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_open_fds(), before);
	/* Nothing holds the pipe's write end any more: EOF. */
	close(p[1]);
	ck_assert_int_eq(read(p[0], buf, 1), 0);

	/* The whole message was consumed; the next one reads cleanly. */
	ck_assert_int_eq(fd_send(sv[0], "next", 4, NULL, 0), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 4, fds, 2, &nfds), 0);
	ck_assert_int_eq(memcmp(buf, "next", 4), 0);
	close(p[0]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_fds_when_none_expected)
{
	int sv[2], fd, before;
	size_t nfds;
	char c;

	make_sockpair(sv);
	fd = dup(sv[0]);
	ck_assert_int_eq(fd_send(sv[0], "z", 1, &fd, 1), 0);
	close(fd);
	before = count_open_fds();
	ck_assert_int_eq(fd_recv(sv[1], &c, 1, NULL, 0, &nfds), -EMSGSIZE);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_open_fds(), before);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* More fds than the control buffer holds: the kernel sets MSG_CTRUNC. */
START_TEST(test_ctrunc_closes_what_arrived)
{
	int sv[2], sent[64], fds[64];
	size_t nfds = 3;
	char buf[2];
	int before;

	make_sockpair(sv);
	before = count_open_fds();
	dup_n(sv[0], sent, 64);
	raw_send_fds(sv[0], "hi", 2, sent, 64);
	fds_close(sent, 64);

	/* fds[] has room for all: only the truncation can fail this. */
	ck_assert_int_eq(fd_recv(sv[1], buf, 2, fds, 64, &nfds), -EMSGSIZE);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_open_fds(), before);
	ck_assert_int_eq(memcmp(buf, "hi", 2), 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* Credentials beside the fds: two cmsgs, and still room for all fds. */
START_TEST(test_passcred_and_fds)
{
	int sv[2], sent[FDPASS_MAX_FDS], fds[FDPASS_MAX_FDS], one = 1;
	size_t nfds;
	char c;

	make_sockpair(sv);
	ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one,
				    sizeof(one)), 0);
	dup_n(sv[0], sent, FDPASS_MAX_FDS);
	ck_assert_int_eq(fd_send(sv[0], "q", 1, sent, FDPASS_MAX_FDS), 0);
	fds_close(sent, FDPASS_MAX_FDS);
	ck_assert_int_eq(fd_recv(sv[1], &c, 1, fds, FDPASS_MAX_FDS, &nfds), 0);
	ck_assert_uint_eq(nfds, FDPASS_MAX_FDS);
	for (size_t i = 0; i < nfds; i++)
		ck_assert(fd_is_open(fds[i]));
	fds_close(fds, nfds);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

struct late_sender {
	int sock;
	int fd1, fd2;
};

/* "ab" with fd1, a pause, then "cd" with fd2: two recvmsg calls. */
static void *late_sender_run(void *arg)
{
	struct late_sender *ls = arg;

	fd_send(ls->sock, "ab", 2, &ls->fd1, ls->fd1 >= 0);
	usleep(100 * 1000);
	fd_send(ls->sock, "cd", 2, &ls->fd2, ls->fd2 >= 0);
	return NULL;
}

START_TEST(test_fds_across_recvmsgs)
{
	struct late_sender ls;
	int sv[2], fds[FDPASS_MAX_FDS];
	pthread_t t;
	size_t nfds;
	char buf[4];
	int before;

	make_sockpair(sv);
	ls.sock = sv[0];
	ls.fd1 = -1;
	ls.fd2 = dup(sv[0]);
	ck_assert_int_eq(pthread_create(&t, NULL, late_sender_run, &ls), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 4, fds, FDPASS_MAX_FDS, &nfds), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(memcmp(buf, "abcd", 4), 0);
	ck_assert_uint_eq(nfds, 1);
	fds_close(fds, nfds);

	/* Two fds on two reads with room for one: both closed. */
	ls.fd1 = dup(sv[0]);
	before = count_open_fds();
	ck_assert_int_eq(pthread_create(&t, NULL, late_sender_run, &ls), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 4, fds, 1, &nfds), -EMSGSIZE);
	pthread_join(t, NULL);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_open_fds(), before);
	ck_assert_int_eq(memcmp(buf, "abcd", 4), 0);
	close(ls.fd1);
	close(ls.fd2);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_eof_before_and_during)
{
	int sv[2], fds[FDPASS_MAX_FDS], fd, before;
	size_t nfds;
	char buf[8];

	make_sockpair(sv);
	close(sv[0]);
	ck_assert_int_eq(fd_recv(sv[1], buf, 8, fds, FDPASS_MAX_FDS, &nfds),
			 -ECONNRESET);
	close(sv[1]);

	/*
	 * Three of eight bytes, with an fd, then EOF: -EPIPE, fd closed. (Not
	 * a dup of sv[0]: in flight, it would keep the peer open.)
	 */
	make_sockpair(sv);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(fd_send(sv[0], "abc", 3, &fd, 1), 0);
	close(fd);
	close(sv[0]);
	before = count_open_fds();
	ck_assert_int_eq(fd_recv(sv[1], buf, 8, fds, FDPASS_MAX_FDS, &nfds),
			 -EPIPE);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(count_open_fds(), before);
	close(sv[1]);
}
END_TEST

START_TEST(test_recv_error)
{
	int fds[1];
	size_t nfds;
	char c;

	ck_assert_int_eq(fd_recv(-1, &c, 1, fds, 1, &nfds), -EBADF);
	ck_assert_uint_eq(nfds, 0);
	ck_assert_int_eq(fd_recv(STDIN_FILENO, &c, 1, NULL, 1, &nfds), -EINVAL);
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
}

static void *slow_sender_run(void *arg)
{
	int sock = *(int *)arg;

	usleep(300 * 1000);
	fd_send(sock, "ok", 2, NULL, 0);
	return NULL;
}

/* A signal without SA_RESTART interrupts recvmsg: fd_recv carries on. */
START_TEST(test_eintr_retried)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 50 * 1000 } };
	sigset_t alrm, old;
	int sv[2];
	pthread_t t;
	size_t nfds;
	char buf[2];

	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	make_sockpair(sv);
	/* The sender thread inherits a mask that sends SIGALRM our way. */
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &alrm, &old);
	ck_assert_int_eq(pthread_create(&t, NULL, slow_sender_run, &sv[0]), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 2, NULL, 0, &nfds), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(memcmp(buf, "ok", 2), 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

#define BIG	(4 << 20)

struct big_reader {
	int sock;
	unsigned char *buf;
	int ret;
	size_t nfds;
	int fds[FDPASS_MAX_FDS];
};

static void *big_reader_run(void *arg)
{
	struct big_reader *br = arg;

	br->ret = fd_recv(br->sock, br->buf, BIG, br->fds, FDPASS_MAX_FDS,
			  &br->nfds);
	return NULL;
}

/* Far more than the socket buffer: both sides loop over short transfers. */
START_TEST(test_short_transfers)
{
	unsigned char *out = malloc(BIG);
	struct big_reader br = { .buf = malloc(BIG) };
	int sv[2], fd;
	pthread_t t;
	size_t i;

	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(br.buf);
	for (i = 0; i < BIG; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 12));
	make_sockpair(sv);
	br.sock = sv[1];
	fd = dup(sv[0]);
	ck_assert_int_eq(pthread_create(&t, NULL, big_reader_run, &br), 0);
	ck_assert_int_eq(fd_send(sv[0], out, BIG, &fd, 1), 0);
	pthread_join(t, NULL);
	ck_assert_int_eq(br.ret, 0);
	ck_assert_uint_eq(br.nfds, 1);
	ck_assert_int_eq(memcmp(out, br.buf, BIG), 0);
	fds_close(br.fds, br.nfds);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	free(out);
	free(br.buf);
}
END_TEST

START_TEST(test_sendv_gathers)
{
	struct iovec iov[3] = {
		{ .iov_base = "he", .iov_len = 2 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "llo", .iov_len = 3 },
	};
	struct iovec many[FDPASS_MAX_IOV + 1];
	int sv[2];
	size_t nfds;
	char buf[5];

	make_sockpair(sv);
	ck_assert_int_eq(fd_sendv(sv[0], iov, 3, NULL, 0), 0);
	ck_assert_int_eq(fd_recv(sv[1], buf, 5, NULL, 0, &nfds), 0);
	ck_assert_int_eq(memcmp(buf, "hello", 5), 0);
	for (int i = 0; i < FDPASS_MAX_IOV + 1; i++)
		many[i] = iov[0];
	ck_assert_int_eq(fd_sendv(sv[0], many, FDPASS_MAX_IOV + 1, NULL, 0),
			 -EINVAL);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

START_TEST(test_read_write_full)
{
	int p[2];
	char buf[8];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write_full(p[1], "12345", 5), 0);
	ck_assert_int_eq(read_full(p[0], buf, 5), 0);
	ck_assert_int_eq(memcmp(buf, "12345", 5), 0);
	ck_assert_int_eq(read_full(p[0], buf, 0), 0);

	/* EOF part-way and at once are both -EPIPE. */
	ck_assert_int_eq(write_full(p[1], "ab", 2), 0);
	close(p[1]);
	ck_assert_int_eq(read_full(p[0], buf, 4), -EPIPE);
	ck_assert_int_eq(read_full(p[0], buf, 1), -EPIPE);
	close(p[0]);

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_int_eq(write_full(p[1], "x", 1), -EPIPE);
	close(p[1]);
	ck_assert_int_eq(read_full(-1, buf, 1), -EBADF);
	ck_assert_int_eq(write_full(-1, buf, 1), -EBADF);
}
END_TEST

START_TEST(test_fds_close_skips_negative)
{
	int fds[3];

	fds[0] = dup(STDIN_FILENO);
	fds[1] = -1;
	fds[2] = dup(STDIN_FILENO);
	fds_close(fds, 3);
	ck_assert_int_eq(fds[0], -1);
	ck_assert_int_eq(fds[1], -1);
	ck_assert_int_eq(fds[2], -1);
	fds_close(fds, 3);
}
END_TEST

/* One packet per call on SOCK_SEQPACKET: boundaries kept, excess refused. */
START_TEST(test_recv_packet)
{
	int sv[2], sent[2], fds[2] = { -1, -1 }, before;
	char a[2], b[8];
	struct iovec iov[2] = {
		{ .iov_base = a, .iov_len = sizeof(a) },
		{ .iov_base = b, .iov_len = sizeof(b) },
	};
	size_t len = 99, nfds = 99;

	before = count_open_fds();
	make_seqpacket_pair(sv);
	dup_n(sv[0], sent, 2);
	ck_assert_int_eq(fd_send(sv[0], "hello", 5, sent, 2), 0);
	ck_assert_int_eq(fd_send(sv[0], "x", 1, NULL, 0), 0);
	ck_assert_int_eq(fd_recv_packet(sv[1], iov, 2, &len, fds, 2, &nfds), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_int_eq(memcmp(a, "he", 2), 0);
	ck_assert_int_eq(memcmp(b, "llo", 3), 0);
	ck_assert_uint_eq(nfds, 2);
	ck_assert(fd_is_open(fds[0]) && fd_is_open(fds[1]));
	fds_close(fds, 2);
	/* The next packet alone, not glued to the first. */
	ck_assert_int_eq(fd_recv_packet(sv[1], iov, 2, &len, fds, 2, &nfds), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(nfds, 0);

	/* Longer than the buffer: the rest is gone, so it is an error. */
	ck_assert_int_eq(fd_send(sv[0], "0123456789abc", 13, sent, 1), 0);
	ck_assert_int_eq(fd_recv_packet(sv[1], iov, 2, &len, fds, 2, &nfds), -EMSGSIZE);
	ck_assert_uint_eq(nfds, 0);
	/* More fds than room: all closed. */
	ck_assert_int_eq(fd_send(sv[0], "y", 1, sent, 2), 0);
	ck_assert_int_eq(fd_recv_packet(sv[1], iov, 1, &len, fds, 1, &nfds), -EMSGSIZE);
	ck_assert_int_eq(fd_send(sv[0], "z", 1, sent, 2), 0);
	ck_assert_int_eq(fd_recv_packet(sv[1], iov, 1, &len, NULL, 0, &nfds), -EMSGSIZE);
	assert_open_then_close(sent, 2);
	ck_assert_int_eq(fd_recv_packet(sv[1], iov, FDPASS_MAX_IOV + 1, &len,
					NULL, 0, &nfds), -EINVAL);

	close(sv[0]);
	ck_assert_int_eq(fd_recv_packet(sv[1], iov, 2, &len, fds, 2, &nfds), -ECONNRESET);
	close(sv[1]);
	ck_assert_int_eq(count_open_fds(), before);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fdpass");
	TCase *tc = tcase_create("fdpass");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_round_trip_with_fds);
	tcase_add_test(tc, test_no_fds);
	tcase_add_test(tc, test_send_bad_args);
	tcase_add_test(tc, test_send_to_closed_peer);
	tcase_add_test(tc, test_recv_packet);
	tcase_add_test(tc, test_too_many_fds_all_closed);
	tcase_add_test(tc, test_fds_when_none_expected);
	tcase_add_test(tc, test_ctrunc_closes_what_arrived);
	tcase_add_test(tc, test_passcred_and_fds);
	tcase_add_test(tc, test_fds_across_recvmsgs);
	tcase_add_test(tc, test_eof_before_and_during);
	tcase_add_test(tc, test_recv_error);
	tcase_add_test(tc, test_eintr_retried);
	tcase_add_test(tc, test_short_transfers);
	tcase_add_test(tc, test_sendv_gathers);
	tcase_add_test(tc, test_read_write_full);
	tcase_add_test(tc, test_fds_close_skips_negative);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
