#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""mobileidctl from the build tree against the simulator: check, test, user,
device, enroll and enroll-link; human and --json output, exit codes, errors
on stderr with the vendor trace id."""
import json
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

CTL = os.path.join(harness.BUILDDIR, "mobileidctl", "mobileidctl")
VERIFID_TOKEN = "verifid-token-for-tests"
PROFILE = "EmployeeEnrollment"
TRACE_RE = re.compile(r"trace id ([0-9a-f]{16,})")


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
    s.close()
    return port


def unshare_net():
    """A prefix running a command in a network namespace without any
    network: a DNS lookup fails there without sending anything."""
    if not shutil.which("unshare"):
        return None
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run(prefix + ["true"], capture_output=True).returncode == 0:
            return prefix
    return None


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def json(self):
        return json.loads(self.out)

    def json_lines(self):
        return [json.loads(l) for l in self.out.splitlines() if l.strip()]

    def __repr__(self):
        return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


class CtlCase(harness.SimCase):
    @classmethod
    def setUpClass(cls):
        harness.require(os.access(CTL, os.X_OK), "mobileidctl not built")
        super().setUpClass()
        cls.sim.ctl("POST", "verifid/tokens", {"token": VERIFID_TOKEN})
        cls.sim.ctl("POST", "verifid/profiles", {"profile": PROFILE})

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="mobileid-ctl-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cache = os.path.join(self.dir, "cache")
        os.mkdir(self.cache, 0o700)
        self.conf = os.path.join(self.dir, "mobileid.conf")
        self.over = {}
        self.write_conf()

    def write_conf(self, mode=0o600, **over):
        o = dict(self.over, **over)
        harness.write_file(self.conf, harness.config_text(self.sim, self.cache, **o), mode)

    def verifid_conf(self, **over):
        o = dict(verifid_url=self.sim.base + "/api/v1", verifid_api_token=VERIFID_TOKEN,
                 verifid_profile=PROFILE, verifid_email="%u@example.com",
                 verifid_return_url="https://intranet.example/enrolled")
        o.update(over)
        self.over.update(o)
        self.write_conf()

    def ctl(self, *args, json_out=False, env=None, timeout=60, conf=None):
        cmd = [CTL, "-c", conf or self.conf] + (["--json"] if json_out else []) + list(args)
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=e)
        harness.check_sanitizer("mobileidctl", p.stderr)
        return Result(p.returncode, p.stdout, p.stderr)

    def spawn(self, *args, json_out=False):
        cmd = [CTL, "-c", self.conf] + (["--json"] if json_out else []) + list(args)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait()))
        return p

    def wait_pending(self, kind, ref, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for op in self.sim.pending():
                if op["operationType"] == kind and op["externalRef"] == ref:
                    return op
            time.sleep(0.05)
        self.fail("no pending %s for %s" % (kind, ref))

    def sim_user(self, ref):
        for u in self.sim.ctl("GET", "users"):
            if u["externalRef"] == ref:
                return u
        return None

    def assertTrace(self, text, path=None):
        """The error names a trace id the simulator really sent (for path)."""
        m = TRACE_RE.search(text)
        self.assertIsNotNone(m, "no trace id in %r" % text)
        traces = {r["traceId"]: r for r in self.sim.requests()}
        self.assertIn(m.group(1), traces)
        if path:
            self.assertIn(path, traces[m.group(1)]["path"])
        return m.group(1)


# ---- check ----------------------------------------------------------------------------

class Check(CtlCase):
    def lines(self, r):
        return {l[6:22].strip(): l[:4] for l in r.out.splitlines() if l[:4] in ("PASS", "FAIL", "SKIP")}

    def test_all_pass(self):
        r = self.ctl("check")
        self.assertEqual(r.rc, 0, r)
        st = self.lines(r)
        for name in ("config", "cache_dir", "state_dir", "api dns", "api https", "token",
                     "permissions"):
            self.assertEqual(st.get(name), "PASS", (name, r))
        self.assertEqual(st.get("dqe token"), "SKIP")
        self.assertNotIn("FAIL", st.values())
        self.assertIn("0 failed", r.out)
        # the harmless read: a resolve of a random externalRef, answered 404
        res = self.sim.api_calls("POST", "/users/resolve")
        self.assertEqual(len(res), 1)
        self.assertRegex(res[0]["body"]["externalRef"], r"^mobileidctl-check-\d+$")
        self.assertEqual(res[0]["status"], 404)
        self.assertEqual(self.sim.api_calls(method="PUT"), [])   # no VerifID enrollment

    def test_json(self):
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 0, r)
        j = r.json()
        self.assertTrue(j["ok"])
        self.assertEqual(j["failed"], 0)
        names = [c["name"] for c in j["checks"]]
        self.assertIn("token", names)
        for c in j["checks"]:
            self.assertIn(c["status"], ("pass", "skip"))
            self.assertIsNone(c["fix"])
        self.assertEqual(r.err, "")

    def test_config_error_verbatim(self):
        with open(self.conf, "a") as f:
            f.write("[auth]\nbogus = 1\n")
        r = self.ctl("check")
        self.assertEqual(r.rc, 3, r)
        self.assertRegex(r.out, r"FAIL  config +%s:\d+: .*bogus" % re.escape(self.conf))
        self.assertIn("fix:", r.out)
        self.assertEqual(self.sim.requests(), [])

    def test_config_permissions(self):
        os.chmod(self.conf, 0o644)
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 3, r)
        c = r.json()["checks"][0]
        self.assertEqual((c["name"], c["status"]), ("config", "fail"))
        self.assertIn("chmod 0600 %s" % self.conf, c["detail"])
        self.assertFalse(r.json()["ok"])

    def test_cache_dir_writable_by_others(self):
        os.chmod(self.cache, 0o777)
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 1, r)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["cache_dir"]["status"], "fail")
        self.assertIn("mode 0777", c["cache_dir"]["detail"])
        self.assertIn("chmod 0700 %s" % self.cache, c["cache_dir"]["fix"])

    def test_bad_secret(self):
        self.write_conf(signicat_client_secret="wrong")
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 1, r)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["token"]["status"], "fail")
        self.assertIn("credentials rejected", c["token"]["detail"])
        self.assertIn("client_secret", c["token"]["fix"])
        tok = self.sim.api_calls("POST", "/connect/token")
        self.assertEqual(c["token"]["traceId"], tok[-1]["traceId"])
        self.assertEqual(c["permissions"]["status"], "skip")
        self.assertNotIn(harness.CLIENT_SECRET, r.out + r.err)

    def test_human_fail_line_and_trace(self):
        self.write_conf(signicat_client_secret="wrong")
        r = self.ctl("check")
        self.assertEqual(r.rc, 1, r)
        line = [l for l in r.out.splitlines() if l.startswith("FAIL  token")][0]
        self.assertTrace(line, "/connect/token")
        self.assertRegex(r.out, r"\n +fix: check \[signicat\] client_id")

    def test_permission_denied(self):
        self.sim.fault(path="/users/resolve", status=403, body=json.dumps({
            "code": "missing_permission", "status": 403,
            "detail": "The subject does not have the required permission 'mobileid:user:read'"}))
        r = self.ctl("check")
        self.assertEqual(r.rc, 1, r)
        line = [l for l in r.out.splitlines() if l.startswith("FAIL  permissions")][0]
        self.assertIn("missing_permission", line)
        self.assertTrace(line, "/users/resolve")
        self.assertIn("grant the API client", r.out)

    def test_untrusted_certificate(self):
        self.write_conf(signicat_ca_file=os.path.join(self.sim.dir, "untrusted.pem"))
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 1, r)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["api https"]["status"], "fail")
        self.assertIn("TLS", c["api https"]["detail"])
        self.assertIn("ca_file", c["api https"]["fix"])
        self.assertEqual(c["token"]["status"], "skip")

    def test_connection_refused(self):
        port = free_port()
        self.write_conf(signicat_token_url="https://127.0.0.1:%d/token" % port)
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 1, r)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["api https"]["status"], "pass")
        self.assertEqual(c["token https"]["status"], "fail")
        self.assertIn("connection failed", c["token https"]["detail"])
        self.assertIn("firewall", c["token https"]["fix"])

    def test_dns_failure(self):
        wrap = unshare_net()
        harness.require(wrap, "cannot make a network namespace here")
        self.write_conf(signicat_api_url="https://mobileid-sim.invalid/mobileid/core")
        p = subprocess.run(wrap + [CTL, "-c", self.conf, "--json", "check"], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        c = {c["name"]: c for c in json.loads(p.stdout)["checks"]}
        self.assertEqual(c["api dns"]["status"], "fail")
        self.assertIn("mobileid-sim.invalid", c["api dns"]["detail"])
        self.assertEqual(c["api https"]["status"], "skip")

    def test_proxy_unreachable(self):
        port = free_port()
        self.write_conf(signicat_http_proxy="http://127.0.0.1:%d" % port)
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 1, r)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["api dns"]["status"], "skip")   # resolved by the proxy
        self.assertEqual(c["api https"]["status"], "fail")
        self.assertIn("http_proxy", c["api https"]["fix"])

    def test_verifid(self):
        self.write_conf(auth_unenrolled="enroll")
        r = self.ctl("check", json_out=True)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(c["verifid"]["status"], "fail")
        self.assertIn("[verifid] profile", c["verifid"]["detail"])
        self.verifid_conf(auth_unenrolled="enroll")
        r = self.ctl("check", json_out=True)
        self.assertEqual(r.rc, 0, r)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["verifid"]["status"], "pass")
        self.assertEqual(c["verifid https"]["status"], "pass")
        self.assertEqual(self.sim.ctl("GET", "verifid/enrollments"), [])

    def test_dqe_token(self):
        self.sim.ctl("POST", "dqe/licences", {"licence": "lic-ctl", "secret": "dqe-secret"})
        dqe = dict(dqe_enabled="yes", dqe_server="127.0.0.1:%d" % self.sim.port,
                   dqe_licence="lic-ctl", dqe_secret="dqe-secret", dqe_partner_name="ctl")
        self.write_conf(**dqe)
        r = self.ctl("check", json_out=True)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["dqe token"]["status"], "pass", r)
        self.assertEqual(r.rc, 0, r)
        self.write_conf(**dict(dqe, dqe_secret="wrong"))
        r = self.ctl("check", json_out=True)
        c = {c["name"]: c for c in r.json()["checks"]}
        self.assertEqual(c["dqe token"]["status"], "fail", r)
        self.assertIsNotNone(c["dqe token"]["fix"])
        self.assertEqual(r.rc, 1, r)


# ---- test LOGIN -------------------------------------------------------------------------

class Push(CtlCase):
    def test_approved(self):
        self.sim.add_user("alice")
        self.sim.policy("alice", "approve", after_ms=300)
        r = self.ctl("test", "alice")
        self.assertEqual(r.rc, 0, r)
        code = re.search(r"code (\d{4})", r.out).group(1)
        start = self.sim.api_calls("POST", "/authentications")[0]
        ctx = start["body"]["operationProperties"]["preOperationContext"]
        self.assertIn("Code: %s" % code, ctx["content"])
        self.assertIn("Service: mobileidctl", ctx["content"])
        self.assertIn("Result: approved", r.out)

    def test_denied_json(self):
        self.sim.add_user("alice")
        self.sim.policy("alice", "deny", after_ms=200)
        r = self.ctl("test", "alice", json_out=True)
        self.assertEqual(r.rc, 1, r)
        j = r.json()
        self.assertEqual((j["result"], j["approved"], j["externalRef"]), ("denied", False, "alice"))
        self.assertRegex(j["code"], r"^\d{4}$")
        self.assertIn("CANCELLED_BY_DEVICE", j["error"])
        err = json.loads(r.err.splitlines()[-1])
        self.assertIn("denied", err["error"])
        self.assertEqual(err["traceId"], j["traceId"])
        self.assertIn(j["traceId"], [x["traceId"] for x in self.sim.requests()])

    def test_unknown_user(self):
        r = self.ctl("test", "nobody")
        self.assertEqual(r.rc, 5, r)
        self.assertIn("not enrolled", r.err)
        self.assertTrace(r.err, "/users/resolve")

    def test_service_and_template(self):
        self.write_conf(auth_externalref="%s:%U")
        self.sim.add_user("sshd:alice")
        self.sim.policy("sshd:alice", "approve", after_ms=100)
        r = self.ctl("test", "--service", "sshd", "Alice")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("externalRef sshd:alice", r.out)

    def test_expired(self):
        self.write_conf(auth_push_timeout="2")
        self.sim.add_user("alice")
        r = self.ctl("test", "alice")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("expired", r.err)
        self.assertTrue(self.sim.api_calls("DELETE", "/authentications/"))

    def test_unavailable(self):
        self.sim.add_user("alice")
        self.sim.fault(path="/authentications$", status=503, count=-1)
        r = self.ctl("test", "alice")
        self.assertEqual(r.rc, 4, r)
        self.assertIn("service unavailable", r.err)
        self.assertTrace(r.err, "/authentications")

    def test_ctrl_c_cancels(self):
        self.sim.add_user("alice")
        p = self.spawn("test", "alice")
        op = self.wait_pending("AUTHENTICATION", "alice")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        dels = self.sim.api_calls("DELETE", "/authentications/" + op["transactionId"])
        self.assertEqual(len(dels), 1)
        self.assertEqual(self.sim.pending(), [])

    def test_progress_on_a_tty(self):
        self.sim.add_user("alice")
        self.sim.policy("alice", "approve", after_ms=1500)
        out = run_on_pty([CTL, "-c", self.conf, "test", "alice"])
        self.assertIn("waiting for the phone...", out)
        self.assertRegex(out, r"\rwaiting for the phone\.\.\. \d+s left")
        self.assertIn("Result: approved", out)


def run_on_pty(cmd, timeout=60):
    """Run cmd with stdout and stderr on a pseudo-terminal; all it wrote."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    data, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
            elif p.poll() is not None:
                break
    finally:
        os.close(master)
        if p.poll() is None:
            p.kill()
        p.wait()
    return data.decode("utf-8", "replace")


# ---- user and device ----------------------------------------------------------------------

class Users(CtlCase):
    def test_lifecycle(self):
        r = self.ctl("user", "show", "alice")
        self.assertEqual(r.rc, 5, r)
        self.assertIn("alice is not enrolled", r.err)
        self.assertTrace(r.err, "/users/resolve")

        r = self.ctl("user", "create", "alice", "--name", "Alice Example", "--phone", "+15035550100")
        self.assertEqual(r.rc, 0, r)
        u = self.sim_user("alice")
        self.assertEqual(u["attributes"], {"fullName": "Alice Example", "mobileNumber": "+15035550100"})
        self.assertEqual(u["devices"], [])

        r = self.ctl("user", "create", "alice")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("already enrolled", r.err)

        r = self.ctl("user", "show", "alice", json_out=True)
        self.assertEqual(r.rc, 0, r)
        j = r.json()
        self.assertEqual(j["userId"], u["id"])
        self.assertEqual(j["user"]["state"], "ACTIVE")
        self.assertEqual(j["user"]["attributes"]["fullName"], "Alice Example")
        self.assertEqual(j["devices"], [])

        r = self.ctl("user", "delete", "alice")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("only a LOCKED user can be deleted", r.err)
        self.assertIn("mobileidctl user lock alice", r.err)
        self.assertIsNotNone(self.sim_user("alice"))
        self.assertEqual(self.sim.api_calls("DELETE"), [])

        r = self.ctl("user", "lock", "alice")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("LOCKED", r.out)
        self.assertEqual(self.sim_user("alice")["state"], "LOCKED")
        r = self.ctl("user", "unlock", "alice", json_out=True)
        self.assertEqual(r.json()["user"]["state"], "ACTIVE")
        self.assertEqual(self.sim_user("alice")["state"], "ACTIVE")

        self.assertEqual(self.ctl("user", "lock", "alice").rc, 0)
        r = self.ctl("user", "delete", "alice", json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r.json()["deleted"])
        self.assertIsNone(self.sim_user("alice"))

    def test_show_with_devices(self):
        self.sim.add_user("bob", attributes={"fullName": "Bob B"},
                          devices=[{"name": "phone-1"}, {"name": "old", "state": "LOCKED"}])
        r = self.ctl("user", "show", "bob")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("fullName=Bob B", r.out)
        self.assertRegex(r.out, r"ACTIVE +phone-1")
        self.assertRegex(r.out, r"LOCKED +old")

    def test_externalref_template_and_service(self):
        self.write_conf(auth_externalref="%s/%U")
        r = self.ctl("user", "create", "Alice")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("uses the service", r.err)   # warned: no --service
        self.assertIsNotNone(self.sim_user("mobileidctl/alice"))
        r = self.ctl("user", "create", "--service", "sshd", "Alice")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.err, "")
        self.assertIsNotNone(self.sim_user("sshd/alice"))

    def test_api_error_has_trace(self):
        self.sim.add_user("carol")
        self.sim.fault(path="/users/[^/]+$", method="GET", status=503)
        r = self.ctl("user", "show", "carol")
        self.assertEqual(r.rc, 4, r)
        self.assertIn("get user: server error (HTTP 503", r.err)
        self.assertTrace(r.err, "/users/")

    def test_json_error_on_stderr(self):
        r = self.ctl("user", "show", "nobody", json_out=True)
        self.assertEqual(r.rc, 5, r)
        self.assertEqual(r.out, "")
        e = json.loads(r.err.splitlines()[-1])
        self.assertIn("not enrolled", e["error"])
        self.assertIn(e["traceId"], [x["traceId"] for x in self.sim.requests()])

    def test_usage(self):
        for args in (["user"], ["user", "frob", "x"], ["user", "show"], ["user", "show", "a", "b"],
                     ["device", "lock", "a"], ["enroll"], ["test"], ["nosuch"]):
            with self.subTest(args=args):
                r = self.ctl(*args)
                self.assertEqual(r.rc, 2, r)
        self.assertEqual(self.sim.requests(), [])


class Devices(CtlCase):
    def setUp(self):
        super().setUp()
        ids = self.sim.add_user("dora", devices=[{"name": "a"}, {"name": "b"}])["deviceIds"]
        self.a, self.b = ids

    def devices(self):
        return {d["id"]: d for d in self.sim_user("dora")["devices"]}

    def test_list(self):
        r = self.ctl("device", "list", "dora", json_out=True)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(sorted(d["id"] for d in r.json()["devices"]), sorted([self.a, self.b]))

    def test_lock_unlock_delete(self):
        r = self.ctl("device", "lock", "dora", self.a)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.devices()[self.a]["state"], "LOCKED")
        self.assertEqual(self.devices()[self.a]["lockReason"], "LOCKED_BY_ADMIN")
        self.assertEqual(self.devices()[self.b]["state"], "ACTIVE")
        # locked devices are listed too
        r = self.ctl("device", "list", "dora")
        self.assertRegex(r.out, re.escape(self.a) + r" +LOCKED")
        r = self.ctl("device", "unlock", "dora", self.a, json_out=True)
        self.assertEqual(r.json()["device"]["state"], "ACTIVE")
        r = self.ctl("device", "delete", "dora", self.b)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(list(self.devices()), [self.a])
        call = self.sim.api_calls("DELETE", "/devices/")[0]
        self.assertEqual(call["query"]["userId"], self.sim_user("dora")["id"])

    def test_unknown_device(self):
        r = self.ctl("device", "delete", "dora", "no-such-device")
        self.assertEqual(r.rc, 5, r)
        self.assertIn("has no device no-such-device", r.err)
        self.assertTrace(r.err, "/devices/no-such-device")
        self.assertEqual(len(self.devices()), 2)


# ---- enroll ------------------------------------------------------------------------------

class Enroll(CtlCase):
    def test_new_user_registered(self):
        p = self.spawn("enroll", "erin", "--name", "Erin E", "--phone", "+15035550111",
                       "--device-name", "Erin's phone")
        op = self.wait_pending("REGISTRATION", "erin")
        ans = self.sim.answer(transactionId=op["transactionId"], action="approve")
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        code = re.search(r"Activation code: (\d{6})", out).group(1)
        self.assertEqual(code, ans["operationProperties"]["activationCode"])
        self.assertIn("Expires:", out)
        self.assertIn("created now", out)
        u = self.sim_user("erin")
        self.assertEqual(u["attributes"]["fullName"], "Erin E")
        self.assertEqual(len(u["devices"]), 1)
        dev = u["devices"][0]
        self.assertEqual((dev["state"], dev["name"]), ("ACTIVE", "Erin's phone"))
        self.assertIn("Device registered: %s" % dev["id"], out)
        start = self.sim.api_calls("POST", "/registrations")[0]["body"]
        self.assertEqual(start["operationProperties"]["registrationMode"], "REGISTRATION")
        self.assertEqual(start["operationProperties"]["sessionTimeout"], "600000")

    def test_existing_user_json_lines(self):
        self.sim.add_user("fred", devices=[])
        p = self.spawn("enroll", "fred", json_out=True)
        op = self.wait_pending("REGISTRATION", "fred")
        self.sim.answer(transactionId=op["transactionId"], action="approve")
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        lines = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([l["event"] for l in lines], ["started", "registered"])
        self.assertFalse(lines[0]["userCreated"])
        self.assertRegex(lines[0]["activationCode"], r"^\d{6}$")
        self.assertEqual(lines[0]["state"], "PENDING")
        self.assertEqual(lines[1]["state"], "COMPLETED")
        self.assertEqual(lines[1]["deviceId"], self.sim_user("fred")["devices"][0]["id"])

    def test_registration_fails(self):
        p = self.spawn("enroll", "gina")
        op = self.wait_pending("REGISTRATION", "gina")
        self.sim.answer(transactionId=op["transactionId"], action="fail",
                        errorCode="LOCKED_PIN_VERIFICATION_FAILED")
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("LOCKED_PIN_VERIFICATION_FAILED", err)
        self.assertTrace(err, "/registrations/")
        self.assertEqual(self.sim_user("gina")["devices"], [])

    def test_code_expires(self):
        r = self.ctl("enroll", "hank", "--timeout", "2")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("EXPIRED", r.err)
        self.assertIn("enroll again", r.err)

    def test_ctrl_c_cancels(self):
        p = self.spawn("enroll", "ivan")
        op = self.wait_pending("REGISTRATION", "ivan")
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130, err)
        self.assertIn("cancelling the registration", err)
        dels = self.sim.api_calls("DELETE", "/registrations/" + op["transactionId"])
        self.assertEqual(len(dels), 1)
        self.assertEqual(dels[0]["status"], 204)
        self.assertEqual(self.sim.pending(), [])

    def test_no_wait(self):
        r = self.ctl("enroll", "jane", "--no-wait", json_out=True)
        self.assertEqual(r.rc, 0, r)
        j = r.json_lines()
        self.assertEqual(len(j), 1)
        pend = self.sim.pending()
        self.assertEqual(pend[0]["transactionId"], j[0]["transactionId"])

    def test_locked_user(self):
        self.sim.add_user("kim", state="LOCKED")
        r = self.ctl("enroll", "kim")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("mobileidctl user unlock kim", r.err)
        self.assertEqual(self.sim.api_calls("POST", "/registrations"), [])

    def test_progress_on_a_tty(self):
        self.sim.add_user("lea", devices=[])

        def approve_later():
            op = self.wait_pending("REGISTRATION", "lea")
            time.sleep(1.5)
            self.sim.answer(transactionId=op["transactionId"], action="approve")

        import threading
        t = threading.Thread(target=approve_later)
        t.start()
        out = run_on_pty([CTL, "-c", self.conf, "enroll", "lea"])
        t.join()
        self.assertRegex(out, r"\rwaiting for the device to register \(code \d{6}, \d+m\d\ds left")
        self.assertIn("Device registered", out)


# ---- enroll-link ---------------------------------------------------------------------------

class EnrollLink(CtlCase):
    def setUp(self):
        super().setUp()
        self.verifid_conf()

    def enrollments(self):
        return self.sim.ctl("GET", "verifid/enrollments")

    def test_link(self):
        r = self.ctl("enroll-link", "mona", "--first-name", "Mona", "--last-name", "Lisa")
        self.assertEqual(r.rc, 0, r)
        e = self.enrollments()
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["request"], {
            "Profile": PROFILE, "Language": "en", "Email": "mona@example.com",
            "FirstName": "Mona", "LastName": "Lisa", "ReturnUrl": "https://intranet.example/enrolled"})
        self.assertEqual(r.out.strip().splitlines()[-1], e[0]["enrollment"]["EnrollUrl"])
        call = self.sim.api_calls("PUT", "/api/v1/Enrollments")[0]
        self.assertEqual(call["headers"].get("X-VerifiD-ApiToken"), VERIFID_TOKEN)

    def test_json_and_options(self):
        self.write_conf(verifid_language="it")
        r = self.ctl("enroll-link", "nick", "--email", "n@corp.example", "--first-name", "Nick",
                     "--last-name", "Name", json_out=True)
        self.assertEqual(r.rc, 0, r)
        j = r.json()
        e = self.enrollments()[0]
        self.assertEqual(j["enrollUrl"], e["enrollment"]["EnrollUrl"])
        self.assertEqual(j["id"], e["enrollment"]["Id"])
        self.assertEqual((e["request"]["Email"], e["request"]["Language"]), ("n@corp.example", "it"))

    def test_token_file(self):
        tok = os.path.join(self.dir, "verifid.token")
        harness.write_file(tok, VERIFID_TOKEN + "\n", 0o600)
        self.write_conf(verifid_api_token=None, verifid_api_token_file=tok)
        args = ("enroll-link", "olga", "--first-name", "Olga", "--last-name", "O")
        self.assertEqual(self.ctl(*args).rc, 0)
        os.chmod(tok, 0o644)
        r = self.ctl(*args)
        self.assertEqual(r.rc, 3, r)
        self.assertIn("[verifid] api_token_file", r.err)
        self.assertEqual(len(self.enrollments()), 1)

    def test_bad_token_401(self):
        self.write_conf(verifid_api_token="wrong")
        r = self.ctl("enroll-link", "pia", "--first-name", "P", "--last-name", "Q")
        self.assertEqual(r.rc, 3, r)
        self.assertIn("VerifID rejected the API token (HTTP 401", r.err)
        self.assertIn("Authentication failed: bad token.", r.err)
        self.assertTrace(r.err, "/api/v1/Enrollments")
        self.assertNotIn("wrong", r.err)

    def test_refused_400(self):
        self.write_conf(verifid_profile="NoSuchProfile")
        r = self.ctl("enroll-link", "quin", "--first-name", "Q", "--last-name", "R")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("HTTP 400", r.err)
        self.assertIn("Profile 'NoSuchProfile' is not configured", r.err)

    def test_unavailable_503(self):
        self.sim.ctl("POST", "verifid/outage", {"count": 1})
        r = self.ctl("enroll-link", "rita", "--first-name", "R", "--last-name", "S", json_out=True)
        self.assertEqual(r.rc, 4, r)
        e = json.loads(r.err.splitlines()[-1])
        self.assertIn("VerifID is unavailable (HTTP 503", e["error"])
        self.assertIn("OnBoarding Today", e["error"])
        self.assertIsNotNone(e["traceId"])
        self.assertEqual(self.ctl("enroll-link", "rita", "--first-name", "R",
                                  "--last-name", "S").rc, 0)

    def test_missing_data(self):
        self.write_conf(verifid_email=None)
        r = self.ctl("enroll-link", "sam", "--first-name", "S", "--last-name", "T")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--email", r.err)
        r = self.ctl("enroll-link", "no-such-account-ctl-test", "--email", "x@example.com")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--first-name", r.err)
        self.assertEqual(self.enrollments(), [])

    def test_sim_result_redirect(self):
        """The simulator's end of the flow: the ReturnUrl with the documented result."""
        r = self.ctl("enroll-link", "uwe", "--first-name", "U", "--last-name", "W", json_out=True)
        eid = r.json()["id"]
        bad = self.sim.ctl("POST", "verifid/complete", {"id": eid, "result": "error",
                                                          "error": "RequestIsExpired"})
        self.assertEqual(bad["redirect"], "https://intranet.example/enrolled?verifidResult=error"
                                          "&verifidError=RequestIsExpired")
        self.assertEqual(bad["enrollment"]["State"], "Failed")

    def test_names_from_gecos(self):
        lib = nss_wrapper_lib()
        harness.require(lib, "nss_wrapper (libnss-wrapper) not installed")
        passwd = os.path.join(self.dir, "passwd")
        group = os.path.join(self.dir, "group")
        with open(passwd, "w") as f:
            f.write("tina:x:61235:61235:Tina Maria Turner,Room 1,555-0100,,:/nonexistent:/bin/false\n")
        with open(group, "w") as f:
            f.write("tina:x:61235:\n")
        if harness.SANITIZER_PRELOAD:
            lib = harness.SANITIZER_PRELOAD + ":" + lib   # ASan's runtime must come first
        r = self.ctl("enroll-link", "tina", env={"LD_PRELOAD": lib, "NSS_WRAPPER_PASSWD": passwd,
                                                 "NSS_WRAPPER_GROUP": group})
        self.assertEqual(r.rc, 0, r)
        req = self.enrollments()[0]["request"]
        self.assertEqual((req["FirstName"], req["LastName"], req["Email"]),
                         ("Tina Maria", "Turner", "tina@example.com"))


if __name__ == "__main__":
    main()
