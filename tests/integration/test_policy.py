#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Who must use the second factor (groups, exempt_networks, unenrolled) and
the push-bombing guard (one pending push per user, cooldown after denials)."""
import concurrent.futures
import grp
import os
import pwd
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

IGNORE = "The return value should be ignored by PAM dispatch"   # PAM_IGNORE


class Base(harness.PamSimCase):
    def setUp(self):
        super().setUp()
        # a local account, so that group membership can be looked up
        self.me = pwd.getpwuid(os.getuid()).pw_name
        self.mygroup = grp.getgrgid(os.getgid()).gr_name
        self.sim.add_user(self.me)
        self.sim.policy(self.me, "approve", after_ms=50)


class Groups(Base):
    def test_member_is_asked(self):
        self.env.write_conf(self.sim, auth_groups="nosuchgroup-x, " + self.mygroup)
        r = self.env.run(self.me)
        self.assertEqual(r.rc, 0, r.syslog)
        self.assertIn(" result=approved ", r.attempt_line())
        self.assertEqual(len(self.sim.api_calls("POST", "/authentications")), 1)

    def test_non_member_gets_pam_ignore(self):
        self.env.write_conf(self.sim, auth_groups="nosuchgroup-x")
        r = self.env.run(self.me)
        line = r.attempt_line()
        self.assertIn(" result=skipped ", line)
        self.assertIn(" pam=%s " % IGNORE, line)
        self.assertIn("not in the groups", line)
        self.assertEqual(self.sim.requests(), [])

    def test_exclusion_wins(self):
        self.env.write_conf(self.sim, auth_groups="%s, !%s" % (self.mygroup, self.mygroup))
        r = self.env.run(self.me)
        self.assertIn(" result=skipped ", r.attempt_line())
        self.assertEqual(self.sim.requests(), [])

    def test_only_exclusions_asks_everybody_else(self):
        self.env.write_conf(self.sim, auth_groups="!nosuchgroup-x")
        r = self.env.run(self.me)
        self.assertEqual(r.rc, 0)
        self.assertIn(" result=approved ", r.attempt_line())

    def test_bad_group_list_is_a_config_error(self):
        self.env.write_conf(self.sim, auth_groups="wheel, bad/name")
        r = self.env.run(self.me)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("[auth] groups: 'bad/name' is not a group name", "\n".join(r.syslog))


class ExemptNetworks(Base):
    def check(self, networks, rhost, exempt):
        self.sim.ctl("DELETE", "requests")
        self.env.write_conf(self.sim, auth_exempt_networks=networks)
        r = self.env.run(self.me, items={"rhost": rhost})
        line = r.attempt_line()
        if exempt:
            self.assertIn(" result=skipped ", line)
            self.assertIn("exempt_networks", line)
            self.assertEqual(self.sim.requests(), [])
        else:
            self.assertIn(" result=approved ", line)
            self.assertIn("rhost=%s " % rhost, line)

    def test_ipv4(self):
        self.check("10.0.0.0/8, 192.168.1.7", "10.20.30.40", True)
        self.check("10.0.0.0/8, 192.168.1.7", "192.168.1.7", True)
        self.check("10.0.0.0/8, 192.168.1.7", "192.168.1.8", False)
        self.check("10.0.0.0/8", "11.0.0.1", False)

    def test_ipv6_and_mapped(self):
        self.check("2001:db8::/32", "2001:db8:1::5", True)
        self.check("2001:db8::/32", "2001:db9::5", False)
        self.check("10.0.0.0/8", "::ffff:10.1.2.3", True)

    def test_host_names_never_match(self):
        self.check("10.0.0.0/8", "host.example.com", False)

    def test_bad_network_is_a_config_error(self):
        self.env.write_conf(self.sim, auth_exempt_networks="10.0.0.0/33")
        r = self.env.run(self.me)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("'10.0.0.0/33' is not an address or CIDR network", "\n".join(r.syslog))


class Unenrolled(Base):
    def test_deny(self):
        self.env.write_conf(self.sim, auth_unenrolled="deny")
        r = self.env.run("not-enrolled")
        self.assertNotEqual(r.rc, 0)
        self.assertIn(" pam=User not known to the underlying authentication module ",
                      r.attempt_line())

    def test_ignore(self):
        self.env.write_conf(self.sim, auth_unenrolled="ignore")
        r = self.env.run("not-enrolled")
        line = r.attempt_line()
        self.assertIn(" result=user unknown ", line)
        self.assertIn(" pam=%s " % IGNORE, line)


class PushBombingGuard(Base):
    def test_second_login_while_pending_is_refused(self):
        self.sim.policy(self.me, "approve", after_ms=2500)
        self.env.write_conf(self.sim)
        first = {}
        t = threading.Thread(target=lambda: first.update(r=self.env.run(self.me)))
        t.start()
        deadline = time.monotonic() + 10
        while not self.sim.pending() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = self.env.run(self.me)
        t.join()
        self.assertEqual(first["r"].rc, 0)
        self.assertNotEqual(second.rc, 0)
        self.assertIn(" result=push already pending ", second.attempt_line())
        self.assertIn("already waiting for your phone", second.out)
        self.assertLess(second.elapsed, 2.0)   # refused at once, not after a wait
        self.assertEqual(len(self.sim.api_calls("POST", "/authentications")), 1)
        # once the first is over, a new login works
        self.sim.policy(self.me, "approve", after_ms=50)
        self.assertEqual(self.env.run(self.me).rc, 0)

    def test_parallel_logins_start_one_push(self):
        self.sim.policy(self.me, "approve", after_ms=3000)
        self.env.write_conf(self.sim)
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            results = list(ex.map(lambda _: self.env.run(self.me, env=harness.without_leak_check()),
                                  range(8)))
        ok = [r for r in results if r.rc == 0]
        refused = [r for r in results if " result=push already pending " in r.attempt_line()]
        lines = [(r.rc, r.attempt_line(), r.err[-600:]) for r in results]
        self.assertEqual(len(ok), 1, lines)
        self.assertEqual(len(refused), 7, lines)
        self.assertEqual(len(self.sim.api_calls("POST", "/authentications")), 1)

    def test_cooldown_after_denials_survives_restarts(self):
        self.sim.policy(self.me, "deny", after_ms=50)
        self.env.write_conf(self.sim, auth_max_denials="2", auth_denial_window="60",
                            auth_cooldown="30")
        for _ in range(2):   # each pamtester is a new process
            r = self.env.run(self.me)
            self.assertIn(" result=denied ", r.attempt_line())
        self.assertTrue(any("new pushes refused for 30 s" in l for l in r.syslog), r.syslog)
        self.sim.ctl("DELETE", "requests")
        self.sim.policy(self.me, "approve", after_ms=50)
        r = self.env.run(self.me)
        self.assertNotEqual(r.rc, 0)
        line = r.attempt_line()
        self.assertIn(" result=rate limited ", line)
        self.assertIn("cooling down", line)
        self.assertEqual(self.sim.requests(), [], "a push was sent during the cooldown")
        state = os.path.join(self.env.dir, "state")
        for name in os.listdir(state):
            st = os.stat(os.path.join(state, name))
            self.assertEqual(st.st_mode & 0o077, 0, name)

    def test_cooldown_ends(self):
        self.sim.policy(self.me, "deny", after_ms=50)
        # 4 s: wide enough for a slow (sanitized, loaded) login in between
        self.env.write_conf(self.sim, auth_max_denials="1", auth_cooldown="4")
        self.assertNotEqual(self.env.run(self.me).rc, 0)
        self.assertIn(" result=rate limited ", self.env.run(self.me).attempt_line())
        time.sleep(4.2)
        self.sim.policy(self.me, "approve", after_ms=50)
        self.assertEqual(self.env.run(self.me).rc, 0)

    def test_unsafe_state_dir_is_refused(self):
        state = os.path.join(self.env.dir, "state")
        os.mkdir(state, 0o777)
        os.chmod(state, 0o777)
        self.env.write_conf(self.sim)
        r = self.env.run(self.me)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("push guard state", r.attempt_line())


if __name__ == "__main__":
    main()
