#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pam_mobileid in the real programs it is installed for: sshd
(keyboard-interactive, alone and after publickey), sudo and su.  Needs root:
it adds two users, PAM service files and a sudoers drop-in, all removed
again; every process it starts is stopped by PID."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402

USER = "midt-login"       # logs in / runs sudo
OTHER = "midt-other"      # runs su
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
PAM_D = "/etc/pam.d"
SUDOERS_D = "/etc/sudoers.d"


class SyslogListener:
    """Collects what every process sends to /dev/log (setuid programs
    ignore LD_PRELOAD, so the capture library cannot be used here).  Only
    when no syslog daemon owns /dev/log."""

    def __init__(self):
        self.lines = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            self.lines.append(data.decode(errors="replace"))

    def close(self):
        try:
            os.unlink("/dev/log")
        finally:
            self.sock.close()


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def drop_user(name):
    subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
    subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pam_service(path, conf, args=""):
    harness.write_file(path, "auth required %s conf=%s %s\n"
                             "account required pam_permit.so\n"
                             "session required pam_permit.so\n"
                             "password required pam_deny.so\n" % (harness.MODULE, conf, args),
                       0o644)


class SystemBase(unittest.TestCase):
    sim = None

    @classmethod
    def setUpClass(cls):
        harness.require(os.geteuid() == 0, "needs root (real sshd, sudo, su, users)")
        harness.require(not os.environ.get("MOBILEID_DISTCHECK"), "not during distcheck")
        for tool in ("useradd", "userdel"):
            harness.require(shutil.which(tool), tool + " missing")
        cls.dir = tempfile.mkdtemp(prefix="mobileid-sys-")
        os.chmod(cls.dir, 0o755)
        cls.cleanups = []
        try:
            for name in (USER, OTHER):
                drop_user(name)   # left over from a killed run
                run(["useradd", "-m", "-s", "/bin/sh", name])
                cls.cleanups.append(lambda n=name: drop_user(n))
            # a syslog daemon may own /dev/log: then log lines are not checked
            cls.syslogd = None
            if not os.path.exists("/dev/log"):
                cls.syslogd = SyslogListener()
                cls.cleanups.append(cls.syslogd.close)
            cls.sim = harness.Sim()
            cls.cache = os.path.join(cls.dir, "cache")
            os.mkdir(cls.cache, 0o700)
            cls.conf = os.path.join(cls.dir, "mobileid.conf")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for fn in reversed(getattr(cls, "cleanups", [])):
            try:
                fn()
            except Exception as e:  # keep cleaning
                print("# cleanup: %s" % e)
        if cls.sim:
            cls.sim.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def write_conf(self, **over):
        over.setdefault("auth_context_content", "User: %u\\nService: %s\\nFrom: %r\\n"
                                                "Code: %c\\nCommand: %C")
        harness.write_file(self.conf, harness.config_text(self.sim, self.cache, **over))

    def syslog_lines(self):
        return list(self.syslogd.lines) if self.syslogd else []

    def attempt_line(self):
        """The module's line for the last attempt, or a line that passes
        the checks when a syslog daemon owns /dev/log."""
        if not self.syslogd:
            return "(syslog not captured)"
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            lines = [l for l in self.syslog_lines() if " result=" in l]
            if lines:
                return lines[-1]
            time.sleep(0.05)
        self.fail("no attempt line in syslog")

    def assertLogged(self, text):
        if self.syslogd:
            self.assertIn(text, self.attempt_line())

    def setUp(self):
        if self.syslogd:
            self.syslogd.lines.clear()
        self.sim.reset()
        self.sim.add_user(USER)
        self.write_conf()


class Sshd(SystemBase):
    methods = "keyboard-interactive"

    @classmethod
    def setUpClass(cls):
        harness.require(os.path.exists(SSHD), "sshd not installed")
        super().setUpClass()
        try:
            cls.start_sshd()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def start_sshd(cls):
        d = cls.dir
        cls.service = "sshd-midt%d" % os.getpid()
        cls.pam_file = os.path.join(PAM_D, cls.service)
        pam_service(cls.pam_file, cls.conf)
        cls.cleanups.append(lambda: os.unlink(cls.pam_file))
        # sshd's PAM service is the name it was started as
        link = os.path.join(d, cls.service)
        os.symlink(SSHD, link)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "hostkey")])
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(d, "userkey")])
        akdir = os.path.join(d, "authorized")
        os.mkdir(akdir, 0o755)
        shutil.copy(os.path.join(d, "userkey.pub"), os.path.join(akdir, USER))
        if not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", 0o755)
            cls.cleanups.append(lambda: os.rmdir("/run/sshd"))
        cls.port = free_port()
        cfg = os.path.join(d, "sshd_config")
        harness.write_file(cfg, "\n".join([
            "Port %d" % cls.port, "ListenAddress 127.0.0.1",
            "HostKey %s/hostkey" % d, "PidFile %s/sshd.pid" % d,
            "UsePAM yes", "KbdInteractiveAuthentication yes", "PasswordAuthentication no",
            "PubkeyAuthentication yes", "AuthorizedKeysFile %s/%%u" % akdir,
            "StrictModes no", "PermitRootLogin no", "AllowUsers %s" % USER,
            "AuthenticationMethods %s" % cls.methods, "LoginGraceTime 60",
            "MaxAuthTries 3", "LogLevel VERBOSE", ""]), 0o600)
        env = dict(os.environ)
        cls.sshd_log = open(os.path.join(d, "sshd.log"), "w")
        cls.sshd = subprocess.Popen([link, "-D", "-e", "-f", cfg], stdout=cls.sshd_log,
                                    stderr=subprocess.STDOUT, env=env)
        cls.cleanups.append(cls.stop_sshd)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.port), 0.2).close()
                break
            except OSError:
                if cls.sshd.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("sshd did not start: " +
                                       open(cls.sshd_log.name).read())
                time.sleep(0.05)
        # the askpass helper: records when and what it was asked, answers Enter
        cls.askpass = os.path.join(d, "askpass")
        harness.write_file(cls.askpass, "#!/bin/sh\n"
                           "printf '%%s %%s\\n' \"$(date +%%s.%%N)\" \"$1\" >> %s/asked\n"
                           "[ -f %s/askpass-hang ] && sleep 60\n"
                           "echo\n" % (d, d), 0o755)

    @classmethod
    def stop_sshd(cls):
        if cls.sshd.poll() is None:
            cls.sshd.send_signal(signal.SIGTERM)
            try:
                cls.sshd.wait(5)
            except subprocess.TimeoutExpired:
                cls.sshd.kill()
                cls.sshd.wait()
        cls.sshd_log.close()

    def setUp(self):
        super().setUp()
        for f in ("asked", "askpass-hang"):
            p = os.path.join(self.dir, f)
            if os.path.exists(p):
                os.unlink(p)

    def ssh(self, command="echo LOGIN-OK", wait=True):
        cmd = ["ssh", "-F", "/dev/null", "-p", str(self.port),
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "NumberOfPasswordPrompts=1", "-o", "ConnectTimeout=10",
               "-o", "LogLevel=ERROR"]
        if "publickey" in self.methods:
            cmd += ["-i", os.path.join(self.dir, "userkey"), "-o", "IdentitiesOnly=yes",
                    "-o", "PreferredAuthentications=publickey,keyboard-interactive"]
        else:
            cmd += ["-o", "PubkeyAuthentication=no",
                    "-o", "PreferredAuthentications=keyboard-interactive"]
        cmd += ["%s@127.0.0.1" % USER, command]
        env = dict(os.environ, SSH_ASKPASS=self.askpass, SSH_ASKPASS_REQUIRE="force",
                   DISPLAY=":0")
        t0 = time.time()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env,
                             start_new_session=True)
        if not wait:
            return p, t0
        out, err = p.communicate(timeout=60)
        return p.returncode, out, err, t0, time.time()

    def asked(self):
        p = os.path.join(self.dir, "asked")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [(float(l.split(" ", 1)[0]), l.split(" ", 1)[1].strip())
                    for l in f if l.strip()]

    def test_approve_runs_the_command(self):
        delay = 2.0
        self.sim.policy(USER, "approve", after_ms=int(delay * 1000))
        rc, out, err, t0, t1 = self.ssh()
        self.assertEqual(rc, 0, err + open(self.sshd_log.name).read()[-3000:])
        self.assertIn("LOGIN-OK", out)
        asked = self.asked()
        self.assertEqual(len(asked), 1, asked)
        when, prompt = asked[0]
        self.assertRegex(prompt, r"Approve the login on your phone \(code (\d{4})\), then "
                                 r"press Enter")
        code = prompt.split("(code ")[1][:4]
        # the message with the code reached the client within 1 s of connecting
        self.assertLess(when - t0, 1.0)
        # login time = phone delay + less than a second (no sshd padding)
        self.assertLess(t1 - when, delay + 1.0)
        ctx = self.sim.api_calls("POST", "/authentications")[0]["body"]
        content = ctx["operationProperties"]["preOperationContext"]["content"]
        self.assertIn("Code: %s" % code, content)
        self.assertIn("Service: %s" % self.service, content)
        self.assertIn("From: 127.0.0.1", content)
        self.assertLogged("user=%s service=%s rhost=127.0.0.1" % (USER, self.service))
        self.assertLogged(" result=approved ")

    def test_deny_is_permission_denied(self):
        self.sim.policy(USER, "deny", after_ms=300)
        rc, out, err, _, _ = self.ssh()
        self.assertNotEqual(rc, 0)
        self.assertIn("Permission denied", err)
        self.assertNotIn("LOGIN-OK", out)

    def test_expire_is_permission_denied(self):
        self.sim.policy(USER, "expire", after_ms=300)
        rc, out, err, _, _ = self.ssh()
        self.assertNotEqual(rc, 0)
        self.assertIn("Permission denied", err)

    def wait_for(self, cond, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = cond()
            if r:
                return r
            time.sleep(0.05)
        return None

    def test_disconnect_at_the_prompt_cancels_the_push(self):
        self.sim.policy(USER, "never")
        open(os.path.join(self.dir, "askpass-hang"), "w").close()
        p, _ = self.ssh(wait=False)
        try:
            self.assertTrue(self.wait_for(self.asked, 10), "the prompt never came")
            self.assertTrue(self.sim.pending())
        finally:
            os.killpg(p.pid, signal.SIGKILL)   # the user closes the terminal
            p.wait()
        t_kill = time.monotonic()
        cancels = self.wait_for(lambda: self.sim.api_calls("DELETE", "/authentications/"), 5)
        self.assertTrue(cancels, "the push was not cancelled")
        self.assertLess(time.monotonic() - t_kill, 2.0)
        self.assertEqual(self.sim.pending(), [])

    def test_disconnect_while_polling_cancels_the_push(self):
        self.sim.policy(USER, "never")
        p, _ = self.ssh(wait=False)
        try:
            self.assertTrue(self.wait_for(self.asked, 10), "the prompt never came")
            # answered: the module now polls
            self.assertTrue(self.wait_for(lambda: self.sim.api_calls(
                "GET", "/authentications/"), 5))
        finally:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        t_kill = time.monotonic()
        cancels = self.wait_for(lambda: self.sim.api_calls("DELETE", "/authentications/"), 5)
        self.assertTrue(cancels, "the push was not cancelled: " + "\n".join(
            self.syslog_lines()[-5:]))
        self.assertLess(time.monotonic() - t_kill, 2.0)


class SshdAfterPublickey(Sshd):
    methods = "publickey,keyboard-interactive"

    # the abort cases are the same code path; run the outcomes only
    test_disconnect_at_the_prompt_cancels_the_push = None
    test_disconnect_while_polling_cancels_the_push = None

    def test_without_the_key_no_push_is_sent(self):
        self.sim.policy(USER, "approve", after_ms=100)
        cmd = ["ssh", "-F", "/dev/null", "-p", str(self.port), "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "PubkeyAuthentication=no", "%s@127.0.0.1" % USER, "true"]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(self.sim.api_calls("POST", "/authentications"), [])


class Sudo(SystemBase):
    @classmethod
    def setUpClass(cls):
        harness.require(shutil.which("sudo"), "sudo not installed")
        super().setUpClass()
        try:
            cls.service = "sudo-midt%d" % os.getpid()
            cls.pam_file = os.path.join(PAM_D, cls.service)
            pam_service(cls.pam_file, cls.conf)
            cls.cleanups.append(lambda: os.unlink(cls.pam_file))
            cls.sudoers = os.path.join(SUDOERS_D, "mobileid-test-%d" % os.getpid())
            tmp = cls.sudoers + ".tmp"
            harness.write_file(tmp, "Defaults:%s pam_service=%s, timestamp_timeout=0, "
                               "passwd_tries=1, !lecture\n"
                               "%s ALL=(root) /usr/bin/id\n" % (USER, cls.service, USER), 0o440)
            try:
                run(["visudo", "-c", "-q", "-f", tmp])
                os.rename(tmp, cls.sudoers)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            cls.cleanups.append(lambda: os.unlink(cls.sudoers))
        except Exception:
            cls.tearDownClass()
            raise

    def sudo(self):
        return subprocess.run(["runuser", "-u", USER, "--", "sudo", "-S", "/usr/bin/id", "-u"],
                              input="", capture_output=True, text=True, timeout=60)

    def test_approve_runs_the_command(self):
        self.sim.policy(USER, "approve", after_ms=500)
        p = self.sudo()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("0", p.stdout.split())   # the output of id -u
        # shown although sudo calls PAM with PAM_SILENT
        self.assertRegex(p.stdout + p.stderr, r"Approve the login on your phone \(code \d{4}\)")
        content = self.sim.api_calls("POST", "/authentications")[0]["body"][
            "operationProperties"]["preOperationContext"]["content"]
        self.assertIn("Service: %s" % self.service, content)
        self.assertIn("Command: ", content)
        self.assertIn("/usr/bin/id -u", content)

    def test_deny_does_not_run_it(self):
        self.sim.policy(USER, "deny", after_ms=300)
        p = self.sudo()
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("0", p.stdout.split())
        self.assertLogged(" result=denied ")


class Su(SystemBase):
    """su has a fixed PAM service name: the test's /etc/pam.d/su is bind-
    mounted in a private mount namespace, the real file is not touched."""

    @classmethod
    def setUpClass(cls):
        harness.require(shutil.which("su") and shutil.which("unshare"), "su or unshare missing")
        super().setUpClass()
        cls.su_pam = os.path.join(cls.dir, "su.pam")
        pam_service(cls.su_pam, cls.conf)

    def su(self):
        script = ('mount --make-rprivate / && mount --bind "$1" /etc/pam.d/su && '
                  'exec runuser -u "$2" -- su -c "id -un" "$3"')
        return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", self.su_pam, OTHER,
                               USER], input="", capture_output=True, text=True, timeout=60)

    def test_approve(self):
        self.sim.policy(USER, "approve", after_ms=300)
        p = self.su()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip().splitlines()[-1], USER)
        self.assertRegex(p.stdout, r"Approve the login on your phone \(code \d{4}\)")
        self.assertLogged("service=su ")
        self.assertLogged(" result=approved ")

    def test_deny(self):
        self.sim.policy(USER, "deny", after_ms=300)
        p = self.su()
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn(USER, p.stdout)


if __name__ == "__main__":
    main()
