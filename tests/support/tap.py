"""TAP output for the Python tests: checks are collected as they run, then the plan, one line
per check and, under a failed one, its detail as comments; the exit status says whether all
passed."""
import sys


class Tap:
    def __init__(self):
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        return ok

    def finish(self):
        print("1..%d" % len(self.results))
        for i, (name, ok, detail) in enumerate(self.results, 1):
            print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
            if not ok and detail:
                for line in detail.splitlines()[:20]:
                    print("#   " + line)
        sys.exit(0 if all(ok for _, ok, _ in self.results) else 1)
