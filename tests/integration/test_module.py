#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The built module: loadable, and exporting only the PAM entry points."""
import ctypes
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from tap import main  # noqa: E402


class ModuleExports(unittest.TestCase):
    def test_dlopen_and_entry_points(self):
        lib = ctypes.CDLL(harness.MODULE, mode=os.RTLD_NOW | os.RTLD_LOCAL)
        self.assertTrue(hasattr(lib, "pam_sm_authenticate"))
        self.assertTrue(hasattr(lib, "pam_sm_setcred"))
        # library internals stay hidden
        for name in ("mid_authenticate", "mid_config_load", "mid_http_request",
                     "mid_result_to_pam", "mid_parse_auth"):
            self.assertFalse(hasattr(lib, name), name + " is exported")

    def test_only_pam_sm_symbols_exported(self):
        out = subprocess.run(["nm", "-D", "--defined-only", harness.MODULE],
                             capture_output=True, text=True, check=True).stdout
        names = sorted(line.split()[-1] for line in out.splitlines() if line.strip())
        self.assertEqual(names, ["pam_sm_authenticate", "pam_sm_setcred"])

    def test_hardening(self):
        out = subprocess.run(["readelf", "-d", "-l", harness.MODULE],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn("GNU_RELRO", out)
        self.assertRegex(out, r"BIND_NOW|FLAGS.*NOW")
        stack = [l for l in out.splitlines() if "GNU_STACK" in l]
        self.assertTrue(stack)


if __name__ == "__main__":
    main()
