#!/usr/bin/env python3
"""Prints a unit's ExecStart command line as systemd would run it, one
argument per line: %i is the instance, ${VAR} expands inside a word and
$VAR alone becomes its value split at whitespace, with the variables of an
environment file; then each FROM=TO rewrites path prefixes (the installed
programs to the build's, /run and /var/log to a test directory).

usage: unit-exec.py UNIT INSTANCE ENVFILE [FROM=TO]...
"""
import re
import shlex
import sys


def env_file(path):
    env = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            env[k.strip()] = v.strip().strip('"')
    return env


def exec_start(unit):
    for line in open(unit):
        if line.startswith("ExecStart="):
            return line[len("ExecStart="):].strip()
    sys.exit(f"{unit}: no ExecStart=")


def expand(word, env):
    if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", word):
        return env.get(word[1:], "").split()
    return [re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word)]


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    unit, instance, envpath, *subst = sys.argv[1:]
    env = env_file(envpath)
    args = []
    for word in shlex.split(exec_start(unit).replace("%i", instance)):
        args += expand(word, env)
    for s in subst:
        frm, _, to = s.partition("=")
        args = [a.replace(frm, to) for a in args]
    print("\n".join(args))


if __name__ == "__main__":
    main()
