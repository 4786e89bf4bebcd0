"""What a run counts and finds, shared by clients, chaos, drain and the final report (thread-safe)."""

import threading
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Violation:
    check: str
    detail: str


class Stats:
    MAX_KEPT_PER_CHECK = 50  # printed rows per check; the count is always complete

    def __init__(self):
        self._lock = threading.Lock()
        self.outcomes: Counter = Counter()  # (kind, outcome)
        self.injections: Counter = Counter()
        self.retries: Counter = Counter()  # why a client sent a request again
        self.replays: Counter = Counter()
        self.requests = 0
        self.operations = 0
        self.skipped = 0
        self.violation_counts: Counter = Counter()
        self.violations: list[Violation] = []

    def op(self, kind: str, outcome: str) -> None:
        with self._lock:
            self.outcomes[(kind, outcome)] += 1
            if outcome.startswith("skipped"):
                self.skipped += 1
            else:
                self.operations += 1

    def inject(self, name: str, count: int = 1) -> None:
        with self._lock:
            self.injections[name] += count

    def retry(self, reason: str) -> None:
        with self._lock:
            self.retries[reason] += 1

    def replay(self, what: str) -> None:
        with self._lock:
            self.replays[what] += 1

    def sent(self) -> None:
        with self._lock:
            self.requests += 1

    def violation(self, check: str, detail: str) -> None:
        with self._lock:
            self.violation_counts[check] += 1
            if self.violation_counts[check] <= self.MAX_KEPT_PER_CHECK:
                self.violations.append(Violation(check, detail))

    @property
    def violation_total(self) -> int:
        with self._lock:
            return sum(self.violation_counts.values())

    def as_dict(self) -> dict:
        with self._lock:
            return {
                "operations": self.operations,
                "skipped": self.skipped,
                "requests": self.requests,
                "outcomes": {f"{kind} {outcome}": n for (kind, outcome), n in sorted(self.outcomes.items())},
                "injections": dict(sorted(self.injections.items())),
                "retries": dict(sorted(self.retries.items())),
                "replays": dict(sorted(self.replays.items())),
                "violation_counts": dict(sorted(self.violation_counts.items())),
                "violations": [{"check": v.check, "detail": v.detail} for v in self.violations],
            }
