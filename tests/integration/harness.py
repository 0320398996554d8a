# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared fixtures for the integration tests: the simulator (started on
127.0.0.1 with a CA made for the run), configuration files, and pamtester
under pam_wrapper with the module from the build tree."""
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

SRCDIR = os.environ.get("top_srcdir") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILDDIR = os.environ.get("top_builddir") or SRCDIR
MODULE = os.path.join(BUILDDIR, "pam_mobileid", ".libs", "pam_mobileid.so")
SYSLOGCAP = os.path.join(BUILDDIR, "tests", ".libs", "libsyslogcap.so")
PAMTESTER = os.environ.get("PAMTESTER") or shutil.which("pamtester") or ""


def _pam_wrapper_lib():
    try:
        out = subprocess.run(["pkg-config", "--libs", "pam_wrapper"], capture_output=True,
                             text=True).stdout.strip()
    except OSError:
        return ""
    return out if out.endswith(".so") and os.path.exists(out) else ""


PAM_WRAPPER_LIB = os.environ.get("PAM_WRAPPER_LIB") or _pam_wrapper_lib()
VALGRIND = os.environ.get("VALGRIND") or shutil.which("valgrind") or ""
PYTHON3 = os.environ.get("PYTHON3") or sys.executable
# Set by scripts/sanitize-check: sanitizer runtimes to preload into pamtester.
SANITIZER_PRELOAD = os.environ.get("MOBILEID_TEST_PRELOAD", "")
SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak)Sanitizer|runtime error:|"
                              r"SUMMARY: UndefinedBehaviorSanitizer")
CLIENT_ID = "test-client"
CLIENT_SECRET = "s3cret-for-tests-only"


class Sim:
    """The API simulator, one process per test class."""

    def __init__(self, cert="server", phone=False, phone_port=0):
        """phone: also serve the phone page (tests/sim/phone_sim.py) at
        self.phone_url; phone_port 0 picks a free port."""
        self.dir = tempfile.mkdtemp(prefix="mobileid-sim-")
        subprocess.run(["bash", os.path.join(SRCDIR, "tests", "sim", "mkca.sh"), self.dir],
                       check=True, stdout=subprocess.DEVNULL)
        self.ca = os.path.join(self.dir, "ca.pem")
        portfile = os.path.join(self.dir, "port")
        phonefile = os.path.join(self.dir, "phone-port")
        self.log = open(os.path.join(self.dir, "sim.log"), "w")
        self.proc = subprocess.Popen(
            [PYTHON3, os.path.join(SRCDIR, "tests", "sim", "mobileid_sim.py"),
             "--cert", os.path.join(self.dir, cert + ".pem"),
             "--key", os.path.join(self.dir, cert + ".key"),
             "--host", "127.0.0.1", "--port", "0", "--port-file", portfile,
             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET] +
            (["--phone-port-file", phonefile, "--phone-port", str(phone_port)] if phone else []),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not os.path.exists(portfile):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the simulator did not start; see " + self.log.name)
            time.sleep(0.05)
        with open(portfile) as f:
            self.port = int(f.read().strip())
        self.base = "https://127.0.0.1:%d" % self.port
        self.phone_url = None
        if phone:   # written before portfile
            with open(phonefile) as f:
                self.phone_url = "http://127.0.0.1:%d/" % int(f.read().strip())
        self.ctx = ssl.create_default_context(cafile=self.ca)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- control API ----
    def ctl(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + "/_sim/" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def reset(self):
        return self.ctl("POST", "reset", {})

    def add_user(self, ref, **kw):
        kw["externalRef"] = ref
        return self.ctl("POST", "users", kw)

    def policy(self, ref, action, after_ms=0, **kw):
        kw.update(externalRef=ref, action=action, after_ms=after_ms)
        return self.ctl("POST", "policy", kw)

    def fault(self, **kw):
        return self.ctl("POST", "faults", kw)

    def requests(self):
        return self.ctl("GET", "requests")

    def pending(self):
        return self.ctl("GET", "pending")

    def answer(self, **kw):
        return self.ctl("POST", "answer", kw)

    def expire_tokens(self):
        return self.ctl("POST", "tokens/expire", {})

    def api_calls(self, method=None, contains=None):
        out = []
        for r in self.requests():
            if method and r["method"] != method:
                continue
            if contains and contains not in r["path"]:
                continue
            out.append(r)
        return out


def write_file(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def config_text(sim, cache_dir, state_dir=None, **over):
    """A configuration for the simulator; keyword "section_key=value"
    overrides (None removes the key)."""
    conf = {
        "signicat": {
            "api_url": sim.base + "/mobileid/core",
            "token_url": sim.base + "/auth/open/connect/token",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "ca_file": sim.ca,
            "connect_timeout": "2",
            "request_timeout": "5",
            "cache_dir": cache_dir,
        },
        "auth": {
            "push_timeout": "10",
            "poll_interval": "100ms",
            "state_dir": state_dir or os.path.join(os.path.dirname(cache_dir), "state"),
        },
    }
    for key, value in over.items():
        section, name = key.split("_", 1)
        if value is None:
            conf[section].pop(name, None)
        else:
            conf.setdefault(section, {})[name] = value
    lines = []
    for section, keys in conf.items():
        lines.append("[%s]" % section)
        lines.extend("%s = %s" % kv for kv in keys.items())
        lines.append("")
    return "\n".join(lines)


class PamResult:
    def __init__(self, rc, out, err, syslog, elapsed):
        self.rc, self.out, self.err, self.syslog, self.elapsed = rc, out, err, syslog, elapsed

    @property
    def ok(self):
        return self.rc == 0

    def attempt_line(self):
        lines = [l for l in self.syslog if " result=" in l]
        return lines[-1] if lines else ""


class PamEnv:
    """A pam_wrapper service directory using the module from the build tree."""

    def __init__(self, service="mobileid-test"):
        self.dir = tempfile.mkdtemp(prefix="mobileid-pam-")
        os.chmod(self.dir, 0o755)
        self.service = service
        self.services = os.path.join(self.dir, "services")
        os.mkdir(self.services)
        self.cache = os.path.join(self.dir, "cache")
        os.mkdir(self.cache, 0o700)
        self.conf = os.path.join(self.dir, "mobileid.conf")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_conf(self, sim, mode=0o600, **over):
        write_file(self.conf, config_text(sim, self.cache, **over), mode)

    def clear_cache(self):
        for name in os.listdir(self.cache):
            os.unlink(os.path.join(self.cache, name))

    def run(self, user, args="", stdin="", timeout=60, valgrind=False, conf=None,
            env=None, items=None, wrap=None):
        conf = conf or self.conf
        # replaced atomically: runs may be concurrent
        svc = os.path.join(self.services, self.service)
        fd, tmp = tempfile.mkstemp(dir=self.dir)
        with os.fdopen(fd, "w") as f:
            f.write("auth required %s conf=%s %s\n" % (MODULE, conf, args))
        os.chmod(tmp, 0o644)
        os.rename(tmp, svc)
        # one capture file per run: runs may be concurrent
        fd, syslog = tempfile.mkstemp(prefix="syslog-", dir=self.dir)
        os.close(fd)
        e = dict(os.environ)
        e.update({
            "PAM_WRAPPER": "1",
            "PAM_WRAPPER_SERVICE_DIR": self.services,
            "PAM_WRAPPER_USE_SYSLOG": "1",
            "LD_PRELOAD": "%s:%s" % (PAM_WRAPPER_LIB, SYSLOGCAP),
            "MOBILEID_TEST_SYSLOG": syslog,
        })
        if SANITIZER_PRELOAD:
            # scripts/sanitize-check: an ASan-built module in an
            # uninstrumented pamtester needs the runtime loaded first.
            e["LD_PRELOAD"] = SANITIZER_PRELOAD + ":" + e["LD_PRELOAD"]
            e["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"   # ASan refuses RTLD_DEEPBIND
            # reports to stderr (not to sanitize-check's log_path): checked below
            e["ASAN_OPTIONS"] = re.sub(r"(^|:)log_(path|exe_name)=[^:]*", "",
                                       e.get("ASAN_OPTIONS", ""))
        if env:
            e.update(env)
        cmd = [PAMTESTER, "-v"]
        for k, v in (items or {}).items():
            cmd += ["-I", "%s=%s" % (k, v)]
        cmd += [self.service, user, "authenticate"]
        vglog = None
        if valgrind:
            e["PAM_WRAPPER_DISABLE_DEEPBIND"] = "1"
            vglog = syslog + ".valgrind"
            cmd = [VALGRIND, "-q", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                   "--keep-debuginfo=yes",
                   "--suppressions=" + os.path.join(SRCDIR, "tests", "integration",
                                                    "valgrind.supp"),
                   "--log-file=" + vglog] + cmd
        if wrap:
            cmd = list(wrap) + cmd
        t0 = time.monotonic()
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=e,
                           timeout=timeout, errors="replace")   # names may be bad UTF-8
        elapsed = time.monotonic() - t0
        lines = []
        if os.path.exists(syslog):
            with open(syslog, errors="replace") as f:
                lines = f.read().splitlines()
        err = p.stderr
        if vglog and os.path.exists(vglog):
            with open(vglog) as f:
                err += f.read()
        check_sanitizer("pamtester", err)
        res = PamResult(p.returncode, p.stdout, err, lines, elapsed)
        res.syslog_file = syslog   # the raw bytes, for tests of what reaches syslog
        return res


def without_leak_check():
    """env= for PamEnv.run under scripts/sanitize-check with LeakSanitizer
    off, ASan and UBSan still on.  Only for runs of many pamtesters at
    once on a loaded machine: there gcc 12's LeakSanitizer can crash in its
    own exit-time tracer ("Tracer caught signal 11 ... LeakSanitizer has
    encountered a fatal error", exit 1) after the module has returned.  The
    same code paths are leak-checked by the single-login tests."""
    if not SANITIZER_PRELOAD:
        return None
    opts = re.sub(r"(^|:)log_(path|exe_name)=[^:]*", "", os.environ.get("ASAN_OPTIONS", ""))
    return {"ASAN_OPTIONS": opts + ":detect_leaks=0"}


URL_SAFE = re.compile(r"^[A-Za-z0-9/_.~%-]*$")


def clean_requests(test, sim):
    """Every API request the simulator saw, checked: a URL-safe path and
    query, a JSON body that parsed (valid UTF-8 and JSON, else the
    simulator logs a string), none refused as malformed.  The requests."""
    reqs = sim.requests()
    for r in reqs:
        test.assertRegex(r["path"], URL_SAFE)
        test.assertNotIn("/../", r["path"] + "/")
        for k, v in r["query"].items():
            test.assertRegex(k + v, r"^[A-Za-z0-9_.~,-]*$")
        if r["method"] in ("POST", "PATCH") and not r["path"].endswith("/token"):
            test.assertIsInstance(r["body"], dict, "not JSON: %r" % (r["body"],))
        test.assertNotEqual(r["status"], 400, "the API refused a request: %r" % r)
    return reqs


def check_sanitizer(program, err):
    """In the sanitizer run: fail on a report a program left on its stderr
    (UBSan's always go there; ASan's do where log_path is not set)."""
    if SANITIZER_PRELOAD:
        text = err.decode(errors="replace") if isinstance(err, bytes) else err
        if SANITIZER_REPORT.search(text):
            raise AssertionError("sanitizer report from %s:\n%s" % (program, text))


class SimCase(unittest.TestCase):
    """One simulator for the class, reset before each test.  Subclasses
    extend setUpClass/setUp through super() (their own requirements first:
    a skip raised after the simulator started would leave it running)."""
    sim = None

    @classmethod
    def setUpClass(cls):
        cls.sim = Sim()

    @classmethod
    def tearDownClass(cls):
        if cls.sim:
            cls.sim.stop()

    def setUp(self):
        self.sim.reset()


class PamSimCase(SimCase):
    """SimCase with a fresh PamEnv (removed afterwards) for each test;
    skipped without pamtester or pam_wrapper."""

    @classmethod
    def setUpClass(cls):
        require(PAMTESTER, "pamtester not installed")
        require(PAM_WRAPPER_LIB, "pam_wrapper not installed")
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.env = PamEnv()
        self.addCleanup(self.env.cleanup)


def require(cond, reason):
    import unittest
    if not cond:
        raise unittest.SkipTest(reason)
