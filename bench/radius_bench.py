#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""rlm_mobileid benchmark (prints a table; not a test).

A threaded FreeRADIUS (-f -l stdout) with the module from the build tree,
the API simulator as backend, a Python NAS on 127.0.0.1:

  1. concurrent pending pushes one server holds: N logins at once, every
     phone approves after 10 s;
  2. instant-approve authentications per second (user mapping cached);
  3. peak RSS of the server, HTTPS requests per authentication (from the
     simulator's request log).

  bench/radius_bench.py [--pending 1000] [--instant 2000] [--threads 1100]
                        [--out bench/results/radius.txt]

Run from the top of a built tree (or set top_srcdir / top_builddir).
"""
import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("top_srcdir") or os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, os.path.join(TOP, "tests", "radius"))
import harness  # noqa: E402
import freeradius as fr  # noqa: E402
import radius  # noqa: E402


def rss_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def api_requests(sim):
    return len([r for r in sim.requests() if not r["path"].startswith("/_sim")])


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    ver = subprocess.run([fr.FREERADIUS, "-v"], capture_output=True, text=True).stdout.splitlines()
    return ["machine: %s, %d CPUs, %d MiB RAM, Linux %s" % (cpu, os.cpu_count(), mem,
                                                            platform.release()),
            "server: %s" % (ver[0] if ver else "freeradius"),
            "python: %s (NAS and API simulator, on the same machine)" % platform.python_version()]


def run_batch(sim, port, users, rate, timeout):
    before = api_requests(sim)
    t0 = time.monotonic()
    replies = radius.Client(port).many(users, "pw", timeout=timeout, rate=rate)
    elapsed = time.monotonic() - t0
    ok = sum(1 for r in replies if r is not None and r.code == radius.ACCESS_ACCEPT)
    lost = sum(1 for r in replies if r is None)
    http = api_requests(sim) - before
    return ok, lost, elapsed, http


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pending", type=int, default=1000)
    ap.add_argument("--approve-after", type=int, default=10000, help="ms")
    ap.add_argument("--instant", type=int, default=1000)
    ap.add_argument("--wave", type=int, default=100, help="instant logins in flight at once")
    ap.add_argument("--threads", type=int, default=1100)
    ap.add_argument("--poll", default="2s", help="poll_interval during the pending phase")
    ap.add_argument("--rate", type=int, default=400, help="new logins per second")
    ap.add_argument("--out", default=os.path.join(TOP, "bench", "results", "radius.txt"))
    a = ap.parse_args()
    if not os.path.exists(fr.MODULE):
        sys.exit("build the module first: " + fr.MODULE)

    sim = harness.Sim()
    tmp = tempfile.mkdtemp(prefix="mobileid-bench-")
    r = None
    rows = []
    try:
        port_p, port_i = fr.free_port(), fr.free_port()
        cache = os.path.join(tmp, "cache")
        os.mkdir(cache, 0o700)
        mods = "\n".join([
            fr.module_section("p", **fr.sim_items(sim, cache, push_timeout="30", poll_interval=a.poll,
                                                  connect_timeout="10", request_timeout="10"),
                              max_pending=str(a.pending * 2), idle_handles="256"),
            fr.module_section("i", instance="mobileid_instant",
                              **fr.sim_items(sim, cache, push_timeout="30", poll_interval="100ms",
                                             connect_timeout="10", request_timeout="10"),
                              max_pending=str(a.pending * 2), idle_handles="256"),
        ])
        servers = (fr.push_server("pending", port_p, "mobileid", password_check=False,
                                  recv_buff=8 << 20) +
                   fr.push_server("instant", port_i, "mobileid_instant", password_check=False,
                                  recv_buff=8 << 20))
        r = fr.Radiusd(mods, servers, max_request_time=45, threads=a.threads,
                       prefix="mobileid-bench-radiusd-")
        # every login holds a thread and an HTTPS connection
        t0 = time.monotonic()
        r.start(timeout=60)
        start_s = time.monotonic() - t0
        pid = r.pid()
        rss_idle = rss_kb(pid, "VmRSS")

        users = ["p%04d" % i for i in range(a.pending)]
        for u in users:
            sim.add_user(u, policy=dict(action="approve", after_ms=a.approve_after))
        ok, lost, elapsed, http = run_batch(sim, port_p, users, a.rate, 90)
        rows.append(("concurrent pending pushes (approve after %d s)" % (a.approve_after // 1000),
                     "%d of %d accepted, %d lost, %.1f s" % (ok, a.pending, lost, elapsed)))
        rows.append(("  HTTPS requests per authentication (poll %s, first login)" % a.poll,
                     "%.1f" % (http / max(1, a.pending))))
        rss_peak1 = rss_kb(pid, "VmHWM")

        inst = ["i%04d" % i for i in range(a.instant)]
        for u in inst:
            sim.add_user(u, policy=dict(action="approve", after_ms=0))
        # warm the user mapping cache, then waves of --wave logins at once
        for i in range(0, len(inst), a.wave):
            run_batch(sim, port_i, inst[i:i + a.wave], None, 60)
        ok = lost = http = 0
        t0 = time.monotonic()
        for i in range(0, len(inst), a.wave):
            o, l, _, h = run_batch(sim, port_i, inst[i:i + a.wave], None, 60)
            ok, lost, http = ok + o, lost + l, http + h
        elapsed = time.monotonic() - t0
        rows.append(("instant-approve authentications per second (%d in flight)" % a.wave,
                     "%.0f/s (%d of %d accepted, %d lost, %.1f s)"
                     % (ok / elapsed, ok, a.instant, lost, elapsed)))
        rows.append(("  HTTPS requests per authentication (mapping cached)",
                     "%.1f" % (http / max(1, a.instant))))
        rows.append(("server peak RSS", "%.0f MiB (idle with %d threads: %.0f MiB; after the "
                     "pending phase: %.0f MiB)" % (rss_kb(pid, "VmHWM") / 1024, a.threads,
                                                   rss_idle / 1024, rss_peak1 / 1024)))
        rows.append(("server start-up with %d threads" % a.threads, "%.1f s" % start_s))
        out = r.output()
        import collections
        why = collections.Counter(m.group(1) for m in
                                  __import__("re").finditer(r"op=push result=([a-z ]+?) rcode=", out))
        rows.append(("results logged by the module", ", ".join(
            "%s %d" % kv for kv in sorted(why.items()))))
        reasons = collections.Counter(m.group(1)[:70] for m in __import__("re").finditer(
            r"result=(?:service unavailable|internal error|expired)[^\n]*reason=\"([^\"]*)", out))
        for k, v in reasons.most_common(3):
            rows.append(("  failure reason (%d)" % v, k))
        unresp = out.count("Unresponsive child")
        rows.append(("requests the server gave up on", str(unresp)))
    finally:
        if r:
            r.cleanup()
        sim.stop()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)

    lines = machine()
    lines.append("thread pool: start_servers = max_servers = max_spare_servers = %d, "
                 "max_request_time = 45, max_queue_size = 65536" % a.threads)
    lines.append("module: push_timeout 30 s, new logins at %d/s, one user per login"
                 % a.rate)
    lines.append("")
    w = max(len(k) for k, _ in rows)
    lines.extend("%-*s  %s" % (w, k, v) for k, v in rows)
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if a.out:
        os.makedirs(os.path.dirname(a.out), exist_ok=True)
        with open(a.out, "w") as f:
            f.write("# rlm_mobileid benchmark (bench/radius_bench.py), %s\n"
                    % time.strftime("%Y-%m-%d"))
            f.write(text)


if __name__ == "__main__":
    main()
