/* SPDX-License-Identifier: GPL-2.0-only */
/* libseccomp helper: an allow-list filter, everything else kills the process. */
#ifndef COMMON_SANDBOX_H
#define COMMON_SANDBOX_H

/*
 * Sets no_new_privs and loads a seccomp filter allowing only the syscalls
 * named in the NULL-terminated list (names as libseccomp knows them, e.g.
 * "read"); any other syscall, by any thread (existing ones included), kills
 * the process (SIGSYS). An unknown name is an error naming it. 0 or -errno;
 * on error nothing is loaded.
 */
int sandbox_enter(const char *const *allowed_syscalls);

/* The syscalls every libevent + logging program needs; NULL-terminated. */
extern const char *const sandbox_base_syscalls[];

#endif /* COMMON_SANDBOX_H */
