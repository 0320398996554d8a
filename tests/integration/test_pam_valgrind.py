#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The pamtester cases of test_pam.py again, under valgrind: any memory
error or definite leak fails the case."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ["MOBILEID_TEST_VALGRIND"] = "1"
import harness  # noqa: E402
from tap import main  # noqa: E402
from test_pam import *  # noqa: E402,F401,F403

if __name__ == "__main__":
    if not harness.VALGRIND:
        print("1..0 # SKIP valgrind not installed")
        sys.exit(0)
    main()
