#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pam_mobileid end to end: pamtester under pam_wrapper, the module from the
build tree, the API simulator on 127.0.0.1."""
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

VALGRIND = os.environ.get("MOBILEID_TEST_VALGRIND") == "1"
CODE_RE = re.compile(r"code (\d{4})")


class PamCase(harness.PamSimCase):
    def setUp(self):
        super().setUp()
        self.env.write_conf(self.sim)

    def login(self, user, **kw):
        kw.setdefault("valgrind", VALGRIND)
        r = self.env.run(user, **kw)
        if VALGRIND:
            self.assertNotEqual(r.rc, 99, "valgrind reported errors:\n" + r.err)
            self.assertNotIn("definitely lost", r.err)
        return r

    def assertAttempt(self, r, result, pam=None):
        line = r.attempt_line()
        self.assertIn("user=", line, "no attempt line in syslog: %r" % r.syslog)
        self.assertIn(" result=%s " % result, line)
        if pam:
            self.assertIn(" pam=%s " % pam, line)
        return line


class Outcomes(PamCase):
    def test_approve(self):
        self.sim.add_user("alice")
        self.sim.policy("alice", "approve", after_ms=300)
        r = self.login("alice")
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertIn("successfully authenticated", r.out + r.err)
        m = CODE_RE.search(r.out)
        self.assertTrue(m, "no code in what the user saw: %r" % r.out)
        self.assertIn("Approve the login on your phone (code %s)" % m.group(1), r.out)
        # the same code is on the phone, with the context
        starts = self.sim.api_calls("POST", "/authentications")
        self.assertEqual(len(starts), 1)
        ctx = starts[0]["body"]["operationProperties"]["preOperationContext"]
        self.assertIn("Code: %s" % m.group(1), ctx["content"])
        self.assertIn("User: alice", ctx["content"])
        self.assertIn("Service: mobileid-test", ctx["content"])
        self.assertEqual(ctx["mimeType"], "text/plain")
        self.assertTrue(ctx["title"].startswith("Login to "))
        line = self.assertAttempt(r, "approved", "Success")
        self.assertIn("service=mobileid-test", line)
        self.assertRegex(line, r"transaction=[0-9a-zA-Z-]{8,}")
        self.assertRegex(line, r"trace=[0-9a-f]{8,}")
        self.assertRegex(line, r"duration_ms=\d+")
        self.assertNotIn(harness.CLIENT_SECRET, "\n".join(r.syslog))

    def test_deny(self):
        self.sim.add_user("bob")
        self.sim.policy("bob", "deny", after_ms=200)
        r = self.login("bob")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("denied on your phone", r.out)
        self.assertAttempt(r, "denied", "Authentication failure")

    def test_expire(self):
        self.sim.add_user("carol")
        self.sim.policy("carol", "expire", after_ms=200)
        r = self.login("carol")
        self.assertNotEqual(r.rc, 0)
        self.assertAttempt(r, "expired", "Authentication failure")

    def test_timeout_cancels_the_push(self):
        self.sim.add_user("dave")
        self.sim.policy("dave", "never")
        budget = 8 if VALGRIND else 2   # valgrind is slow to even start the push
        self.env.write_conf(self.sim, auth_push_timeout=str(budget))
        r = self.login("dave")
        self.assertNotEqual(r.rc, 0)
        line = self.assertAttempt(r, "expired")
        self.assertIn("no answer from the phone within %d s" % budget, line)
        self.assertLess(r.elapsed, budget + (25 if VALGRIND else 3))
        tid = self.sim.api_calls("POST", "/authentications")[0]
        cancels = self.sim.api_calls("DELETE", "/authentications/")
        self.assertEqual(len(cancels), 1, "the push was not cancelled")
        self.assertIn(line.split("transaction=")[1].split()[0], cancels[0]["path"])
        self.assertTrue(tid)

    def test_unknown_user(self):
        r = self.login("nobody-here")
        self.assertNotEqual(r.rc, 0)
        line = self.assertAttempt(r, "user unknown", "User not known to the underlying "
                                  "authentication module")
        self.assertIn("resolve externalRef", line)
        self.assertEqual(self.sim.api_calls("POST", "/authentications"), [])

    def test_no_active_device(self):
        self.sim.add_user("erin", devices=[{"name": "old phone", "state": "LOCKED"}])
        r = self.login("erin")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("no active MobileID device", r.out)
        self.assertAttempt(r, "no active device")
        self.assertEqual(self.sim.api_calls("POST", "/authentications"), [])

    def test_locked_user(self):
        self.sim.add_user("frank", state="LOCKED")
        r = self.login("frank")
        self.assertNotEqual(r.rc, 0)
        self.assertAttempt(r, "locked")
        self.assertEqual(self.sim.api_calls("POST", "/authentications"), [])

    def test_two_devices_broadcast(self):
        self.sim.add_user("gina", devices=[{"name": "a"}, {"name": "b"}])
        self.sim.policy("gina", "approve", after_ms=100)
        r = self.login("gina")
        self.assertEqual(r.rc, 0, r.out + r.err)
        body = self.sim.api_calls("POST", "/authentications")[0]["body"]
        self.assertNotIn("device", body)
        self.assertIs(body["operationProperties"]["broadcast"], True)

    def test_externalref_template(self):
        self.sim.add_user("Henry@example.com")
        self.sim.policy("Henry@example.com", "approve", after_ms=100)
        self.env.write_conf(self.sim, auth_externalref="%u@example.com")
        r = self.login("Henry")
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.sim.add_user("henry@example.org")
        self.sim.policy("henry@example.org", "approve", after_ms=100)
        self.env.write_conf(self.sim, auth_externalref="%U@example.org")
        r = self.login("HENRY")
        self.assertEqual(r.rc, 0, r.out + r.err)


class Caching(PamCase):
    def test_warm_login_makes_one_request_before_the_push(self):
        self.sim.add_user("ivy")
        self.sim.policy("ivy", "approve", after_ms=100)
        r = self.login("ivy")
        self.assertEqual(r.rc, 0, r.out + r.err)
        cold = self.sim.requests()
        self.assertEqual(len([q for q in cold if "/token" in q["path"]]), 1)
        self.assertEqual(sorted(os.listdir(self.env.cache))[0][:5], "token")
        for name in os.listdir(self.env.cache):
            st = os.stat(os.path.join(self.env.cache, name))
            self.assertEqual(st.st_mode & 0o777, 0o600, name)
        self.sim.ctl("DELETE", "requests")
        r = self.login("ivy")
        self.assertEqual(r.rc, 0, r.out + r.err)
        warm = self.sim.requests()
        first_start = next(i for i, q in enumerate(warm)
                           if q["method"] == "POST" and q["path"].endswith("/authentications"))
        self.assertEqual(first_start, 0, "requests before the push: %r" %
                         [(q["method"], q["path"]) for q in warm[:first_start]])
        self.assertFalse([q for q in warm if "/token" in q["path"]])

    def test_stale_cached_user_is_resolved_again(self):
        self.sim.add_user("jack")
        self.sim.policy("jack", "approve", after_ms=50)
        self.assertEqual(self.login("jack").rc, 0)
        # the user is re-created: new userId, the cached one is gone
        self.sim.reset()
        self.sim.add_user("jack")
        self.sim.policy("jack", "approve", after_ms=50)
        r = self.login("jack")
        self.assertEqual(r.rc, 0, r.out + r.err + "\n".join(r.syslog))
        self.assertEqual(len(self.sim.api_calls("POST", "/users/resolve")), 1)

    def test_refuses_cache_file_with_wrong_mode(self):
        self.sim.add_user("kate")
        self.sim.policy("kate", "approve", after_ms=50)
        self.assertEqual(self.login("kate").rc, 0)
        for name in os.listdir(self.env.cache):
            os.chmod(os.path.join(self.env.cache, name), 0o644)
        self.sim.ctl("DELETE", "requests")
        r = self.login("kate")
        self.assertEqual(r.rc, 0)
        self.assertTrue(any("token cache ignored" in l for l in r.syslog), r.syslog)
        self.assertEqual(len(self.sim.api_calls("POST", "/token")), 1)

    def test_token_expiry_mid_session(self):
        self.sim.add_user("liam")
        self.sim.policy("liam", "approve", after_ms=1500)

        def expire_when_pending():
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if self.sim.pending():
                    self.sim.expire_tokens()
                    return
                time.sleep(0.05)
        t = threading.Thread(target=expire_when_pending)
        t.start()
        r = self.login("liam")
        t.join()
        self.assertEqual(r.rc, 0, r.out + r.err + "\n".join(r.syslog))
        self.assertEqual(len(self.sim.api_calls("POST", "/token")), 2)
        polls = self.sim.api_calls("GET", "/authentications/")
        self.assertIn(401, [p["status"] for p in polls])


class Failmode(PamCase):
    def _fault_5xx(self):
        self.sim.add_user("mia")
        self.sim.fault(method="POST", path="/authentications$", status=503, count=-1)

    def test_5xx_secure_fails(self):
        self._fault_5xx()
        r = self.login("mia")
        self.assertNotEqual(r.rc, 0)
        line = self.assertAttempt(r, "service unavailable",
                                  "Authentication service cannot retrieve authentication info")
        self.assertIn("start authentication", line)
        self.assertIn("HTTP 503", line)
        self.assertRegex(line, r"trace=[0-9a-f]{8,}")

    def test_5xx_safe_lets_in(self):
        self._fault_5xx()
        self.env.write_conf(self.sim, auth_failmode="safe")
        r = self.login("mia")
        self.assertEqual(r.rc, 0, r.out + r.err)
        line = self.assertAttempt(r, "service unavailable", "Success")
        self.assertIn("failmode=safe", line)

    def test_safe_never_turns_a_denial_into_success(self):
        self.sim.add_user("noah")
        self.sim.policy("noah", "deny", after_ms=50)
        self.env.write_conf(self.sim, auth_failmode="safe")
        r = self.login("noah")
        self.assertNotEqual(r.rc, 0)
        self.assertAttempt(r, "denied")

    def test_module_argument_overrides_file(self):
        self._fault_5xx()
        r = self.login("mia", args="failmode=safe")
        self.assertEqual(r.rc, 0)
        r = self.login("mia", args="auth.failmode=secure")
        self.assertNotEqual(r.rc, 0)


class ConfigSafety(PamCase):
    def test_group_readable_config_fails_even_when_safe(self):
        self.sim.add_user("olga")
        self.sim.policy("olga", "approve")
        self.env.write_conf(self.sim, mode=0o644, auth_failmode="safe")
        r = self.login("olga")
        self.assertNotEqual(r.rc, 0)
        text = "\n".join(r.syslog)
        self.assertIn("configuration refused", text)
        self.assertIn("chmod 0600", text)
        self.assertEqual(self.sim.requests(), [])

    def test_symlinked_config_fails(self):
        self.env.write_conf(self.sim, auth_failmode="safe")
        link = os.path.join(self.env.dir, "link.conf")
        os.symlink(self.env.conf, link)
        r = self.login("olga", conf=link)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("symbolic link", "\n".join(r.syslog))

    def test_missing_config_fails(self):
        r = self.login("olga", conf="/nonexistent/mobileid.conf")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("No such file", "\n".join(r.syslog))

    def test_bad_value_names_file_line_and_key(self):
        self.env.write_conf(self.sim, auth_poll_interval="fast")
        r = self.login("olga")
        self.assertNotEqual(r.rc, 0)
        text = "\n".join(r.syslog)
        self.assertRegex(text, re.escape(self.env.conf) + r":\d+: \[auth\] poll_interval: "
                         r"bad value 'fast'")


class Conversation(PamCase):
    def test_enter_prompt(self):
        self.sim.add_user("paul")
        self.sim.policy("paul", "approve", after_ms=200)
        r = self.login("paul", args="prompt=enter", stdin="\n")
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertRegex(r.out + r.err, r"Approve the login on your phone \(code \d{4}\), then "
                         r"press Enter")

    def test_aborted_conversation_cancels_and_fails(self):
        self.sim.add_user("quinn")
        self.sim.policy("quinn", "approve", after_ms=200)
        # no answer on stdin: the conversation fails
        r = self.login("quinn", args="prompt=enter", stdin="")
        self.assertNotEqual(r.rc, 0)
        self.assertAttempt(r, "cancelled")
        self.assertEqual(len(self.sim.api_calls("DELETE", "/authentications/")), 1)

    def test_hostile_user_name_is_refused_not_altered(self):
        # "evil\r\nuser" cleaned would be "eviluser": another user.  Refused.
        user = "evil\r\nuser=root%s/../\"x"
        r = self.login(user)
        self.assertNotEqual(r.rc, 0)
        line = r.attempt_line()
        self.assertNotIn("\r", line)
        # quoted, so it cannot pass for fields of its own
        self.assertIn('user="eviluser=root%s/../\\"x" ', line)
        self.assertIn("control characters", line)
        self.assertEqual(self.sim.requests(), [])

    def test_odd_but_clean_user_name_is_json_escaped(self):
        user = 'o\'brien"%s/../x'
        r = self.login(user)
        self.assertNotEqual(r.rc, 0)
        body = self.sim.api_calls("POST", "/users/resolve")[0]["body"]
        self.assertEqual(body["externalRef"], user)


if __name__ == "__main__":
    main()
