# SPDX-License-Identifier: GPL-2.0-or-later
"""DQE ID Mobile "matching without OTP" simulator: a module of mobileid_sim.py.

Written from /work/shared/specs (dqe-idmobile-matching-notp.txt and the DQE section of
README.md), independently of the C client. Served on the simulator's HTTPS port:

  POST /ACCESS_TOKEN/     form licence, client_secret, grant_type=client_idmobile
  POST|GET /IDMOBILE/     matching without OTP (scope=matching_notp, mode=2, user_infos JSON)
  /_sim/dqe/...           control API (see tests/sim/README.md, "DQE ID Mobile")

The operator's records are scripted per phone number: either a record of the person (the
simulator computes the similarity scores itself), literal scores, or an error id.
"""
import difflib
import json
import re
import secrets
import time
import unicodedata
from urllib.parse import parse_qs

NAME = "dqe"                      # control calls live under /_sim/dqe/
TOKEN_PATH = "/ACCESS_TOKEN/"
MATCH_PATH = "/IDMOBILE/"
FORM = "application/x-www-form-urlencoded"
DEFAULT_LIFETIME = 300            # the README's example "expires_in": "300"
OPERATOR = "SimOperator"

# The vendor's error table: id -> error_type ("[Operator Name]" filled in).
ERRORS = {
    "01": "invalid request",
    "02": "invalid licence key",
    "04": "invalid scope",
    "05": "missing or empty parameter (user_infos) for this scope",
    "06": "bad parameter format (user_infos) is not a valid JSON",
    "07": "missing mandatory key in user informations (phone)",
    "09": "ineligible phone number",
    "10": "invalid phone number",
    "11": "phone number is empty",
    "12": "phone check failed",
    "13": "operator [Operator Name] not found",
    "14": "operator [Operator Name] not authorized for this licence",
    "15": "operator [Operator Name] not supported yet",
    "16": "operator [Operator Name] unreachable",
    "17": "scope not supported by this operator [Operator Name] yet",
    "30": "invalid or expired token",
}
# user_infos: each key must be present, even if no value is provided.
INFO_KEYS = ("street_address", "postal_code", "locality", "country", "birthdate", "email",
             "lastname", "maiden_name", "gender", "firstname", "phone", "number")
MATCH_PARAMS = {"licence", "number", "token", "mode", "name", "code_name", "user_infos", "scope",
                "redirect_uri", "country"}
TOKEN_PARAMS = {"licence", "client_secret", "grant_type"}
SCRIPT_KEYS = {"number", "record", "scores", "error", "error_type", "http_status"}


class DqeError(Exception):
    """A vendor error answer; reason goes to the X-Sim-Reason header only."""

    def __init__(self, error_id, reason, http_status=200, error_type=None):
        super().__init__(reason)
        self.error_id, self.reason, self.http_status = error_id, reason, http_status
        self.error_type = error_type or ERRORS[error_id].replace("[Operator Name]", OPERATOR)

    def answer(self):
        return self.http_status, {"X-Sim-Reason": self.reason}, {
            "status": "error", "error_type": self.error_type, "error_id": self.error_id}


class CtlError(Exception):
    def __init__(self, status, msg):
        super().__init__(msg)
        self.status, self.msg = status, msg


def norm(s):
    """Case, accents and spacing do not count when comparing names and places."""
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(c for c in s if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@.+-]", " ", s.lower()).split())


def similarity(a, b):
    """A score in 0..1 (two decimals), or "" when either side is unknown."""
    a, b = norm(a), norm(b)
    if not a or not b:
        return ""
    return 1.0 if a == b else round(difflib.SequenceMatcher(None, a, b).ratio(), 2)


def exact(a, b):
    a, b = norm(a), norm(b)
    if not a or not b:
        return ""
    return 1.0 if a == b else 0.0


def street(info):
    return " ".join(x for x in (info.get("number", ""), info.get("street_address", "")) if x)


def scores_for(record, info):
    """The operator's record against the submitted user_infos."""
    fam = [similarity(record.get("lastname"), info.get(k)) for k in ("lastname", "maiden_name")]
    fam = [x for x in fam if x != ""]
    return {
        "family_name": max(fam) if fam else "",
        "gender": exact(record.get("gender"), info.get("gender")),
        "birthdate": exact(record.get("birthdate"), info.get("birthdate")),
        "given_name": similarity(record.get("firstname"), info.get("firstname")),
        "address": {
            "country": similarity(record.get("country"), info.get("country")),
            "postal_code": exact(record.get("postal_code"), info.get("postal_code")),
            "street_address": similarity(street(record), street(info)),
            "locality": similarity(record.get("locality"), info.get("locality")),
        },
        "email": exact(record.get("email"), info.get("email")),
    }


class Module:
    """DQE state; every method is called with the simulator's lock held."""

    def __init__(self):
        self.licences = {}    # licence -> {"secret", "token_lifetime"}; kept by reset
        self.reset()

    def reset(self):
        self.tokens, self.numbers, self.token_seq = {}, {}, 0

    @staticmethod
    def handles(path):
        return path in (TOKEN_PATH, MATCH_PATH) or path in (TOKEN_PATH[:-1], MATCH_PATH[:-1])

    # ---- the API ------------------------------------------------------------------------
    def api(self, rq, trace):
        """-> (status, headers, JSON object) for a request to a DQE path."""
        try:
            if rq.path.rstrip("/") + "/" == TOKEN_PATH:
                return 200, {"Cache-Control": "no-store"}, self.token(rq)
            return 200, {}, self.matching(rq)
        except DqeError as e:
            return e.answer()

    @staticmethod
    def params(rq, allowed, allow_get):
        if rq.path not in (TOKEN_PATH, MATCH_PATH):
            raise DqeError("01", "the path must end with '/'")
        if rq.method == "GET" and allow_get:
            return dict(rq.query)
        if rq.method != "POST":
            raise DqeError("01", "method %s not allowed" % rq.method, 405)
        if rq.ctype != FORM:
            raise DqeError("01", "Content-Type must be " + FORM)
        try:
            pairs = parse_qs(rq.raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(rq.raw))
        except (UnicodeDecodeError, ValueError) as e:
            raise DqeError("01", "the body is not form-urlencoded: %s" % e) from None
        if any(len(v) > 1 for v in pairs.values()):
            raise DqeError("01", "a parameter is repeated: " + ", ".join(k for k, v in pairs.items() if len(v) > 1))
        p = {k: v[0] for k, v in pairs.items()}
        unknown = sorted(set(p) - allowed)
        if unknown:
            raise DqeError("01", "unknown parameter(s): " + ", ".join(unknown))
        return p

    def token(self, rq):
        p = self.params(rq, TOKEN_PARAMS, False)
        if p.get("grant_type") != "client_idmobile":
            raise DqeError("01", "grant_type must be client_idmobile")
        lic = self.licences.get(p.get("licence") or "")
        if lic is None or not secrets.compare_digest(lic["secret"].encode(), (p.get("client_secret") or "").encode()):
            raise DqeError("02", "unknown licence or wrong client_secret", 401)
        lifetime = lic["token_lifetime"] or DEFAULT_LIFETIME
        tok = secrets.token_urlsafe(24)
        self.token_seq += 1
        self.tokens[tok] = {"expires": time.time() + lifetime, "licence": p["licence"], "n": self.token_seq}
        rq.issued = self.token_seq
        # expires_in is a STRING at DQE
        return {"access_token": tok, "token_type": "Bearer", "expires_in": str(lifetime),
                "refresh_token": secrets.token_urlsafe(24)}

    def matching(self, rq):
        p = self.params(rq, MATCH_PARAMS, True)
        lic = p.get("licence")
        if not lic or lic not in self.licences:
            raise DqeError("02", "unknown or missing licence")
        t = self.tokens.get(p.get("token") or "")
        if t is None or t["expires"] <= time.time() or t["licence"] != lic:
            raise DqeError("30", "token unknown, expired or of another licence")
        rq.token_n = t["n"]
        if p.get("scope") != "matching_notp":
            raise DqeError("04", "scope must be matching_notp")
        if p.get("mode") != "2":
            raise DqeError("01", "mode must be 2")
        if not p.get("name"):
            raise DqeError("01", "name (the partner name) is missing")
        if "country" in p and not re.fullmatch(r"[A-Z]{2}", p["country"]):
            raise DqeError("01", "country must be an ISO 3166 two-letter code")
        number = p.get("number", "")
        if not number:
            raise DqeError("11", "number is missing or empty")
        if not p.get("user_infos"):
            raise DqeError("05", "user_infos is missing or empty")
        try:
            info = json.loads(p["user_infos"])
        except ValueError:
            raise DqeError("06", "user_infos is not valid JSON") from None
        if not isinstance(info, dict):
            raise DqeError("06", "user_infos is not a JSON object")
        if "phone" not in info or not info["phone"]:
            raise DqeError("07", "user_infos has no phone")
        missing = [k for k in INFO_KEYS if k not in info]
        unknown = sorted(k for k in info if k not in INFO_KEYS)
        bad = sorted(k for k, v in info.items() if not isinstance(v, str))
        if missing or unknown or bad:
            raise DqeError("01", "user_infos: missing %s, unknown %s, not strings %s" % (missing, unknown, bad))
        if not re.fullmatch(r"\+?[0-9]{6,20}", number):
            raise DqeError("10", "number is not a phone number")
        script = self.numbers.get(number)
        if script is None:
            raise DqeError("10", "no such number at the operator")
        if script.get("error"):
            raise DqeError(script["error"], "scripted error", script.get("http_status", 200),
                           script.get("error_type"))
        if "scores" in script:
            return script["scores"]
        return scores_for(script["record"], info)

    # ---- control API ----------------------------------------------------------------------
    def control(self, method, sub, b):
        """-> (status, JSON object) for /_sim/dqe/<sub>."""
        try:
            fn = getattr(self, "ctl_%s_%s" % (method, sub.strip("/").replace("/", "_")), None)
            if fn is None:
                raise CtlError(404, "unknown control call %s /_sim/dqe/%s" % (method, sub.strip("/")))
            return fn(b)
        except CtlError as e:
            return e.status, {"error": e.msg}

    def ctl_POST_licences(self, b):
        lic, sec, life = b.get("licence"), b.get("secret"), b.get("token_lifetime")
        if not isinstance(lic, str) or not lic or not isinstance(sec, str) or not sec:
            raise CtlError(400, "licence and secret are required non-empty strings")
        if life is not None and (not isinstance(life, int) or isinstance(life, bool) or life < 1):
            raise CtlError(400, "token_lifetime must be a positive integer")
        self.licences[lic] = {"secret": sec, "token_lifetime": life}
        return 200, {"ok": True}

    def ctl_POST_numbers(self, b):
        unknown = sorted(set(b) - SCRIPT_KEYS)
        if unknown:
            raise CtlError(400, "unknown keys %s (allowed: %s)" % (unknown, ", ".join(sorted(SCRIPT_KEYS))))
        num = b.get("number")
        if not isinstance(num, str) or not num:
            raise CtlError(400, "number is required")
        kinds = [k for k in ("record", "scores", "error") if b.get(k) is not None]
        if len(kinds) != 1:
            raise CtlError(400, "give exactly one of record, scores, error")
        if "record" in kinds and not (isinstance(b["record"], dict) and
                                      all(k in INFO_KEYS and isinstance(v, str) for k, v in b["record"].items())):
            raise CtlError(400, "record must map user_infos keys (%s) to strings" % ", ".join(INFO_KEYS))
        if "scores" in kinds and not isinstance(b["scores"], dict):
            raise CtlError(400, "scores must be an object (sent as is)")
        if "error" in kinds and b["error"] not in ERRORS:
            raise CtlError(400, "error must be one of the vendor's ids: " + ", ".join(ERRORS))
        hs = b.get("http_status", 200)
        if not isinstance(hs, int) or isinstance(hs, bool) or not 200 <= hs <= 599:
            raise CtlError(400, "http_status must be 200..599")
        self.numbers[num] = dict(b)
        return 200, {"ok": True}

    def ctl_GET_numbers(self, b):
        return 200, self.numbers

    def ctl_DELETE_numbers(self, b):
        self.numbers = {}
        return 200, {"ok": True}

    def ctl_POST_tokens_expire(self, b):
        for t in self.tokens.values():
            t["expires"] = 0
        return 200, {"ok": True}

    def ctl_GET_tokens(self, b):
        now = time.time()
        return 200, [{"n": t["n"], "licence": t["licence"], "valid": t["expires"] > now}
                     for t in sorted(self.tokens.values(), key=lambda t: t["n"])]
