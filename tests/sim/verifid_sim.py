# SPDX-License-Identifier: GPL-2.0-or-later
"""Namirial VerifID enrollment simulator: a module of mobileid_sim.py.

Written from /work/shared/specs (namirial-verifid-enrollment.txt and the VerifID section of
README.md), independently of the C client. Served on the simulator's HTTPS port:

  PUT /api/v1/Enrollments     create an enrollment (header X-VerifiD-ApiToken)
  /_sim/verifid/...           control API (see tests/sim/README.md, "Namirial VerifID")

Errors are the documented {"Type","Title","Details"} bodies with 400, 401 and 503.
"""
import json
import re
import uuid
from urllib.parse import urlencode, urlsplit

NAME = "verifid"                  # control calls live under /_sim/verifid/
PREFIX = "/api/v1"
ENROLLMENTS = PREFIX + "/Enrollments"
TOKEN_HEADER = "X-VerifiD-ApiToken"
CONSUMER = "sim"
PROVIDER = "bit4id"
FIELDS = ("Profile", "Language", "Email", "FirstName", "LastName", "ReturnUrl")
# verifidError codes of the return URL (the spec's table)
RESULT_ERRORS = ("NotSupportedDocument", "RequestAltered", "RequestIsExpired", "RequestInvalidInfo",
                 "UnexpectedFailure", "OnBoardingProviderError", "PdfValidationError")


def error(status, kind, title, details):
    return status, {}, {"Type": "https://verif.id/error/-" + kind, "Title": title, "Details": details}


def bad_request(details):
    return error(400, "bad-request", "The request is invalid", details)


class CtlError(Exception):
    def __init__(self, status, msg):
        super().__init__(msg)
        self.status, self.msg = status, msg


class Module:
    """VerifID state; every method is called with the simulator's lock held."""

    def __init__(self):
        self.api_tokens = set()      # valid X-VerifiD-ApiToken values; kept by reset
        self.profiles = set()        # profiles of our consumer; kept by reset
        self.reset()

    def reset(self):
        self.enrollments = []        # oldest first
        self.outage = None           # {"count", "details"} while 503 is answered

    @staticmethod
    def handles(path):
        return path == PREFIX or path.startswith(PREFIX + "/")

    # ---- the API ------------------------------------------------------------------------
    def api(self, rq, trace):
        """-> (status, headers, JSON object) for a request under /api/v1."""
        if self.outage is not None:
            details = self.outage["details"]
            if self.outage["count"] > 0:
                self.outage["count"] -= 1
                if self.outage["count"] == 0:
                    self.outage = None
            return error(503, "service-unavailable", "The server is currently unable to handle "
                         "the request", details)
        if rq.headers.get(TOKEN_HEADER) not in self.api_tokens:
            return error(401, "authn", "There was a problem authenticating the request",
                         "Authentication failed: bad token.")
        if rq.path.rstrip("/") != ENROLLMENTS:
            return error(404, "not-found", "The resource was not found", "No resource at " + rq.path)
        if rq.method != "PUT":
            status, h, body = error(405, "method-not-allowed", "The method is not allowed",
                                    "Use PUT to create an enrollment")
            return status, {"Allow": "PUT"}, body
        return self.create(rq)

    def create(self, rq):
        if rq.ctype != "application/json":
            return bad_request("Content-Type must be application/json")
        try:
            b = json.loads(rq.raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return bad_request("The request body is not valid JSON")
        if not isinstance(b, dict):
            return bad_request("The request body must be a JSON object")
        unknown = sorted(k for k in b if k not in FIELDS)
        if unknown:  # catches misspelt field names in tests
            return bad_request("Unknown field(s): " + ", ".join(unknown))
        for k in FIELDS:
            if b.get(k) is not None and not isinstance(b[k], str):
                return bad_request("%s must be a string" % k)
        profile = b.get("Profile") or ""
        if profile not in self.profiles:
            return bad_request("Profile '%s' is not configured for consumer %s" % (profile, CONSUMER))
        email = b.get("Email") or ""
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            return bad_request("Email '%s' is not a valid e-mail address" % email)
        if not (b.get("FirstName") or "").strip():
            return bad_request("Bit4Id::SPIDOnly::%s can't enroll requests with an empty firstname"
                               % CONSUMER.capitalize())
        if not (b.get("LastName") or "").strip():
            return bad_request("Bit4Id::SPIDOnly::%s can't enroll requests with an empty lastname"
                               % CONSUMER.capitalize())
        lang = b.get("Language") or "en"
        if not re.fullmatch(r"[a-z]{2}", lang):
            return bad_request("Language '%s' is not a two-letter language code" % lang)
        ret = b.get("ReturnUrl")
        if ret is not None:
            u = urlsplit(ret)
            if u.scheme not in ("http", "https") or not u.netloc:
                return bad_request("ReturnUrl '%s' is not an absolute URL" % ret)
        eid = str(uuid.uuid4())
        host = rq.headers.get("Host") or "verifid.sim.invalid"
        e = {"Id": eid, "Kinds": ["Email"], "State": "New", "Outcome": None, "Name": b["FirstName"],
             "LastName": b["LastName"], "DocumentNumber": None, "Email": email, "Phone": None,
             "Language": lang, "Provider": PROVIDER, "Consumer": CONSUMER, "IdentificationUrl": None,
             "EnrollUrl": "https://%s/enrollment/start/%s" % (host, eid), "ReturnUrl": ret}
        self.enrollments.append({"enrollment": e, "request": b})
        return 200, {}, e

    # ---- control API ----------------------------------------------------------------------
    def control(self, method, sub, b):
        """-> (status, JSON object) for /_sim/verifid/<sub>."""
        try:
            fn = getattr(self, "ctl_%s_%s" % (method, sub.strip("/").replace("/", "_")), None)
            if fn is None:
                raise CtlError(404, "unknown control call %s /_sim/verifid/%s" % (method, sub.strip("/")))
            return fn(b)
        except CtlError as e:
            return e.status, {"error": e.msg}

    def ctl_POST_tokens(self, b):
        tok = b.get("token")
        if not isinstance(tok, str) or not tok or any(ord(c) < 0x21 or ord(c) > 0x7e for c in tok):
            raise CtlError(400, "token must be a non-empty string of visible ASCII")
        self.api_tokens.add(tok)
        return 200, {"ok": True}

    def ctl_DELETE_tokens(self, b):
        self.api_tokens.clear()
        return 200, {"ok": True}

    def ctl_POST_profiles(self, b):
        p = b.get("profile")
        if not isinstance(p, str) or not p:
            raise CtlError(400, "profile must be a non-empty string")
        self.profiles.add(p)
        return 200, {"ok": True}

    def ctl_GET_enrollments(self, b):
        return 200, self.enrollments

    def ctl_POST_outage(self, b):
        count, details = b.get("count", 1), b.get("details", "Problems found trying to contact with "
                                                             "OnBoarding Today API")
        if not isinstance(count, int) or isinstance(count, bool) or count == 0 or count < -1:
            raise CtlError(400, "count must be positive or -1 (until DELETE)")
        if not isinstance(details, str):
            raise CtlError(400, "details must be a string")
        self.outage = {"count": count, "details": details}
        return 200, {"ok": True}

    def ctl_DELETE_outage(self, b):
        self.outage = None
        return 200, {"ok": True}

    def ctl_POST_complete(self, b):
        eid, result, code = b.get("id"), b.get("result"), b.get("error")
        entry = next((x for x in self.enrollments if x["enrollment"]["Id"] == eid), None)
        if entry is None:
            raise CtlError(404, "no enrollment %r" % (eid,))
        if result not in ("success", "error"):
            raise CtlError(400, "result must be success or error")
        if (result == "error") != (code is not None) or (code is not None and code not in RESULT_ERRORS):
            raise CtlError(400, "error (one of %s) goes with result error only" % ", ".join(RESULT_ERRORS))
        e = entry["enrollment"]
        if e["State"] != "New":
            raise CtlError(409, "enrollment %s is already %s" % (eid, e["State"]))
        e["State"], e["Outcome"] = ("Completed", "Success") if result == "success" else ("Failed", code)
        redirect = None
        if e["ReturnUrl"]:
            q = {"verifidResult": result}
            if code:
                q["verifidError"] = code
            redirect = e["ReturnUrl"] + ("&" if "?" in e["ReturnUrl"] else "?") + urlencode(q)
        return 200, {"enrollment": e, "redirect": redirect}
