#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pam_mobileid benchmark (not a test): logins through the real module under
pam_wrapper against the API simulator on 127.0.0.1, with instant approval,
cold (empty cache directory) and warm (token and externalRef mapping cached),
and the cost of polling a pending push.  Prints a table and writes it, with a
description of the machine, to bench/results/pam.txt (or --out).

    bench/pam_bench.py [--runs N] [--out FILE] [--builddir DIR]
    make bench-pam            (builds bench/pam_login first)

Every login is a new process (bench/pam_login: pam_start, pam_authenticate,
pam_end), as with sshd or sudo: nothing survives in memory between logins.
Requests and TLS handshakes come from the simulator's request log (each
entry carries the number of its TLS connection); times from pam_login's
wall-clock stamps and the log's; CPU time and peak RSS from wait4() on the
pam_login process (pam_wrapper's own work included)."""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.dirname(HERE)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="logins per case (default 10)")
    ap.add_argument("--poll-seconds", type=float, default=10.0,
                    help="how long the poll-cost push stays pending (default 10)")
    ap.add_argument("--builddir", default=os.environ.get("top_builddir") or os.getcwd())
    ap.add_argument("--out", default=os.path.join(SRCDIR, "bench", "results", "pam.txt"),
                    help="results file ('-': stdout only)")
    return ap.parse_args()


ARGS = parse_args()
os.environ.setdefault("top_srcdir", SRCDIR)
os.environ["top_builddir"] = os.path.abspath(ARGS.builddir)
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration"))
import harness  # noqa: E402

DRIVER = os.path.join(os.environ["top_builddir"], "bench", "pam_login")
SERVICE = "mobileid-bench"


class Login:
    """One pam_login process: its events, rusage and the requests it made."""

    def __init__(self, env, user, sim):
        t_spawn = time.time()
        p = subprocess.Popen([DRIVER, SERVICE, user], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
        out = p.stdout.read()
        err = p.stderr.read()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        self.rc = p.returncode
        self.out, self.err = out, err
        self.cpu_ms = (ru.ru_utime + ru.ru_stime) * 1000.0
        self.maxrss_kib = ru.ru_maxrss
        ev = {}
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if len(parts) >= 2 and parts[0] not in ev:
                ev[parts[0]] = float(parts[1])
        if "start" not in ev or "end" not in ev:
            raise RuntimeError("pam_login failed (rc %d): %s %s" % (self.rc, out, err))
        self.start, self.end, self.info = ev["start"], ev["end"], ev.get("info")
        self.reqs = [r for r in sim.requests() if r["time"] >= t_spawn]
        self.requests = len(self.reqs)
        self.handshakes = len({r.get("conn") for r in self.reqs})
        self.tokens = len([r for r in self.reqs if r["path"].endswith("/token")])
        starts = [i for i, r in enumerate(self.reqs)
                  if r["method"] == "POST" and r["path"].endswith("/authentications")]
        self.before_push = starts[0] if starts else None
        self.started_at = self.reqs[starts[0]]["time"] * 1000.0 if starts else None
        self.polls = [r for r in self.reqs if r["method"] == "GET" and
                      "/authentications/" in r["path"]]


def run_case(sim, env, user, n, prepare):
    out = []
    for _ in range(n):
        prepare()
        sim.ctl("DELETE", "requests")
        lg = Login(env, user, sim)
        if lg.rc != 0:
            raise RuntimeError("login failed: %s %s" % (lg.out, lg.err))
        out.append(lg)
    return out


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else float("nan")


def span(xs, fmt="%.0f"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    lo, hi, m = min(xs), max(xs), statistics.median(xs)
    if lo == hi:
        return fmt % m
    return (fmt + " (" + fmt + "-" + fmt + ")") % (m, lo, hi)


def machine():
    def cmd(*a):
        try:
            return subprocess.run(a, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    def pkg(name):
        return cmd("dpkg-query", "-W", "-f=${Version}", name) or "?"

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            cpu = m.group(1) if m else "?"
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.1f GiB" % (int(f.readline().split()[1]) / 1048576)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/etc/debian_version") as f:
            deb = "Debian " + f.read().strip()
    except OSError:
        deb = platform.platform()
    rev = cmd("git", "-C", SRCDIR, "describe", "--always", "--dirty") or "?"
    return [
        "machine: %s CPUs (nproc), %s, %s RAM" % (os.cpu_count(), cpu, mem),
        "system: %s, kernel %s; load average %.2f %.2f %.2f when done (other work on the "
        "machine shows in the times)" % ((deb, platform.release()) + os.getloadavg()),
        "versions: mobileid %s (git %s), libcurl %s, OpenSSL %s, json-c %s, Linux-PAM %s, "
        "pam_wrapper %s, Python %s" % (
            cmd("sh", "-c", "sed -n 's/^#define PACKAGE_VERSION \"\\(.*\\)\"/\\1/p' %s"
                % os.path.join(os.environ["top_builddir"], "config.h")) or "?",
            rev, pkg("libcurl4"), pkg("libssl3"), pkg("libjson-c5"), pkg("libpam0g"),
            pkg("libpam-wrapper"), platform.python_version()),
        "compiler: %s" % (cmd("sh", "-c", "grep -m1 '^CC = ' %s/Makefile | cut -c6-; "
                                           "grep -m1 '^CFLAGS = ' %s/Makefile | cut -c10-"
                                % ((os.environ["top_builddir"],) * 2)).replace("\n", " ")),
    ]


def main():
    for path, what in ((DRIVER, "bench/pam_login (make bench/pam_login)"),
                       (harness.MODULE, "the PAM module (make)"),
                       (harness.SYSLOGCAP, "tests/libsyslogcap.la (make tests/libsyslogcap.la)"),
                       (harness.PAM_WRAPPER_LIB, "pam_wrapper (libpam-wrapper)")):
        if not path or not os.path.exists(path):
            sys.exit("pam_bench: missing %s: %s" % (what, path))
    sim = harness.Sim()
    env_dir = harness.PamEnv(service=SERVICE)
    try:
        # Default settings, except where the simulator is and a short push
        # timeout for the poll-cost case.
        env_dir.write_conf(sim, signicat_connect_timeout=None, signicat_request_timeout=None,
                           auth_push_timeout=None, auth_poll_interval=None)
        with open(os.path.join(env_dir.services, SERVICE), "w") as f:
            f.write("auth required %s conf=%s\n" % (harness.MODULE, env_dir.conf))
        syslog = os.path.join(env_dir.dir, "syslog")
        env = dict(os.environ)
        env.update({
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": env_dir.services,
            "PAM_WRAPPER_USE_SYSLOG": "1",
            "LD_PRELOAD": "%s:%s" % (harness.PAM_WRAPPER_LIB, harness.SYSLOGCAP),
            "MOBILEID_TEST_SYSLOG": syslog,
        })
        sim.add_user("bench")
        sim.policy("bench", "approve", after_ms=0)

        def cold_prep():
            env_dir.clear_cache()

        cold = run_case(sim, env, "bench", ARGS.runs, cold_prep)
        Login(env, "bench", sim)   # fill the cache
        warm = run_case(sim, env, "bench", ARGS.runs, lambda: None)

        # Poll cost: a push that stays pending for --poll-seconds.
        sim.add_user("slow")
        sim.policy("slow", "approve", after_ms=int(ARGS.poll_seconds * 1000))
        Login(env, "slow", sim)    # warm its mapping
        polls = run_case(sim, env, "slow", 2, lambda: None)
    finally:
        env_dir.cleanup()
        sim.stop()

    rows = [
        ("HTTPS requests per login", lambda l: l.requests, "%.0f"),
        ("  of them until the push was started (incl.)",
         lambda l: l.before_push + 1 if l.before_push is not None else None, "%.0f"),
        ("  token requests", lambda l: l.tokens, "%.0f"),
        ("TLS handshakes (new connections)", lambda l: l.handshakes, "%.0f"),
        ("ms pam_authenticate -> push started (API)",
         lambda l: l.started_at - l.start if l.started_at else None, "%.1f"),
        ("ms pam_authenticate -> push message shown",
         lambda l: l.info - l.start if l.info else None, "%.1f"),
        ("ms approval -> pam_authenticate returned",
         lambda l: l.end - l.started_at if l.started_at else None, "%.1f"),
        ("  of them: approving status answer -> returned",
         lambda l: l.end - l.polls[-1]["time"] * 1000.0 if l.polls else None, "%.1f"),
        ("status requests (polls)", lambda l: len(l.polls), "%.0f"),
        ("ms pam_authenticate total", lambda l: l.end - l.start, "%.1f"),
        ("CPU ms of the process (user+sys)", lambda l: l.cpu_ms, "%.1f"),
        ("peak RSS of the process, KiB", lambda l: l.maxrss_kib, "%.0f"),
    ]
    lines = []
    w = max(len(r[0]) for r in rows) + 2
    lines.append("pam_mobileid per login, instant approval, default settings "
                 "(poll_interval 500 ms); median (min-max) of %d logins" % ARGS.runs)
    lines.append("")
    lines.append("%-*s %-28s %s" % (w, "", "cold (empty cache dir)", "warm (token + user cached)"))
    for name, f, fmt in rows:
        lines.append("%-*s %-28s %s" % (w, name, span([f(l) for l in cold], fmt),
                                        span([f(l) for l in warm], fmt)))
    lines.append("")
    # Poll cost.
    rates, cpu_rates, conns = [], [], []
    warm_cpu = med([l.cpu_ms for l in warm])
    for lg in polls:
        pending_s = ARGS.poll_seconds
        rates.append(len(lg.polls) / pending_s)
        # what waiting adds to an instantly approved warm login
        cpu_rates.append((lg.cpu_ms - warm_cpu) / pending_s)
        conns.append(lg.handshakes)
    lines.append("poll cost, one push pending %.0f s (approved then), warm, default poll_interval:"
                 % ARGS.poll_seconds)
    lines.append("  status requests per pending push per second: %s" % span(rates, "%.2f"))
    lines.append("  CPU ms per second while pending (beyond a warm instant login): %s"
                 % span(cpu_rates, "%.2f"))
    lines.append("  TLS handshakes for the whole login: %s" % span(conns, "%.0f"))
    lines.append("")
    goal_req = all(l.before_push == 0 for l in warm)
    worst = max(l.end - l.started_at for l in warm + cold)
    lines.append("goals (warm): only the start request before the push is started: %s;"
                 % ("yes" if goal_req else "NO"))
    lines.append("  approval noticed within poll interval + one round trip: worst approval -> "
                 "return %.0f ms = 500 ms poll interval + %.0f ms" % (worst, worst - 500))
    lines.append("")
    lines.extend(machine())
    lines.append("measured: %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if ARGS.out != "-":
        os.makedirs(os.path.dirname(os.path.abspath(ARGS.out)), exist_ok=True)
        with open(ARGS.out, "w") as f:
            f.write(text)
        print("written to %s" % ARGS.out)


if __name__ == "__main__":
    main()
