// SPDX-License-Identifier: GPL-2.0-only
/* A listening UNIX socket on a path, replacing a stale one a dead server left. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/unix_listen.h"

/* Is something listening on addr? Then the path is not ours to replace. */
static bool socket_is_live(const struct sockaddr_un *addr, int type)
{
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
	       (errno != ECONNREFUSED && errno != ENOENT);
	close(fd);
	return live;
}

static int remove_stale(const struct sockaddr_un *addr, int type)
{
	struct stat st;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("%s exists and is not a socket", addr->sun_path);
		return -EEXIST;
	}
	if (socket_is_live(addr, type)) {
		pr_err("%s is in use by another server", addr->sun_path);
		return -EADDRINUSE;
	}
	pr_info("removing stale socket %s", addr->sun_path);
	return unlink(addr->sun_path) < 0 ? -errno : 0;
}

int unix_listen(const char *path, int type, int backlog)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		pr_err("socket path '%s' is longer than %zu bytes", path,
		       sizeof(addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	ret = remove_stale(&addr, type);
	if (ret)
		return ret;

	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fd, backlog) < 0) {
		ret = -errno;
		pr_err("cannot listen on %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int unix_accept(int listen_fd, unsigned int io_timeout_sec)
{
	struct timeval tv = { .tv_sec = io_timeout_sec };
	int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			pr_warn("accept: %m");
		return -errno;
	}
	if (setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		pr_warn("cannot set socket timeouts: %m");
	return conn;
}
