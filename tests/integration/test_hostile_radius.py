#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile input at the RADIUS boundary of rlm_mobileid, in a real
FreeRADIUS 3.2 with the simulator as backend and tests/radius/radius.py as a
NAS that sends any bytes: User-Name with CR/LF, other control bytes, a NUL,
quotes, %, xlat syntax, /, .., invalid UTF-8 and the longest attribute (253
bytes); hostile Calling-Station-Id and NAS-Identifier; a State that is
garbage, too long or another user's.  Each request is refused (Access-Reject,
no API call, one escaped log line naming the operation) or its values reach
the API exactly (JSON-escaped), the phone-side context and Reply-Message
without control characters, and the server's log without forged lines or
fields.  The PAM side of the same inputs: test_hostile.py."""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "radius"))
import harness  # noqa: E402
import freeradius as fr  # noqa: E402
import radius  # noqa: E402
from tap import main  # noqa: E402
from test_hostile import fields  # noqa: E402
from test_radius import ServerCase, starts, wait_for  # noqa: E402

REFUSED = "control characters or invalid UTF-8"
# "... : Info: (12) mobileid_challenge: WARNING: user=..." -> the module's text
LINE_HEAD = r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} : \w+: "
MODULE_LINE = re.compile(LINE_HEAD + r"\(\d+\) (mobileid\w*): (?:WARNING: |ERROR: )?(.*)$")


class HostileRadius(ServerCase):
    """One simulator and one threaded radiusd: push after password, challenge
    mode, and a user_name template naming two attributes (one in lower case:
    names are case-insensitive)."""

    tmp_prefix = "mobileid-rlm-hostile-"

    @classmethod
    def start_server(cls):
        cls.cache = os.path.join(cls.tmp, "cache")
        os.mkdir(cls.cache, 0o700)
        # the user name and the station in everything the module writes
        # (a file: "\\n" in an inline item would reach the library escaped)
        conf = os.path.join(cls.tmp, "mobileid.conf")
        harness.write_file(conf, harness.config_text(
            cls.sim, cls.cache, auth_message="Hello %u from %r, code %c",
            auth_context_title="Login %u@%h",
            auth_context_content="User: %u\\nFrom: %r\\nCode: %c",
            auth_poll_interval="200ms"))
        cls.ports = {k: fr.free_port() for k in ("push", "chal", "tmpl")}
        modules = "\n".join([
            fr.module_section("push", config_file=conf),
            fr.module_section("chal", mode="challenge", instance="mobileid_challenge",
                              config_file=conf),
            fr.module_section("tmpl", instance="mobileid_tmpl", config_file=conf,
                              user_name="%{User-Name}/%{nas-identifier}"),
        ])
        servers = "".join([
            fr.push_server("push", cls.ports["push"], "mobileid"),
            fr.challenge_server("chal", cls.ports["chal"], "mobileid_challenge"),
            fr.push_server("tmpl", cls.ports["tmpl"], "mobileid_tmpl"),
        ])
        cls.radiusd = fr.Radiusd(modules, servers, max_request_time=30, threads=16)
        cls.radiusd.start()

    def setUp(self):
        super().setUp()
        self.sim.reset()

    # ---- helpers -----------------------------------------------------------------------
    def log_bytes(self):
        with open(self.radiusd.logpath, "rb") as f:
            return f.read()

    def send(self, port_name, user, password="pw", wait_line=" result=", **kw):
        """One Access-Request; (reply, the server's log lines it caused).
        The log is read until a module line containing wait_line came."""
        mark = len(self.log_bytes())
        rep = radius.Client(self.ports[port_name]).request(user, password, timeout=20, **kw)
        self.assertIsNotNone(rep, "no reply")
        lines = wait_for(lambda: self.module_lines(mark, wait_line), 5)
        self.assertTrue(lines, "no log line with %r:\n%s" % (wait_line, self.log_bytes()[mark:]))
        return rep, self.clean_log(mark)

    def module_lines(self, mark, wait_line):
        data = self.log_bytes()[mark:]
        if not data.endswith(b"\n"):
            return None
        lines = [m.group(2) for m in map(MODULE_LINE.match,
                                         data.decode("utf-8", "replace").splitlines()) if m]
        return lines if any(wait_line in l for l in lines) else None

    def clean_log(self, mark):
        """The log since mark: every line a whole server line (date, level),
        valid UTF-8, no control characters (C0 but tab, DEL, C1).  Returns
        the module's text of each module line."""
        data = self.log_bytes()[mark:]
        out = []
        for raw in data.split(b"\n")[:-1]:
            line = raw.decode("utf-8")   # raises on invalid UTF-8
            self.assertRegex(line, LINE_HEAD, "a value broke the line: %r" % line)
            bad = [c for c in line if (ord(c) < 0x20 and c != "\t") or 0x7f <= ord(c) <= 0x9f]
            self.assertEqual(bad, [], "control characters in %r" % line)
            m = MODULE_LINE.match(line)
            if m:
                out.append(m.group(2))
        return out

    def attempts(self, lines):
        """The lines that are key=value fields only, parsed (other module
        lines are free text after user= and op=)."""
        out = []
        for l in lines:
            try:
                f = fields("(x): " + l)
            except AssertionError:
                continue
            if "result" in f:
                out.append(f)
        return out

    def attempt(self, lines):
        a = self.attempts(lines)
        self.assertEqual(len(a), 1, "not one attempt line in %r" % lines)
        return a[0]

    def api_posts(self):
        """What reached the API beyond the token: resolves and pushes."""
        return [r for r in self.sim.requests()
                if r["method"] == "POST" and not r["path"].endswith("/token")]

    def checked_requests(self):
        return harness.clean_requests(self, self.sim)

    def resolved(self):
        return [q["body"]["externalRef"] for q in self.checked_requests()
                if q["path"].endswith("/users/resolve") and q["status"] != 401]

    def context(self, ref):
        s = starts(self.sim, ref)
        self.assertEqual(len(s), 1, "not one push for %r" % ref)
        return s[0]["body"]["operationProperties"]["preOperationContext"]

    def approve(self, ref):
        self.sim.add_user(ref, policy=dict(action="approve", after_ms=50))

    def assertRefused(self, rep, lines, shown, reason=REFUSED, op="push", posts_before=()):
        self.assertEqual(rep.code, radius.ACCESS_REJECT, rep)
        self.assertEqual(self.api_posts(), list(posts_before), "a refused name reached the API")
        f = self.attempt(lines)
        self.assertEqual((f["user"], f["op"], f["result"], f["rcode"]),
                         (shown, op, "user unknown", "invalid"))
        self.assertIn(reason, f["reason"])

    def assertApproved(self, rep, lines, user):
        self.assertEqual(rep.code, radius.ACCESS_ACCEPT, rep)
        self.assertEqual(self.resolved(), [user])
        f = self.attempt(lines)
        self.assertEqual((f["user"], f["op"], f["result"]), (user, "push", "approved"))
        ctx = self.context(user)
        # the title is cut to the API's limit, on a character
        head = "Login %s@" % user
        self.assertTrue(ctx["title"].startswith(head) or head.startswith(ctx["title"]),
                        ctx["title"])
        self.assertTrue(ctx["content"].startswith("User: %s\nFrom: " % user), ctx["content"])

    # ---- User-Name -------------------------------------------------------------------
    def test_cr_lf_is_refused_not_altered(self):
        # Neither the name with the CR LF stripped nor the one FreeRADIUS
        # prints for it (backslash r backslash n) may be used.
        for user in (b"eve\r\nmallory", b"eve\nmallory", b"eve\rmallory"):
            with self.subTest(user=user):
                self.sim.reset()
                self.approve("evemallory")
                self.approve(r"eve\r\nmallory")
                rep, lines = self.send("push", user)
                self.assertRefused(rep, lines, "evemallory")

    def test_other_control_bytes_are_refused(self):
        for user, shown in ((b"tab\x1b[2Jclear", "tab[2Jclear"), (b"bell\x07", "bell"),
                            (b"del\x7f", "del"), (b"vt\x0bff\x0c", "vtff"),
                            ("csi\u009b31m".encode(), "csi31m"), (b"\x1b]0;title\x07x", "]0;titlex")):
            with self.subTest(user=user):
                self.sim.reset()
                self.approve(shown)
                rep, lines = self.send("push", user)
                self.assertRefused(rep, lines, shown)

    def test_nul_byte_is_refused_not_truncated(self):
        self.approve("nul")
        rep, lines = self.send("push", b"nul\x00mallory")
        self.assertRefused(rep, lines, "nul", reason="a NUL byte (in User-Name)")
        # One NUL at the end is the terminator some NASes count: the same
        # name for FreeRADIUS and every module, so it is not refused.
        rep, lines = self.send("push", b"nul\x00")
        self.assertApproved(rep, lines, "nul")

    def test_invalid_utf8_is_refused(self):
        for user, shown in ((b"bad\xffname", "bad?name"), (b"trunc\xc3", "trunc?"),
                            (b"overlong\xc0\xaf", "overlong??"),
                            (b"surrogate\xed\xa0\x80", "surrogate???")):
            with self.subTest(user=user):
                self.sim.reset()
                self.approve(shown)   # the mangled form must not be used
                rep, lines = self.send("push", user)
                self.assertRefused(rep, lines, shown)

    def test_quotes_and_backslashes_arrive_verbatim(self):
        # FreeRADIUS' own expansion would send o\"brien's\\x
        user = "o\"brien's\\x"
        self.approve(user)
        rep, lines = self.send("push", user)
        self.assertApproved(rep, lines, user)

    def test_percent_and_xlat_syntax_are_not_expanded(self):
        user = "100%u%s%%%c%n%x%{User-Name}${confdir}"
        self.approve(user)
        rep, lines = self.send("push", user)
        self.assertApproved(rep, lines, user)

    def test_slash_and_dot_dot_stay_inside_the_json(self):
        user = "../../etc/passwd"
        self.approve(user)
        rep, lines = self.send("push", user)
        self.assertApproved(rep, lines, user)
        # cache and guard files are named by a hash, inside their directories
        for d in (self.cache, os.path.join(self.tmp, "state")):
            for name in os.listdir(d) if os.path.isdir(d) else []:
                self.assertRegex(name, r"^([a-z]+-)?[0-9a-f]{16}\.(json|lock)$",
                                 "unexpected file %s in %s" % (name, d))
        self.assertLessEqual(set(os.listdir(self.tmp)), {"cache", "state", "mobileid.conf"})

    def test_253_bytes_is_the_longest_attribute(self):
        for user in ("u" * 253, "\u00e9" * 126 + "u"):
            with self.subTest(length=len(user)):
                self.assertEqual(len(user.encode()), 253)
                self.sim.reset()
                self.approve(user)
                rep, lines = self.send("push", user)
                self.assertApproved(rep, lines, user)

    def test_blanks_cannot_forge_log_fields(self):
        self.check_no_forged_fields(["x result=approved rcode=ok", "a=b", "trace=1 x"])

    def test_quotes_cannot_forge_log_fields(self):
        # the name also reaches reason="..." (resolve externalRef: '...' is
        # not enrolled): '"' and '\\' are escaped there too
        self.check_no_forged_fields(['y" result="approved', 'z\\" result=approved x=\\'])

    def check_no_forged_fields(self, users):
        for user in users:
            with self.subTest(user=user):
                self.sim.reset()
                rep, lines = self.send("push", user)
                self.assertEqual(rep.code, radius.ACCESS_REJECT, rep)
                f = self.attempt(lines)
                self.assertEqual((f["user"], f["result"], f["rcode"]),
                                 (user, "user unknown", "reject"))
                self.assertIn("'%s' is not enrolled" % user, f["reason"])
                self.assertEqual(self.resolved(), [user])

    # ---- a user_name template naming two attributes ------------------------------------
    def test_template_nul_in_another_attribute(self):
        self.approve("tina/nas")
        rep, lines = self.send("tmpl", "tina", nas_identifier=b"nas\x00evil")
        self.assertRefused(rep, lines, "tina/nas", reason="a NUL byte (in NAS-Identifier)")
        rep, lines = self.send("tmpl", "tina", nas_identifier=b"nas")
        self.assertEqual(rep.code, radius.ACCESS_ACCEPT, rep)
        self.assertEqual(self.resolved(), ["tina/nas"])

    def test_template_longer_than_255_bytes_is_refused_not_cut(self):
        user, nas = "v" * 200, "n" * 100
        self.approve((user + "/" + nas)[:255])   # what a cut name would be
        rep, lines = self.send("tmpl", user, nas_identifier=nas)
        self.assertRefused(rep, lines, (user + "/" + nas)[:255],
                           reason="the user name is longer than 255 bytes")

    # ---- other attributes --------------------------------------------------------------
    def test_hostile_calling_station_and_nas_identifier(self):
        """Calling-Station-Id is %r in the context (control characters
        stripped, as pam_mobileid does with PAM_RHOST); NAS-Identifier goes
        nowhere; neither reaches the log raw."""
        self.approve("rita")
        station = b"10.0.0.1\r\nInjected: yes\x1b[2J\xc2\x9b\"q\\\xff"
        nas = b"nas\r\nuser=root result=approved\x1b[31m"
        rep, lines = self.send("push", "rita", calling_station=station, nas_identifier=nas)
        self.assertEqual(rep.code, radius.ACCESS_ACCEPT, rep)
        ctx = self.context("rita")
        self.assertEqual(ctx["content"].split("\n")[1], 'From: 10.0.0.1Injected: yes[2J"q\\?')
        self.assertNotIn("user=root", repr(self.checked_requests()))
        self.assertEqual(self.attempt(lines)["result"], "approved")

    def test_253_byte_hostile_calling_station(self):
        self.approve("sven")
        station = (b"\x1b[2J\r\n\"\\\xff%s" * 40)[:253]
        rep, lines = self.send("push", "sven", calling_station=station)
        self.assertEqual(rep.code, radius.ACCESS_ACCEPT, rep)
        self.assertEqual(self.attempt(lines)["result"], "approved")
        content = self.context("sven")["content"]
        self.assertFalse([c for c in content if ord(c) < 0x20 and c != "\n"], repr(content))
        self.checked_requests()

    # ---- challenge mode and State ------------------------------------------------------
    def test_challenge_reply_message_is_clean(self):
        self.sim.add_user("chuck")   # never answered: we answer below
        station = b"10.0.0.1\r\nInjected\x1b[2J\xc2\x9b\xff"
        rep, lines = self.send("chal", "chuck", calling_station=station, wait_line="challenged")
        self.assertEqual(rep.code, radius.ACCESS_CHALLENGE, rep)
        text = b"".join(v for t, v in rep.attrs if t == radius.REPLY_MESSAGE).decode("utf-8")
        self.assertRegex(text, r"^Hello chuck from 10\.0\.0\.1Injected\[2J\?, code \d{4}, "
                               r"then press Enter\.$")
        self.sim.answer(externalRef="chuck", action="approve")
        done, _ = self.send("chal", "chuck", "", state=rep.state, calling_station=station)
        self.assertEqual(done.code, radius.ACCESS_ACCEPT, done)

    def test_garbage_state_is_refused_without_a_push(self):
        self.approve("sam")
        for state in (os.urandom(16), (b"\r\n\x1b[2J\"\\\xff" * 40)[:253], b"x"):
            with self.subTest(length=len(state)):
                self.sim.reset()
                self.approve("sam")
                rep, lines = self.send("chal", "sam", "", state=state, wait_line="State")
                self.assertEqual(rep.code, radius.ACCESS_REJECT, rep)
                self.assertEqual(self.api_posts(), [])
                self.assertIn("user=sam op=challenge-response the State (%d bytes) is not one "
                              "of ours" % len(state), "\n".join(lines))

    def test_state_of_another_user_is_refused(self):
        owner = 'ann"a b'
        self.sim.add_user(owner)
        rep, _ = self.send("chal", owner, wait_line="challenged")
        self.assertEqual(rep.code, radius.ACCESS_CHALLENGE, rep)

        # a name with blanks and quotes, then one with CR LF, with her State
        other = 'x" result=approved'
        self.sim.add_user(other, policy=dict(action="approve", after_ms=0))
        bad, lines = self.send("chal", other, "", state=rep.state)
        self.assertEqual(bad.code, radius.ACCESS_REJECT, bad)
        self.assertIn('the State belongs to another user or NAS (user="ann\\"a b" '
                      'client=127.0.0.1)', "\n".join(lines))
        f = self.attempt(lines)
        self.assertEqual((f["user"], f["op"], f["result"]), (other, "challenge-response", "expired"))
        posts = self.api_posts()
        bad, lines = self.send("chal", b"ann\r\na b", "", state=rep.state)
        self.assertRefused(bad, lines, "anna b", op="challenge-response", posts_before=posts)

        # her push is still pending, and hers to answer
        self.assertEqual(len([p for p in self.sim.pending() if p["externalRef"] == owner]), 1)
        self.assertEqual(starts(self.sim, other), [])
        self.sim.answer(externalRef=owner, action="approve")
        done, lines = self.send("chal", owner, "", state=rep.state)
        self.assertEqual(done.code, radius.ACCESS_ACCEPT, done)
        self.assertEqual(self.attempt(lines)["user"], owner)


if __name__ == "__main__":
    main()
