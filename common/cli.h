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

#endif /* COMMON_CLI_H */
