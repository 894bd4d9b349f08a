"""What a trace finds: a probe slot's answer, a hop's line, and the run's counters.

The engine fills these in and the API returns them as they are, so the
hop a script reads is the hop the CLI printed.
"""

from __future__ import annotations

from rawtools.values import field, field_names, mutable

TYPE_CHECKING = False  # typing stays off the start path (see rawtools.engine)
if TYPE_CHECKING:
    from typing import Literal, Protocol, TypeGuard, TypeVar

    from rawtools.wire.probes import AnswerKind

    class Try(Protocol):
        """One transmission of a probe, as both tracers keep it."""

        sent_ns: int | None
        answered: bool

    T = TypeVar("T", bound=Try)

    EndReason = Literal["reached", "unreachable", "gap", "max-ttl"]
    """Why a trace ended: the destination answered; an unreachable (!H, !N, ...) or
    another final answer ended the path short of it; `gap` silent hops followed
    the last hop that answered; or the maximum TTL was passed."""

MS = 1_000_000


@mutable
class Probe:
    """One probe slot of a hop as printed: who answered, after how long, and how.

    `addr` is None for a star. `kind` is the answer: "time-exceeded",
    "unreachable", "echo-reply", "syn-ack", "rst", "packet-too-big".
    `tries` counts the probes sent for this slot: the first, and the retries
    spent identifying a hop that had not answered yet (a rate-limited
    router); `answered_try` says which of them the answer shown belongs to
    (1, the probe itself; more, a retry: the probe itself was lost), so every
    try without an answer stays visible as a loss. `answers` counts the tries
    answered at all (a late answer to a try already retried makes two).
    `packet` keeps the answering datagram for decoders such as ICMP extensions.
    """

    ttl: int
    index: int
    addr: str | None = None
    rtt_ns: int | None = None
    kind: AnswerKind | None = None
    note: str = ""
    tries: int = 0
    reply_ttl: int | None = None
    answered_try: int | None = None
    answers: int = 0
    packet: bytes = field(default=b"", repr=False)

    @property
    def rtt_ms(self) -> float | None:
        return None if self.rtt_ns is None else self.rtt_ns / MS

    @property
    def retried(self) -> bool:
        """Answered, but only by a retry: the probe itself counts as lost."""
        return self.answered_try is not None and self.answered_try > 1

    @property
    def lost(self) -> int:
        """Tries of this slot that got no answer (mtr's loss counts every one)."""
        answered = self.answers or (1 if self.addr is not None else 0)
        return max(0, self.tries - answered)


@mutable
class Hop:
    """All probes sent with one TTL, in the order they were planned."""

    ttl: int
    probes: list[Probe]

    @property
    def addrs(self) -> list[str]:
        """Responding addresses in order of first appearance."""
        seen: list[str] = []
        for p in self.probes:
            if p.addr and p.addr not in seen:
                seen.append(p.addr)
        return seen


@mutable
class Counters:
    """What the engine saw that is not in the hop lines."""

    sent: int = 0
    answers: int = 0
    duplicates: int = 0
    unrelated: int = 0
    late: int = 0
    beyond: int = 0  # answers that place the destination but are no line's samples
    malformed: int = 0

    def claim(self, att: T | None, flying: list[T]) -> TypeGuard[T]:
        """Whether an answer is the first to a try of ours, which it then marks answered.

        Anything else is counted here, as unrelated (no such try, or one not
        yet sent) or a duplicate; both tracers, hop by hop and MDA, file
        their answers through this, so their counts mean the same.
        """
        if att is None or att.sent_ns is None:
            self.unrelated += 1
            return False
        if att.answered:
            self.duplicates += 1
            return False
        att.answered = True
        self.answers += 1
        if att in flying:
            flying.remove(att)
        return True

    def add(self, other: Counters) -> None:
        """Add another round's counts to these."""
        for name in field_names(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))
