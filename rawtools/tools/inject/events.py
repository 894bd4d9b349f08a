"""What an inject run reports while it sends: one frozen dataclass per kind of event.

Renderers (the terminal's progress line, JSON lines) dispatch on the class
with `match`. Only progress exists today: the closing figures are the
run's result (`report.InjectResult`), not an event, so a script that
ignores events still gets them.
"""

from __future__ import annotations

from rawtools.values import frozen


@frozen
class Progress:
    """Where a long run stands, once a second of its own time.

    `packets` and `bytes` are the frames handed to the interface so far
    (refusals by the interface are counted at the end, by the transport);
    `elapsed_ns` runs from the first frame; `loop` counts from 1.
    """

    ts_ns: int
    packets: int
    bytes: int
    elapsed_ns: int
    loop: int


InjectEvent = Progress
