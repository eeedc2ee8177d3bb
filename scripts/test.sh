#!/usr/bin/env bash
# Runs every test of the project: installs the Debian packages it needs,
# builds build/ (and build-san/, with ASan and UBSan), runs all meson test
# suites, and prints "N passed, N failed[, N skipped]" as its last line.
# Exit status: 0 only if nothing failed.
#
# usage: scripts/test.sh [SUITE...]     (default: every suite)
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"

ensure_packages "${VVU_BUILD_PACKAGES[@]}" "${VVU_TEST_PACKAGES[@]}"
build_tree "$VVU_BUILD"
build_tree "$VVU_ROOT/build-san" -Db_sanitize=address,undefined -Db_lundef=false

suites=()
for s in "$@"; do suites+=(--suite "$s"); done
wanted() { [ $# -eq 0 ] || [[ " $* " == *" $1 "* ]]; }

# The sanitizer build runs the suites that are pure project code; the full
# build runs everything.
run_suite_set() {
	local dir=$1; shift
	meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" >&2
}
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
logs=("$VVU_ROOT/build-san/meson-logs/testlog.json" "$VVU_BUILD/meson-logs/testlog.json")
nested_outs=()	# with-kvm.sh's own output around the kvm suite
if host_kvm_usable; then
	run_suite_set "$VVU_ROOT/build-san" --suite unit --suite harness --suite proxy --suite kvm
	run_suite_set "$VVU_BUILD" "${suites[@]}"
else
	# The kvm suite needs a /dev/kvm: without one here, it runs in
	# scripts/with-kvm.sh's nested KVM, both builds in one VM.
	run_suite_set "$VVU_ROOT/build-san" --suite unit --suite harness --suite proxy
	others=()
	for s in "$@"; do [ "$s" = kvm ] || others+=(--suite "$s"); done
	if [ $# -eq 0 ]; then
		run_suite_set "$VVU_BUILD" --no-suite kvm
	elif [ ${#others[@]} -gt 0 ]; then
		run_suite_set "$VVU_BUILD" "${others[@]}"
	fi
	if wanted kvm "$@"; then
		log "no usable /dev/kvm here: the kvm suite runs inside scripts/with-kvm.sh"
		for d in "$VVU_ROOT/build-san" "$VVU_BUILD"; do
			rm -f "$d/meson-logs/kvmlog.json"
			logs+=("$d/meson-logs/kvmlog.json")
		done
		# One nested VM per build, at once: each has one vCPU (see
		# with-kvm.sh), so two use the host's two cores. TMPDIR on the
		# nested VM's own tmpfs: sockets fail on its 9p /tmp.
		dirs=("$VVU_ROOT/build-san" "$VVU_BUILD") pids=()
		for d in "${dirs[@]}"; do
			"$VVU_ROOT/scripts/with-kvm.sh" --timeout 2400 -- sh -c '
				export TMPDIR="$XDG_RUNTIME_DIR"
				meson test -C "$1" --print-errorlogs --num-processes 2 --suite kvm --logbase kvmlog
				' with-kvm "$d" >"$d/meson-logs/kvm-nested.out" 2>&1 &
			pids+=($!)
		done
		for i in "${!dirs[@]}"; do
			rc=0
			wait "${pids[$i]}" || rc=$?
			log "the kvm suite of ${dirs[$i]}, in its nested VM:"
			tr -d '\r' <"${dirs[$i]}/meson-logs/kvm-nested.out" >&2
			[ $rc -eq 0 ] || log "the kvm suite of ${dirs[$i]} in the nested VM failed (status $rc)"
			nested_outs+=("${dirs[$i]}/meson-logs/kvm-nested.out")
		done
	fi
fi

# Count from both test logs; name every skipped test and its reason.
NESTED_OUTS="${nested_outs[*]}" python3 - "${logs[@]}" <<'PY'
import json, os, sys
passed = failed = skipped = 0
outputs = []
for path in os.environ["NESTED_OUTS"].split():
    outputs.append((f"[nested VM] {path}", open(path, errors="replace").read()))
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"test.sh: no test log {path}: {e}")
        failed += 1
        continue
    tag = "san" if "build-san" in path else "build"
    if "kvmlog" in path:
        tag += ", nested"
    for line in lines:
        t = json.loads(line)
        r = t["result"]
        outputs.append((f"[{tag}] {t['name']}",
                        (t.get("stdout") or "") + (t.get("stderr") or "")))
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
            why = (t.get("stdout") or "").strip().splitlines()
            print(f"SKIP [{tag}] {t['name']}: {why[-1] if why else 'no reason given'}")
        else:
            failed += 1
            print(f"FAIL [{tag}] {t['name']}: {r}")
summary = f"{passed} passed, {failed} failed"
# Retries for faults outside the project, said by with-kvm.sh: counted here.
for what, sign in (("environment stall", "with-kvm: environment stall"),
                   ("nested VM lockup", "with-kvm: the nested VM's kernel locked up")):
    hits = [n for n, out in outputs if sign in out]
    if hits:
        print(f"retried after a {what} ({len(hits)}): {', '.join(hits)}")
if skipped:
    summary += f", {skipped} skipped"
print(summary)
sys.exit(1 if failed or passed == 0 else 0)
PY
