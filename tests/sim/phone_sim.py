# SPDX-License-Identifier: GPL-2.0-or-later
"""The simulated phone as a web page: a part of mobileid_sim.py.

With --phone-port-file the simulator also serves, over plain HTTP on its loopback address, a
page that shows each PENDING authentication as the MobileID app would (title, content with
the code, Approve / Deny) and polls for new ones; a tap answers the push through the
simulator's own answer path (the same as POST /_sim/answer).

  GET  /          the page (HTML; /phone.js and /phone.css with it, nothing from outside)
  GET  /pushes    {"pushes": [pending authentication, as /_sim/pending, + "expiresInMs"]}
  POST /answer    {"transactionId", "action": "approve"|"deny"} -> {"transactionId","state","errorCode"?}

See tests/sim/README.md, "The phone as a web page".
"""
import calendar
import http.server
import json
import socketserver
import threading
import time

HOSTS = ("127.0.0.1", "localhost", "[::1]")   # accepted Host header names (DNS rebinding)
ACTIONS = ("approve", "deny")
MAX_BODY = 4096
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; "
                               "frame-ancestors 'none'",
}

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MobileID - simulated phone</title>
<link rel="stylesheet" href="/phone.css">
<script src="/phone.js" defer></script>
</head>
<body>
<main class="phone">
  <header>
    <h1>MobileID</h1>
    <p class="sub">simulated phone &middot; test simulator on this machine</p>
  </header>
  <p id="status" class="status">connecting&hellip;</p>
  <section id="pushes" aria-live="polite"></section>
  <p id="empty" class="empty" hidden>No pending push.<br>Start a login: its push shows here.</p>
  <section id="answered" class="history" hidden>
    <h2>Answered or ended</h2>
    <ul id="history"></ul>
  </section>
</main>
</body>
</html>
"""

CSS = """
* { box-sizing: border-box; }
body { margin: 0; background: #e8eaed; font: 16px/1.4 system-ui, sans-serif; color: #202124; }
.phone { max-width: 420px; min-height: 100vh; margin: 0 auto; padding: 16px; background: #fff; }
header h1 { margin: 0; font-size: 22px; }
.sub { margin: 2px 0 12px; color: #5f6368; font-size: 13px; }
.status { margin: 0 0 12px; font-size: 13px; color: #188038; }
.status.down { color: #c5221f; font-weight: bold; }
.push { border: 1px solid #dadce0; border-radius: 12px; padding: 14px; margin-bottom: 14px;
        box-shadow: 0 1px 3px rgba(0,0,0,.15); }
.push .title { margin: 0 0 8px; font-size: 19px; }
.push .code { margin: 6px 0 10px; font-size: 13px; color: #5f6368; }
.push .code b { display: block; font-size: 40px; letter-spacing: 8px; color: #202124;
                font-variant-numeric: tabular-nums; }
.push .content { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; font: inherit;
                 background: #f1f3f4; border-radius: 8px; padding: 8px 10px; }
.push .meta { margin: 0 0 12px; font-size: 13px; color: #5f6368; }
.buttons { display: flex; gap: 10px; }
.buttons button { flex: 1; padding: 14px 0; border: 0; border-radius: 24px; font-size: 17px;
                  font-weight: bold; color: #fff; cursor: pointer; }
button.approve { background: #188038; }
button.deny { background: #c5221f; }
button:disabled { opacity: .5; cursor: default; }
.error { color: #c5221f; font-size: 14px; margin: 8px 0 0; }
.empty { color: #5f6368; text-align: center; padding: 28px 0; border: 1px dashed #dadce0;
         border-radius: 12px; }
.history h2 { font-size: 14px; color: #5f6368; margin: 18px 0 6px; }
.history ul { list-style: none; margin: 0; padding: 0; font-size: 14px; }
.history li { padding: 6px 0; border-top: 1px solid #eee; }
.history .COMPLETED { color: #188038; font-weight: bold; }
.history .FAILED { color: #c5221f; font-weight: bold; }
.history .ended { color: #5f6368; font-weight: bold; }
[hidden] { display: none !important; }
"""

JS = r"""
"use strict";
// Polls the simulator and shows its PENDING authentications; text only (textContent), no HTML
// from the server is ever parsed.
const POLL_MS = 500;
const cards = new Map();          // transactionId -> {el, push}
let answering = new Set();

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function codeOf(content) {
  const m = /^\s*Code:\s*(\S+)\s*$/im.exec(content || "");
  return m ? m[1] : null;
}

function addHistory(push, state, detail) {
  const li = el("li");
  const what = {COMPLETED: "Approved", FAILED: "Denied", ended: "Ended"}[state] || state;
  li.append(el("span", state, what), " ", push.title || "(no title)");
  const code = codeOf(push.content);
  if (code) li.append(" \u00b7 code " + code);
  li.append(" \u00b7 " + push.externalRef + " \u00b7 " + new Date().toLocaleTimeString());
  if (detail) li.append(" (" + detail + ")");
  li.dataset.tid = push.transactionId;
  li.dataset.state = state;
  document.getElementById("history").prepend(li);
  document.getElementById("answered").hidden = false;
}

function showEmpty() {
  document.getElementById("empty").hidden = cards.size > 0;
}

async function answer(push, action, card) {
  answering.add(push.transactionId);
  card.querySelectorAll("button").forEach(b => { b.disabled = true; });
  try {
    const r = await fetch("/answer", {
      method: "POST", cache: "no-store",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({transactionId: push.transactionId, action: action}),
    });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
    addHistory(push, body.state, body.errorCode);
    card.remove();
    cards.delete(push.transactionId);
    showEmpty();
  } catch (e) {
    card.querySelector(".error").textContent = "Not answered: " + e.message;
  } finally {
    answering.delete(push.transactionId);
  }
}

function newCard(push) {
  const card = el("article", "push");
  card.dataset.tid = push.transactionId;
  card.append(el("h2", "title", push.title || "(no title)"));
  const code = codeOf(push.content);
  if (code) {
    const c = el("p", "code", "Approve only if your login shows this code:");
    c.append(el("b", null, code));
    card.append(c);
  }
  card.append(el("pre", "content", push.content || ""));
  card.append(el("p", "meta"));
  const buttons = el("div", "buttons");
  const ok = el("button", "approve", "Approve");
  const no = el("button", "deny", "Deny");
  ok.type = no.type = "button";
  ok.addEventListener("click", () => answer(push, "approve", card));
  no.addEventListener("click", () => answer(push, "deny", card));
  buttons.append(no, ok);
  card.append(buttons, el("p", "error"));
  return card;
}

function render(pushes) {
  const list = document.getElementById("pushes");
  const seen = new Set();
  for (const p of pushes) {
    seen.add(p.transactionId);
    let c = cards.get(p.transactionId);
    if (!c) {
      c = {el: newCard(p), push: p};
      cards.set(p.transactionId, c);
      list.append(c.el);
    }
    const secs = Math.max(0, Math.round(p.expiresInMs / 1000));
    c.el.querySelector(".meta").textContent =
      "for " + p.externalRef + " \u00b7 expires in " + secs + " s";
  }
  for (const [tid, c] of cards) {
    if (!seen.has(tid) && !answering.has(tid)) {   // ended elsewhere: expired or cancelled
      addHistory(c.push, "ended", "no longer pending");
      c.el.remove();
      cards.delete(tid);
    }
  }
  showEmpty();
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const r = await fetch("/pushes", {cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render((await r.json()).pushes);
    status.textContent = "connected \u00b7 updated " + new Date().toLocaleTimeString();
    status.classList.remove("down");
  } catch (e) {
    status.textContent = "simulator not reachable (" + e.message + "); retrying";
    status.classList.add("down");
  }
  setTimeout(poll, POLL_MS);
}

poll();
"""

STATIC = {"/": ("text/html; charset=utf-8", PAGE), "/phone.js": ("text/javascript; charset=utf-8", JS),
          "/phone.css": ("text/css; charset=utf-8", CSS)}


def epoch(iso):
    """Seconds since the epoch of the simulator's ISO time (2026-01-02T03:04:05.678Z)."""
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + int(iso[20:23]) / 1000.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mobileid-sim-phone/1.0"
    timeout = 120

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):
        pass

    def send(self, status, ctype, body):
        body = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in HEADERS.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if self.command == "POST" or status >= 400:  # not the page's polls
            self.server.log("phone %s %s %s %d" % (self.client_address[0], self.command, self.path, status))

    def send_json(self, status, obj):
        self.send(status, "application/json", json.dumps(obj))

    def host_ok(self):
        host = (self.headers.get("Host") or "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in HOSTS

    def do_GET(self):
        if not self.host_ok():
            return self.send_json(403, {"error": "Host must be 127.0.0.1, localhost or [::1]"})
        path = self.path.split("?", 1)[0]
        if path in STATIC:
            return self.send(200, *STATIC[path])
        if path == "/pushes":
            return self.send_json(200, {"pushes": self.server.pushes()})
        if path == "/favicon.ico":
            return self.send(204, "image/x-icon", b"")
        return self.send_json(404, {"error": "not found"})

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if not 0 <= n <= MAX_BODY:
            self.close_connection = True
            return self.send_json(413, {"error": "body too large"})
        raw = self.rfile.read(n)
        if not self.host_ok():
            return self.send_json(403, {"error": "Host must be 127.0.0.1, localhost or [::1]"})
        origin = self.headers.get("Origin")
        if origin is not None and origin != "http://" + self.headers.get("Host", ""):
            return self.send_json(403, {"error": "cross-origin request refused"})
        if self.path != "/answer":
            return self.send_json(404, {"error": "not found"})
        if (self.headers.get("Content-Type") or "").split(";")[0].strip().lower() != "application/json":
            return self.send_json(415, {"error": "Content-Type must be application/json"})
        try:
            b = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            b = None
        if not isinstance(b, dict) or not isinstance(b.get("transactionId"), str) or \
                b.get("action") not in ACTIONS:
            return self.send_json(400, {"error": "body must be {\"transactionId\", \"action\": approve|deny}"})
        status, obj = self.server.answer(b["transactionId"], b["action"])
        if status == 200:
            obj = {k: obj[k] for k in ("transactionId", "state", "errorCode") if k in obj}
        return self.send_json(status, obj)


class PhoneServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, family, sim, log):
        self.address_family, self.sim, self.log = family, sim, log
        super().__init__(addr, Handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # no getfqdn() lookup
        self.server_name, self.server_port = self.server_address[:2]

    def pushes(self):
        """The PENDING authentications, as the control API lists them."""
        with self.sim.lock:
            _, pending = self.sim.control("GET", "/_sim/pending", b"")
        now = time.time()
        return [dict(p, expiresInMs=max(0, int((epoch(p["sessionExpiryTime"]) - now) * 1000)))
                for p in pending if p["operationType"] == "AUTHENTICATION"]

    def answer(self, tid, action):
        """Answer through the control API's answer call -> (status, JSON object)."""
        body = json.dumps({"transactionId": tid, "action": action}).encode()
        with self.sim.lock:
            return self.sim.control("POST", "/_sim/answer", body)


def start(sim, family, host, port, log):
    """Serve the page on (host, port) in a thread -> the server (server_address, shutdown())."""
    srv = PhoneServer((host, port), family, sim, log)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    return srv
