#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo: a real pamtester login through pam_mobileid against the
simulator, whose simulated phone shows the push and approves it."""
import os
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


def main():
    sim = harness.Sim()
    env = harness.PamEnv(service="sshd-demo")
    stop = threading.Event()
    try:
        sim.add_user("demo")
        env.write_conf(sim, auth_push_timeout="30")
        t = threading.Thread(target=phone, args=(sim, stop))
        t.start()
        print("$ pamtester sshd-demo demo authenticate   (pam_mobileid under pam_wrapper)")
        r = env.run("demo", args="prompt=info")
        stop.set()
        t.join()
        print("\n--- what the user saw ---")
        print(r.out.strip() or "(nothing)")
        print(r.err.strip())
        print("\n--- syslog ---")
        print("\n".join(r.syslog))
        print("\nresult: %s in %.1f s" % ("APPROVED" if r.ok else "FAILED", r.elapsed))
        return 0 if r.ok else 1
    finally:
        stop.set()
        env.cleanup()
        sim.stop()


if __name__ == "__main__":
    sys.exit(main())
