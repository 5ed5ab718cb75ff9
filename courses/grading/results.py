"""What a check found: passed or not, and a sentence that says what it saw and what it wanted."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class CheckResult:
    id: str
    kind: str
    title: str
    passed: bool
    message: str
    error: bool = False  # the check could not be evaluated (cluster down, script timed out)
    pending: bool = False  # a script still running in the background: no result yet


@dataclass
class ExerciseResult:
    slug: str
    lesson: str
    passed: bool
    checks: list[CheckResult] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)
