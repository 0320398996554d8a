# SPDX-License-Identifier: GPL-2.0-or-later
"""A small RADIUS client for the rlm_mobileid tests and benchmark (RFC 2865
Access-Request with User-Password and Message-Authenticator, replies checked
against the Response Authenticator and Message-Authenticator), over UDP, one
request or many in parallel.  Standard library only."""
import hashlib
import hmac
import os
import select
import socket
import struct
import time

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE = 1, 2, 3, 11
CODE_NAMES = {ACCESS_ACCEPT: "Access-Accept", ACCESS_REJECT: "Access-Reject",
              ACCESS_CHALLENGE: "Access-Challenge"}

USER_NAME, USER_PASSWORD, NAS_IP_ADDRESS, REPLY_MESSAGE = 1, 2, 4, 18
STATE, SESSION_TIMEOUT, CALLING_STATION_ID, NAS_IDENTIFIER = 24, 27, 31, 32
PROMPT, MESSAGE_AUTHENTICATOR = 76, 80


def _password(pw, secret, authenticator):
    """User-Password hiding, RFC 2865 section 5.2."""
    pw = pw.encode() if isinstance(pw, str) else pw
    if not pw or len(pw) % 16:
        pw += b"\0" * (16 - len(pw) % 16)
    out, last = b"", authenticator
    for i in range(0, len(pw), 16):
        b = hashlib.md5(secret + last).digest()
        last = bytes(x ^ y for x, y in zip(pw[i:i + 16], b))
        out += last
    return out


def _bytes(v):
    return v if isinstance(v, bytes) else v.encode()


class Reply:
    def __init__(self, code, ident, attrs, elapsed):
        self.code, self.id, self.attrs, self.elapsed = code, ident, attrs, elapsed

    def get(self, attr):
        vals = [v for t, v in self.attrs if t == attr]
        return vals[0] if vals else None

    @property
    def name(self):
        return CODE_NAMES.get(self.code, str(self.code))

    @property
    def message(self):
        return b"".join(v for t, v in self.attrs if t == REPLY_MESSAGE).decode("utf-8", "replace")

    @property
    def state(self):
        return self.get(STATE)

    def __repr__(self):
        return "<%s id=%d %r>" % (self.name, self.id, self.message)


class Request:
    """One Access-Request; keeps what is needed to check the reply."""

    def __init__(self, ident, secret, user, password="", state=None, calling_station=None,
                 extra=(), nas_identifier=b"mobileid-test-nas"):
        """user, calling_station and nas_identifier: str (sent as UTF-8) or
        bytes (sent as they are); user None: no User-Name."""
        self.id, self.secret = ident, secret
        self.authenticator = os.urandom(16)
        attrs = [] if user is None else [(USER_NAME, _bytes(user))]
        attrs += [(USER_PASSWORD, _password(password, secret, self.authenticator)),
                  (NAS_IP_ADDRESS, socket.inet_aton("127.0.0.1"))]
        if nas_identifier is not None:
            attrs.append((NAS_IDENTIFIER, _bytes(nas_identifier)))
        if calling_station:
            attrs.append((CALLING_STATION_ID, _bytes(calling_station)))
        if state is not None:
            attrs.append((STATE, state))
        attrs.extend(extra)
        body = b"".join(struct.pack("BB", t, len(v) + 2) + v for t, v in attrs)
        body += struct.pack("BB", MESSAGE_AUTHENTICATOR, 18) + b"\0" * 16
        head = struct.pack("!BBH", ACCESS_REQUEST, ident, 20 + len(body)) + self.authenticator
        pkt = head + body
        mac = hmac.new(secret, pkt, hashlib.md5).digest()
        self.packet = pkt[:-16] + mac
        self.sent = None

    def parse(self, data):
        """The reply, or None when it is not a valid answer to this request."""
        if len(data) < 20:
            return None
        code, ident, length = struct.unpack("!BBH", data[:4])
        if ident != self.id or length > len(data) or length < 20:
            return None
        data = data[:length]
        expect = hashlib.md5(data[:4] + self.authenticator + data[20:] + self.secret).digest()
        if not hmac.compare_digest(expect, data[4:20]):
            return None
        attrs, pos, ma_at = [], 20, None
        while pos + 2 <= length:
            t, n = data[pos], data[pos + 1]
            if n < 2 or pos + n > length:
                return None
            if t == MESSAGE_AUTHENTICATOR:
                ma_at = pos + 2
            attrs.append((t, data[pos + 2:pos + n]))
            pos += n
        if ma_at is not None:
            zeroed = (data[:4] + self.authenticator + data[20:ma_at] + b"\0" * 16 +
                      data[ma_at + 16:])
            if not hmac.compare_digest(hmac.new(self.secret, zeroed, hashlib.md5).digest(),
                                       data[ma_at:ma_at + 16]):
                return None
        return Reply(code, ident, attrs, time.monotonic() - self.sent if self.sent else 0.0)


class Client:
    def __init__(self, port, secret="testing123", host="127.0.0.1"):
        self.addr = (host, port)
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self._id = 0

    def _next_id(self):
        self._id = (self._id + 1) % 256
        return self._id

    def request(self, user, password="", timeout=30.0, retries=0, state=None,
                calling_station="192.0.2.10", retransmit_after=None, **kw):
        """Send one Access-Request over UDP and return the Reply (None on
        timeout).  retransmit_after: send the very same packet again after
        that many seconds, like a NAS whose timer expired.  kw: extra,
        nas_identifier (see Request)."""
        req = Request(self._next_id(), self.secret, user, password, state, calling_station, **kw)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect(self.addr)
            req.sent = time.monotonic()
            s.send(req.packet)
            end = req.sent + timeout
            resend = req.sent + retransmit_after if retransmit_after else None
            sends = 1
            while True:
                now = time.monotonic()
                if now >= end:
                    return None
                wait = end - now
                if resend is not None and sends <= retries:
                    wait = min(wait, max(0.0, resend - now))
                r, _, _ = select.select([s], [], [], wait)
                if r:
                    try:
                        rep = req.parse(s.recv(4096))
                    except ConnectionRefusedError:
                        continue
                    if rep:
                        return rep
                elif resend is not None and sends <= retries and time.monotonic() >= resend:
                    s.send(req.packet)
                    sends += 1
                    resend = time.monotonic() + retransmit_after
        finally:
            s.close()

    def many(self, users, password="", timeout=60.0, calling_station="192.0.2.10",
             rate=None):
        """Send one Access-Request per user at once (or `rate` per second)
        and return the replies in the same order (None where none came)."""
        per_sock = 200
        socks, reqs = [], []
        for i, user in enumerate(users):
            if i % per_sock == 0:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                s.connect(self.addr)
                socks.append(s)
            reqs.append((socks[-1], Request(i % per_sock, self.secret, user, password,
                                            None, calling_station)))
        replies = [None] * len(reqs)
        index = {(id(s), r.id): n for n, (s, r) in enumerate(reqs)}
        left = len(reqs)
        t0 = time.monotonic()
        end = t0 + timeout
        sent = 0
        try:
            while left and time.monotonic() < end:
                now = time.monotonic()
                due = len(reqs) if rate is None else min(len(reqs), int((now - t0) * rate) + 1)
                while sent < due:
                    s, r = reqs[sent]
                    r.sent = time.monotonic()
                    s.send(r.packet)
                    sent += 1
                wait = 0.01 if sent < len(reqs) else max(0.0, end - time.monotonic())
                ready, _, _ = select.select(socks, [], [], wait)
                for s in ready:
                    try:
                        data = s.recv(4096)
                    except ConnectionRefusedError:
                        continue
                    if len(data) < 2:
                        continue
                    n = index.get((id(s), data[1]))
                    if n is None or replies[n] is not None:
                        continue
                    rep = reqs[n][1].parse(data)
                    if rep:
                        replies[n] = rep
                        left -= 1
        finally:
            for s in socks:
                s.close()
        return replies
