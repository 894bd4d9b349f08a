"""doctor's findings as data: one `Check` per line, `DoctorResult` for the run.

`Check.to_dict()` is a `check` JSON line and `DoctorResult.to_dict()` the
summary line, so `rawtools.doctor()` and `rawtools doctor --json` give the
same objects.
"""

from __future__ import annotations

from typing import Any, Literal

from rawtools.jsonout import JsonResult, record
from rawtools.values import field, frozen, mutable

Verdict = Literal["ok", "warn", "fail"]
CheckName = Literal["interfaces", "gateway", "dns", "path", "mtu"]
CHECKS: tuple[CheckName, ...] = ("interfaces", "gateway", "dns", "path", "mtu")


@frozen
class Check:
    """One verdict: what was checked (`name`, `subject`), the verdict and its evidence.

    `evidence` is the sentence a person reads; `details` holds the same
    figures for scripts (addresses, RTTs, the MTU found, the hop that failed).
    """

    name: CheckName
    subject: str
    verdict: Verdict
    evidence: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return record("doctor", "check", name=self.name, subject=self.subject,
                      verdict=self.verdict, evidence=self.evidence, details=self.details)


@mutable
class DoctorResult(JsonResult):
    """Every check in the order run; `passed` is what the exit code says.

    A warning is something an operator should know but that does not stop
    traffic (a router that sends no time-exceeded, a path MTU below the
    interface's that path MTU discovery handles): it passes unless `strict`.
    """

    host: str | None
    checks: list[Check]
    strict: bool = False

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.checks if c.verdict == verdict)

    @property
    def passed(self) -> bool:
        bad: tuple[Verdict, ...] = ("fail", "warn") if self.strict else ("fail",)
        return not any(c.verdict in bad for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """The summary line: counts, the verdict, and every check's object without its head."""
        checks = [{k: v for k, v in c.to_dict().items() if k not in ("schema", "tool", "type")}
                  for c in self.checks]
        return record("doctor", "summary", host=self.host, ok=self.count("ok"),
                      warn=self.count("warn"), fail=self.count("fail"), strict=self.strict,
                      passed=self.passed, checks=checks)
