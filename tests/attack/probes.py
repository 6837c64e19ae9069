"""The attack suite's bookkeeping: every request a sweep sends is a probe,
counted per sweep as tried and failed, with what failed and why. The figures
are printed at the end of the run (tests/attack/conftest.py) and recorded in
docs/security.md.

A probe fails on a 5xx, on an answer other than the one the sweep expects,
or when the answer (body or any header) holds a string it may not: another
tenant's or party's names, e-mails and ids, or special-category text the
role may not read. Strings the request itself carried (the ids the attacker
sent) do not count: echoing them back tells the attacker nothing new."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Sweep:
    name: str
    tried: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def check(self, where: str, response: Any, *, expect: Iterable[int] | None = None,
              forbidden: Iterable[str] = (), sent: str = "") -> bool:
        """One probe: `response` to the request described by `where`."""
        self.tried += 1
        problems = []
        if response.status_code >= 500:
            problems.append(f"answered {response.status_code}")
        elif expect is not None and response.status_code not in set(expect):
            problems.append(f"answered {response.status_code}, expected {sorted(set(expect))}")
        found = leaked(response, forbidden, sent)
        if found:
            problems.append(f"shows {sorted(found)}")
        if problems:
            self.failures.append(f"{where}: {'; '.join(problems)}")
        return not problems

    def fail(self, where: str, problem: str) -> None:
        """A probe whose check is not about one response (e.g. two answers compared)."""
        self.failures.append(f"{where}: {problem}")

    def report(self) -> str:
        return f"{self.name}: {self.tried} probes tried, {self.failed} failed"


SWEEPS: dict[str, Sweep] = {}


def sweep(name: str) -> Sweep:
    """The sweep named `name`, counted across the run."""
    return SWEEPS.setdefault(name, Sweep(name))


def leaked(response: Any, forbidden: Iterable[str], sent: str = "") -> set[str]:
    """Which of `forbidden` the response shows (body or headers) that `sent` did not carry."""
    text = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    lowered = text.lower()
    return {s for s in forbidden if s and s.lower() in lowered and s.lower() not in sent.lower()}


def identifying(ids: Iterable[Any]) -> set[str]:
    """Each id as it could show: canonical and as 32 hex digits (table names)."""
    out: set[str] = set()
    for ident in ids:
        try:
            u = UUID(str(ident))
        except ValueError:
            continue
        out |= {str(u), u.hex}
    return out


def same_answer(a: Any, b: Any, sent_a: Iterable[str], sent_b: Iterable[str]) -> bool:
    """Two answers are the same but for the ids each request carried: an
    attacker cannot tell an id of another tenant from one that never existed."""
    def norm(r: Any, sent: Iterable[str]) -> str:
        text = r.text
        for s in sorted(sent, key=len, reverse=True):
            text = text.replace(s, "ID")
        return text
    return a.status_code == b.status_code and norm(a, sent_a) == norm(b, sent_b)
