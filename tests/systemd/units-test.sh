#!/usr/bin/env bash
# The systemd units in systemd/: `systemd-analyze verify` accepts both
# without a word (unknown keys and bad values only warn, so any output
# fails the test), with their ExecStart programs pointed at this build; and
# `systemd-analyze security --offline=true` rates vvu-proxyd@.service at an
# exposure of 2.0 or lower, and says so. Needs systemd-analyze (systemd 252).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/common.sh"

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}"/vvu-units.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The units name the installed programs; verify checks that they exist.
for u in vvu-proxyd vmm; do
	sed -e "s#/usr/local/bin/vvu-proxyd#$VVU_BUILD/vvu-proxyd/vvu-proxyd#" \
		-e "s#/usr/local/bin/vmm#$VVU_BUILD/vmm/vmm#" \
		"$VVU_ROOT/systemd/$u@.service" >"$dir/$u@test0.service"
done
out=$(cd "$dir" && systemd-analyze verify --man=no ./vvu-proxyd@test0.service ./vmm@test0.service 2>&1) ||
	fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
echo "systemd-analyze verify: both units clean"

for u in vvu-proxyd vmm; do
	line=$(systemd-analyze security --offline=true "$VVU_ROOT/systemd/$u@.service" 2>&1 |
		grep 'Overall exposure level') || fail "no exposure level for $u@.service"
	echo "$u@.service: ${line#*: }"
	[ "$u" = vvu-proxyd ] || continue
	level=$(sed -n 's/.*: \([0-9.]*\) .*/\1/p' <<<"$line")
	awk -v l="$level" 'BEGIN { exit !(l <= 2.0) }' ||
		fail "vvu-proxyd@.service exposure $level is above 2.0"
done
echo "PASS"
