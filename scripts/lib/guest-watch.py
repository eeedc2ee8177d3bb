#!/usr/bin/python3
"""Runs a Linux guest's front-end (the vmm or QEMU) and notices a stall.

usage: guest-watch.py [--console FILE] [--kernel VMLINUX|System.map]
                      [--stall S] [--label NAME] -- COMMAND [ARGS...]

COMMAND's stdout is passed through (it is the guest's console unless
--console names the file the front-end writes the console to). Every second
the watcher looks at two signs of life:

  * console progress: bytes of console output;
  * the guest's own clock: jiffies_64, read from guest RAM. Both front-ends
    keep guest RAM in a memfd (the vmm always; QEMU with
    memory-backend-memfd), which the watcher opens through /proc/PID/fd; the
    symbol's address comes from --kernel (a vmlinux or a System.map of a
    kernel booted at its link address, i.e. without KASLR).

A guest that is only slow (two nested VMs sharing two cores) keeps its clock
running; a stalled one (seen under nested KVM on QEMU TCG: the clock stops
and nothing more is printed) does not. When neither sign has moved for S
seconds (default 60), the watcher prints "guest-watch: LABEL: stall: ...",
the last console lines and the tail of this kernel's log (the L1 kernel's,
when run inside scripts/with-kvm.sh), stops COMMAND and exits with status
86; without a readable clock, silence must last 3 S. Otherwise its exit
status is COMMAND's; SIGTERM, SIGINT and SIGHUP are
passed on to COMMAND, as timeout(1) does. Without a readable guest clock
(no --kernel, no memfd) a stall is console silence alone, and it says so.
"""

import argparse
import collections
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time

STALL_STATUS = 86
KERNEL_MAP_BASE = 0xFFFFFFFF80000000  # __START_KERNEL_map, phys_base 0


def say(label, msg):
    sys.stderr.write(f"guest-watch: {label}: {msg}\n")
    sys.stderr.flush()


def jiffies_phys_addr(kernel):
    """Guest-physical address of jiffies_64, or None."""
    if not kernel:
        return None
    try:
        if kernel.endswith(".map") or "System.map" in kernel or "kallsyms" in kernel:
            text = open(kernel).read()
        else:
            text = subprocess.run(["nm", kernel], capture_output=True,
                                  text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"^([0-9a-f]+) [dDbB] jiffies_64$", text, re.M)
    if not m:
        return None
    virt = int(m.group(1), 16)
    return virt - KERNEL_MAP_BASE if virt >= KERNEL_MAP_BASE else None


def descendants(pid):
    """pid and every process below it."""
    children = collections.defaultdict(list)
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children[ppid].append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def open_guest_ram(pid):
    """An fd of the largest memfd some process below pid holds, or None."""
    best = None
    for p in descendants(pid):
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for fd in fds:
            path = f"/proc/{p}/fd/{fd}"
            try:
                if not os.readlink(path).startswith("/memfd:"):
                    continue
                size = os.stat(path).st_size
            except OSError:
                continue
            if best is None or size > best[1]:
                best = (path, size)
    if best is None:
        return None
    try:
        return os.open(best[0], os.O_RDONLY)
    except OSError:
        return None


class Console:
    """Console bytes seen so far and the last lines."""

    def __init__(self, path, pipe):
        self.path, self.pipe = path, pipe
        self.bytes = 0
        self.lines = collections.deque(maxlen=20)
        self.partial = b""
        self.lock = threading.Lock()
        self.offset = 0
        if pipe is not None:
            self.thread = threading.Thread(target=self.relay, daemon=True)
            self.thread.start()

    def feed(self, data):
        with self.lock:
            self.bytes += len(data)
            parts = (self.partial + data).split(b"\n")
            self.partial = parts.pop()[-4096:]
            for p in parts:
                self.lines.append(p.rstrip(b"\r").decode("utf-8", "replace"))

    def relay(self):
        out = sys.stdout.buffer
        while True:
            data = os.read(self.pipe.fileno(), 65536)
            if not data:
                break
            out.write(data)
            out.flush()
            self.feed(data)

    def poll(self):
        if self.path is not None:
            try:
                with open(self.path, "rb") as f:
                    f.seek(self.offset)
                    data = f.read()
            except OSError:
                data = b""
            self.offset += len(data)
            self.feed(data)
        with self.lock:
            return self.bytes

    def tail(self):
        with self.lock:
            lines = list(self.lines)
            if self.partial:
                lines.append(self.partial.decode("utf-8", "replace"))
        return lines[-15:]


def kernel_log_tail():
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True,
                             timeout=10).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return ["(dmesg unavailable)"]
    return out[-12:] or ["(empty)"]


def thread_times(pid):
    """{(pid, tid): (name, state, cpu ticks)} of every thread below pid."""
    out = {}
    for p in descendants(pid):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tids:
            try:
                with open(f"/proc/{p}/task/{t}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            rest = stat[stat.rindex(")") + 2:].split()
            out[(p, t)] = (name, rest[0], int(rest[11]) + int(rest[12]))
    return out


def thread_report(pid):
    """Which threads of the front-end run and which sleep, over 2 s: a
    spinning vCPU thread and a halted one are different stalls."""
    a = thread_times(pid)
    time.sleep(2)
    b = thread_times(pid)
    hz = os.sysconf("SC_CLK_TCK")
    lines = []
    for key, (name, state, ticks) in sorted(b.items()):
        used = ticks - a.get(key, (0, 0, ticks))[2]
        lines.append(f"{key[0]}/{key[1]} {name}: state {state}, "
                     f"{100 * used / (2 * hz):.0f}% CPU")
    return lines


def die_with_parent():
    """In the child: SIGTERM when the watcher goes, even by SIGKILL, so no
    front-end outlives it in its own session."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def pass_on(proc, sig):
    """A signal for us is for COMMAND: it gets it, and its status is ours
    (a vmm that SIGTERM stops cleanly exits 0), as with timeout(1)."""
    try:
        # COMMAND alone: a timeout(1) in front passes it on itself, and a
        # vmm that got it twice would take the second as "exit now".
        os.kill(proc.pid, sig)
        return status(proc.wait(30))
    except ProcessLookupError:
        return status(proc.wait())
    except subprocess.TimeoutExpired:
        stop(proc)
        return 128 + sig


def status(rc):
    return rc if rc >= 0 else 128 - rc


def stop(proc):
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            pass


def main():
    ap = argparse.ArgumentParser(usage=__doc__.split("\n\n")[1])
    ap.add_argument("--console")
    ap.add_argument("--kernel")
    ap.add_argument("--stall", type=int, default=60)
    ap.add_argument("--label", default="guest")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
    if not cmd:
        ap.error("no COMMAND")
    if a.stall < 5:
        ap.error(f"--stall {a.stall}: at least 5 seconds")

    jaddr = jiffies_phys_addr(a.kernel)
    late = a.kernel and "kallsyms" in a.kernel
    if a.kernel and jaddr is None and not late:
        say(a.label, f"no jiffies_64 in {a.kernel}: watching the console only")
    proc = subprocess.Popen(cmd, start_new_session=True, preexec_fn=die_with_parent,
                            stdout=None if a.console else subprocess.PIPE)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, lambda n, f: sys.exit(pass_on(proc, n)))
    console = Console(a.console, proc.stdout)

    ram, start = None, time.monotonic()
    seen_bytes, seen_jiffies = -1, None
    console_at = jiffies_at = time.monotonic()
    slow_noted = False
    while proc.poll() is None:
        time.sleep(1)
        now = time.monotonic()
        b = console.poll()
        if b != seen_bytes:
            seen_bytes, console_at, slow_noted = b, now, False
        if jaddr is None and late:
            jaddr = jiffies_phys_addr(a.kernel)
        if jaddr is not None and ram is None and now - start > 1:
            ram = open_guest_ram(proc.pid)
        j = None
        if ram is not None:
            try:
                j = int.from_bytes(os.pread(ram, 8, jaddr), "little")
            except OSError:
                j = None
        if j is not None and j != seen_jiffies:
            seen_jiffies, jiffies_at = j, now
        quiet = now - console_at
        clock_known = seen_jiffies is not None
        # Without the clock, silence alone must last longer to count.
        if quiet < (a.stall if clock_known else 3 * a.stall):
            continue
        if clock_known and now - jiffies_at < a.stall:
            if not slow_noted:
                say(a.label, f"no console output for {quiet:.0f} s, but the guest's "
                    "clock runs: slow, not stalled")
                slow_noted = True
            continue
        clock = (f"the guest clock stopped (jiffies_64 = {seen_jiffies})"
                 if clock_known else "the guest clock cannot be read")
        say(a.label, f"stall: no console output for {quiet:.0f} s and {clock}; "
            f"{now - start:.0f} s after the start; last console lines:")
        for line in console.tail():
            say(a.label, f"  | {line}")
        say(a.label, "the front-end's threads:")
        for line in thread_report(proc.pid):
            say(a.label, f"  thread| {line}")
        say(a.label, "the kernel log of the machine it runs on (the L1 inside with-kvm.sh), last lines:")
        for line in kernel_log_tail():
            say(a.label, f"  dmesg| {line}")
        stop(proc)
        sys.exit(STALL_STATUS)
    if console.pipe is not None:
        console.thread.join(5)
    console.poll()
    sys.exit(status(proc.returncode))


if __name__ == "__main__":
    main()
