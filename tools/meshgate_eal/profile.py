"""Reads a profile for `check`. The authoritative parser is meshgate's own
(src/config/eal_profile.cpp, which `meshgate --check-config` runs); this one only collects the
values that check compares against the host, and reports lines it cannot read."""

from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .host import parse_cpulist

REPEATABLE = ("allow", "vdev", "log-level")


@dataclass
class Profile:
    path: str
    values: Dict[str, str] = field(default_factory=dict)  # "eal.lcores" -> "0-1"
    lists: Dict[str, List[str]] = field(default_factory=dict)  # "eal.vdev" -> [...]

    def get(self, key: str) -> Optional[str]:
        return self.values.get(key)

    def flag(self, key: str) -> bool:
        return (self.values.get(key) or "").lower() in ("1", "on", "true", "yes")

    def all(self, key: str) -> List[str]:
        return self.lists.get(key, [])

    def lcores(self) -> List[int]:
        v = self.get("eal.lcores")
        return parse_cpulist(v) if v else []

    def main_lcore(self) -> Optional[int]:
        v = self.get("eal.main-lcore")
        if v is not None:
            return int(v)
        lc = self.lcores()
        return lc[0] if lc else None

    def workers(self) -> int:
        v = self.get("meshgate.workers")
        return int(v) if v else 1

    def worker_lcores(self) -> List[int]:
        """The lcores that run workers: worker-queues' lcores, else the non-main lcores."""
        wq = self.get("meshgate.worker-queues")
        if wq:
            return [int(item.split(":")[0]) for item in wq.replace(" ", "").split(",") if item]
        main = self.main_lcore()
        return [c for c in self.lcores() if c != main][:self.workers()]


def load(path: str) -> Profile:
    """Raises OSError or ValueError ("file:line: problem")."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    p = Profile(path)
    section = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip().lower()
            continue
        key, eq, value = line.partition("=")
        if not eq or section is None:
            raise ValueError("%s:%d: expected key = value inside a section" % (path, n))
        key = "%s.%s" % (section, key.strip().lower())
        value = value.strip()
        if key.split(".", 1)[1] in REPEATABLE:
            p.lists.setdefault(key, []).append(value)
        else:
            p.values[key] = value
    try:
        p.lcores(), p.main_lcore(), p.worker_lcores()
    except ValueError:
        raise ValueError("%s: unreadable lcores, main-lcore or worker-queues; "
                         "meshgate --check-config names the line" % path) from None
    return p
