#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The batch imports end to end: mobileidctl preenroll against the simulator
(golden .out files in tests/batch/), mobileidctl auth-import into an account
map (full, incremental, purge guard, SUID, bad lines, .pgp with a GnuPG key
made for the run), and externalref = map through pamtester."""
import hashlib
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "radius"))
import harness  # noqa: E402
import freeradius as fr  # noqa: E402
import radius  # noqa: E402
from tap import main  # noqa: E402

CTL = os.path.join(harness.BUILDDIR, "mobileidctl", "mobileidctl")
GOLDEN = os.path.join(harness.SRCDIR, "tests", "batch")
GPG = shutil.which("gpg")
GPGCONF = shutil.which("gpgconf")


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


class Ctl:
    """A work directory with a configuration for mobileidctl."""

    def __init__(self, sim=None, **over):
        self.dir = tempfile.mkdtemp(prefix="mobileid-batch-")
        self.cache = os.path.join(self.dir, "cache")
        os.mkdir(self.cache, 0o700)
        self.map = os.path.join(self.dir, "accounts.map")
        self.conf = os.path.join(self.dir, "mobileid.conf")
        self.write_conf(sim, **over)

    def write_conf(self, sim=None, **over):
        over.setdefault("map_file", self.map)
        if sim:
            text = harness.config_text(sim, self.cache, **over)
        else:
            text = "[signicat]\nclient_id = x\nclient_secret = y\n"
            sections = {}
            for key, value in over.items():
                section, name = key.split("_", 1)
                sections.setdefault(section, []).append("%s = %s" % (name, value))
            for section, lines in sections.items():
                text += "[%s]\n%s\n" % (section, "\n".join(lines))
        harness.write_file(self.conf, text)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def copy(self, name, as_name=None):
        dst = os.path.join(self.dir, as_name or name)
        shutil.copyfile(os.path.join(GOLDEN, name), dst)
        return dst

    def run(self, *args, env=None, timeout=120):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.run([CTL, "-c", self.conf] + list(args), capture_output=True,
                           env=e, timeout=timeout)
        harness.check_sanitizer("mobileidctl", p.stderr)
        return p


class Batch(harness.SimCase):
    @classmethod
    def setUpClass(cls):
        harness.require(os.path.exists(CTL), "mobileidctl not built")
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.ctl = Ctl(self.sim)
        self.addCleanup(self.ctl.cleanup)

    def users(self):
        return {u["externalRef"]: u for u in self.sim.ctl("GET", "users")}


class Preenroll(Batch):
    def assertGolden(self, name):
        """Run preenroll on a copy of tests/batch/NAME; compare NAME.out."""
        path = self.ctl.copy(name)
        before = sha(path)
        p = self.ctl.run("preenroll", path)
        self.assertEqual(sha(path), before, "the input was modified")
        self.assertEqual(read(path + ".out"), read(os.path.join(GOLDEN, name + ".out")),
                         "the .out differs from the golden file; stderr:\n" + p.stderr.decode())
        self.assertEqual(sorted(os.listdir(self.ctl.dir)),
                         sorted(["cache", "mobileid.conf", name, name + ".out"]),
                         "a temporary file was left behind")
        return path, p

    def test_golden_every_rc(self):
        self.sim.add_user("+12015550199")
        path, p = self.assertGolden("Preenroll-2024-06-25.csv")
        err = p.stderr.decode()
        out = p.stdout.decode()
        # one RC 1 row: exit 1
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("19 rows: 7 created (RC 0), 2 already enrolled (RC 2), 4 not a mobile "
                      "number (RC 3), 2 country code not accepted (RC 4), 4 failed (RC 1)", out)
        self.assertNotIn("file name does not follow", err)
        name = re.escape(path)
        # the reasons of RC 1, 3 and 4 on stderr, with the line of the row
        for line, rc, reason in [
                (10, 3, "TOLL_FREE number, not a mobile number"),
                (11, 3, "not a valid number for country code \\+1"),
                (12, 3, "mobileNumber is empty"),
                (13, 3, "not a phone number"),
                (14, 4, "country code \\+44 is not accepted \\(accepted: \\+1\\)"),
                (15, 4, "country code \\+33 is not accepted"),
                (16, 1, "malformed CSV: bad quoting on line 16, column 22"),
                (17, 1, "2 fields, the header has 3"),
                (18, 1, "4 fields, the header has 3"),
                (19, 1, "field 2 \\(fullName\\): not valid UTF-8")]:
            self.assertRegex(err, "%s:%d: RC %d: .*%s" % (name, line, rc, reason))
        users = self.users()
        created = {ref: u["attributes"] for ref, u in users.items() if ref != "+12015550199"}
        self.assertEqual(sorted(created), ["+1201555010%d" % i for i in range(1, 6)] +
                         ["+12015550118", "+12015550119"])
        self.assertEqual(created["+12015550101"], {"mobileNumber": "+12015550101",
                                                   "fullName": "John Doe", "memberId": "M-0001"})
        self.assertEqual(created["+12015550102"]["mobileNumber"], "+12015550102")
        self.assertEqual(created["+12015550103"]["fullName"], "Jos\u00e9 \"JJ\" O'Neil")
        self.assertEqual(created["+12015550104"]["fullName"], "Multi\nLine Name")
        self.assertEqual(created["+12015550105"]["fullName"], "Unquoted Name")
        self.assertEqual(created["+12015550118"], {"mobileNumber": "+12015550118",
                                                   "memberId": "M-0018"})
        # only the rows that passed the checks reached the service
        self.assertEqual(len(self.sim.api_calls("POST", "/users")), 9)

    def test_golden_bom_crlf(self):
        path, p = self.assertGolden("Preenroll-2024-06-26.csv")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(self.users()["+12015550203"]["attributes"]["fullName"],
                         "Embedded\r\nBreak")
        self.assertRegex(p.stderr.decode(), re.escape(path) + ":7: RC 1: malformed CSV")

    def test_rerun_is_idempotent(self):
        path = self.ctl.copy("Preenroll-2024-06-26.csv")
        first = self.ctl.run("preenroll", path)
        self.assertIn(b"4 created (RC 0)", first.stdout)
        n_users = len(self.users())
        second = self.ctl.run("--json", "preenroll", path)
        summary = json.loads(second.stdout)
        self.assertEqual(summary["created"], 0)
        self.assertEqual(summary["alreadyEnrolled"], 4)
        self.assertEqual(summary["rows"], 6)
        self.assertEqual(len(self.users()), n_users)
        rcs = [line.rsplit(b",", 1)[1] for line in read(path + ".out").split(b"\r\n")[1:] if line]
        # the embedded line break splits one record over two lines
        self.assertEqual(rcs.count(b'"2"'), 4)
        self.assertEqual(sha(path), sha(os.path.join(GOLDEN, "Preenroll-2024-06-26.csv")))

    def test_file_name_warning_and_country_codes(self):
        path = self.ctl.copy("Preenroll-2024-06-25.csv", "members.csv")
        self.ctl.write_conf(self.sim, preenroll_country_codes="+1, +44")
        p = self.ctl.run("preenroll", path)
        err = p.stderr.decode()
        self.assertIn("members.csv: the file name does not follow the IDgo pattern "
                      "Preenroll-YYYY-MM-DD.csv (processing it anyway)", err)
        out = read(path + ".out")
        self.assertIn(b'"+447400123456","UK Mobile","M-0012","0"', out)
        self.assertIn(b'"+33612345678","FR Mobile","M-0013","4"', out)
        self.assertIn("+447400123456", self.users())

    def test_externalref_column(self):
        path = self.ctl.copy("Preenroll-2024-06-26.csv")
        self.ctl.write_conf(self.sim, preenroll_externalref_column="plan")
        p = self.ctl.run("preenroll", path)
        self.assertEqual(p.returncode, 1, p.stderr)
        users = self.users()
        self.assertEqual(sorted(users), ["bronze", "gold", "silver", "z"])
        self.assertEqual(users["gold"]["attributes"],
                         {"mobileNumber": "+12015550201", "fullName": "Crlf One",
                          "plan": "gold"})

    def test_header_errors_do_nothing(self):
        for text, why in [(b'"phoneNumber","fullName"\n"+12015550101","x"\n',
                           "no 'mobileNumber' column"),
                          (b'"mobileNumber","rc"\n"+12015550101","x"\n', "reserved"),
                          (b'"mobileNumber","a","A"\n"+12015550101","x","y"\n',
                           "both named"),
                          (b"", "empty file")]:
            path = os.path.join(self.ctl.dir, "Preenroll-2024-01-01.csv")
            with open(path, "wb") as f:
                f.write(text)
            p = self.ctl.run("preenroll", path)
            self.assertEqual(p.returncode, 1)
            self.assertIn(why, p.stderr.decode())
            self.assertFalse(os.path.exists(path + ".out"))
            self.assertEqual(sorted(os.listdir(self.ctl.dir)),
                             ["Preenroll-2024-01-01.csv", "cache", "mobileid.conf"])
        self.assertEqual(self.sim.api_calls("POST", "/users"), [])

    def test_system_error_one_row(self):
        path = self.ctl.copy("Preenroll-2024-06-26.csv")
        self.sim.fault(method="POST", path="^/mobileid/core/users$", status=503, count=1)
        p = self.ctl.run("preenroll", path)
        self.assertEqual(p.returncode, 1)
        err = p.stderr.decode()
        # the first row failed, with the reason and the vendor trace id; the rest went on
        self.assertRegex(err, r":2: RC 1: create user: server error \(HTTP 503.*\(trace id \w+\)")
        lines = read(path + ".out").split(b"\r\n")
        self.assertEqual(lines[1], b'"+12015550201","Crlf One","gold","1"')
        self.assertEqual(lines[2], b'"+12015550202","Crlf ""Two""","silver","0"')
        self.assertEqual(sorted(self.users()), ["+12015550202", "+12015550203", "+12015550205"])

    def test_refused_create_then_resolve(self):
        # The service refuses a create (400) instead of answering 409: the
        # tool asks whether the externalRef exists; it does for row 1 only.
        path = self.ctl.copy("Preenroll-2024-06-26.csv")
        self.sim.add_user("+12015550201")
        self.sim.fault(method="POST", path="^/mobileid/core/users$", status=400, count=2)
        p = self.ctl.run("preenroll", path)
        lines = read(path + ".out").split(b"\r\n")
        self.assertEqual(lines[1], b'"+12015550201","Crlf One","gold","2"')
        self.assertEqual(lines[2], b'"+12015550202","Crlf ""Two""","silver","1"')
        self.assertRegex(p.stderr.decode(), r":3: RC 1: create user: request refused \(HTTP 400")
        self.assertEqual(len(self.sim.api_calls("POST", "/users/resolve")), 2)

    def test_service_down_stops_calling(self):
        path = self.ctl.copy("Preenroll-2024-06-25.csv")
        self.sim.fault(method="POST", path="^/mobileid/core/users$", status=503, count=-1)
        p = self.ctl.run("preenroll", path)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn(b"the service is unavailable (3 rows in a row); the remaining rows are "
                      b"not attempted", p.stderr)
        self.assertEqual(len(self.sim.api_calls("POST", "/users")), 3)
        out = read(path + ".out").split(b"\n")
        self.assertEqual(len(out), 22)     # header, 19 rows (one over two lines), final \n
        self.assertTrue(out[-2].endswith(b'"1"'))
        self.assertIn(b"not attempted: the service is unavailable", p.stderr)

    def test_credentials_refused(self):
        path = self.ctl.copy("Preenroll-2024-06-26.csv")
        self.ctl.write_conf(self.sim, signicat_client_secret="wrong")
        p = self.ctl.run("preenroll", path)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn(b"the service refuses our credentials", p.stderr)
        rcs = [line.rsplit(b",", 1)[1] for line in read(path + ".out").split(b"\r\n")[1:]
               if line.endswith(b'"')]
        self.assertEqual(set(rcs) - {b'"3"'}, {b'"1"'})
        self.assertEqual(self.users(), {})

    def test_interrupt_writes_out(self):
        path = self.ctl.copy("Preenroll-2024-06-25.csv")
        self.sim.fault(method="POST", path="^/mobileid/core/users$", delay_ms=800, count=-1)
        proc = subprocess.Popen([CTL, "-c", self.ctl.conf, "preenroll", path],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        deadline = time.monotonic() + 30
        while not self.sim.api_calls("POST", "/users") and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        # The simulator still sleeps in the request we gave up: let it end
        # before the next test resets the simulator.
        self.sim.ctl("DELETE", "faults")
        self.addCleanup(time.sleep, 1.5)
        self.assertEqual(proc.returncode, 130, err)
        self.assertIn(b"not attempted: interrupted", err)
        lines = read(path + ".out").split(b"\n")
        self.assertEqual(len(lines), 22)   # header, 19 rows, one line break in a row, ""
        self.assertEqual(lines[-2], b'"+12015550119","Last Row, No Line End","M-0019","1"')

    def test_progress_on_a_terminal(self):
        path = os.path.join(self.ctl.dir, "Preenroll-2024-01-02.csv")
        with open(path, "w") as f:
            f.write('"mobileNumber","fullName"\n')
            for i in range(60):
                f.write('"+1201555%04d","Person %d"\n' % (3000 + i, i))
        master, slave = pty.openpty()
        self.addCleanup(os.close, master)
        proc = subprocess.Popen([CTL, "-c", self.ctl.conf, "preenroll", path],
                                stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        shown = b""
        while True:
            r, _, _ = select.select([master], [], [], 60)
            if not r:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        proc.wait(60)
        self.assertEqual(proc.returncode, 0, shown)
        self.assertIn(b"\rpreenroll: 25 rows", shown)
        self.assertIn(b"preenroll: 60 rows, 100% of the file", shown)
        self.assertIn(b"60 created (RC 0)", proc.stdout.read())
        proc.stdout.close()


class AuthImport(unittest.TestCase):
    def setUp(self):
        harness.require(os.path.exists(CTL), "mobileidctl not built")
        self.ctl = Ctl(map_max_purge_percent="30")
        self.addCleanup(self.ctl.cleanup)

    def map_lines(self):
        """The map without the line that names the file and the time."""
        return [line for line in read(self.ctl.map, "r").splitlines(True)
                if not line.startswith("# written by")]

    def golden_map(self, name):
        return read(os.path.join(GOLDEN, name), "r").splitlines(True)

    def imp(self, name, *args, **kw):
        path = self.ctl.copy(name) if os.path.exists(os.path.join(GOLDEN, name)) else name
        return self.ctl.run("auth-import", *(list(args) + [path]), **kw)

    def test_full_then_incremental(self):
        p = self.imp("demo_auth_20200312.txt")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"full auth file, 8 records: 8 added, 0 removed", p.stdout)
        self.assertEqual(self.map_lines(), self.golden_map("demo_auth_20200312.map"))
        st = os.stat(self.ctl.map)
        self.assertEqual(st.st_mode & 0o7777, 0o600)
        self.assertEqual(st.st_uid, os.geteuid())
        text = read(self.ctl.map, "r")
        self.assertIn("# written by mobileidctl auth-import from demo_auth_20200312.txt (full "
                      "file)", text)
        # sensitive columns are neither stored nor shown
        for secret in ("900112222", "900223333", "11/11/1990", "02/03/1985", "pdfSecret1"):
            self.assertNotIn(secret, text)
            self.assertNotIn(secret.encode(), p.stdout + p.stderr)

        p = self.ctl.run("-v", "auth-import", self.ctl.copy("demo_auth_20200313.txt"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"incremental auth file, 6 records: 2 added, 2 removed, 1 changed, "
                      b"5 unchanged, 1 deletion of relationships the map did not have", p.stdout)
        self.assertIn(b"demo_auth_20200313.txt:7: D for a relationship that is not in the map",
                      p.stderr)
        self.assertEqual(self.map_lines(), self.golden_map("demo_auth_20200313.map"))

    def test_json_and_dry_run(self):
        self.imp("demo_auth_20200312.txt")
        before = read(self.ctl.map)
        p = self.imp("demo_auth_20200313.txt", "--dry-run", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual((r["kind"], r["dryRun"], r["added"], r["removed"], r["changed"],
                          r["relationships"], r["accounts"]),
                         ("incremental", True, 2, 2, 1, 8, 5))
        self.assertEqual(read(self.ctl.map), before)

    def test_bad_lines_reject_the_whole_file(self):
        self.imp("demo_auth_20200312.txt")
        before = read(self.ctl.map)
        p = self.imp("demo_auth_20200314.txt")
        self.assertEqual(p.returncode, 1)
        err = p.stderr.decode()
        for line, what in [(3, "field 3 \\(USER TYPE\\): 'X' is neither P"),
                           (4, "field 5 \\(ACCOUNT NUMBER\\): '76543218A' is not a number"),
                           (5, "7 fields, the header has 8"),
                           (6, "field 3 \\(USER TYPE\\): a sub-user \\(SUID set\\) must be a "
                               "business user"),
                           (7, "field 6 \\(ACCOUNT TYPE\\): 'LNX' is not 1 or 2"),
                           (8, "field 4 \\(USER NAME\\): empty")]:
            self.assertRegex(err, "demo_auth_20200314.txt:%d: %s" % (line, what))
        self.assertNotRegex(err, "demo_auth_20200314.txt:2:")
        self.assertIn("6 bad lines; the whole file is refused and the account map is "
                      "unchanged", err)
        self.assertNotIn("900223333", err)
        self.assertEqual(read(self.ctl.map), before)

    def test_purge_guard(self):
        self.imp("demo_auth_20200312.txt")
        before = read(self.ctl.map)
        p = self.imp("demo_auth_20200315.txt")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"would remove 6 of the 8 relationships", p.stderr)
        self.assertIn(b"max_purge_percent = 30%", p.stderr)
        self.assertEqual(read(self.ctl.map), before)
        p = self.imp("demo_auth_20200315.txt", "--force")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.map_lines()[-2:],
                         ["654321789\tDD\t123456789\tP\tJohn Doe\n",
                          "888888888\tLN\t455555000\tN\tBUSINESS LLC\n"])
        # an empty map has nothing to purge: a first full file is never refused
        os.unlink(self.ctl.map)
        self.assertEqual(self.imp("demo_auth_20200315.txt").returncode, 0)

    def test_keeps_group_mode(self):
        self.assertEqual(self.imp("demo_auth_20200312.txt").returncode, 0)
        # a map made readable for a RADIUS server's group stays so
        gid = 1 if os.geteuid() == 0 else os.getegid()   # e.g. freerad's group
        os.chmod(self.ctl.map, 0o640)
        os.chown(self.ctl.map, -1, gid)
        p = self.imp("demo_auth_20200313.txt")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.map_lines(), self.golden_map("demo_auth_20200313.map"))
        st = os.stat(self.ctl.map)
        self.assertEqual((st.st_mode & 0o7777, st.st_gid), (0o640, gid))
        # an unsafe map is refused and left alone
        os.chmod(self.ctl.map, 0o660)
        p = self.imp("demo_auth_20200312.txt")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"lets group or others write it", p.stderr)
        self.assertEqual(self.map_lines(), self.golden_map("demo_auth_20200313.map"))

    def test_file_name_and_missing_file(self):
        path = self.ctl.copy("demo_auth_20200315.txt", "accounts.txt")
        p = self.ctl.run("auth-import", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"does not follow the InfoIMAGE pattern CID_auth_YYYYMMDD.txt[.pgp]",
                      p.stderr)
        p = self.ctl.run("auth-import", os.path.join(self.ctl.dir, "nope_auth_20200101.txt"))
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"No such file", p.stderr)

    def gpg_home(self):
        harness.require(GPG, "gpg not installed")
        home = tempfile.mkdtemp(prefix="mid-gpg-")
        os.chmod(home, 0o700)

        def kill_agent():
            if GPGCONF:
                subprocess.run([GPGCONF, "--homedir", home, "--kill", "all"],
                               capture_output=True)
            shutil.rmtree(home, ignore_errors=True)
        self.addCleanup(kill_agent)
        env = dict(os.environ, GNUPGHOME=home)
        uid = "mobileid test %s <test@mobileid.invalid>" % os.path.basename(home)
        subprocess.run([GPG, "--batch", "--passphrase", "", "--quick-gen-key", uid,
                        "future-default", "default", "never"], check=True, env=env,
                       capture_output=True, timeout=120)
        return home, uid

    def encrypt(self, home, uid, src, dst):
        subprocess.run([GPG, "--batch", "--yes", "--trust-model", "always", "--homedir", home,
                        "-r", uid, "-o", dst, "-e", src], check=True, capture_output=True,
                       timeout=60)

    def test_pgp(self):
        home, uid = self.gpg_home()
        plain = os.path.join(GOLDEN, "demo_auth_20200312.txt")
        enc = os.path.join(self.ctl.dir, "demo_auth_20200312.txt.pgp")
        self.encrypt(home, uid, plain, enc)
        self.assertNotIn(b"John Doe", read(enc))
        # GnuPG home from the environment
        p = self.ctl.run("auth-import", enc, env={"GNUPGHOME": home})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.map_lines(), self.golden_map("demo_auth_20200312.map"))
        self.assertNotIn(b"does not follow", p.stderr)
        # ... and from [map] gnupg_home, which wins
        os.unlink(self.ctl.map)
        self.ctl.write_conf(map_gnupg_home=home)
        p = self.ctl.run("auth-import", enc, env={"GNUPGHOME": "/nonexistent"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.map_lines(), self.golden_map("demo_auth_20200312.map"))

    def test_pgp_wrong_key(self):
        home, uid = self.gpg_home()
        other, other_uid = self.gpg_home()
        self.imp("demo_auth_20200312.txt")
        before = read(self.ctl.map)
        enc = os.path.join(self.ctl.dir, "demo_auth_20200313.txt.pgp")
        self.encrypt(other, other_uid, os.path.join(GOLDEN, "demo_auth_20200313.txt"), enc)
        p = self.ctl.run("auth-import", enc, env={"GNUPGHOME": home})
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr.decode(), "cannot decrypt: .*[Nn]o secret key")
        self.assertEqual(read(self.ctl.map), before)
        # not encrypted at all, but named .pgp
        fake = os.path.join(self.ctl.dir, "demo_auth_20200314.txt.pgp")
        shutil.copyfile(os.path.join(GOLDEN, "demo_auth_20200313.txt"), fake)
        p = self.ctl.run("auth-import", fake, env={"GNUPGHOME": home})
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"cannot decrypt", p.stderr)
        self.assertEqual(read(self.ctl.map), before)


class MapLogin(harness.PamSimCase):
    """externalref = map with pamtester: a numbered choice."""

    @classmethod
    def setUpClass(cls):
        harness.require(os.path.exists(CTL), "mobileidctl not built")
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.map = os.path.join(self.env.dir, "accounts.map")
        # the map made by the tool from the spec's business example
        ctl = Ctl(map_file=self.map)
        self.addCleanup(ctl.cleanup)
        p = ctl.run("auth-import", ctl.copy("demo_auth_20200312.txt"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.env.write_conf(self.sim, auth_externalref="map", map_file=self.map)
        self.sim.add_user("455555000")
        self.sim.policy("455555000", "deny", after_ms=200)
        self.sim.add_user("455555000|ADMIN")
        self.sim.policy("455555000|ADMIN", "approve", after_ms=200)

    def attempt(self, r):
        lines = [l for l in r.syslog if " result=" in l]
        self.assertTrue(lines, r.syslog)
        return lines[-1]

    def test_choice(self):
        r = self.env.run("888888888", stdin="2\n")
        self.assertEqual(r.rc, 0, r.err + "\n".join(r.syslog))
        self.assertIn("Account 888888888: who approves this login on their phone?", r.err)
        self.assertIn("  1) BUSINESS LLC\n  2) John Doe (ADMIN)\nNumber (1-2):", r.err)
        self.assertNotIn("455555000", r.err + r.out)      # the UUID is never shown
        self.assertIn("externalref=455555000|ADMIN result=approved", self.attempt(r))

        r = self.env.run("888888888", stdin="1\n")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("externalref=455555000 result=denied", self.attempt(r))

    def test_bad_answers(self):
        r = self.env.run("888888888", stdin="0\nthree\n2\n")
        self.assertEqual(r.rc, 0, r.err)
        self.assertEqual(r.err.count("Please answer with a number from 1 to 2."), 2)
        r = self.env.run("888888888", stdin="9\n9\n9\n")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("result=cancelled", self.attempt(r))
        self.assertIn("no identity was chosen", self.attempt(r))
        self.assertEqual(self.sim.pending(), [])

    def test_one_identity_is_not_asked(self):
        self.sim.add_user("999000111")
        self.sim.policy("999000111", "approve", after_ms=100)
        with open(self.map, "a") as f:
            f.write("555\t\t999000111\tP\tSolo\n")
        r = self.env.run("555", stdin="")
        self.assertEqual(r.rc, 0, r.err)
        self.assertNotIn("Number (", r.err)
        self.assertIn("externalref=999000111 result=approved", self.attempt(r))

    def test_unknown_account_and_unsafe_map(self):
        r = self.env.run("123")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("result=user unknown", self.attempt(r))
        self.assertIn("account '123' is not in the account map", self.attempt(r))
        os.chmod(self.map, 0o644)
        r = self.env.run("888888888", stdin="2\n")
        self.assertNotEqual(r.rc, 0)
        self.assertIn("result=configuration error", self.attempt(r))
        self.assertIn("lets others read it", self.attempt(r))



class MapRadius(unittest.TestCase):
    """externalref = map in rlm_mobileid: RADIUS cannot ask, so the first
    identity of the account is used and the log says so."""

    @classmethod
    def setUpClass(cls):
        harness.require(os.path.exists(fr.MODULE), "rlm_mobileid was not built")
        harness.require(fr.FREERADIUS and os.access(fr.FREERADIUS, os.X_OK),
                        "freeradius not found")
        harness.require(os.path.exists(CTL), "mobileidctl not built")
        cls.sim = harness.Sim()
        cls.radiusd = None
        cls.ctl = Ctl(cls.sim, auth_externalref="map", auth_poll_interval="200ms")
        try:
            p = cls.ctl.run("auth-import", cls.ctl.copy("demo_auth_20200312.txt"))
            assert p.returncode == 0, p.stderr
            cls.port = fr.free_port()
            cls.radiusd = fr.Radiusd(
                fr.module_section("mapped", instance="mobileid_mapped", config_file=cls.ctl.conf),
                fr.push_server("mapped", cls.port, "mobileid_mapped"))
            cls.radiusd.start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.radiusd:
            cls.radiusd.cleanup()
        cls.sim.stop()
        cls.ctl.cleanup()

    def test_first_identity_and_log(self):
        self.sim.reset()
        self.sim.add_user("455555000", policy=dict(action="approve", after_ms=200))
        self.sim.add_user("455555000|ADMIN", policy=dict(action="deny", after_ms=200))
        rep = radius.Client(self.port).request("888888888", "pw")
        self.assertIsNotNone(rep, "no reply")
        self.assertEqual(rep.code, radius.ACCESS_ACCEPT, self.radiusd.output()[-3000:])
        out = self.radiusd.output()
        self.assertIn("account 888888888 has 2 identities in the account map and this caller "
                      "cannot ask which one: using the first, 455555000", out)
        starts = self.sim.api_calls("POST", "/authentications")
        ids = {u["id"]: u["externalRef"] for u in self.sim.ctl("GET", "users")}
        self.assertEqual([ids[r["body"]["userId"]] for r in starts], ["455555000"])

    def test_one_identity(self):
        self.sim.reset()
        self.sim.add_user("234567890", policy=dict(action="deny", after_ms=200))
        self.sim.add_user("123456789", policy=dict(action="approve", after_ms=200))
        # 765432189 has two identities, 654321789 one
        rep = radius.Client(self.port).request("654321789", "pw")
        self.assertEqual(rep.code, radius.ACCESS_ACCEPT, self.radiusd.output()[-3000:])
        rep = radius.Client(self.port).request("765432189", "pw")
        self.assertEqual(rep.code, radius.ACCESS_ACCEPT)   # 123456789 sorts first
        rep = radius.Client(self.port).request("111", "pw")
        self.assertEqual(rep.code, radius.ACCESS_REJECT)


if __name__ == "__main__":
    main()
