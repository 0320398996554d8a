#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile input at every boundary of pam_mobileid: user names with CR/LF,
quotes, %, /, .., 4 KiB and invalid UTF-8, a hostile remote host, and
hostile text from the API.  Each is escaped where it goes (JSON bodies,
URLs, syslog lines, what the user sees) or the login is refused before any
request; nothing is silently turned into another user's identity."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

# What may appear in a request path or query the module sends.
C1 = re.compile(r"[\x80-\x9f]")


def fields(line):
    """The key=value fields of an attempt line, values unquoted ("..." with
    \\" and \\\\ escapes; an unquoted value runs to the next " key=").  A key
    seen twice, or text that is not a field, fails: no value may pass for
    fields of its own."""
    text = line.split("): ", 1)[1]
    out, i = {}, 0
    while i < len(text):
        m = re.compile(r"([a-z_]+)=").match(text, i)
        if not m:
            raise AssertionError("not a field at %r in %r" % (text[i:], line))
        key, i = m.group(1), m.end()
        if text.startswith('"', i):
            val, i = "", i + 1
            while i < len(text) and text[i] != '"':
                if text[i] == "\\" and i + 1 < len(text):
                    i += 1
                val += text[i]
                i += 1
            if i >= len(text):
                raise AssertionError("unterminated quote in %r" % line)
            i += 1
        else:
            # unquoted: up to the next " key=" (result= and pam= hold blanks)
            m = re.compile(r" [a-z_]+=").search(text, i)
            j = m.start() if m else len(text)
            val, i = text[i:j], j
        if key in out:
            raise AssertionError("field %s twice in %r" % (key, line))
        out[key] = val
        if i < len(text):
            if text[i] != " ":
                raise AssertionError("text after a quoted value in %r" % line)
            i += 1
    return out


def raw(s):
    """A user name as the bytes pamtester gets ("\udcff" is the byte 0xff)."""
    return os.fsencode(s)


class HostileCase(harness.PamSimCase):
    def setUp(self):
        super().setUp()
        # The user name and remote host in everything the module writes.
        self.env.write_conf(self.sim, auth_message="Hello %u from %r, code %c",
                            auth_context_title="Login %u@%h",
                            auth_context_content="User: %u\\nFrom: %r\\nCode: %c")

    def login(self, user, **kw):
        return self.env.run(user, **kw)

    # ---- checks ----
    def assertCleanSyslog(self, r):
        """Every syslog line of the run r: one message per line, no control
        characters (C0, DEL, C1), valid UTF-8."""
        with open(r.syslog_file, "rb") as f:
            data = f.read()
        self.assertTrue(data, "nothing was logged")
        for line in data.split(b"\n"):
            if not line:
                continue
            self.assertRegex(line, rb"^<\d+> ", "a message broke the line: %r" % line)
            text = line.decode("utf-8")   # raises on invalid UTF-8
            bad = [c for c in text if (ord(c) < 0x20 and c != "\t") or ord(c) == 0x7f]
            self.assertEqual(bad, [], "control characters in %r" % line)
            self.assertIsNone(C1.search(text), "C1 control in %r" % line)
        return data.decode("utf-8")

    def assertCleanRequests(self):
        return harness.clean_requests(self, self.sim)

    def assertCleanOutput(self, r):
        for c in r.out:
            self.assertFalse((ord(c) < 0x20 and c not in "\t\n") or ord(c) == 0x7f
                             or 0x80 <= ord(c) <= 0x9f, "control character in %r" % r.out)

    def assertRefused(self, r, user_in_log):
        self.assertNotEqual(r.rc, 0)
        self.assertEqual(self.sim.requests(), [], "a refused name reached the API")
        text = self.assertCleanSyslog(r)
        f = fields(r.attempt_line())
        self.assertEqual(f["result"], "user unknown")
        self.assertEqual(f["user"], user_in_log)
        self.assertIn("control characters or invalid UTF-8", f["reason"])
        self.assertCleanOutput(r)
        return text

    def resolved(self):
        """The externalRefs the module asked the API to resolve (a 401 after
        sim.reset() made the cached token stale is retried: not counted)."""
        return [q["body"]["externalRef"] for q in self.assertCleanRequests()
                if q["path"].endswith("/users/resolve") and q["status"] != 401]

    def approve(self, ref):
        self.sim.add_user(ref)
        self.sim.policy(ref, "approve", after_ms=50)


class HostileUserNames(HostileCase):
    def test_cr_lf_is_refused_not_stripped(self):
        # "eve\r\nmallory" must not become "evemallory", another user
        self.approve("evemallory")
        r = self.login("eve\r\nmallory")
        self.assertRefused(r, "evemallory")

    def test_other_controls_are_refused(self):
        for user in ("tab\x1b[2Jclear", "bell\x07", "del\x7f", "nul-less\x0bvt",
                     "csi\u009b31m"):
            with self.subTest(user=user):
                self.sim.reset()
                r = self.login(user)
                self.assertNotEqual(r.rc, 0)
                self.assertEqual(self.sim.requests(), [])
                self.assertCleanSyslog(r)
                self.assertIn("control characters or invalid UTF-8", r.attempt_line())

    def test_invalid_utf8_is_refused(self):
        for user, shown in (("bad\udcffname", "bad?name"), ("trunc\udcc3", "trunc?"),
                            ("overlong\udcc0\udcaf", "overlong??"),
                            ("surrogate\udced\udca0\udc80", "surrogate???")):
            with self.subTest(user=user):
                self.sim.reset()
                self.approve(shown)   # the mangled form must not be used
                r = self.login(raw(user))
                self.assertRefused(r, shown)

    def test_quotes_are_json_escaped(self):
        user = "o\"brien's\\x"
        self.approve(user)
        r = self.login(user)
        self.assertEqual(r.rc, 0, r.out + r.err)
        reqs = self.assertCleanRequests()
        resolve = [q for q in reqs if q["path"].endswith("/users/resolve")]
        self.assertEqual(resolve[0]["body"], {"externalRef": user})
        start = [q for q in reqs if q["path"].endswith("/authentications")][0]
        ctx = start["body"]["operationProperties"]["preOperationContext"]
        self.assertTrue(ctx["title"].startswith("Login %s@" % user))
        self.assertIn("User: %s\n" % user, ctx["content"])
        self.assertIn("Hello %s from " % user, r.out)
        self.assertCleanSyslog(r)
        f = fields(r.attempt_line())
        self.assertEqual((f["user"], f["externalref"], f["result"]), (user, user, "approved"))

    def test_percent_is_not_expanded_again(self):
        user = "100%u%s%%%c%n%x"
        self.approve(user)
        r = self.login(user)
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertEqual(self.resolved(), [user])
        self.assertIn("Hello %s from " % user, r.out)
        self.assertCleanSyslog(r)
        self.assertEqual(fields(r.attempt_line())["user"], user)

    def test_slash_and_dot_dot_stay_inside_the_json(self):
        user = "../../etc/passwd"
        self.approve(user)
        r = self.login(user)
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertEqual(self.resolved(), [user])
        # cache and guard files are named by a hash, inside their directories
        for d in (self.env.cache, os.path.join(self.env.dir, "state")):
            for name in os.listdir(d) if os.path.isdir(d) else []:
                self.assertRegex(name, r"^([a-z]+-)?[0-9a-f]{16}\.(json|lock)$",
                                 "unexpected file %s in %s" % (name, d))
        for name in os.listdir(self.env.dir):
            self.assertRegex(name, r"^(cache|services|mobileid\.conf|state|syslog-\w+)$")
        self.assertCleanSyslog(r)

    def test_url_path_from_hostile_user_is_escaped(self):
        # a user name is only ever sent in a JSON body; the ids that go into
        # URLs come from the API and are checked.  With %u in the message and
        # a name full of URL syntax, no request path is built from it.
        user = "a b?c=d&e#f/%2e%2e"
        self.approve(user)
        r = self.login(user)
        self.assertEqual(r.rc, 0, r.out + r.err)
        reqs = self.assertCleanRequests()
        self.assertFalse([q for q in reqs if "b?c" in q["path"] or "%2e" in q["path"]])

    def test_255_bytes_is_the_longest_externalref(self):
        user = "u" * 255
        self.approve(user)
        r = self.login(user)
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertEqual(self.resolved(), [user])
        r = self.login("u" * 256)
        self.assertNotEqual(r.rc, 0)
        self.assertIn("externalRef is empty or too long", r.attempt_line())

    def test_4k_name_is_refused_and_logged_short(self):
        user = "A" * 4096
        r = self.login(user)
        self.assertNotEqual(r.rc, 0)
        self.assertEqual(self.sim.requests(), [])
        line = r.attempt_line()
        self.assertIn(" result=user unknown ", line)
        self.assertIn("externalRef is empty or too long", line)
        self.assertLess(len(line), 2048)
        text = self.assertCleanSyslog(r)
        self.assertNotIn("A" * 300, text)

    def test_4k_multibyte_name_is_cut_on_a_character(self):
        user = "\u00e9" * 2048   # 4 KiB of "é"
        r = self.login(user)
        self.assertNotEqual(r.rc, 0)
        self.assertEqual(self.sim.requests(), [])
        self.assertCleanSyslog(r)   # valid UTF-8: no character was split

    def test_long_name_of_3_byte_characters_is_refused_not_cut(self):
        # 255 is not a multiple of 2: "\u00e9" * 128 is cut to 256 bytes and
        # refused, but a cut of 3-byte characters lands on 255 bytes, a
        # shorter name that must not be used
        self.approve("\u20ac" * 85)
        for user in ("\u20ac" * 85 + "x", "\u20ac" * 1400):
            with self.subTest(length=len(user.encode())):
                self.sim.reset()
                self.approve("\u20ac" * 85)
                r = self.login(user)
                self.assertNotEqual(r.rc, 0)
                self.assertEqual(self.sim.requests(), [])
                self.assertIn("externalRef is empty or too long", r.attempt_line())
                self.assertCleanSyslog(r)

    def test_blanks_cannot_forge_log_fields(self):
        # a clean name (no control characters) with blanks and '='
        self.check_no_forged_fields(['x result=approved pam=Success', 'a=b', 'trace=1 x'])

    def test_quotes_cannot_forge_log_fields(self):
        # The name also reaches reason="..." (resolve externalRef: '...' is
        # not enrolled): '"' and '\\' are escaped there too.
        self.check_no_forged_fields(['y" result="approved', 'z\\" result=approved x=\\'])

    def check_no_forged_fields(self, users):
        for user in users:
            with self.subTest(user=user):
                self.sim.reset()
                r = self.login(user)
                self.assertNotEqual(r.rc, 0)
                f = fields(r.attempt_line())
                self.assertEqual((f["user"], f["result"]), (user, "user unknown"))
                self.assertEqual(self.resolved(), [user])


class HostileRemoteHost(HostileCase):
    def test_rhost_controls_are_stripped_everywhere(self):
        self.approve("rita")
        rhost = "10.0.0.1\r\nInjected: yes\x1b[2J\u009b"
        r = self.login("rita", items={"rhost": rhost})
        self.assertEqual(r.rc, 0, r.out + r.err)
        reqs = self.assertCleanRequests()
        start = [q for q in reqs if q["path"].endswith("/authentications")][0]
        content = start["body"]["operationProperties"]["preOperationContext"]["content"]
        self.assertIn("From: 10.0.0.1Injected: yes[2J\n", content)
        self.assertIn("from 10.0.0.1Injected: yes[2J, code", r.out)
        self.assertCleanSyslog(r)
        self.assertEqual(fields(r.attempt_line())["rhost"], "10.0.0.1Injected: yes[2J")
        self.assertCleanOutput(r)


class HostileAnswers(HostileCase):
    def test_error_code_and_description_from_the_phone(self):
        self.sim.add_user("fred")
        self.sim.policy("fred", "fail", after_ms=50,
                        errorCode="EVIL\r\nuser=root result=approved\x1b[31m\u0085")
        r = self.login("fred")
        self.assertNotEqual(r.rc, 0)
        f = fields(r.attempt_line())
        self.assertEqual(f["result"], "denied")
        self.assertIn("EVILuser=root result=approved[31m", f["reason"])
        self.assertCleanSyslog(r)
        self.assertCleanOutput(r)

    def test_quotes_from_the_api_stay_inside_the_reason(self):
        # Text from the API cannot end reason="..." and add fields.
        self.sim.add_user("hank")
        self.sim.policy("hank", "fail", after_ms=50,
                        errorCode='Q" result=approved pam=Success x="\\')
        r = self.login("hank")
        self.assertNotEqual(r.rc, 0)
        f = fields(r.attempt_line())
        self.assertEqual(f["result"], "denied")
        self.assertIn('Q" result=approved pam=Success x="\\', f["reason"])
        self.assertCleanSyslog(r)

    def test_error_body_of_a_failed_call(self):
        self.sim.add_user("gail")
        body = json.dumps({"code": "bad\u001b]0;title\u0007", "status": 503,
                           "title": "t\r\nx", "traceId": "../../x\r\n",
                           "detail": "line1\nline2\u0085\u009b2J"})
        self.sim.fault(method="POST", path="/authentications$", status=503, body=body, count=-1)
        r = self.login("gail")
        self.assertNotEqual(r.rc, 0)
        f = fields(r.attempt_line())
        self.assertIn("HTTP 503, bad]0;title: line1line22J", f["reason"])
        # the body's traceId is not an id: the header's is used
        self.assertRegex(f["trace"], r"^[0-9a-f]{32}$")
        self.assertCleanSyslog(r)
        self.assertCleanOutput(r)


if __name__ == "__main__":
    main()
