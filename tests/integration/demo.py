#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo: a real pamtester login through pam_mobileid against the
simulator, whose simulated phone shows the push and approves it.

With --web the phone is a web page served by the simulator on 127.0.0.1
(tests/sim/phone_sim.py): the demo prints its URL and waits until a person
taps Approve or Deny there."""
import argparse
import errno
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def phone(sim, stop):
    while not stop.is_set():
        for p in sim.pending():
            print("\n[phone] push received: %s" % p.get("title"))
            for line in (p.get("content") or "").splitlines():
                print("[phone]   " + line)
            time.sleep(2)
            print("[phone] tapping Approve")
            sim.answer(transactionId=p["transactionId"], action="approve")
            return
        time.sleep(0.1)


def tee(side, cmd):
    """Run cmd with its stdout line-buffered, copied to our stdout and to
    the file side (the demo shows it while pamtester waits) -> its status."""
    p = subprocess.Popen(["stdbuf", "-oL"] + cmd, stdout=subprocess.PIPE)
    with open(side, "ab", buffering=0) as f:
        for line in p.stdout:
            sys.stdout.buffer.write(line)
            f.write(line)
    return p.wait()


def relay(path, stop):
    """Print what pamtester's conversation writes to path, as it comes."""
    seen = 0
    while not stop.is_set():
        with open(path, "rb") as f:
            f.seek(seen)
            data = f.read()
        while b"\n" in data:
            line, data = data.split(b"\n", 1)
            seen += len(line) + 1
            print("[terminal] " + line.decode(errors="replace"), flush=True)
        stop.wait(0.1)


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            return e.errno != errno.EADDRINUSE
    return True


def main():
    ap = argparse.ArgumentParser(prog="scripts/demo", description=__doc__.split("\n\n")[0])
    ap.add_argument("--web", action="store_true",
                    help="the phone is a web page on 127.0.0.1; wait for a person to tap Approve or Deny")
    ap.add_argument("--port", type=int, default=0,
                    help="with --web: the page's TCP port (default: a free one)")
    ap.add_argument("--timeout", type=int, default=120,
                    help="with --web: seconds to wait for the tap (push_timeout; default 120)")
    a = ap.parse_args()
    if a.port and not port_free(a.port):
        ap.error("port %d on 127.0.0.1 is in use" % a.port)
    if not 10 <= a.timeout <= 3600:
        ap.error("--timeout must be 10..3600 seconds")
    sim = harness.Sim(phone=a.web, phone_port=a.port)
    env = harness.PamEnv(service="sshd-demo")
    stop = threading.Event()
    try:
        sim.add_user("demo")
        env.write_conf(sim, auth_push_timeout=str(a.timeout if a.web else 30))
        wrap = None
        if a.web:
            port = sim.phone_url.rsplit(":", 1)[1].strip("/")
            side = os.path.join(env.dir, "conversation")
            open(side, "wb").close()
            wrap = [harness.PYTHON3, os.path.abspath(__file__), "--tee", side]
            t = threading.Thread(target=relay, args=(side, stop))
            print("The phone: open %s in a browser on this machine." % sim.phone_url)
            print("  (from another machine: ssh -L %s:127.0.0.1:%s %s, then the same URL there)"
                  % (port, port, socket.gethostname()))
        else:
            t = threading.Thread(target=phone, args=(sim, stop))
        t.start()
        print("$ pamtester sshd-demo demo authenticate   (pam_mobileid under pam_wrapper)", flush=True)
        if a.web:
            print("waiting up to %d s for Approve or Deny on the page ..." % a.timeout, flush=True)
        r = env.run("demo", args="prompt=info", timeout=(a.timeout if a.web else 30) + 60, wrap=wrap)
        stop.set()
        t.join()
        print("\n--- what the user saw ---")
        print(r.out.strip() or "(nothing)")
        print(r.err.strip())
        print("\n--- syslog ---")
        print("\n".join(r.syslog))
        print("\nresult: %s in %.1f s" % ("APPROVED" if r.ok else "DENIED" if " result=denied " in
                                          r.attempt_line() else "FAILED", r.elapsed))
        return 0 if r.ok else 1
    finally:
        stop.set()
        env.cleanup()
        sim.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--tee"]:   # the wrapper around pamtester (see tee())
        sys.exit(tee(sys.argv[2], sys.argv[3:]))
    sys.exit(main())
