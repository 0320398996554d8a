#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Signicat MobileID REST API simulator for the mobileid test suites.

Written from /work/shared/specs (README.md and signicat-mobileid-api.txt), independently of the
C client. Python 3 standard library only. Serves HTTPS on loopback only:

  POST /auth/open/connect/token       OAuth 2.0 client credentials
  /mobileid/core/...                  users, devices, registrations, authentications
  /_sim/...                           control API for tests (no auth, never faulted)

See tests/sim/README.md for the CLI and the control API.
"""
import argparse
import base64
import binascii
import http.server
import json
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import uuid
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, unquote_plus, urlsplit

import dqe_sim
import phone_sim
import verifid_sim

# Other vendors' APIs served on the same port: modules with NAME (control calls under
# /_sim/NAME/), Module() with reset(), handles(path), api(rq, trace) -> (status, headers,
# obj) and control(method, subpath, body) -> (status, obj).  See README.md.
EXTENSIONS = (dqe_sim, verifid_sim)

API = "/mobileid/core"
TOKEN_PATH = "/auth/open/connect/token"
SCOPE = "signicat-api"
FORM = "application/x-www-form-urlencoded"
MAX_BODY = 1 << 20
MAX_TIMEOUT_MS = 3600000
DEFAULT_TIMEOUT_MS = 90000
ACCOUNT_ID = "a-sim-" + secrets.token_hex(8)

# operation errorCode -> errorDescription (the spec's operation error code table)
ERROR_CODES = {
    "CANCELLED_BY_DEVICE": "the session was cancelled by the device.",
    "CANCELLED_BY_SP": "the session was cancelled by the service provider.",
    "CANCELLED_AUTH_METHOD_DEACTIVATED": "the session was cancelled by the device. The device started a "
                                         "deactivation of authentication method(s).",
    "CANCELLED_NEW_ACTIVATION": "the session was cancelled when a new activation was started.",
    "EXPIRED": "the session has expired.",
    "LOCKED": "the device is locked.",
    "LOCKED_BY_ADMIN": "the device is locked by admin.",
    "LOCKED_DEVICE_VERIFICATION_FAILED": "the device is locked by device verification.",
    "LOCKED_PIN_VERIFICATION_FAILED": "the device is locked by PIN verification.",
    "LOCKED_INCORRECT_SALT_KEY_ID": "the device is locked by incorrect Salt-key ID.",
    "CALLBACK_FAILED": "the session callback failed. Legacy value from synchronous callback model.",
    "LOCKED_HW_KEY_VERIFICATION_FAILED": "the device provided incorrect signed challenge.",
    "LOCKED_INTERMEDIATE_PUSH_VERIFICATION_FAILED": "the intermediate push attestation validation failed.",
    "CANCELLED_INTERMEDIATE_PUSH_REQUIRED": "of missing intermediate push attestation details.",
    "AUTHORIZATION_TOKEN_VERIFICATION_FAILED": "authorisation token validation failed.",
    "CANCELLED_PERFORM_RECOVERY_STARTED": "the session was cancelled when recovery was started.",
    "FAILED_RECOVERY_DOES_NOT_EXIST": "the recovery does not exist.",
    "LOCKED_PERFORM_RECOVERY_FAILED": "the recovery is locked.",
    "GEOFENCING_FAILED": "the geofencing validation failed.",
    "LOCKED_APPATTEST_VERIFICATION_FAILED": "the App Attest validation failed.",
    "CANCELLED_APPATTEST_REQUIRED": "of missing App Attest attestation details.",
    "CALLBACK_PROCESSING_ERROR": "of an error in the data sent from the client.",
    "LOCKED_PLAYINTEGRITY_VERIFICATION_FAILED": "the Play Integrity attestation validation failed.",
}
POLICY_ACTIONS = ("approve", "deny", "never", "expire", "fail")
ANSWER_ACTIONS = ("approve", "deny", "expire", "fail")
FAULT_KEYS = {"method": str, "path": str, "status": int, "body": str, "delay_ms": int, "body_delay_ms": int,
              "truncate": bool, "malformed": bool, "oversize": int, "close": bool, "count": int,
              "headers": dict, "content_type": str}


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def jdump(obj):
    return json.dumps(obj).encode()


def lock_error(reason):
    """Operation errorCode for an operation on a device locked with lockReason `reason`."""
    code = reason if reason == "LOCKED_BY_ADMIN" else "LOCKED_" + str(reason)
    return code if code in ERROR_CODES else "LOCKED"


class Fail(Exception):
    """Answer `status` with JSON `body`; a "traceId" key in body is filled in when sent."""

    def __init__(self, status, body, headers=None):
        super().__init__(body)
        self.status, self.body, self.headers = status, body, headers or {}


def api_error(status, code, detail, title=None, invalid=None, headers=None):
    body = {"type": "https://api.signicat.com/mobileid/errors/" + code,
            "title": title or HTTPStatus(status).phrase, "code": code, "status": status,
            "traceId": None, "detail": detail}
    if invalid:
        body["invalidParams"] = [{"name": n, "reason": r} for n, r in invalid]
    return Fail(status, body, headers)


def oauth_error(status, error, desc, headers=None):
    return Fail(status, {"error": error, "error_description": desc, "traceId": None},
                dict(headers or {}, **{"Cache-Control": "no-store"}))


def ctl_error(status, msg):
    return Fail(status, {"error": msg})


def invalid_op(detail):
    return api_error(404, "invalid_operation", detail, "Invalid operation")


def invalid_params(bad):
    return api_error(400, "invalid_request_parameter", "One or more request parameters are invalid",
                     "Invalid request parameter", invalid=bad)


class Req:
    """One parsed HTTP request to the token endpoint or the API."""

    def __init__(self, method, path, query, headers, raw):
        self.method, self.path, self.query, self.headers, self.raw = method, path, query, headers, raw
        self.ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.token_n = None      # sequence number of the valid bearer token presented
        self.creds_ok = False    # valid client credentials presented to the token endpoint
        self.issued = None       # sequence number of the token issued
        self.conn = None         # sequence number of the TLS connection it came on

    def json(self):
        if self.ctype != "application/json" and not self.ctype.endswith("+json"):
            raise api_error(415, "invalid_request", "Content-Type must be application/json")
        try:
            body = json.loads(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise api_error(400, "invalid_request", "Malformed JSON request body", "Invalid request") from None
        if not isinstance(body, dict):
            raise api_error(400, "invalid_request", "Request body must be a JSON object", "Invalid request")
        return body

    def form(self):
        try:
            return {k: v[-1] for k, v in parse_qs(self.raw.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            return None

    def user_id_param(self):
        if not self.query.get("userId"):
            raise api_error(400, "invalid_request", "userId parameter is missing", "Invalid_request")
        return self.query["userId"]

    def log_headers(self):
        """Headers for the request log; valid credentials are redacted, invalid ones kept."""
        h = dict(self.headers.items())
        for k in h:
            scheme = h[k].split(" ")[0]
            if k.lower() == "authorization" and ((self.token_n is not None and scheme.lower() == "bearer") or
                                                 (self.creds_ok and scheme.lower() == "basic")):
                h[k] = scheme + " <redacted>"
        return h

    def log_body(self):
        if not self.raw:
            return None
        if self.ctype == FORM and self.form() is not None:
            f = self.form()
            if self.creds_ok and "client_secret" in f:
                f["client_secret"] = "<redacted>"
            return f
        try:
            return json.loads(self.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return self.raw.decode("utf-8", "replace")


# ---- request validation helpers: each appends (name, reason) pairs to `bad` ------------------
def check_unknown(obj, allowed, prefix, bad):
    bad.extend((prefix + k, "unknown property") for k in obj if k not in allowed)


def check_str(obj, key, prefix, bad, required=False, maxlen=None, choices=None):
    v = obj.get(key)
    if v is None:
        if required or key in obj:
            bad.append((prefix + key, "must not be null" if key in obj else "must not be empty"))
        return None
    if not isinstance(v, str) or (required and not v):
        bad.append((prefix + key, "must be a non-empty string" if required else "must be a string"))
        return None
    if maxlen is not None and len(v.encode("utf-16-le")) // 2 > maxlen:  # counted like Java String.length()
        bad.append((prefix + key, "size must be between 0 and %d" % maxlen))
    elif choices and v not in choices:
        bad.append((prefix + key, "must be one of " + ", ".join(choices)))
    return v


def check_obj(obj, key, prefix, bad):
    v = obj.get(key)
    if v is not None and not isinstance(v, dict):
        bad.append((prefix + key, "must be an object"))
        return None
    return v


def check_timeout(props, bad):
    v = props.get("sessionTimeout", str(DEFAULT_TIMEOUT_MS))
    if not isinstance(v, str) or not re.fullmatch(r"[0-9]{1,10}", v):
        bad.append(("operationProperties.sessionTimeout", "must be a string containing the timeout in milliseconds"))
    elif not 1 <= int(v) <= MAX_TIMEOUT_MS:
        bad.append(("operationProperties.sessionTimeout", "must be between 1 and %d" % MAX_TIMEOUT_MS))
    else:
        return int(v)
    return DEFAULT_TIMEOUT_MS


def check_context(props, key, bad, maxlen=5000):
    ctx = check_obj(props, key, "operationProperties.", bad)
    if ctx is not None:
        p = "operationProperties.%s." % key
        check_unknown(ctx, ("title", "content", "mimeType"), p, bad)
        check_str(ctx, "title", p, bad, maxlen=256)
        check_str(ctx, "content", p, bad, required=True, maxlen=maxlen)
        check_str(ctx, "mimeType", p, bad, required=True, choices=("text/plain",))
    return ctx


def check_attributes(attrs, bad, allow_null=False):
    if attrs is not None and not isinstance(attrs, dict):
        bad.append(("attributes", "must be an object"))
        return
    for k, v in (attrs or {}).items():
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,128}", k):
            bad.append(("attributes." + k, "key must be 1-128 characters of [A-Za-z0-9_.-]"))
        elif not (isinstance(v, str) or (allow_null and v is None)):
            bad.append(("attributes." + k, "value must be a string"))


class Sim:
    """All simulator state; every method is called with self.lock held."""

    def __init__(self, token_lifetime):
        self.lock = threading.RLock()
        self.default_lifetime = token_lifetime
        self.clients = {}        # client_id -> (secret, lifetime or None)
        self.ext = {m.NAME: m.Module() for m in EXTENSIONS}
        self.reset()

    def reset(self):
        self.users, self.by_ref, self.ops, self.tokens = {}, {}, {}, {}
        self.faults, self.requests = [], []
        self.token_seq = self.req_seq = 0
        for e in self.ext.values():
            e.reset()

    # ---- model ---------------------------------------------------------------------------
    @staticmethod
    def pub_user(u, full=True):
        keys = ("externalRef", "segment", "id", "created", "lastUsed", "state", "attributes") if full else \
            ("externalRef", "id", "created", "lastUsed", "state")
        d = {k: u[k] for k in keys if u.get(k) is not None}
        d.update({k: iso(d[k]) for k in ("created", "lastUsed") if k in d})
        return d

    @staticmethod
    def pub_device(d):
        return dict({k: d[k] for k in ("id", "name", "state", "lastOperationType")},
                    lastUsed=iso(d["lastUsed"]), created=iso(d["created"]))

    def new_user(self, ref, segment=None, attributes=None, state="ACTIVE"):
        u = {"id": str(uuid.uuid4()), "externalRef": ref, "segment": segment, "created": time.time(),
             "lastUsed": None, "state": state, "attributes": dict(attributes or {}), "devices": {}, "policy": None}
        self.users[u["id"]] = u
        if ref is not None:
            self.by_ref[ref] = u
        return u

    @staticmethod
    def new_device(u, name, state="ACTIVE", lock_reason=None):
        now = time.time()
        d = {"id": str(uuid.uuid4()), "name": name, "state": state, "lastOperationType": "REGISTRATION",
             "lastUsed": now, "created": now,
             "lockReason": (lock_reason or "LOCKED_BY_ADMIN") if state == "LOCKED" else "OPEN"}
        u["devices"][d["id"]] = d
        return d

    def user(self, uid):
        if uid not in self.users:
            raise invalid_op("User not found")
        return self.users[uid]

    def device(self, rq, did):
        d = self.user(rq.user_id_param())["devices"].get(did)
        if d is None:
            raise invalid_op("Device not found")
        return d

    def new_op(self, kind, u, device, timeout_ms, props, tags):
        now = time.time()
        op = {"transactionId": str(uuid.uuid4()), "kind": kind, "user": u, "device": device, "state": "PENDING",
              "created": now, "expires": now + timeout_ms / 1000.0, "props": props, "tags": tags,
              "errorCode": None, "auto": None}
        self.ops[op["transactionId"]] = op
        return op

    def op(self, tid, kind):
        op = self.ops.get(tid)
        if op is None or op["kind"] != kind:
            raise api_error(404, "transaction_id_does_not_exist", "There is no request with the specified "
                            "transaction ID", "Transaction ID does not exist")
        return self.settle(op)

    def settle(self, op):
        """Apply a due automatic answer or the session expiry (timers are evaluated lazily)."""
        auto, now = op["auto"], time.time()
        if op["state"] == "PENDING":
            if auto and auto[1] <= now and auto[1] < op["expires"]:
                self.finish(op, auto[0], auto[2], auto[1])
            elif now >= op["expires"]:
                self.finish(op, "expire", at=op["expires"])
        return op

    def settle_all(self):
        for op in self.ops.values():
            self.settle(op)

    def finish(self, op, action, code=None, at=None):
        at, u = time.time() if at is None else at, op["user"]
        if action != "approve":
            op["state"] = "FAILED"
            op["errorCode"] = {"deny": "CANCELLED_BY_DEVICE", "expire": "EXPIRED", "cancel": "CANCELLED_BY_SP"
                               }.get(action, code)
            return
        op["state"], u["lastUsed"] = "COMPLETED", at
        if op["kind"] == "REGISTRATION":
            d = op["device"] if op["device"] in u["devices"].values() else None
            if d is None:
                d = self.new_device(u, op["deviceName"])
            d.update(state="ACTIVE", lockReason="OPEN", lastOperationType=op["props"]["registrationMode"])
            op["device"] = d
        else:
            if op["device"] is None:  # broadcast: the first active device answers
                op["device"] = next((d for d in u["devices"].values() if d["state"] == "ACTIVE"), None)
            op["props"]["authMethod"] = "DEVICE_PIN"
            if op["device"] is not None:
                op["device"]["lastOperationType"] = "AUTHENTICATION"
        if op["device"] is not None:
            op["device"]["lastUsed"] = at

    def pub_op(self, op, settle=True):
        if settle:  # not in the answer to a start: that one is always PENDING (or FAILED if locked)
            self.settle(op)
        d = {"transactionId": op["transactionId"], "accountId": ACCOUNT_ID, "state": op["state"],
             "operationProperties": dict(op["props"], sessionExpiryTime=iso(op["expires"])),
             "created": iso(op["created"])}
        if op["kind"] == "REGISTRATION" and op["state"] != "COMPLETED":
            d["device"] = {"name": op["deviceName"]}
        elif op["device"] is not None:
            d["device"] = self.pub_device(op["device"])
        d["user"] = self.pub_user(op["user"], full=False)
        if op["tags"] is not None:
            d["tags"] = op["tags"]
        if op["state"] == "FAILED":
            d["errorCode"] = op["errorCode"]
            d["errorDescription"] = "The operation failed because " + ERROR_CODES.get(op["errorCode"], "of an error.")
        return d

    # ---- token endpoint ------------------------------------------------------------------
    def client_creds(self, rq):
        """-> (client_id, secret, via_basic) from HTTP Basic or the form body."""
        auth, form = rq.headers.get("Authorization") or "", (rq.form() if rq.ctype == FORM else None) or {}
        if auth[:6].lower() != "basic ":
            return form.get("client_id"), form.get("client_secret"), False
        if form.get("client_secret") is not None:
            raise oauth_error(400, "invalid_request", "multiple client authentication methods used")
        try:
            cid, _, sec = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8").partition(":")
            return unquote_plus(cid), unquote_plus(sec), True
        except (binascii.Error, UnicodeDecodeError):
            return "", "", True

    def classify(self, rq):
        """Note whether the request carries valid credentials (auth check and log redaction)."""
        auth = rq.headers.get("Authorization") or ""
        if auth[:7].lower() == "bearer ":
            t = self.tokens.get(auth[7:].strip())
            if t and t[0] > time.time():
                rq.token_n = t[1]
        if rq.path == TOKEN_PATH:
            try:
                cid, sec, _ = self.client_creds(rq)
                rq.creds_ok = cid in self.clients and self.clients[cid][0] == sec
            except Fail:
                pass

    def token(self, rq):
        if rq.method != "POST":
            raise oauth_error(405, "invalid_request", "method not allowed", {"Allow": "POST"})
        form = rq.form() if rq.ctype == FORM else None
        if form is None:
            raise oauth_error(400, "invalid_request", "body must be " + FORM)
        cid, sec, basic = self.client_creds(rq)
        if not rq.creds_ok or not cid or sec is None:
            raise oauth_error(401, "invalid_client", "client authentication failed",
                              {"WWW-Authenticate": 'Basic realm="signicat"'} if basic else None)
        if not form.get("grant_type"):
            raise oauth_error(400, "invalid_request", "grant_type is missing")
        if form["grant_type"] != "client_credentials":
            raise oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("scope") is None or set(form["scope"].split()) != {SCOPE}:
            raise oauth_error(400, "invalid_scope", "scope must be " + SCOPE)
        lifetime = self.clients[cid][1] or self.default_lifetime
        tok = secrets.token_urlsafe(32)
        self.token_seq += 1
        self.tokens[tok] = (time.time() + lifetime, self.token_seq)
        rq.issued = self.token_seq
        return {"access_token": tok, "token_type": "Bearer", "expires_in": int(lifetime), "scope": SCOPE}

    # ---- MobileID API: users -------------------------------------------------------------
    def resolve_user(self, rq):
        b, bad = rq.json(), []
        check_unknown(b, ("externalRef",), "", bad)
        ref = check_str(b, "externalRef", "", bad, required=True, maxlen=255)
        if bad:
            raise invalid_params(bad)
        if ref not in self.by_ref:
            raise invalid_op("User with the given externalRef not found")
        return 200, {"externalRef": ref, "userId": self.by_ref[ref]["id"]}

    def check_user_fields(self, b, patch):
        bad = []
        check_unknown(b, ("externalRef", "segment", "attributes") + (("state",) if patch else ()), "", bad)
        check_str(b, "externalRef", "", bad, maxlen=255)
        check_str(b, "segment", "", bad, maxlen=128)
        if patch:
            check_str(b, "state", "", bad, choices=("ACTIVE", "LOCKED"))
        check_attributes(b.get("attributes"), bad, allow_null=patch)
        if bad:
            raise invalid_params(bad)
        if b.get("externalRef") is not None and b["externalRef"] in self.by_ref:
            raise api_error(409, "conflict", "A user with the given externalRef already exists")

    def create_user(self, rq):
        b = rq.json()
        self.check_user_fields(b, False)
        return 201, self.pub_user(self.new_user(b.get("externalRef"), b.get("segment"), b.get("attributes")))

    def get_user(self, rq, uid):
        return 200, self.pub_user(self.user(uid))

    def patch_user(self, rq, uid):
        u, b = self.user(uid), rq.json()
        if b.get("externalRef") == u["externalRef"]:
            b.pop("externalRef")
        self.check_user_fields(b, True)
        if b.get("externalRef") is not None:
            self.by_ref.pop(u["externalRef"], None)
            u["externalRef"] = b["externalRef"]
            self.by_ref[u["externalRef"]] = u
        u.update({k: b[k] for k in ("segment", "state") if b.get(k) is not None})
        for k, v in (b.get("attributes") or {}).items():
            if v is None:
                u["attributes"].pop(k, None)
            else:
                u["attributes"][k] = v
        return 200, self.pub_user(u)

    def delete_user(self, rq, uid):
        u = self.user(uid)
        if u["state"] != "LOCKED":
            raise invalid_op("User entity must be in LOCKED state in order to be deleted.")
        del self.users[uid]
        self.by_ref.pop(u["externalRef"], None)
        self.ops = {k: v for k, v in self.ops.items() if v["user"] is not u}
        return 204, None

    def user_transactions(self, rq, uid):
        u, limit = self.user(uid), rq.query.get("limit", "10")
        if not re.fullmatch(r"[0-9]{1,3}", limit) or not 1 <= int(limit) <= 100:
            raise invalid_params([("limit", "must be a whole number between 1 and 100")])
        limit = int(limit)
        ops = sorted((self.settle(o) for o in self.ops.values() if o["user"] is u), key=lambda o: o["created"])
        ids, start = [o["transactionId"] for o in ops], 0
        if rq.query.get("offset"):
            if rq.query["offset"] not in ids:
                raise invalid_params([("offset", "unknown transaction ID")])
            start = ids.index(rq.query["offset"])
        base = "/users/%s/transactions?limit=%d&offset=" % (uid, limit)
        res = {"limit": limit, "transactions": [{
            "transactionId": o["transactionId"],
            "ref": "/%s/%s" % ("authentications" if o["kind"] == "AUTHENTICATION" else "registrations",
                               o["transactionId"]),
            "operationType": o["kind"] if o["kind"] == "AUTHENTICATION" else o["props"]["registrationMode"],
            "state": {"COMPLETED": "SUCCESS"}.get(o["state"], o["state"]),
            "created": iso(o["created"]), "expires": iso(o["expires"]),
            "deviceId": o["device"]["id"] if o["device"] else None} for o in ops[start:start + limit]]}
        if start > 0:
            res["previous"] = base + ids[max(0, start - limit)]
        if start + limit < len(ops):
            res["next"] = base + ids[start + limit]
        return 200, res

    # ---- MobileID API: devices -----------------------------------------------------------
    def list_devices(self, rq):
        u = self.user(rq.user_id_param())
        states = rq.query.get("states", "ACTIVE").split(",")
        if any(s not in ("ACTIVE", "LOCKED") for s in states):
            raise invalid_params([("states", "must be a comma-separated list of ACTIVE, LOCKED")])
        return 200, [self.pub_device(d) for d in u["devices"].values() if d["state"] in states]

    def get_device(self, rq, did):
        return 200, self.pub_device(self.device(rq, did))

    def end_device_ops(self, d, code):
        self.settle_all()
        for o in self.ops.values():
            if o["device"] is d and o["state"] == "PENDING":
                self.finish(o, "fail", code)

    def patch_device(self, rq, did):
        d, b, bad = self.device(rq, did), rq.json(), []
        check_unknown(b, ("name", "state"), "", bad)
        check_str(b, "name", "", bad, maxlen=128)
        check_str(b, "state", "", bad, choices=("ACTIVE", "LOCKED"))
        if bad:
            raise invalid_params(bad)
        if b.get("name") is not None:
            d["name"] = b["name"]
        if b.get("state") is not None and b["state"] != d["state"]:
            d["state"] = b["state"]
            d["lockReason"] = "LOCKED_BY_ADMIN" if d["state"] == "LOCKED" else "OPEN"
            if d["state"] == "LOCKED":
                self.end_device_ops(d, "LOCKED_BY_ADMIN")
        return 200, self.pub_device(d)

    def delete_device(self, rq, did):
        d = self.device(rq, did)
        del self.users[rq.query["userId"]]["devices"][did]
        self.end_device_ops(d, "CANCELLED_BY_SP")
        return 204, None

    # ---- MobileID API: registrations and authentications ---------------------------------
    def check_op_request(self, b, allowed_props, bad):
        """Validation shared by both operation starts -> (user, props, timeout_ms, tags)."""
        check_unknown(b, ("userId", "device", "tags", "operationProperties"), "", bad)
        uid = check_str(b, "userId", "", bad, required=True)
        check_obj(b, "device", "", bad)
        tags = b.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            bad.append(("tags", "must be an array of strings"))
        props = check_obj(b, "operationProperties", "", bad) or {}
        check_unknown(props, allowed_props, "operationProperties.", bad)
        timeout = check_timeout(props, bad)
        check_str(props, "authLevel", "operationProperties.", bad, choices=("ONE_FACTOR", "TWO_FACTOR"))
        if uid and uid not in self.users:
            bad.append(("userId", "user does not exist"))
        return self.users.get(uid), props, timeout, tags

    @staticmethod
    def check_user_unlocked(u):
        if u["state"] == "LOCKED":
            raise invalid_op("User entity is in LOCKED state.")

    def start_registration(self, rq):
        b, bad = rq.json(), []
        u, props, timeout, tags = self.check_op_request(
            b, ("sessionTimeout", "authLevel", "registrationMode", "postOperationContext"), bad)
        dev = b.get("device") if isinstance(b.get("device"), dict) else {}
        check_unknown(dev, ("name", "id"), "device.", bad)
        name = check_str(dev, "name", "device.", bad, maxlen=128) or ""
        mode = check_str(props, "registrationMode", "operationProperties.", bad,
                         choices=("REGISTRATION", "RE_REGISTRATION")) or "REGISTRATION"
        post = check_context(props, "postOperationContext", bad)
        did, d = dev.get("id"), None
        if mode == "RE_REGISTRATION":  # re-registers an existing device of the user
            d = u["devices"].get(did) if u and isinstance(did, str) else None
            if d is None:
                bad.append(("device.id", "must be a device of the user for RE_REGISTRATION"))
        elif did is not None:
            bad.append(("device.id", "only allowed for RE_REGISTRATION"))
        if bad:
            raise invalid_params(bad)
        self.check_user_unlocked(u)
        p = {"activationCode": "%06d" % secrets.randbelow(1000000), "authLevel": props.get("authLevel", "TWO_FACTOR"),
             "sessionTimeout": str(timeout), "registrationMode": mode}
        if post:
            p["postOperationContext"] = post
        op = self.new_op("REGISTRATION", u, d, timeout, p, tags)
        op["deviceName"] = name or (d["name"] if d else "")
        return 200, self.pub_op(op)

    def start_authentication(self, rq):
        b, bad = rq.json(), []
        u, props, timeout, tags = self.check_op_request(
            b, ("sessionTimeout", "authLevel", "broadcast", "preOperationContext", "postOperationContext"), bad)
        dev = b.get("device") if isinstance(b.get("device"), dict) else {}
        check_unknown(dev, ("id",), "device.", bad)
        did = check_str(dev, "id", "device.", bad, required=isinstance(b.get("device"), dict))
        broadcast = props.get("broadcast", False)
        if not isinstance(broadcast, bool):
            bad.append(("operationProperties.broadcast", "must be a boolean"))
        ctx = {k: check_context(props, k, bad) for k in ("preOperationContext", "postOperationContext")}
        d = u["devices"].get(did) if did and u else None
        if did and u and d is None:
            bad.append(("device.id", "device does not belong to the user"))
        if b.get("device") is None and broadcast is not True:
            bad.append(("device", "must be given unless operationProperties.broadcast is true"))
        if bad:
            raise invalid_params(bad)
        self.check_user_unlocked(u)
        fail = None
        if d is None:  # broadcast to all devices of the user
            devs = list(u["devices"].values())
            if not devs:
                raise invalid_op("User has no registered device.")
            if all(x["state"] != "ACTIVE" for x in devs):
                fail = lock_error(devs[0]["lockReason"])
        elif d["state"] != "ACTIVE":
            fail = lock_error(d["lockReason"])
        p = dict({k: v for k, v in ctx.items() if v}, pushSent=fail is None)
        op = self.new_op("AUTHENTICATION", u, d, timeout, p, tags)
        pol = u["policy"]
        if fail:
            self.finish(op, "fail", fail)
        elif pol and pol["action"] != "never":
            op["auto"] = (pol["action"], op["created"] + pol["after_ms"] / 1000.0, pol["errorCode"])
        return 200, self.pub_op(op, settle=False)

    def get_op(self, rq, tid, kind):
        return 200, self.pub_op(self.op(tid, kind))

    def cancel_op(self, rq, tid, kind):
        op = self.op(tid, kind)
        if op["state"] != "PENDING":
            raise invalid_op("The operation is not in PENDING state (state %s)." % op["state"])
        self.finish(op, "cancel")
        return 204, None

    def routes(self):
        u, dv, t = r"/users/([^/]+)", r"/devices/([^/]+)", r"/([^/]+)"
        a, r = {"kind": "AUTHENTICATION"}, {"kind": "REGISTRATION"}
        return [
            ("POST", r"/users/resolve", self.resolve_user, {}), ("POST", r"/users", self.create_user, {}),
            ("GET", u, self.get_user, {}), ("PATCH", u, self.patch_user, {}), ("DELETE", u, self.delete_user, {}),
            ("GET", u + "/transactions", self.user_transactions, {}), ("GET", r"/devices", self.list_devices, {}),
            ("GET", dv, self.get_device, {}), ("PATCH", dv, self.patch_device, {}),
            ("DELETE", dv, self.delete_device, {}),
            ("POST", r"/registrations", self.start_registration, {}),
            ("GET", r"/registrations" + t, self.get_op, r), ("DELETE", r"/registrations" + t, self.cancel_op, r),
            ("POST", r"/authentications", self.start_authentication, {}),
            ("GET", r"/authentications" + t, self.get_op, a), ("DELETE", r"/authentications" + t, self.cancel_op, a),
        ]

    def api(self, rq, trace):
        """-> (status, headers, JSON object or None) for a token or MobileID request."""
        try:
            for e in self.ext.values():
                if e.handles(rq.path):
                    return e.api(rq, trace)
            if rq.path == TOKEN_PATH:
                return 200, {"Cache-Control": "no-store"}, self.token(rq)
            if not rq.path.startswith(API + "/"):
                raise api_error(404, "not_found", "No resource at " + rq.path)
            if rq.token_n is None:
                raise api_error(401, "invalid_token", "The access token is missing, invalid or expired",
                                "Unauthorized", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            allowed = []
            for method, pat, fn, kw in self.routes():
                m = re.fullmatch(pat, rq.path[len(API):])
                if m and method == rq.method:
                    status, obj = fn(rq, *[unquote(g) for g in m.groups()], **kw)
                    return status, {}, obj
                if m:
                    allowed.append(method)
            if allowed:
                raise api_error(405, "method_not_allowed", "Method %s not allowed" % rq.method,
                                headers={"Allow": ", ".join(allowed)})
            raise api_error(404, "not_found", "No resource at " + rq.path)
        except Fail as e:
            return e.status, e.headers, dict(e.body, traceId=trace)

    # ---- faults and the request log ------------------------------------------------------
    def take_fault(self, method, path):
        for f in self.faults:
            if f.get("method", method).upper() == method and re.search(f.get("path", ""), path):
                if f["count"] > 0:
                    f["count"] -= 1
                    if f["count"] == 0:
                        self.faults.remove(f)
                return {k: v for k, v in f.items() if k != "count"}
        return {}

    def record(self, rq, status, trace, fault):
        self.req_seq += 1
        e = {"n": self.req_seq, "time": time.time(), "method": rq.method, "path": rq.path, "query": rq.query,
             "headers": rq.log_headers(), "body": rq.log_body(), "status": status, "traceId": trace}
        if rq.issued is not None or rq.token_n is not None:
            e["token"] = rq.issued if rq.issued is not None else rq.token_n
        if rq.conn is not None:
            e["conn"] = rq.conn
        if fault:
            e["fault"] = fault
        self.requests.append(e)

    # ---- control API ---------------------------------------------------------------------
    @staticmethod
    def ctl_policy(p):
        if not isinstance(p, dict) or p.get("action") not in POLICY_ACTIONS:
            raise ctl_error(400, "action must be one of " + ", ".join(POLICY_ACTIONS))
        after = p.get("after_ms", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ctl_error(400, "after_ms must be a non-negative integer")
        if p["action"] == "fail" and not isinstance(p.get("errorCode"), str):
            raise ctl_error(400, "errorCode is required for action fail")
        return {"action": p["action"], "after_ms": after, "errorCode": p.get("errorCode")}

    def ctl_user(self, ref):
        if ref not in self.by_ref:
            raise ctl_error(404, "no user with externalRef %r" % (ref,))
        return self.by_ref[ref]

    def control(self, method, path, raw):
        """-> (status, JSON object) for a /_sim/ request."""
        try:
            try:
                b = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            except (UnicodeDecodeError, ValueError):
                b = None
            if not isinstance(b, dict):
                raise ctl_error(400, "body must be a JSON object")
            name = path[6:].split("/", 1)[0]
            if name in self.ext:
                return self.ext[name].control(method, path[7 + len(name):], b)
            fn = getattr(self, "ctl_%s_%s" % (method, path[6:].strip("/").replace("/", "_")), None)
            if fn is None:
                other = any(hasattr(self, "ctl_%s_%s" % (m, path[6:].strip("/").replace("/", "_")))
                            for m in ("GET", "POST", "DELETE"))
                raise ctl_error(405 if other else 404, "unknown control call %s %s" % (method, path))
            return fn(b)
        except Fail as e:
            return e.status, e.body

    def ctl_GET_health(self, b):
        return 200, {"ok": True}

    def ctl_POST_reset(self, b):
        self.reset()
        return 200, {"ok": True}

    def ctl_POST_clients(self, b):
        cid, sec, life = b.get("client_id"), b.get("client_secret"), b.get("token_lifetime")
        if not isinstance(cid, str) or not cid or not isinstance(sec, str):
            raise ctl_error(400, "client_id and client_secret are required strings")
        if life is not None and (not isinstance(life, int) or isinstance(life, bool) or life < 1):
            raise ctl_error(400, "token_lifetime must be a positive integer")
        self.clients[cid] = (sec, life)
        return 200, {"ok": True}

    def ctl_POST_users(self, b):
        ref, state, devs = b.get("externalRef"), b.get("state", "ACTIVE"), b.get("devices", [{}])
        if not isinstance(ref, str) or not ref:
            raise ctl_error(400, "externalRef is required")
        if ref in self.by_ref:
            raise ctl_error(409, "externalRef %r already exists" % ref)
        if state not in ("ACTIVE", "LOCKED"):
            raise ctl_error(400, "state must be ACTIVE or LOCKED")
        if not isinstance(devs, list) or not all(isinstance(d, dict) and d.get("state", "ACTIVE") in
                                                 ("ACTIVE", "LOCKED") for d in devs):
            raise ctl_error(400, "devices must be a list of {name?, state?: ACTIVE|LOCKED, lockReason?}")
        pol, bad = self.ctl_policy(b["policy"]) if b.get("policy") is not None else None, []
        check_attributes(b.get("attributes"), bad)
        if bad or not isinstance(b.get("segment", ""), str):
            raise ctl_error(400, "invalid attributes or segment: %r" % bad)
        u = self.new_user(ref, b.get("segment"), b.get("attributes"), state)
        u["policy"] = pol
        ids = [self.new_device(u, str(d.get("name", "sim-device")), d.get("state", "ACTIVE"),
                               d.get("lockReason"))["id"] for d in devs]
        return 200, {"userId": u["id"], "deviceIds": ids}

    def ctl_GET_users(self, b):
        return 200, [dict(self.pub_user(u), policy=u["policy"], devices=[
            dict(self.pub_device(d), lockReason=d["lockReason"]) for d in u["devices"].values()])
            for u in self.users.values()]

    def ctl_POST_policy(self, b):
        self.ctl_user(b.get("externalRef"))["policy"] = self.ctl_policy(b)
        return 200, {"ok": True}

    def ctl_GET_pending(self, b):
        self.settle_all()
        res = []
        for o in sorted(self.ops.values(), key=lambda o: o["created"]):
            ctx = o["props"].get("preOperationContext") or {}
            if o["state"] == "PENDING":
                res.append({"transactionId": o["transactionId"], "operationType": o["kind"],
                            "externalRef": o["user"]["externalRef"], "userId": o["user"]["id"],
                            "deviceId": o["device"]["id"] if o["device"] else None,
                            "title": ctx.get("title"), "content": ctx.get("content"),
                            "created": iso(o["created"]), "sessionExpiryTime": iso(o["expires"])})
        return 200, res

    def ctl_POST_answer(self, b):
        action = b.get("action")
        if action not in ANSWER_ACTIONS:
            raise ctl_error(400, "action must be one of " + ", ".join(ANSWER_ACTIONS))
        if action == "fail" and not isinstance(b.get("errorCode"), str):
            raise ctl_error(400, "errorCode is required for action fail")
        self.settle_all()
        if b.get("transactionId") is not None:
            op = self.ops.get(b["transactionId"])
            if op is None or op["state"] != "PENDING":
                raise ctl_error(404, "transaction %r is %s" % (
                    b["transactionId"], "unknown" if op is None else "not PENDING but " + op["state"]))
        else:
            u = self.ctl_user(b.get("externalRef"))
            pending = [o for o in self.ops.values() if o["user"] is u and o["state"] == "PENDING"]
            if not pending:
                raise ctl_error(404, "no PENDING transaction for externalRef %r" % b.get("externalRef"))
            op = max(pending, key=lambda o: o["created"])
        self.finish(op, action, b.get("errorCode"))
        return 200, self.pub_op(op)

    def ctl_POST_faults(self, b):
        for k, v in b.items():
            if k not in FAULT_KEYS or not isinstance(v, FAULT_KEYS[k]) or (FAULT_KEYS[k] is int and isinstance(v, bool)):
                raise ctl_error(400, "bad fault key %r (allowed: %s)" % (k, ", ".join(FAULT_KEYS)))
        try:
            re.compile(b.get("path", ""))
        except re.error as e:
            raise ctl_error(400, "bad path regex: %s" % e) from None
        if not 100 <= b.get("status", 200) <= 599:
            raise ctl_error(400, "status must be 100..599")
        if b.setdefault("count", 1) == 0 or b["count"] < -1:
            raise ctl_error(400, "count must be positive or -1")
        self.faults.append(b)
        return 200, {"ok": True, "queued": len(self.faults)}

    def ctl_GET_faults(self, b):
        return 200, self.faults

    def ctl_DELETE_faults(self, b):
        self.faults = []
        return 200, {"ok": True}

    def ctl_POST_tokens_expire(self, b):
        self.tokens.clear()
        return 200, {"ok": True}

    def ctl_GET_requests(self, b):
        return 200, self.requests

    def ctl_DELETE_requests(self, b):
        self.requests = []
        return 200, {"ok": True}


def fault_body(status, trace):
    """Default body of a fault that sets a status but no body."""
    if status < 200 or status in (204, 304):
        return b""
    code = {429: "too_many_requests", 503: "service_unavailable"}.get(status, "simulated_fault")
    return jdump(dict(api_error(status, code, "Simulated fault").body, traceId=trace))


def mangle(body, fault):
    """Apply the malformed / oversize fault options to a response body."""
    if fault.get("malformed"):
        body = body[:max(1, len(body) // 2)] + b"<<not json" if body.startswith(b"{") else b'{"state": PEND'
    if fault.get("oversize"):
        n = fault["oversize"]
        base = body if body.startswith(b"{") and body != b"{}" and len(body) + 12 <= n else b'{"state":"PENDING"}'
        body = b'{"_pad":"' + b"x" * max(0, n - len(base) - 10) + b'",' + base[1:]
    return body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mobileid-sim/1.0"
    disable_nagle_algorithm = True  # else every answer stalls ~40 ms (Nagle + delayed ACK)
    timeout = 120                   # idle keep-alive connections are closed after this

    def version_string(self):
        return self.server_version

    def handle(self):
        try:
            self.request.do_handshake()  # in this connection's thread, not in the accept loop
        except (ssl.SSLError, OSError) as e:
            self.server.log("%s TLS handshake failed: %s" % (self.client_address[0], e))
            return
        with self.server.log_lock:
            self.server.conn_seq += 1
            self.conn = self.server.conn_seq
        try:
            super().handle()
        except (ConnectionError, ssl.SSLError, TimeoutError) as e:
            self.server.log("%s connection error: %s" % (self.client_address[0], e))

    def parse_request(self):
        self.trace = secrets.token_hex(16)
        return super().parse_request()

    def end_headers(self):
        self.send_header("X-TRACE-ID", getattr(self, "trace", None) or secrets.token_hex(16))
        super().end_headers()

    def log_message(self, fmt, *args):
        pass

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline(100).split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(1000).strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline(10)
                if len(data) > MAX_BODY:
                    raise OverflowError
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY or n < 0:
            raise OverflowError if n > 0 else ValueError
        return self.rfile.read(n)

    def dispatch(self):
        t0, sim = time.monotonic(), self.server.sim
        u = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        try:
            raw = self.read_body()
        except (ValueError, OverflowError) as e:
            self.close_connection = True
            return self.reply(t0, 413 if isinstance(e, OverflowError) else 400,
                              jdump({"error": "bad request body", "traceId": self.trace}))
        if u.path == "/_sim" or u.path.startswith("/_sim/"):
            with sim.lock:
                status, obj = sim.control(self.command, u.path, raw)
                body = jdump(obj)
            return self.reply(t0, status, body, note=" ctl")
        rq = Req(self.command, u.path, query, self.headers, raw)
        rq.conn = getattr(self, "conn", None)
        with sim.lock:
            sim.classify(rq)
            fault = sim.take_fault(self.command, u.path)
        if fault.get("delay_ms"):
            time.sleep(fault["delay_ms"] / 1000.0)
        headers, ctype, body = dict(fault.get("headers", {})), fault.get("content_type", "application/json"), b""
        if fault.get("close"):
            status = None
        elif "status" in fault or "body" in fault:
            status = fault.get("status", 200)
            body = fault["body"].encode() if "body" in fault else fault_body(status, self.trace)
        else:
            with sim.lock:
                status, h, obj = sim.api(rq, self.trace)
                body = jdump(obj) if obj is not None else b""
            headers.update(h)
        body = mangle(body, fault)
        with sim.lock:
            sim.record(rq, status, self.trace, fault)
        note = " fault=" + json.dumps(fault, sort_keys=True) if fault else ""
        if status is None:  # close without answering
            self.close_connection = True
            return self.server.log("%s %s %s closed trace=%s%s" % (
                self.client_address[0], self.command, self.path, self.trace, note))
        self.close_connection = self.close_connection or bool(fault.get("truncate"))
        return self.reply(t0, status, body, ctype, headers, fault, " trace=" + self.trace + note)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = dispatch

    def reply(self, t0, status, body, ctype="application/json", headers=None, fault=None, note=""):
        fault, sent = fault or {}, body
        self.send_response(status)
        if status != 204 or body:
            clen = len(body)
            if fault.get("truncate"):  # announce more than is sent, then close
                clen, sent = len(body) + max(64, len(body)), body[:len(body) // 2]
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(clen))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if fault.get("body_delay_ms"):
            time.sleep(fault["body_delay_ms"] / 1000.0)
        if sent:
            self.wfile.write(sent)
        self.server.log("%s %s %s %d %.1fms%s" % (self.client_address[0], self.command, self.path, status,
                                                  (time.monotonic() - t0) * 1000, note))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, family, ctx, sim, logf):
        self.address_family, self.ctx, self.sim, self.logf = family, ctx, sim, logf
        self.log_lock = threading.Lock()
        self.conn_seq = 0  # TLS connections accepted (handshakes completed)
        super().__init__(addr, Handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # skip HTTPServer's getfqdn() lookup
        self.server_name, self.server_port = self.server_address[:2]

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        self.log("%s error: %r" % (client_address[0], sys.exc_info()[1]))

    def log(self, line):
        with self.log_lock:
            self.logf.write("%s mobileid_sim: %s\n" % (iso(time.time()), line))
            self.logf.flush()


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="Signicat MobileID API simulator (HTTPS, loopback only)")
    ap.add_argument("--cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--key", required=True, help="server private key (PEM)")
    ap.add_argument("--host", default="127.0.0.1", help="127.0.0.1 (default), ::1 or localhost")
    ap.add_argument("--port", type=int, default=0, help="TCP port, 0 = pick a free one (default)")
    ap.add_argument("--port-file", required=True, help="the port is written here once listening")
    ap.add_argument("--client-id", help="register this OAuth client at start")
    ap.add_argument("--client-secret", help="its secret")
    ap.add_argument("--token-lifetime", type=int, default=600, help="default token lifetime, seconds (600)")
    ap.add_argument("--log", help="append one line per request here (default: stderr)")
    ap.add_argument("--phone-port-file", help="also serve the phone page (plain HTTP, same host); its port here")
    ap.add_argument("--phone-port", type=int, default=0, help="TCP port of the phone page, 0 = pick (default)")
    a = ap.parse_args()
    hosts = {"127.0.0.1": (socket.AF_INET, "127.0.0.1"), "localhost": (socket.AF_INET, "127.0.0.1"),
             "::1": (socket.AF_INET6, "::1")}
    if a.host not in hosts:
        ap.error("refusing to bind %r: only 127.0.0.1, ::1 or localhost" % a.host)
    if (a.client_id is None) != (a.client_secret is None):
        ap.error("--client-id and --client-secret go together")
    if a.token_lifetime < 1:
        ap.error("--token-lifetime must be positive")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.set_alpn_protocols(["http/1.1"])
    logf = open(a.log, "a", encoding="utf-8") if a.log else sys.stderr
    sim = Sim(a.token_lifetime)
    if a.client_id is not None:
        sim.clients[a.client_id] = (a.client_secret, None)
    family, host = hosts[a.host]
    srv = Server((host, a.port), family, ctx, sim, logf)
    port = srv.server_address[1]
    phone = None
    if a.phone_port_file:  # written first: once --port-file exists, both are there
        phone = phone_sim.start(sim, family, host, a.phone_port, srv.log)
        write_port_file(a.phone_port_file, phone.server_address[1])
    write_port_file(a.port_file, port)

    def stop(signum, _frame):
        srv.log("signal %d, stopping" % signum)
        threading.Thread(target=srv.shutdown, daemon=True).start()
        if phone:
            threading.Thread(target=phone.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.log("listening on https://%s:%d (pid %d)" % (host if family == socket.AF_INET else "[::1]", port,
                                                      os.getpid()))
    if phone:
        srv.log("phone page on http://%s:%d/" % (host if family == socket.AF_INET else "[::1]",
                                                 phone.server_address[1]))
    srv.serve_forever(poll_interval=0.2)
    srv.server_close()
    srv.log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
