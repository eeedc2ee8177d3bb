// SPDX-License-Identifier: GPL-2.0-only
/* Command-line helpers shared by the programs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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
