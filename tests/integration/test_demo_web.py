#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The demo's phone as a web page (tests/sim/phone_sim.py) in a real
headless chromium, driven through its DevTools protocol over a pipe
(--remote-debugging-pipe: no debugging port is opened).

A pamtester login waits on the push; the page shows it (live, without a
reload) with the code the PAM conversation showed; a click on Approve makes
pamtester succeed, a click on Deny makes the next login fail.  A screenshot
of the page with a pending push is kept in
$top_builddir/tests/artefacts/demo-phone.png."""
import base64
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

CHROMIUM = shutil.which("chromium") or ""
ARTEFACTS = os.path.join(harness.BUILDDIR, "tests", "artefacts")
# Root needs --no-sandbox; the rest keeps chromium from reaching any outside host.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-default-browser-check", "--no-proxy-server", "--disable-extensions",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                  "--hide-scrollbars", "--window-size=420,900", "--remote-debugging-pipe"]
WAIT = 30   # seconds, for anything the page should show (a loaded 2-core machine)


class Browser:
    """A headless chromium with one page, driven by DevTools protocol
    messages (NUL-terminated JSON) on fds 3 (to chromium) and 4 (from it)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="mobileid-chromium-")   # new, empty
        self.log = open(os.path.join(self.profile, "chromium.log"), "w+")
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        # out of the way of 3 and 4 before bash (not dash: fds over 9) puts them there
        hi_r, hi_w = fcntl.fcntl(to_r, fcntl.F_DUPFD, 100), fcntl.fcntl(from_w, fcntl.F_DUPFD, 100)
        os.close(to_r)
        os.close(from_w)
        self.proc = subprocess.Popen(
            ["bash", "-c", 'exec "$@" 3<&%d 4>&%d %d<&- %d>&-' % (hi_r, hi_w, hi_r, hi_w), "bash", CHROMIUM] +
            CHROMIUM_FLAGS + ["--user-data-dir=" + self.profile, "about:blank"],
            pass_fds=(hi_r, hi_w), stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)   # its own process group: its helpers are ours to stop
        os.close(hi_r)
        os.close(hi_w)
        self.wr, self.rd = os.fdopen(to_w, "wb", buffering=0), os.fdopen(from_r, "rb", buffering=0)
        self.seq, self.answers, self.cond = 0, {}, threading.Condition()
        self.urls = []   # every URL the page requested (Network.requestWillBeSent)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        try:
            self._attach()
        except BaseException:
            self.close()
            raise

    def _attach(self):
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        tid = page[0]["targetId"] if page else self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=tid, flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)
        self.call("Network.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=420, height=900,
                  deviceScaleFactor=1, mobile=False)

    def _read(self):
        buf = b""
        while True:
            chunk = self.rd.read(65536)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                m = json.loads(msg)
                if "id" in m:
                    with self.cond:
                        self.answers[m["id"]] = m
                        self.cond.notify_all()
                elif m.get("method") == "Network.requestWillBeSent":
                    self.urls.append(m["params"]["request"]["url"])
        with self.cond:
            self.answers[None] = {"error": {"message": "chromium closed the pipe"}}
            self.cond.notify_all()

    def call(self, method, session=False, timeout=WAIT, **params):
        with self.cond:
            self.seq += 1
            n = self.seq
        msg = {"id": n, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self.wr.write(json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self.cond:
            while n not in self.answers and None not in self.answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("chromium did not answer %s in %d s" % (method, timeout))
                self.cond.wait(left)
            m = self.answers.pop(n, None) or self.answers[None]
        if "error" in m:
            raise RuntimeError("%s: %s" % (method, m["error"]))
        return m["result"]

    def js(self, expr):
        """The value of a JavaScript expression in the page (JSON-able)."""
        r = self.call("Runtime.evaluate", session=True, expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError("JavaScript: %s" % r["exceptionDetails"])
        return r["result"].get("value")

    def wait(self, expr, what, timeout=WAIT):
        """Poll until the expression is truthy -> its value."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.js(expr)
            if v:
                return v
            if time.monotonic() > deadline:
                raise AssertionError("the page did not show %s within %d s; its text: %r" % (
                    what, timeout, self.js("document.body ? document.body.innerText : ''")))
            time.sleep(0.1)

    def navigate(self, url):
        self.call("Page.navigate", session=True, url=url)
        self.wait("document.readyState === 'complete' && location.href === %s" % json.dumps(url),
                  "the page " + url)

    def click(self, selector):
        """A real mouse click (pressed + released) in the middle of the element."""
        pos = self.js("""(() => { const e = document.querySelector(%s);
            if (!e || e.disabled) return null; e.scrollIntoView({block: "center"});
            const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"""
                      % json.dumps(selector))
        if not pos:
            raise AssertionError("nothing enabled to click at %s" % selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", session=True, type=kind, x=pos[0], y=pos[1],
                      button="left", clickCount=1)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        # Wait for it to exit but leave it unreaped (a zombie keeps its pid and
        # process group id from reuse), stop what is left of the group we made
        # for it (renderer, zygote), then reap it.
        deadline = time.monotonic() + 10
        while os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                deadline = float("inf")
            time.sleep(0.05)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        for f in (self.wr, self.rd):
            f.close()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


CARD = '.push[data-tid="%s"]'   # the card of a push on the page


def card_js(tid):
    return "document.querySelector(%s)" % json.dumps(CARD % tid)


class DemoWebPhone(unittest.TestCase):
    sim = browser = None

    @classmethod
    def setUpClass(cls):
        harness.require(CHROMIUM, "chromium not installed (scripts/install-deps installs it)")
        harness.require(harness.PAMTESTER, "pamtester not installed")
        harness.require(harness.PAM_WRAPPER_LIB, "pam_wrapper not installed")
        cls.sim = harness.Sim(phone=True)
        try:
            cls.browser = Browser()
        except BaseException:
            cls.sim.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.browser:
            cls.browser.close()
        if cls.sim:
            cls.sim.stop()

    def setUp(self):
        self.sim.reset()
        self.env = harness.PamEnv(service="sshd-demo")
        self.addCleanup(self.env.cleanup)
        self.sim.add_user("demo")
        self.env.write_conf(self.sim, auth_push_timeout="90")

    def login(self):
        """Start a pamtester login in a thread -> (thread, result list)."""
        res = []
        t = threading.Thread(target=lambda: res.append(self.env.run("demo", args="prompt=info", timeout=150)))
        t.start()
        self.addCleanup(t.join)
        return t, res

    def pending_push(self):
        """Wait for the simulator to hold exactly one PENDING push -> it."""
        deadline = time.monotonic() + WAIT
        while True:
            p = self.sim.pending()
            if p:
                self.assertEqual(len(p), 1, p)
                return p[0]
            self.assertLess(time.monotonic(), deadline, "no push was started")
            time.sleep(0.1)

    def shown(self, tid):
        """Wait for the card of push tid -> {title, content, code, meta}."""
        card = card_js(tid)
        return self.browser.wait(
            """(() => { const c = %s; if (!c) return null;
                 const t = s => (c.querySelector(s) || {}).textContent;
                 return {title: t('.title'), content: t('.content'), code: t('.code b'), meta: t('.meta'),
                         buttons: [...c.querySelectorAll('button')].map(b => b.textContent)}; })()""" % card,
            "push " + tid)

    def finish(self, thread, res):
        thread.join(120)
        self.assertFalse(thread.is_alive(), "pamtester still waiting")
        return res[0]

    def conversation_code(self, r):
        m = re.search(r"Approve the login on your phone \(code (\d+)\)", r.out + r.err)
        self.assertIsNotNone(m, "no code in the PAM conversation: %r" % (r.out + r.err))
        return m.group(1)

    def tap(self, t, res, tid, code, button):
        """Click Approve or Deny on the card of push tid while pamtester (t)
        waits; check how it ended, and the page's record of the answer."""
        self.assertTrue(t.is_alive(), "pamtester did not wait for the phone")
        self.browser.click(CARD % tid + " button." + button)
        r = self.finish(t, res)
        approved = button == "approve"
        self.assertEqual(r.rc == 0, approved, r.out + r.err)
        self.assertEqual(self.conversation_code(r), code)
        self.assertIn(" result=%s " % ("approved" if approved else "denied"), r.attempt_line())
        self.assertIn(" transaction=%s " % tid, r.attempt_line())
        self.browser.wait(
            "(() => { const li = document.querySelector('#history li');"
            " return li && li.dataset.tid === %s && li.dataset.state === %s"
            " && !%s && !document.getElementById('empty').hidden; })()"
            % (json.dumps(tid), json.dumps("COMPLETED" if approved else "FAILED"), card_js(tid)),
            "the answered push in the list, no push pending")

    def test_approve_then_deny(self):
        b = self.browser
        b.navigate(self.sim.phone_url)
        b.wait("!document.getElementById('empty').hidden && "
               "document.getElementById('status').textContent.startsWith('connected')", "the empty state")

        # 1: the page, loaded before the login, shows its push; Approve
        t, res = self.login()
        push = self.pending_push()
        seen = self.shown(push["transactionId"])
        self.assertEqual(seen["title"], push["title"])
        self.assertTrue(seen["title"].startswith("Login to "), seen)
        self.assertEqual(seen["content"], push["content"])
        self.assertRegex(seen["code"], r"^\d{4}$")
        self.assertIn("Code: %s\n" % seen["code"], seen["content"])
        self.assertIn("User: demo", seen["content"])
        self.assertRegex(seen["meta"], r"^for demo · expires in \d+ s$")
        self.assertEqual(seen["buttons"], ["Deny", "Approve"])
        self.assertTrue(b.js("document.getElementById('empty').hidden"))
        b.screenshot(os.path.join(ARTEFACTS, "demo-phone.png"))
        sys.stdout.write("# screenshot of the pending push: %s\n" % os.path.join(ARTEFACTS, "demo-phone.png"))
        self.tap(t, res, push["transactionId"], seen["code"], "approve")
        b.screenshot(os.path.join(ARTEFACTS, "demo-phone-answered.png"))

        # 2: a second login, on the same page (no reload); Deny
        t, res = self.login()
        push2 = self.pending_push()
        self.assertNotEqual(push2["transactionId"], push["transactionId"])
        seen2 = self.shown(push2["transactionId"])
        self.assertIn("Code: %s\n" % seen2["code"], seen2["content"])
        self.tap(t, res, push2["transactionId"], seen2["code"], "deny")
        answers = [q for q in self.sim.requests() if q["method"] == "POST" and "authentications" in q["path"]]
        self.assertEqual(len(answers), 2)   # one push per login: the page answered, nothing else
        # the page, its script and style, its polls and answers: nothing from anywhere else
        paths = {re.sub(r"\?.*", "", u[len(self.sim.phone_url) - 1:]) for u in b.urls
                 if u.startswith(self.sim.phone_url)}
        self.assertEqual([u for u in b.urls if not u.startswith(self.sim.phone_url)], [])
        self.assertEqual(paths - {"/favicon.ico"}, {"/", "/phone.js", "/phone.css", "/pushes", "/answer"})

    def test_demo_script_web(self):
        """scripts/demo --web: it prints the page's URL and the code while
        pamtester waits; a tap on Approve on the page ends it, approved."""
        demo = subprocess.Popen([harness.PYTHON3, "-u", os.path.join(harness.SRCDIR, "tests", "integration",
                                                                     "demo.py"), "--web", "--timeout", "90"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        lines, cond = [], threading.Condition()

        def read():
            for line in demo.stdout:
                with cond:
                    lines.append(line.rstrip("\n"))
                    cond.notify_all()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()

        def stop():
            if demo.poll() is None:
                demo.send_signal(signal.SIGINT)   # it stops its simulator and pamtester
                try:
                    demo.wait(30)
                except subprocess.TimeoutExpired:
                    demo.kill()
                    demo.wait()
            reader.join(10)
            demo.stdout.close()
        self.addCleanup(stop)

        def line(pattern):
            deadline = time.monotonic() + 60
            with cond:
                while True:
                    for x in lines:
                        m = re.search(pattern, x)
                        if m:
                            return m
                    left = deadline - time.monotonic()
                    self.assertGreater(left, 0, "demo never printed %r:\n%s" % (pattern, "\n".join(lines)))
                    cond.wait(min(left, 1))

        url = line(r"^The phone: open (http://127\.0\.0\.1:\d+/) in a browser").group(1)
        code = line(r"^\[terminal\] Approve the login on your phone \(code (\d+)\)$").group(1)
        self.assertIsNone(demo.poll(), "the demo did not wait for the tap")
        b = self.browser
        b.navigate(url)
        tid = b.wait("(document.querySelector('.push') || {dataset: {}}).dataset.tid", "the demo's push")
        self.assertEqual(self.shown(tid)["code"], code)
        self.assertIsNone(demo.poll(), "the demo did not wait for the tap")
        b.click(CARD % tid + " button.approve")
        self.assertEqual(demo.wait(60), 0, "\n".join(lines))
        reader.join(10)
        self.assertRegex(lines[-1], r"^result: APPROVED in ")
        self.assertTrue(any(("transaction=%s" % tid) in x and " result=approved " in x for x in lines), lines)

    def test_page_only_for_loopback_names_and_same_origin(self):
        """The page's server refuses other Host names (DNS rebinding) and
        answers from another origin or as a form (cross-site requests)."""
        def req(path, data=None, headers=None):
            rq = urllib.request.Request(self.sim.phone_url.rstrip("/") + path, data=data,
                                        headers=headers or {}, method="POST" if data else "GET")
            try:
                with urllib.request.urlopen(rq, timeout=10) as r:
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")

        t, res = self.login()
        push = self.pending_push()
        body = json.dumps({"transactionId": push["transactionId"], "action": "approve"}).encode()
        js = {"Content-Type": "application/json"}
        self.assertEqual(req("/pushes", headers={"Host": "attacker.example:80"})[0], 403)
        self.assertEqual(req("/answer", body, dict(js, Host="attacker.example"))[0], 403)
        self.assertEqual(req("/answer", body, dict(js, Origin="http://attacker.example"))[0], 403)
        self.assertEqual(req("/answer", body, {"Content-Type": "text/plain"})[0], 415)
        self.assertEqual(req("/answer", json.dumps({"transactionId": push["transactionId"],
                                                    "action": "expire"}).encode(), js)[0], 400)
        self.assertEqual([p["transactionId"] for p in self.sim.pending()], [push["transactionId"]])
        status, listed = req("/pushes", headers={"Host": "localhost:8080"})   # e.g. through ssh -L
        self.assertEqual((status, [p["transactionId"] for p in listed["pushes"]]),
                         (200, [push["transactionId"]]))
        status, ans = req("/answer", json.dumps({"transactionId": push["transactionId"],
                                                 "action": "deny"}).encode(), js)
        self.assertEqual((status, ans["state"], ans["errorCode"]), (200, "FAILED", "CANCELLED_BY_DEVICE"))
        r = self.finish(t, res)
        self.assertNotEqual(r.rc, 0)
        self.assertIn(" result=denied ", r.attempt_line())
        self.assertEqual(req("/answer", body, js)[0], 404)   # no longer PENDING


if __name__ == "__main__":
    main()
