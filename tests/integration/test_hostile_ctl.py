#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile input at the boundaries of mobileidctl, against the simulator:
LOGIN and option values with CR/LF, ESC, other control characters and
invalid UTF-8 are refused with a clear message (the value shown escaped) and
no request; quotes, %, /, .. and the longest names reach the API exactly
(JSON-escaped, never in a URL); device ids that are not ids never reach a
URL; and text from the API (user attributes, device names, error codes)
carrying escape sequences reaches the terminal without control characters.
The PAM and RADIUS sides: test_hostile.py, test_hostile_radius.py."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402
from test_ctl import CTL, CtlCase, run_on_pty  # noqa: E402

REFUSED = "holds control characters or invalid UTF-8: refused, not altered"
# (the argument as passed, as the message shows it)
HOSTILE = [
    (b"eve\r\nmallory", r"eve\r\nmallory"),
    (b"esc\x1b[2Jclear", r"esc\x1b[2Jclear"),
    (b"bell\x07", r"bell\x07"),
    (b"del\x7f", r"del\x7f"),
    ("csi\u009b31m".encode(), r"csi\xc2\x9b31m"),
    (b"bad\xffname", r"bad\xffname"),
    (b"overlong\xc0\xaf", r"overlong\xc0\xaf"),
    (b"surrogate\xed\xa0\x80", r"surrogate\xed\xa0\x80"),
]


class HostileCtl(CtlCase):
    def run_ctl(self, *args, json_out=False):
        """mobileidctl with any bytes as arguments; its output must be
        valid UTF-8 (decoding raises otherwise)."""
        cmd = [CTL, "-c", self.conf] + (["--json"] if json_out else []) + list(args)
        p = subprocess.run(cmd, capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")

    def assertNoControls(self, text):
        bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
        self.assertEqual(bad, [], "control characters in %r" % text)

    def assertCleanRequests(self):
        return harness.clean_requests(self, self.sim)

    def refs(self, path):
        return [r["body"]["externalRef"] for r in self.assertCleanRequests()
                if r["method"] == "POST" and r["path"].endswith(path) and r["status"] != 401]

    # ---- refused arguments ---------------------------------------------------------------
    def test_hostile_logins_are_refused_and_shown_escaped(self):
        for cmd in (["user", "show"], ["user", "create"], ["user", "lock"], ["device", "list"],
                    ["test"], ["enroll", "--no-wait"], ["enroll-link", "--email", "x@example.com",
                                                      "--first-name", "F", "--last-name", "L"]):
            for login, shown in HOSTILE:
                with self.subTest(cmd=cmd, login=login):
                    self.sim.reset()
                    # the name with the control characters stripped exists
                    stripped = login.decode("utf-8", "ignore")
                    stripped = "".join(c for c in stripped if ord(c) >= 0x20 and
                                       not 0x7f <= ord(c) <= 0x9f)
                    self.sim.add_user(stripped)
                    rc, out, err = self.run_ctl(*(cmd + [login]))
                    self.assertEqual(rc, 2, err)
                    self.assertEqual(out, "")
                    self.assertIn("LOGIN '%s' %s" % (shown, REFUSED), err)
                    self.assertNoControls(err)
                    self.assertEqual(self.sim.requests(), [], "a refused login reached the API")

    def test_json_error_is_valid_and_escaped(self):
        login, shown = HOSTILE[5]   # invalid UTF-8
        rc, out, err = self.run_ctl("user", "show", login, json_out=True)
        self.assertEqual(rc, 2, err)
        e = json.loads(err.splitlines()[0])
        self.assertEqual(e["error"], "user: LOGIN '%s' %s" % (shown, REFUSED))
        rc, out, err = self.run_ctl("test", b"eve\r\nmallory", json_out=True)
        self.assertEqual(rc, 2, err)
        self.assertIn(r"LOGIN 'eve\r\nmallory'", json.loads(err.splitlines()[0])["error"])
        self.assertEqual(self.sim.requests(), [])

    def test_hostile_option_values_are_refused(self):
        cases = [
            (["user", "create", "alice", "--name", b"A\x1b[2J"], "--name", r"A\x1b[2J"),
            (["user", "create", "alice", "--phone", b"+1\r\n555"], "--phone", r"+1\r\n555"),
            (["user", "create", "alice", "--email", b"a\xff@example.com"], "--email",
             r"a\xff@example.com"),
            (["user", "create", "alice", "--segment", b"seg\x07"], "--segment", r"seg\x07"),
            # --service goes into the externalRef template (%s)
            (["user", "show", "alice", "--service", b"ss\r\nhd"], "--service", r"ss\r\nhd"),
            (["test", "alice", "--service", b"ss\x1bhd"], "--service", r"ss\x1bhd"),
            (["test", "alice", "--rhost", b"10.0.0.1\r\nx"], "--rhost", r"10.0.0.1\r\nx"),
            (["enroll", "alice", "--device-name", "phone\u009b2J".encode()], "--device-name",
             r"phone\xc2\x9b2J"),
            (["enroll-link", "alice", "--email", b"a@b.c", "--first-name", b"F\x08",
              "--last-name", b"L"], "--first-name", r"F\x08"),
        ]
        self.sim.add_user("alice")
        for args, what, shown in cases:
            with self.subTest(args=args):
                self.sim.ctl("DELETE", "requests")
                rc, out, err = self.run_ctl(*args)
                self.assertEqual(rc, 2, err)
                self.assertIn("%s '%s' %s" % (what, shown, REFUSED), err)
                self.assertNoControls(err)
                self.assertEqual(self.sim.requests(), [])
        self.assertEqual(self.sim_user("alice")["attributes"], {})

    def test_long_logins_are_refused_and_shown_short(self):
        rc, out, err = self.run_ctl("user", "create", "u" * 256)
        self.assertEqual(rc, 1, err)
        self.assertIn("the externalRef is empty or too long (over 255 bytes)", err)
        for cmd in (["user", "show"], ["test"], ["enroll"]):
            with self.subTest(cmd=cmd):
                rc, out, err = self.run_ctl(*(cmd + ["A" * 4096]))
                self.assertIn(rc, (1, 5), err)
                self.assertIn("too long", err)
                self.assertNotIn("A" * 100, err)
                self.assertLess(len(err), 600)
        # 4 KiB names of multi-byte characters are cut on a character
        # (run_ctl fails on output that is not UTF-8)
        rc, out, err = self.run_ctl("user", "show", "\u00e9" * 2048)
        self.assertEqual(rc, 1, err)
        self.assertIn("\u00e9" * 32 + "...", err)
        rc, out, err = self.run_ctl("user", "show", "\u20ac" * 1400)
        self.assertEqual(rc, 1, err)
        self.assertIn("'" + "\u20ac" * 21 + "...'", err)
        self.assertEqual(self.sim.requests(), [])

    # ---- names that are fine: exact in the JSON, never in a URL --------------------------
    def test_quotes_percent_slash_and_255_bytes_reach_the_api_exactly(self):
        self.write_conf(auth_push_timeout="5")
        for login in ("o\"brien's\\x", "100%u%s%%%c%n%x", "../../etc/passwd",
                      "a b?c=d&e#f/%2e%2e", "u" * 255, "\u00e9" * 127 + "u"):
            with self.subTest(login=login):
                self.sim.reset()
                rc, out, err = self.run_ctl("user", "create", login, "--name", login)
                self.assertEqual(rc, 0, err)
                self.assertEqual(self.refs("/users"), [login])
                self.assertEqual(self.sim_user(login)["attributes"], {"fullName": login})
                self.assertCleanRequests()
                # enrolled, with a device: show, a push, a new device
                self.sim.reset()
                self.sim.add_user(login, attributes={"fullName": login})
                rc, out, err = self.run_ctl("user", "show", login, json_out=True)
                self.assertEqual(rc, 0, err)
                j = json.loads(out)
                self.assertEqual((j["login"], j["externalRef"], j["user"]["attributes"]),
                                 (login, login, {"fullName": login}))
                self.sim.policy(login, "approve", after_ms=100)
                rc, out, err = self.run_ctl("test", login)
                self.assertEqual(rc, 0, err)
                self.assertIn("Result: approved", out)
                start = self.sim.api_calls("POST", "/authentications")[0]["body"]
                ctx = start["operationProperties"]["preOperationContext"]
                self.assertIn("User: %s\n" % login, ctx["content"])
                self.assertEqual(self.refs("/users/resolve")[-1], login)
                rc, out, err = self.run_ctl("enroll", login, "--no-wait")
                self.assertEqual(rc, 0, err)
                # the default device name: the login, cut to the API's 128
                # characters (on a character)
                reg = self.sim.api_calls("POST", "/registrations")[0]["body"]
                name = reg["device"]["name"]
                self.assertEqual(name, login.encode()[:128].decode("utf-8", "ignore"))
                self.assertCleanRequests()

    def test_device_ids_that_are_not_ids_never_reach_a_url(self):
        uid_devs = self.sim.add_user("dora", devices=[{"name": "a"}])["deviceIds"]
        for dev in ("..", ".", "../users", "a/b", "%2e%2e", "a?b=c", "x" * 200, b"a\r\nb"):
            for action in ("lock", "delete"):
                with self.subTest(dev=dev, action=action):
                    self.sim.ctl("DELETE", "requests")
                    rc, out, err = self.run_ctl("device", action, "dora", dev)
                    self.assertEqual(rc, 2, err)
                    self.assertIn("DEVICE-ID", err)
                    self.assertNoControls(err)
                    self.assertEqual(self.sim.requests(), [])
        self.assertEqual([d["state"] for d in self.sim_user("dora")["devices"]], ["ACTIVE"])
        rc, out, err = self.run_ctl("device", "lock", "dora", uid_devs[0])
        self.assertEqual(rc, 0, err)

    # ---- text from the API ---------------------------------------------------------------
    def test_user_and_device_text_from_the_api(self):
        self.sim.add_user("dora", segment="seg\x1b[5m",
                          attributes={"fullName": "\x1b]0;pwned\x07Dora\r\nstate        LOCKED",
                                      "key": "\x1b[31mv\u009b2J\u0085"},
                          devices=[{"name": "\x1b[2J\r\nevil\u009b1m"}])
        for args in (["user", "show", "dora"], ["device", "list", "dora"]):
            with self.subTest(args=args):
                rc, out, err = self.run_ctl(*args)
                self.assertEqual(rc, 0, err)
                self.assertNoControls(out + err)
                self.assertNotRegex(out, r"(?m)^state +LOCKED")   # no forged line
                rc, out, err = self.run_ctl(*args, json_out=True)
                self.assertEqual(rc, 0, err)
                self.assertNoControls(json.dumps(json.loads(out), ensure_ascii=False))
        rc, out, err = self.run_ctl("user", "show", "dora")
        self.assertIn("fullName=]0;pwnedDorastate        LOCKED", out)
        self.assertIn("key=[31mv2J", out)
        self.assertIn("segment      seg[5m", out)
        self.assertRegex(out, r"ACTIVE +\[2Jevil1m")
        # and on a terminal
        out = run_on_pty([CTL, "-c", self.conf, "user", "show", "dora"])
        self.assertNotIn("\x1b", out)

    def test_failure_text_from_the_api(self):
        self.sim.add_user("fred")
        self.sim.policy("fred", "fail", after_ms=100,
                        errorCode="EVIL\r\nResult: approved\x1b[31m\u0085")
        for json_out in (False, True):
            rc, out, err = self.run_ctl("test", "fred", json_out=json_out)
            self.assertEqual(rc, 1, err)
            self.assertNoControls(out + err)
            self.assertNotRegex(out + err, r"(?m)^Result: approved")
            self.assertIn("EVILResult: approved[31m", err)
        self.sim.fault(method="GET", path="/users/[^/]+$", status=503, body=json.dumps(
            {"code": "bad\u001b]0;title\u0007", "status": 503, "title": "t\r\nx",
             "traceId": "../../x\r\n", "detail": "line1\nline2\u0085\u009b2J"}))
        rc, out, err = self.run_ctl("user", "show", "fred")
        self.assertEqual(rc, 4, err)
        self.assertNoControls(out + err)
        self.assertIn("bad]0;title", err)
        self.assertNotIn("../../x", err)

    def test_registration_text_from_the_api(self):
        self.sim.add_user("gina", devices=[])
        p = self.spawn("enroll", "gina")
        op = self.wait_pending("REGISTRATION", "gina")
        tid = op["transactionId"]
        # the next state poll answers a COMPLETED registration whose device
        # name is hostile
        self.sim.fault(method="GET", path="/registrations/", status=200, body=json.dumps({
            "transactionId": tid, "state": "COMPLETED",
            "operationProperties": {"activationCode": "123456"},
            "device": {"id": "dev-1", "name": "\x1b[2Jphone\r\nDevice registered: fake\u009b"}}))
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        self.assertNoControls(out + err)
        self.assertIn('Device registered: dev-1 "[2JphoneDevice registered: fake"', out)
        self.assertEqual(len(re.findall(r"(?m)^Device registered", out)), 1)
        self.sim.answer(transactionId=tid, action="deny")   # the sim's own is still pending


if __name__ == "__main__":
    main()
