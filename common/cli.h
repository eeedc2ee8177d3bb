/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line helpers shared by the programs. */
#ifndef COMMON_CLI_H
#define COMMON_CLI_H

/*
 * Parses a whole number in [min, max] given to option --name. On a bad value
 * prints "prog: --name: 'arg' is not a number in min..max" and returns -1.
 */
int cli_parse_uint(const char *prog, const char *name, const char *arg,
		   long min, long max, unsigned int *out);

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"

/* A program's command line, for cli_parse_args. */
struct cli_prog {
	const char *name;		/* for messages: "prog: --opt: ..." */
	const char *version;		/* --version prints "name version" */
	const char *shortopts;		/* must contain "hV" for --help, --version */
	const struct option *longopts;
	void (*usage)(FILE *f);
	/* One option c with its argument: 0, or -1 after printing why. */
	int (*option)(int c, const char *arg, void *opts);
	/* After every option: are they complete? 0, or -1 after printing why. */
	int (*check)(void *opts);
};

/*
 * The getopt_long loop every program runs: -h and -V print and return 1
 * (exit 0); a bad option, a stray argument or a failed check prints a hint
 * and returns -1 (exit with a usage error); 0: run.
 */
int cli_parse_args(const struct cli_prog *prog, int argc, char **argv,
		   void *opts);

/* --log-level: err, warn, info or debug. 0, or -1 after printing why. */
int cli_parse_log_level(const char *prog, const char *arg, enum log_level *out);

/*
 * Parses a byte count with an optional K, M, G or T suffix (powers of 1024)
 * in [min, max] given to option --name. On a bad value prints
 * "prog: --name: 'arg' is not a size in min..max bytes" and returns -1.
 */
int cli_parse_size(const char *prog, const char *name, const char *arg,
		   uint64_t min, uint64_t max, uint64_t *out);

#endif /* COMMON_CLI_H */
