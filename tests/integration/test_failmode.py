#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""failmode on every failure class: for each way the service can fail, the
PAM result under failmode = secure and = safe, and the syslog line (user,
operation, reason, trace id when there is one)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

UNAVAIL = "Authentication service cannot retrieve authentication info"
SERVICE_ERR = "Error in service module"
SUCCESS = "Success"


def unshare_net():
    """A command prefix that runs in a new network namespace with no
    network at all, so a DNS lookup fails without sending anything."""
    if not shutil.which("unshare"):
        return None
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run(prefix + ["true"], capture_output=True).returncode == 0:
            return prefix
    return None


class FailureClasses(unittest.TestCase):
    """Each case: (setup, expected result, PAM result under secure, under
    safe, operation named in the log, text in the reason, trace id?)."""

    @classmethod
    def setUpClass(cls):
        harness.require(harness.PAMTESTER, "pamtester not installed")
        harness.require(harness.PAM_WRAPPER_LIB, "pam_wrapper not installed")
        cls.sim = harness.Sim()
        cls.other_ca = tempfile.mkdtemp(prefix="mobileid-ca-")
        subprocess.run(["bash", os.path.join(harness.SRCDIR, "tests", "sim", "mkca.sh"),
                        cls.other_ca], check=True, stdout=subprocess.DEVNULL)
        cls.wrong_sim = None

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        if cls.wrong_sim:
            cls.wrong_sim.stop()
        shutil.rmtree(cls.other_ca, ignore_errors=True)

    def setUp(self):
        self.sim.reset()
        self.sim.add_user("fm")
        self.sim.policy("fm", "approve", after_ms=50)
        self.env = harness.PamEnv()
        self.addCleanup(self.env.cleanup)
        self.over = {}
        self.wrap = None

    def run_both(self, result, secure_pam, safe_pam, operation, reason, trace):
        for mode, expect in (("secure", secure_pam), ("safe", safe_pam)):
            with self.subTest(failmode=mode):
                self.env.clear_cache()
                self.env.write_conf(self.sim, auth_failmode=mode, **self.over)
                r = self.env.run("fm", wrap=self.wrap)
                line = r.attempt_line()
                self.assertIn("user=fm ", line, r.syslog)
                self.assertIn(" result=%s " % result, line)
                self.assertIn(" pam=%s " % expect, line)
                self.assertEqual(r.rc == 0, expect == SUCCESS, line)
                self.assertIn('reason="%s: ' % operation, line)
                self.assertIn(reason, line)
                if trace:
                    self.assertRegex(line, r"trace=[0-9a-f]{16,}")
                if expect == SUCCESS:
                    self.assertIn("failmode=safe", line)
                self.assertNotIn(harness.CLIENT_SECRET, "\n".join(r.syslog))

    # ---- the network -----------------------------------------------------
    def test_dns_failure(self):
        self.wrap = unshare_net()
        harness.require(self.wrap, "cannot make a network namespace here")
        self.over = dict(signicat_api_url="https://mobileid-sim.invalid/mobileid/core",
                         signicat_token_url="https://mobileid-sim.invalid/token")
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "get access token",
                      "DNS lookup failed", False)

    def test_connection_refused(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        self.over = dict(signicat_token_url="https://127.0.0.1:%d/token" % port)
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "get access token",
                      "connection failed", False)

    def test_tls_certificate_not_trusted(self):
        self.over = dict(signicat_ca_file=os.path.join(self.other_ca, "ca.pem"))
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "get access token",
                      "TLS failure", False)

    def test_tls_wrong_host_name(self):
        if not type(self).wrong_sim:
            type(self).wrong_sim = harness.Sim(cert="wrongname")
        ws = type(self).wrong_sim
        self.over = dict(signicat_token_url=ws.base + "/auth/open/connect/token",
                         signicat_ca_file=ws.ca)
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "get access token",
                      "TLS failure", False)

    def test_connect_timeout(self):
        # A listener whose accept queue is full: further SYNs go unanswered.
        lst = socket.socket()
        lst.bind(("127.0.0.1", 0))
        lst.listen(0)
        fillers = []
        self.addCleanup(lambda: [c.close() for c in fillers + [lst]])
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(lst.getsockname())
            fillers.append(c)
        self.over = dict(signicat_token_url="https://127.0.0.1:%d/token" % lst.getsockname()[1],
                         signicat_connect_timeout="300ms")
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "get access token",
                      "timed out", False)

    def test_slow_body_past_the_deadline(self):
        self.over = dict(signicat_request_timeout="1")

        def fault():
            self.sim.ctl("DELETE", "faults")
            self.sim.fault(path="/users/resolve$", body_delay_ms=3000, count=-1)
        fault()
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "resolve externalRef",
                      "timed out", False)

    # ---- HTTP answers ------------------------------------------------------
    def test_401_after_a_refresh(self):
        self.sim.fault(method="POST", path="/authentications$", status=401, count=-1,
                       body='{"type":"about:blank","title":"Unauthorized","code":"invalid_token",'
                            '"status":401,"detail":"token rejected"}')
        # credentials the service refuses are a configuration problem: never "safe"
        self.run_both("configuration error", SERVICE_ERR, SERVICE_ERR, "start authentication",
                      "credentials rejected (HTTP 401, invalid_token", True)
        starts = self.sim.api_calls("POST", "/authentications")
        self.assertEqual(len(starts), 4)   # two logins, each retried once
        self.assertEqual(len(self.sim.api_calls("POST", "/token")), 4)

    def test_403(self):
        self.sim.fault(path="/users/resolve$", status=403, count=-1,
                       body='{"code":"missing_permission","status":403,"title":"Forbidden",'
                            '"detail":"no mobileid:user:read"}')
        self.run_both("configuration error", SERVICE_ERR, SERVICE_ERR, "resolve externalRef",
                      "permission denied (HTTP 403, missing_permission", True)

    def test_404_on_the_operation(self):
        self.sim.fault(method="POST", path="/authentications$", status=404, count=-1,
                       body="<html>not here</html>", content_type="text/html")
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "start authentication",
                      "not found (HTTP 404", True)

    def test_429(self):
        self.sim.fault(path="/users/resolve$", status=429, count=-1,
                       headers={"Retry-After": "5"})
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "resolve externalRef",
                      "rate limited (HTTP 429", True)

    def test_5xx(self):
        for status in (500, 502, 503):
            with self.subTest(status=status):
                self.sim.ctl("DELETE", "faults")
                self.sim.fault(path="/devices$", status=status, count=-1)
                self.run_both("service unavailable", UNAVAIL, SUCCESS, "list devices",
                              "server error (HTTP %d" % status, True)

    # ---- bodies -------------------------------------------------------------
    def test_truncated_json(self):
        self.sim.fault(path="/users/resolve$", status=200, body='{"externalRef":"fm","userId":"ab',
                       count=-1)
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "resolve externalRef",
                      "invalid JSON (truncated)", True)

    def test_truncated_transfer(self):
        self.sim.fault(path="/users/resolve$", truncate=True, count=-1)
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "resolve externalRef",
                      "protocol error", False)

    def test_json_of_the_wrong_shape(self):
        self.sim.fault(path="/users/resolve$", status=200, body='{"userId":{"id":"x"}}',
                       count=-1)
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "resolve externalRef",
                      "no valid userId", True)

    def test_body_over_the_size_cap(self):
        self.over = dict(signicat_max_response_size="4096")
        self.sim.fault(path="/devices$", oversize=20000, count=-1)
        self.run_both("service unavailable", UNAVAIL, SUCCESS, "list devices",
                      "response too large", False)

    # ---- never opened by safe -------------------------------------------------
    def test_denial_is_never_success(self):
        self.sim.policy("fm", "deny", after_ms=50)
        for mode in ("secure", "safe"):
            self.env.write_conf(self.sim, auth_failmode=mode, auth_max_denials="0")
            r = self.env.run("fm")
            self.assertNotEqual(r.rc, 0)
            self.assertIn(" result=denied ", r.attempt_line())

    def test_unsafe_config_always_fails(self):
        self.env.write_conf(self.sim, mode=0o640, auth_failmode="safe")
        r = self.env.run("fm")
        self.assertNotEqual(r.rc, 0)
        self.assertIn(" pam=%s " % SERVICE_ERR, r.attempt_line())


if __name__ == "__main__":
    main()
