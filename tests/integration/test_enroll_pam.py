#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pam_mobileid with [auth] unenrolled = enroll: an unenrolled login is shown a
Namirial VerifID self-enrollment link (created on demand, at most one new
link per user per link_interval) and still fails.  pamtester under
pam_wrapper, accounts from nss_wrapper, the simulator's VerifID endpoint."""
import os
import re
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

TOKEN = "verifid-token-pam-tests"
PROFILE = "PamProfile"
URL_RE = re.compile(r"https://127\.0\.0\.1:\d+/enrollment/start/[0-9a-f-]{36}")
USERS = {"uma": "Uma Thurman,,,", "vic": "Victor Hugo", "oneword": "Mononym"}


def nss_wrapper_lib():
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/lib/aarch64-linux-gnu"):
        p = os.path.join(d, "libnss_wrapper.so")
        if os.path.exists(p):
            return p
    return ""


class EnrollLink(harness.PamSimCase):
    @classmethod
    def setUpClass(cls):
        harness.require(nss_wrapper_lib(), "nss_wrapper (libnss-wrapper) not installed")
        super().setUpClass()
        cls.sim.ctl("POST", "verifid/tokens", {"token": TOKEN})
        cls.sim.ctl("POST", "verifid/profiles", {"profile": PROFILE})

    def setUp(self):
        super().setUp()
        self.over = dict(auth_unenrolled="enroll", verifid_url=self.sim.base + "/api/v1",
                         verifid_api_token=TOKEN, verifid_profile=PROFILE,
                         verifid_email="%u@corp.example", verifid_link_interval="10m")
        self.env.write_conf(self.sim, **self.over)
        passwd = os.path.join(self.env.dir, "passwd")
        group = os.path.join(self.env.dir, "group")
        with open(passwd, "w") as f:
            for i, (name, gecos) in enumerate(sorted(USERS.items())):
                f.write("%s:x:%d:%d:%s:/nonexistent:/bin/false\n" % (name, 61300 + i, 61300 + i, gecos))
        with open(group, "w") as f:
            for i, name in enumerate(sorted(USERS)):
                f.write("%s:x:%d:\n" % (name, 61300 + i))
        preload = "%s:%s:%s" % (harness.PAM_WRAPPER_LIB, harness.SYSLOGCAP, nss_wrapper_lib())
        if harness.SANITIZER_PRELOAD:
            preload = harness.SANITIZER_PRELOAD + ":" + preload
        self.nss = {"LD_PRELOAD": preload, "NSS_WRAPPER_PASSWD": passwd, "NSS_WRAPPER_GROUP": group}

    def login(self, user, **over):
        if over:
            self.env.write_conf(self.sim, **dict(self.over, **over))
        return self.env.run(user, env=self.nss)

    def enrollments(self):
        return self.sim.ctl("GET", "verifid/enrollments")

    def test_link_shown_and_login_fails(self):
        r = self.login("uma")
        self.assertNotEqual(r.rc, 0, r.out + r.err)
        self.assertIn(" result=user unknown ", r.attempt_line())
        e = self.enrollments()
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["request"], {"Profile": PROFILE, "Language": "en",
                                           "Email": "uma@corp.example", "FirstName": "Uma",
                                           "LastName": "Thurman"})
        url = e[0]["enrollment"]["EnrollUrl"]
        self.assertIn("not enrolled for MobileID yet", r.out)
        self.assertIn(url, r.out)
        # instead of the bare failure message
        self.assertNotIn("contact your administrator", r.out)
        log = "\n".join(r.syslog)
        self.assertRegex(log, r"user=uma enrollment link created \(trace [0-9a-f]{16,}\)")
        self.assertNotIn(TOKEN, log)
        # the link is remembered root-only under cache_dir
        files = [f for f in os.listdir(self.env.cache) if f.startswith("enroll-")]
        self.assertEqual(len(files), 1)
        st = os.stat(os.path.join(self.env.cache, files[0]))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)

    def test_rate_limited_per_user(self):
        first = self.login("uma")
        url = URL_RE.search(first.out).group(0)
        again = self.login("uma")
        self.assertIn(url, again.out)
        self.assertEqual(len(self.enrollments()), 1)   # no new enrollment
        self.assertIn("user=uma enrollment link shown again", "\n".join(again.syslog))
        other = self.login("vic")
        self.assertEqual(len(self.enrollments()), 2)   # the limit is per user
        self.assertNotIn(url, other.out)
        self.assertEqual(self.enrollments()[1]["request"]["FirstName"], "Victor")

    def test_verifid_down(self):
        self.sim.ctl("POST", "verifid/outage", {"count": 1})
        r = self.login("uma")
        self.assertNotEqual(r.rc, 0)
        self.assertIsNone(URL_RE.search(r.out))
        self.assertIn("not enrolled for MobileID; contact your administrator", r.out)
        log = "\n".join(r.syslog)
        self.assertRegex(log, r"user=uma enrollment link: service unavailable: VerifID is "
                              r"unavailable \(HTTP 503.*\(trace [0-9a-f]{16,}\)")
        # nothing remembered: the next attempt creates the link
        r = self.login("uma")
        self.assertIsNotNone(URL_RE.search(r.out))
        self.assertEqual(len(self.enrollments()), 1)

    def test_incomplete_person(self):
        r = self.login("oneword")   # GECOS without a first name
        self.assertNotEqual(r.rc, 0)
        self.assertIsNone(URL_RE.search(r.out))
        self.assertIn("enrollment link: configuration error: no first and last name",
                      "\n".join(r.syslog))
        self.assertEqual(self.enrollments(), [])

    def test_deny_shows_no_link(self):
        r = self.login("uma", auth_unenrolled="deny")
        self.assertNotEqual(r.rc, 0)
        self.assertIsNone(URL_RE.search(r.out))
        self.assertEqual(self.enrollments(), [])

    def test_enrolled_user_gets_the_push(self):
        self.sim.add_user("vic")
        self.sim.policy("vic", "approve", after_ms=100)
        r = self.login("vic")
        self.assertEqual(r.rc, 0, r.out + r.err)
        self.assertEqual(self.enrollments(), [])

    def test_no_cache_dir(self):
        r = self.login("uma", signicat_cache_dir="")
        self.assertNotEqual(r.rc, 0)
        self.assertIsNone(URL_RE.search(r.out))
        self.assertIn("cache_dir: needed for the enrollment link rate limit", "\n".join(r.syslog))
        self.assertEqual(self.enrollments(), [])


if __name__ == "__main__":
    main()
