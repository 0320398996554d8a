#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""DQE ID Mobile matching before the push (issue 5), end to end: pamtester under
pam_wrapper with the module from the build tree, the MobileID and DQE simulators on
127.0.0.1. Per-field thresholds, every vendor error id under both on_error settings,
token expiry (error 30), DQE down, the GECOS fallback (nss_wrapper, no root needed),
and that no push is started when matching denies."""
import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

LICENCE = "LIC-0042-test"
DQE_SECRET = "dqe-secret-for-tests-only"
PHONE = "+33612345678"
MASKED = "+33*******78"
USER_MSG = "Phone number verification failed; contact your administrator."
AUTH_ERR = "Authentication failure"
SERVICE_ERR = "Error in service module"
SUCCESS = "Success"
PERSON = {"firstname": "Alice", "lastname": "Martin", "birthdate": "1980-01-02",
          "email": "alice@example.org", "gender": "F", "street_address": "rue de Rivoli",
          "number": "3", "postal_code": "75001", "locality": "Paris", "country": "France"}
# The MobileID attributes of that person (default attribute names).
ATTRS = {"mobileNumber": PHONE, "firstname": "Alice", "lastname": "Martin",
         "birthdate": "1980-01-02", "email": "alice@example.org", "gender": "F",
         "street_address": "rue de Rivoli", "street_number": "3", "postal_code": "75001",
         "locality": "Paris", "country": "France"}
# (no short digit strings: trace and transaction ids are hex)
PERSONAL = ("Martin", "alice@example.org", "1980-01-02", "Rivoli", PHONE, "612345678")
FIELDS = {  # config key suffix -> (answer key, member of "address"?)
    "family_name": ("family_name", False), "given_name": ("given_name", False),
    "birthdate": ("birthdate", False), "email": ("email", False), "gender": ("gender", False),
    "address_country": ("country", True), "address_postal_code": ("postal_code", True),
    "address_street": ("street_address", True), "address_locality": ("locality", True),
}
# Every id of the vendor's table -> (result, PAM under on_error=deny, under skip_check)
DENIED = ("phone number unverified", AUTH_ERR)
ERROR_IDS = {
    "01": (("internal error", SERVICE_ERR),) * 2,
    "02": (("configuration error", SERVICE_ERR),) * 2,
    "04": (("configuration error", SERVICE_ERR),) * 2,
    "05": (("internal error", SERVICE_ERR),) * 2,
    "06": (("internal error", SERVICE_ERR),) * 2,
    "07": (("internal error", SERVICE_ERR),) * 2,
    "09": (DENIED, ("approved", SUCCESS)),
    "10": (DENIED, DENIED),
    "11": (("internal error", SERVICE_ERR),) * 2,
    "12": (DENIED, DENIED),
    "13": (DENIED, ("approved", SUCCESS)),
    "14": (DENIED, ("approved", SUCCESS)),
    "15": (DENIED, ("approved", SUCCESS)),
    "16": (DENIED, ("approved", SUCCESS)),
    "17": (DENIED, ("approved", SUCCESS)),
    "30": (DENIED, ("approved", SUCCESS)),   # refused again after a new token
}


def nss_wrapper_lib():
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/lib/aarch64-linux-gnu"):
        p = os.path.join(d, "libnss_wrapper.so")
        if os.path.exists(p):
            return p
    return ""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()   # nothing listens there any more
    return port


class DqeCase(harness.PamSimCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim.ctl("POST", "dqe/licences", {"licence": LICENCE, "secret": DQE_SECRET})

    def setUp(self):
        super().setUp()   # the simulator's reset keeps the licence
        self.over = {"dqe_enabled": "yes", "dqe_server": "127.0.0.1:%d" % self.sim.port,
                     "dqe_licence": LICENCE, "dqe_secret": DQE_SECRET,
                     "dqe_partner_name": "ACME Corp", "dqe_timeout": "5"}

    # ---- helpers ----
    def add_alice(self, attrs=None, ref="alice"):
        self.sim.add_user(ref, attributes=ATTRS if attrs is None else attrs)
        self.sim.policy(ref, "approve", after_ms=50)

    def script(self, number=PHONE, **kw):
        kw["number"] = number
        return self.sim.ctl("POST", "dqe/numbers", kw)

    def login(self, user="alice", clear=True, **over):
        conf = dict(self.over, **over)
        if clear:
            self.env.clear_cache()
        self.env.write_conf(self.sim, **conf)
        return self.env.run(user)

    def calls(self, path):
        return [r for r in self.sim.requests() if r["path"] == path]

    def pushes(self):
        return [r for r in self.sim.requests()
                if r["method"] == "POST" and r["path"].endswith("/authentications")]

    def assertAttempt(self, r, result, pam):
        line = r.attempt_line()
        self.assertIn(" result=%s " % result, line, r.syslog)
        self.assertIn(" pam=%s " % pam, line)
        self.assertEqual(r.rc == 0, pam == SUCCESS, line)
        return line

    def assertNoPersonalData(self, r):
        text = "\n".join(r.syslog)
        for s in PERSONAL + (LICENCE, DQE_SECRET):
            self.assertNotIn(s, text)

    def assertDeniedWithoutPush(self, r):
        line = self.assertAttempt(r, *DENIED)
        self.assertIn(USER_MSG, r.out)
        self.assertEqual(self.pushes(), [], "a push was started")
        self.assertEqual(self.sim.pending(), [])
        self.assertNoPersonalData(r)
        return line

    @staticmethod
    def scores(low=None, value=0.5):
        s = {"family_name": 1.0, "gender": 1.0, "birthdate": 1.0, "given_name": 1.0,
             "address": {"country": 1.0, "postal_code": 1.0, "street_address": 1.0, "locality": 1.0},
             "email": 1.0}
        if low:
            key, in_addr = FIELDS[low]
            (s["address"] if in_addr else s)[key] = value
        return s


class Matching(DqeCase):
    def test_match_passes_then_push(self):
        self.add_alice()
        self.script(record=PERSON)
        r = self.login(dqe_min_family_name="0.9", dqe_min_given_name="0.9",
                       dqe_min_birthdate="1", dqe_min_email="0.9")
        self.assertAttempt(r, "approved", SUCCESS)
        log = self.sim.requests()
        paths = [e["path"] for e in log]
        # DQE before the push: token, matching, then POST /authentications
        self.assertLess(paths.index("/ACCESS_TOKEN/"), paths.index("/IDMOBILE/"))
        self.assertLess(paths.index("/IDMOBILE/"),
                        [i for i, e in enumerate(log) if e["path"].endswith("/authentications")][0])
        tok = self.calls("/ACCESS_TOKEN/")[0]
        self.assertEqual(tok["status"], 200)
        self.assertEqual(tok["headers"].get("Content-Type"), "application/x-www-form-urlencoded")
        self.assertEqual(tok["body"], {"licence": LICENCE, "client_secret": DQE_SECRET,
                                       "grant_type": "client_idmobile"})
        m = self.calls("/IDMOBILE/")[0]
        self.assertEqual(m["status"], 200)
        self.assertEqual(m["method"], "POST")
        self.assertEqual(m["headers"].get("Content-Type"), "application/x-www-form-urlencoded")
        self.assertEqual(m["token"], tok["token"])
        b = m["body"]
        self.assertEqual(set(b), {"licence", "number", "token", "mode", "name", "user_infos", "scope"})
        self.assertEqual((b["licence"], b["number"], b["mode"], b["name"], b["scope"]),
                         (LICENCE, PHONE, "2", "ACME Corp", "matching_notp"))
        infos = json.loads(b["user_infos"])
        self.assertEqual(len(infos), 12)
        self.assertEqual(infos, dict(PERSON, phone=PHONE, maiden_name=""))
        # the scores and the masked number are logged, the personal data is not
        text = "\n".join(r.syslog)
        self.assertIn("phone=%s matching passed" % MASKED, text)
        self.assertIn("family_name=1.00>=0.90", text)
        self.assertIn("birthdate=1.00>=1.00", text)
        self.assertNoPersonalData(r)

    def test_optional_parameters(self):
        self.add_alice()
        self.script(record=PERSON)
        r = self.login(dqe_country="fr", dqe_code_name="IT-Dept")
        self.assertAttempt(r, "approved", SUCCESS)
        b = self.calls("/IDMOBILE/")[0]["body"]
        self.assertEqual((b["country"], b["code_name"]), ("FR", "IT-Dept"))

    def test_threshold_per_field(self):
        self.add_alice()
        for field in FIELDS:
            for score, minimum, ok in ((0.5, "0.6", False), (0.6, "0.6", True), ("", "0.1", False),
                                       (0.0, "0", True)):
                with self.subTest(field=field, score=score, minimum=minimum):
                    self.sim.ctl("DELETE", "requests")
                    self.script(scores=self.scores(field, score))
                    r = self.login(**{"dqe_min_" + field: minimum})
                    name = ("address." + FIELDS[field][0]) if FIELDS[field][1] else field
                    if ok:
                        self.assertAttempt(r, "approved", SUCCESS)
                        self.assertEqual(len(self.pushes()), 1)
                    else:
                        line = self.assertDeniedWithoutPush(r)
                        shown = "none" if score == "" else "%.2f" % score
                        self.assertIn("%s=%s<%.2f" % (name, shown, float(minimum)), line)
                        self.assertIn(MASKED, line)
                    self.assertEqual(len(self.calls("/IDMOBILE/")), 1)

    def test_unjudged_fields_do_not_count(self):
        self.add_alice()
        s = self.scores("email", 0.0)
        s["gender"] = ""
        self.script(scores=s)
        r = self.login(dqe_min_family_name="0.8")
        self.assertAttempt(r, "approved", SUCCESS)

    def test_similarity_from_the_operator_record(self):
        # the operator knows another family name: the simulator scores it low
        self.add_alice()
        self.script(record=dict(PERSON, lastname="Lefebvre-Moreau"))
        r = self.login(dqe_min_family_name="0.8", dqe_min_given_name="0.8")
        line = self.assertDeniedWithoutPush(r)
        self.assertRegex(line, r"family_name=0\.\d\d<0\.80")
        self.assertIn("given_name=1.00>=0.80", line)

    def test_judged_field_without_our_value_denies_without_asking(self):
        attrs = dict(ATTRS)
        del attrs["birthdate"]
        self.add_alice(attrs)
        self.script(record=PERSON)
        r = self.login(dqe_min_birthdate="0.5")
        line = self.assertDeniedWithoutPush(r)
        self.assertIn("birthdate", line)
        self.assertEqual(self.calls("/IDMOBILE/"), [])

    def test_no_phone_attribute(self):
        attrs = dict(ATTRS)
        del attrs["mobileNumber"]
        self.add_alice(attrs)
        r = self.login()
        line = self.assertDeniedWithoutPush(r)
        self.assertIn("no phone number attribute", line)
        self.assertEqual(self.calls("/ACCESS_TOKEN/") + self.calls("/IDMOBILE/"), [])

    def test_other_attribute_names(self):
        self.add_alice({"gsm": "06 12 34 56 78", "nom": "Martin", "prenom": "Alice"})
        self.script(number="0612345678", record={"lastname": "Martin", "firstname": "Alice"})
        r = self.login(dqe_attr_phone="tel, gsm", dqe_attr_lastname="nom",
                       dqe_attr_firstname="prenom", dqe_min_family_name="1",
                       dqe_min_given_name="1")
        self.assertAttempt(r, "approved", SUCCESS)
        b = self.calls("/IDMOBILE/")[0]["body"]
        self.assertEqual(b["number"], "0612345678")   # normalised
        self.assertEqual(json.loads(b["user_infos"])["phone"], "0612345678")

    def test_unknown_number_at_the_operator(self):
        self.add_alice()   # nothing scripted: DQE answers error 10
        r = self.login()
        line = self.assertDeniedWithoutPush(r)
        self.assertIn("DQE error 10", line)

    def test_disabled_changes_nothing(self):
        self.add_alice()
        self.env.clear_cache()
        self.env.write_conf(self.sim, dqe_enabled="no", dqe_min_family_name="1")
        r = self.env.run("alice")
        self.assertAttempt(r, "approved", SUCCESS)
        self.assertEqual(self.calls("/ACCESS_TOKEN/") + self.calls("/IDMOBILE/"), [])
        # a warm login makes no GET /users when DQE is off ...
        self.sim.ctl("DELETE", "requests")
        r = self.env.run("alice")
        self.assertAttempt(r, "approved", SUCCESS)
        self.assertEqual([e for e in self.sim.requests() if e["method"] == "GET" and
                          "/users/" in e["path"]], [])

    def test_warm_login_fetches_the_attributes(self):
        self.add_alice()
        self.script(record=PERSON)
        self.assertAttempt(self.login(dqe_min_family_name="0.9"), "approved", SUCCESS)
        self.sim.ctl("DELETE", "requests")
        r = self.login(clear=False, dqe_min_family_name="0.9")   # user mapping from the cache
        self.assertAttempt(r, "approved", SUCCESS)
        log = self.sim.requests()
        self.assertEqual([e["path"] for e in log if "resolve" in e["path"]], [])
        users = [i for i, e in enumerate(log) if e["method"] == "GET" and "/users/" in e["path"]]
        self.assertEqual(len(users), 1)
        idm = [i for i, e in enumerate(log) if e["path"] == "/IDMOBILE/"]
        self.assertEqual(len(idm), 1)
        self.assertLess(users[0], idm[0])
        # ... and the token came from the cache file: no new one
        self.assertEqual(self.calls("/ACCESS_TOKEN/"), [])

    def test_missing_settings_are_a_config_error(self):
        self.add_alice()
        r = self.login(dqe_licence=None)
        self.assertAttempt(r, "configuration error", SERVICE_ERR)
        self.assertIn("[dqe] licence: missing", "\n".join(r.syslog))
        self.assertEqual(self.pushes(), [])

    def test_failmode_safe_never_lets_a_denial_through(self):
        self.add_alice()
        self.script(error="12")
        r = self.login(auth_failmode="safe")
        self.assertDeniedWithoutPush(r)


class ErrorIds(DqeCase):
    def test_each_error_id(self):
        self.add_alice()
        for eid, outcomes in sorted(ERROR_IDS.items()):
            for on_error, (result, pam) in zip(("deny", "skip_check"), outcomes):
                with self.subTest(error_id=eid, on_error=on_error):
                    self.sim.ctl("DELETE", "requests")
                    self.script(error=eid)
                    r = self.login(dqe_on_error=on_error, dqe_min_family_name="0.5")
                    line = self.assertAttempt(r, result, pam)
                    self.assertNoPersonalData(r)
                    text = "\n".join(r.syslog)
                    self.assertIn("DQE error %s" % eid, text)
                    self.assertRegex(text, r"user=alice .*operation=DQE matching phone=%s: .*"
                                     r"\(trace [0-9a-f]{16,}\)" % re.escape(MASKED))
                    pushed = len(self.pushes())
                    self.assertEqual(pushed, 1 if pam == SUCCESS else 0, line)
                    if pam == SUCCESS:
                        self.assertIn("on_error = skip_check", text)
                    if result == DENIED[0]:
                        self.assertIn(USER_MSG, r.out)
                    # error 30: a new token and exactly one retry
                    want = 2 if eid == "30" else 1
                    self.assertEqual(len(self.calls("/IDMOBILE/")), want)
                    self.assertEqual(len(self.calls("/ACCESS_TOKEN/")), want)

    def test_error_with_an_http_error_status(self):
        # the vendor doc gives no HTTP status: the body decides either way
        self.add_alice()
        self.script(error="16", http_status=503)
        r = self.login(dqe_on_error="skip_check")
        self.assertAttempt(r, "approved", SUCCESS)
        self.sim.ctl("DELETE", "requests")
        self.script(error="10", http_status=400)
        r = self.login(dqe_on_error="skip_check")
        self.assertDeniedWithoutPush(r)

    def test_wrong_secret_is_a_config_error(self):
        self.add_alice()
        self.script(record=PERSON)
        r = self.login(dqe_secret="not-the-secret", dqe_on_error="skip_check")
        line = self.assertAttempt(r, "configuration error", SERVICE_ERR)
        self.assertIn("get DQE token", line)
        self.assertIn("DQE error 02", line)
        self.assertEqual(self.pushes(), [])
        self.assertNotIn("not-the-secret", "\n".join(r.syslog))


class TokenExpiry(DqeCase):
    def test_token_cached_then_refetched_after_error_30(self):
        self.add_alice()
        self.script(record=PERSON)
        self.assertAttempt(self.login(), "approved", SUCCESS)
        self.assertEqual(len(self.calls("/ACCESS_TOKEN/")), 1)
        # another process: the token comes from the cache file
        self.assertAttempt(self.login(clear=False), "approved", SUCCESS)
        self.assertEqual(len(self.calls("/ACCESS_TOKEN/")), 1)
        self.assertEqual(len(self.calls("/IDMOBILE/")), 2)
        cache = os.listdir(self.env.cache)
        dqe_files = [n for n in cache if n.startswith("dqe-token-")]
        self.assertEqual(len(dqe_files), 1, cache)
        st = os.stat(os.path.join(self.env.cache, dqe_files[0]))
        self.assertEqual(st.st_mode & 0o077, 0)
        # the token expires at DQE: error 30, one new token, one retry, login goes on
        self.sim.ctl("POST", "dqe/tokens/expire", {})
        self.sim.ctl("DELETE", "requests")
        r = self.login(clear=False)
        self.assertAttempt(r, "approved", SUCCESS)
        seq = [(e["path"], e["status"], e.get("token")) for e in self.sim.requests()
               if e["path"] in ("/ACCESS_TOKEN/", "/IDMOBILE/")]
        self.assertEqual([s[0] for s in seq], ["/IDMOBILE/", "/ACCESS_TOKEN/", "/IDMOBILE/"])
        self.assertEqual(seq[2][2], seq[1][2])   # the retry used the new token
        self.assertIn("error 30", "\n".join(r.syslog))
        self.assertEqual(len(self.pushes()), 1)

    def test_short_lifetime_is_renewed_before_expiry(self):
        # expires_in "2" (a string): a quarter of it is the margin, so a login 2 s later
        # fetches a new token instead of using one that DQE would refuse
        self.sim.ctl("POST", "dqe/licences", {"licence": "LIC-short", "secret": "s2",
                                              "token_lifetime": 2})
        self.add_alice()
        self.script(record=PERSON)
        self.assertAttempt(self.login(dqe_licence="LIC-short", dqe_secret="s2"), "approved", SUCCESS)
        time.sleep(2.2)
        self.assertAttempt(self.login(clear=False, dqe_licence="LIC-short", dqe_secret="s2"),
                           "approved", SUCCESS)
        self.assertEqual(len(self.calls("/ACCESS_TOKEN/")), 2)
        self.assertTrue(all(e["status"] == 200 for e in self.calls("/IDMOBILE/")))


class DqeDown(DqeCase):
    def test_unreachable_under_both_settings(self):
        self.add_alice()
        port = free_port()
        for on_error, (result, pam) in (("deny", DENIED), ("skip_check", ("approved", SUCCESS))):
            with self.subTest(on_error=on_error):
                self.sim.ctl("DELETE", "requests")
                r = self.login(dqe_server="127.0.0.1:%d" % port, dqe_on_error=on_error)
                line = self.assertAttempt(r, result, pam)
                text = "\n".join(r.syslog)
                self.assertIn("operation=get DQE token phone=%s" % MASKED, text)
                self.assertIn("on_error = %s" % on_error, text)
                self.assertEqual(len(self.pushes()), 1 if pam == SUCCESS else 0, line)
                if pam != SUCCESS:
                    self.assertIn(USER_MSG, r.out)

    def test_server_errors_under_both_settings(self):
        self.add_alice()
        self.script(record=PERSON)
        faults = ({"path": "^/IDMOBILE/$", "status": 503, "body": "<html>busy</html>",
                   "content_type": "text/html"},
                  {"path": "^/IDMOBILE/$", "close": True},   # curl retries once on a reused
                  # connection: count -1 below closes the retry too
                  {"path": "^/IDMOBILE/$", "malformed": True},
                  {"path": "^/ACCESS_TOKEN/$", "status": 500})
        for fault in faults:
            for on_error, (result, pam) in (("deny", DENIED), ("skip_check", ("approved", SUCCESS))):
                with self.subTest(fault=fault, on_error=on_error):
                    self.sim.ctl("DELETE", "faults")
                    self.sim.ctl("DELETE", "requests")
                    self.sim.fault(count=-1, **fault)
                    r = self.login(dqe_on_error=on_error)
                    line = self.assertAttempt(r, result, pam)
                    self.assertEqual(len(self.pushes()), 1 if pam == SUCCESS else 0, line)
                    self.assertNoPersonalData(r)

    def test_deadline_bounds_a_silent_server(self):
        self.add_alice()
        self.script(record=PERSON)
        self.sim.fault(path="^/IDMOBILE/$", delay_ms=3000)
        r = self.login(dqe_timeout="1", dqe_on_error="deny")
        self.assertAttempt(r, *DENIED)
        self.assertIn("timed out", r.attempt_line())
        self.assertEqual(self.pushes(), [])


class SimulatorStrictness(DqeCase):
    """The simulator refuses what the vendor doc forbids: a client bug cannot pass unseen."""

    def post(self, path, form, ctype="application/x-www-form-urlencoded"):
        data = form if isinstance(form, bytes) else urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.sim.base + path, data=data, method="POST",
                                     headers={"Content-Type": ctype})
        try:
            with urllib.request.urlopen(req, context=self.sim.ctx, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_token_and_matching_checks(self):
        st, tok = self.post("/ACCESS_TOKEN/", {"licence": LICENCE, "client_secret": DQE_SECRET,
                                               "grant_type": "client_idmobile"})
        self.assertEqual(st, 200)
        self.assertIsInstance(tok["expires_in"], str)
        self.assertEqual(self.post("/ACCESS_TOKEN/", {"licence": LICENCE, "client_secret": "x",
                                                      "grant_type": "client_idmobile"}),
                         (401, {"status": "error", "error_type": "invalid licence key",
                                "error_id": "02"}))
        self.script(record=PERSON)
        infos = {k: "" for k in ("street_address", "postal_code", "locality", "country",
                                 "birthdate", "email", "lastname", "maiden_name", "gender",
                                 "firstname", "phone", "number")}
        infos["phone"] = PHONE
        good = {"licence": LICENCE, "number": PHONE, "token": tok["access_token"], "mode": "2",
                "name": "ACME", "user_infos": json.dumps(infos), "scope": "matching_notp"}
        st, body = self.post("/IDMOBILE/", good)
        self.assertEqual(st, 200)
        self.assertEqual(body["family_name"], "")   # nothing submitted: not scored
        short = dict(infos)
        del short["maiden_name"]
        cases = [
            ({"scope": "matching"}, "04"), ({"mode": "1"}, "01"), ({"token": "nope"}, "30"),
            ({"licence": "other"}, "02"), ({"user_infos": ""}, "05"),
            ({"user_infos": "{\"phone\": "}, "06"), ({"user_infos": json.dumps(short)}, "01"),
            ({"user_infos": json.dumps(dict(infos, phone=""))}, "07"), ({"number": ""}, "11"),
            ({"number": "12ab"}, "10"), ({"extra": "1"}, "01"), ({"country": "France"}, "01"),
        ]
        for change, eid in cases:
            with self.subTest(change=change):
                st, body = self.post("/IDMOBILE/", dict(good, **change))
                self.assertEqual(body["status"], "error")
                self.assertEqual(body["error_id"], eid)
                self.assertEqual(set(body), {"status", "error_type", "error_id"})
        st, body = self.post("/IDMOBILE/", json.dumps(good).encode(), "application/json")
        self.assertEqual(body["error_id"], "01")


class GecosFallback(DqeCase):
    LOGIN = "dqegecos"

    def setUp(self):
        super().setUp()
        self.sim.add_user(self.LOGIN, attributes={"phone": PHONE})   # no names
        self.sim.policy(self.LOGIN, "approve", after_ms=50)
        self.script(record={"firstname": "Jeanne", "lastname": "Durand"})
        self.over.update(dqe_min_family_name="0.9", dqe_min_given_name="0.9")

    def nss_env(self, gecos):
        lib = nss_wrapper_lib()
        if not lib:
            self.skipTest("nss_wrapper (libnss-wrapper) not installed")
        passwd = os.path.join(self.env.dir, "passwd")
        group = os.path.join(self.env.dir, "group")
        with open(passwd, "w") as f:
            f.write("%s:x:%d:%d:%s:/nonexistent:/bin/false\n" % (self.LOGIN, 61234, 61234, gecos))
        with open(group, "w") as f:
            f.write("%s:x:61234:\n" % self.LOGIN)
        preload = "%s:%s:%s" % (harness.PAM_WRAPPER_LIB, harness.SYSLOGCAP, lib)
        if harness.SANITIZER_PRELOAD:
            preload = harness.SANITIZER_PRELOAD + ":" + preload
        return {"LD_PRELOAD": preload,
                "NSS_WRAPPER_PASSWD": passwd, "NSS_WRAPPER_GROUP": group}

    def run_login(self, env, **over):
        self.env.clear_cache()
        self.env.write_conf(self.sim, **dict(self.over, **over))
        return self.env.run(self.LOGIN, env=env)

    def test_names_from_gecos(self):
        r = self.run_login(self.nss_env("Jeanne Durand,Room 12,555-0100,,"))
        self.assertAttempt(r, "approved", SUCCESS)
        infos = json.loads(self.calls("/IDMOBILE/")[0]["body"]["user_infos"])
        self.assertEqual((infos["firstname"], infos["lastname"]), ("Jeanne", "Durand"))
        text = "\n".join(r.syslog)
        self.assertNotIn("Durand", text)
        self.assertNotIn("Jeanne", text)

    def test_other_gecos_name_fails(self):
        r = self.run_login(self.nss_env("Jeanne Martin"))
        line = self.assertDeniedWithoutPush(r)
        self.assertRegex(line, r"family_name=0\.\d\d<0\.90")

    def test_gecos_fallback_off(self):
        r = self.run_login(self.nss_env("Jeanne Durand"), dqe_gecos_fallback="no")
        line = self.assertDeniedWithoutPush(r)
        self.assertIn("family_name", line)
        self.assertEqual(self.calls("/IDMOBILE/"), [])   # nothing to compare: not asked

    def test_attributes_win_over_gecos(self):
        self.sim.ctl("POST", "reset", {})
        self.sim.add_user(self.LOGIN, attributes={"phone": PHONE, "firstname": "Jeanne",
                                                  "lastname": "Durand"})
        self.sim.policy(self.LOGIN, "approve", after_ms=50)
        self.script(record={"firstname": "Jeanne", "lastname": "Durand"})
        r = self.run_login(self.nss_env("Somebody Else"))
        self.assertAttempt(r, "approved", SUCCESS)


if __name__ == "__main__":
    main()
