// SPDX-License-Identifier: GPL-2.0-only
/* Command-line helpers shared by the programs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"

int cli_parse_uint(const char *prog, const char *name, const char *arg,
		   long min, long max, unsigned int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max) {
		fprintf(stderr, "%s: --%s: '%s' is not a number in %ld..%ld\n",
			prog, name, arg, min, max);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

/* The shift a size suffix stands for; -1 if it is none. */
static int size_shift(const char *suffix)
{
	static const char units[] = "KMGT";
	const char *u;

	if (!*suffix)
		return 0;
	if (suffix[1] || !(u = strchr(units, suffix[0] & ~0x20)) || !*u)
		return -1;
	return 10 * (int)(u - units + 1);
}

int cli_parse_size(const char *prog, const char *name, const char *arg,
		   uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift;

	errno = 0;
	v = strtoull(arg, &end, 10);
	shift = size_shift(end);
	if (errno || end == arg || arg[0] == '-' || shift < 0 ||
	    v > (max >> shift) || (v << shift) < min) {
		fprintf(stderr, "%s: --%s: '%s' is not a size in %llu..%llu bytes\n",
			prog, name, arg, (unsigned long long)min,
			(unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)v << shift;
	return 0;
}

int cli_parse_log_level(const char *prog, const char *arg, enum log_level *out)
{
	int level = log_level_parse(arg);

	if (level < 0) {
		fprintf(stderr, "%s: --log-level: '%s' is not one of err, warn, info, debug\n",
			prog, arg);
		return -1;
	}
	*out = (enum log_level)level;
	return 0;
}

int cli_parse_args(const struct cli_prog *prog, int argc, char **argv,
		   void *opts)
{
	int c;

	while ((c = getopt_long(argc, argv, prog->shortopts, prog->longopts,
				NULL)) != -1) {
		if (c == 'h') {
			prog->usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("%s %s\n", prog->name, prog->version);
			return 1;
		}
		if (c == '?' || prog->option(c, optarg, opts))
			goto bad;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog->name,
			argv[optind]);
		goto bad;
	}
	if (!prog->check || !prog->check(opts))
		return 0;
bad:
	fprintf(stderr, "Try '%s --help' for more information.\n", prog->name);
	return -1;
}
