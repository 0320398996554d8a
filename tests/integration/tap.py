# SPDX-License-Identifier: GPL-2.0-or-later
"""Run unittest test cases and report them as TAP for automake's tap-driver."""
import os
import sys
import time
import traceback
import unittest


class TapResult(unittest.TestResult):
    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.n = 0
        self.t0 = 0.0
        self.sub_failures = []
        self.class_tests = {}   # class name -> test names, for class-level skips

    def _emit(self, line):
        self.stream.write(line + "\n")
        self.stream.flush()

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()
        self.sub_failures = []

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.sub_failures.append((subtest, err))

    def _name(self, test):
        name = getattr(test, "_testMethodName", None)
        if name is None:
            return str(test)
        return "%s.%s (%.1fs)" % (type(test).__name__, name, time.monotonic() - self.t0)

    def _diag(self, text):
        for line in text.rstrip().splitlines():
            self._emit("# " + line)

    def stopTest(self, test):
        # A test whose subtests failed gets neither addSuccess nor addFailure.
        if self.sub_failures:
            self.n += 1
            self._emit("not ok %d - %s" % (self.n, self._name(test)))
            for subtest, err in self.sub_failures:
                self._diag("%s\n%s" % (subtest.id(), "".join(traceback.format_exception(*err))))
            self.sub_failures = []
        super().stopTest(test)

    def addSuccess(self, test):
        self.n += 1
        self._emit("ok %d - %s" % (self.n, self._name(test)))

    def addFailure(self, test, err):
        self.sub_failures = []
        self.n += 1
        self._emit("not ok %d - %s" % (self.n, self._name(test)))
        self._diag("".join(traceback.format_exception(*err)))

    addError = addFailure

    def addSkip(self, test, reason):
        if getattr(test, "_testMethodName", None) is None:
            # setUpClass raised SkipTest: every test of that class is skipped
            cls = str(test).rsplit(".", 1)[-1].rstrip(")")
            for name in self.class_tests.get(cls, [str(test)]):
                self.n += 1
                self._emit("ok %d - %s # SKIP %s" % (self.n, name, reason))
            return
        self.n += 1
        self._emit("ok %d - %s # SKIP %s" % (self.n, self._name(test), reason))

    def addExpectedFailure(self, test, err):
        self.n += 1
        self._emit("not ok %d - %s # TODO expected failure" % (self.n, self._name(test)))

    def addUnexpectedSuccess(self, test):
        self.n += 1
        self._emit("not ok %d - %s (unexpected success)" % (self.n, self._name(test)))


# Under `make distcheck` (MOBILEID_DISTCHECK=1) the tarball is proven by the
# unit tests and these integration files; the rest already ran in the main
# build of the same sources.
DISTCHECK_FILES = ("test_module.py", "test_pam.py")


def main(module="__main__"):
    if os.environ.get("MOBILEID_DISTCHECK") and \
            os.path.basename(sys.argv[0]) not in DISTCHECK_FILES:
        sys.stdout.write("1..0 # SKIP run by the main build, not again in distcheck\n")
        sys.exit(0)
    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(sys.modules[module])
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    if only:
        suite = unittest.TestSuite(t for t in _flatten(suite)
                                   if any(o in t.id() for o in only))
    count = suite.countTestCases()
    sys.stdout.write("1..%d\n" % count)
    result = TapResult(sys.stdout)
    for t in _flatten(suite):
        result.class_tests.setdefault(type(t).__name__, []).append(
            "%s.%s" % (type(t).__name__, t._testMethodName))
    try:
        suite.run(result)
    except Exception:  # a class-level fixture failed outright
        result._diag(traceback.format_exc())
    # setUpClass failures are reported as errors on a pseudo test
    while result.n < count:
        result.n += 1
        result._emit("not ok %d - not run (fixture failed)" % result.n)
    sys.exit(0 if result.wasSuccessful() else 1)


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t
