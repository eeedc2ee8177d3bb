/* SPDX-License-Identifier: GPL-2.0-only */
/* Logging to stderr as "prog[pid]: level: message". */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level {
	LOG_LVL_ERR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* prog is kept by pointer; level is the most verbose level printed. */
void log_init(const char *prog, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "err", "warn", "info", "debug" -> level; -1 if unknown. */
int log_level_parse(const char *name);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define pr_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define pr_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * For what a guest or a peer can trigger in a loop: each call site logs its
 * first LOG_LIMITED_MAX lines, then says it goes quiet.
 */
#define LOG_LIMITED_MAX	10
#define pr_warn_limited(...)							\
	do {									\
		static unsigned int log_n_;					\
		unsigned int n_ = __atomic_fetch_add(&log_n_, 1, __ATOMIC_RELAXED); \
		if (n_ < LOG_LIMITED_MAX)					\
			log_msg(LOG_LVL_WARN, __VA_ARGS__);			\
		if (n_ == LOG_LIMITED_MAX - 1)					\
			log_msg(LOG_LVL_WARN, "(more like the last line are not logged)"); \
	} while (0)

#endif /* COMMON_LOG_H */
