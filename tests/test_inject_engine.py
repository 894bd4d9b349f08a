"""The inject engine on a virtual clock: pacing, loops, limits and the BPF pick.

Every expected instant here is worked out by hand from the capture's own
timestamps and the flags, never by the code under test.
"""

from __future__ import annotations

import pytest
from injectcaps import arp_request, ether, udp4, udp6

from rawtools.engine import Received, Send
from rawtools.io.inject import bpf_matcher
from rawtools.io.loop import run
from rawtools.tools.inject.engine import NS, InjectEngine, InjectOptions
from rawtools.tools.inject.events import Progress

MS = 1_000_000
T0 = 1_700_000_000 * NS  # the capture's first timestamp
START = 5_000 * NS  # when the run starts on the virtual clock


def frames_at(offsets_ms: list[float], size: int = 60) -> list[tuple[int, bytes]]:
    """Frames of `size` bytes recorded at T0 + each offset; frame i is filled with byte i & 255."""
    return [(T0 + int(o * MS), bytes([i & 0xFF]) * size) for i, o in enumerate(offsets_ms)]


def drive(engine: InjectEngine, until: int = 10**6 * NS) -> list[tuple[int, bytes]]:
    """Run `engine` as the loop would, waking exactly at each deadline: (instant, frame)."""
    out = []
    now = START
    while not engine.done and now <= until:
        for s in engine.poll(now):
            engine.sent(s, now)
            out.append((now, s.data))
        deadline = engine.next_deadline()
        if deadline is None:
            break
        now = max(now, deadline)
    return out


def test_recorded_pacing_sends_each_frame_at_its_recorded_offset():
    e = InjectEngine(frames_at([0, 10, 15, 100]), InjectOptions())
    got = drive(e)
    assert [t - START for t, _ in got] == [0, 10 * MS, 15 * MS, 100 * MS]
    assert [d[0] for _, d in got] == [0, 1, 2, 3]
    assert e.done and e.packets == 4 and e.bytes == 240 and e.elapsed_ns == 100 * MS


def test_a_poll_before_the_next_frame_is_due_sends_nothing():
    e = InjectEngine(frames_at([0, 10]), InjectOptions())
    assert len(e.poll(START)) == 1
    assert e.next_deadline() == START + 10 * MS
    assert e.poll(START + 10 * MS - 1) == []
    assert len(e.poll(START + 10 * MS)) == 1 and e.done


def test_a_late_wake_up_sends_what_fell_due_as_one_burst():
    e = InjectEngine(frames_at([0, 1, 2, 3, 50]), InjectOptions())
    e.poll(START)
    late = e.poll(START + 3 * MS + 500)  # three frames fell due meanwhile
    assert [s.data[0] for s in late] == [1, 2, 3]
    assert e.next_deadline() == START + 50 * MS


def test_speed_divides_the_recorded_gaps():
    e = InjectEngine(frames_at([0, 10, 30]), InjectOptions(speed=2.0))
    assert [t - START for t, _ in drive(e)] == [0, 5 * MS, 15 * MS]
    slow = InjectEngine(frames_at([0, 10, 30]), InjectOptions(speed=0.5))
    assert [t - START for t, _ in drive(slow)] == [0, 20 * MS, 60 * MS]


def test_timestamps_that_step_back_keep_capture_order():
    e = InjectEngine(frames_at([0, 20, 5, 30]), InjectOptions())
    got = drive(e)
    assert [d[0] for _, d in got] == [0, 1, 2, 3]
    assert [t - START for t, _ in got] == [0, 20 * MS, 20 * MS, 30 * MS]


def test_pps_schedules_on_absolute_times():
    e = InjectEngine(frames_at([0] * 5), InjectOptions(pacing="pps", pps=1000.0))
    assert [t - START for t, _ in drive(e)] == [0, MS, 2 * MS, 3 * MS, 4 * MS]


def test_pps_with_a_fractional_period_rounds_each_instant_up_never_drifting():
    e = InjectEngine(frames_at([0] * 4), InjectOptions(pacing="pps", pps=3.0))
    # k/3 s: 0, 333333333.3.., 666666666.6.., 1 s exactly.
    assert [t - START for t, _ in drive(e)] == [0, 333_333_334, 666_666_667, NS]


def test_pps_catches_up_after_a_stall_then_keeps_the_grid():
    e = InjectEngine(frames_at([0] * 10), InjectOptions(pacing="pps", pps=100.0))
    assert len(e.poll(START)) == 1
    assert len(e.poll(START + 45 * MS)) == 4  # frames due at 10, 20, 30, 40 ms
    assert e.next_deadline() == START + 50 * MS


def test_loop_repeats_the_capture_each_pass_after_the_last():
    e = InjectEngine(frames_at([0, 10]), InjectOptions(loops=3))
    got = drive(e)
    assert [d[0] for _, d in got] == [0, 1, 0, 1, 0, 1]
    assert [t - START for t, _ in got] == [0, 10 * MS, 10 * MS, 20 * MS, 20 * MS, 30 * MS]
    assert e.passes == 3 and e.bytes == 360


def test_count_limits_across_loops_and_counts_the_pass_begun():
    e = InjectEngine(frames_at([0, 1, 2]), InjectOptions(pacing="topspeed", loops=0, count=7))
    got = drive(e)
    assert [d[0] for _, d in got] == [0, 1, 2, 0, 1, 2, 0]
    assert e.done and e.packets == 7 and e.passes == 3
    assert e.bytes == 7 * 60


def test_count_below_the_capture_stops_early():
    e = InjectEngine(frames_at([0, 1, 2, 3]), InjectOptions(count=2))
    assert [d[0] for _, d in drive(e)] == [0, 1]


def test_topspeed_hands_out_bursts_that_never_cross_a_loop_boundary():
    e = InjectEngine(frames_at([0] * 5), InjectOptions(pacing="topspeed", loops=2, burst=3))
    bursts = []
    while not e.done:
        burst = e.poll(START)
        bursts.append([s.data[0] for s in burst])
        for s in burst:
            e.sent(s, START)
    assert bursts == [[0, 1, 2], [3, 4], [0, 1, 2], [3, 4]]


def test_each_frame_has_one_send_object_reused_by_every_loop():
    e = InjectEngine(frames_at([0, 0]), InjectOptions(pacing="topspeed", loops=2))
    first, second = e.poll(START), e.poll(START)
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert all(isinstance(s, Send) for s in first)


def test_a_bpf_expression_picks_the_frames_that_go():
    ip4, ip6 = 0x0800, 0x86DD
    frames = [ether(ip4, udp4(10)), arp_request(), ether(ip6, udp6(10)), ether(ip4, udp4(50)),
              arp_request()]
    recorded = [(T0 + i * MS, f) for i, f in enumerate(frames)]
    e = InjectEngine(recorded, InjectOptions(), keep=bpf_matcher("udp", 1))
    assert (e.frames, e.matched) == (5, 3)
    got = drive(e)
    assert [d for _, d in got] == [frames[0], frames[2], frames[3]]
    # The picked frames keep their recorded instants: 0, 2 and 3 ms.
    assert [t - START for t, _ in got] == [0, 2 * MS, 3 * MS]
    arp = InjectEngine(recorded, InjectOptions(), keep=bpf_matcher("arp", 1))
    assert arp.matched == 2


def test_nothing_picked_or_an_empty_capture_is_done_at_once():
    for e in (InjectEngine([], InjectOptions(loops=0)),
              InjectEngine(frames_at([0]), InjectOptions(), keep=lambda f: False)):
        assert e.done and e.poll(START) == [] and e.next_deadline() is None
        assert e.packets == e.bytes == e.passes == 0


def test_progress_comes_once_a_second_of_the_run():
    e = InjectEngine(frames_at([i * 100 for i in range(35)]), InjectOptions())
    drive(e)
    progress = [ev for ev in e.take_events() if isinstance(ev, Progress)]
    assert [ev.ts_ns - START for ev in progress] == [NS, 2 * NS, 3 * NS]
    assert [ev.packets for ev in progress] == [10, 20, 30]
    assert progress[0].bytes == 600 and progress[0].loop == 1


def test_stop_ends_the_run_and_says_so():
    e = InjectEngine(frames_at([0, 1000]), InjectOptions())
    e.poll(START)
    e.stop(START + MS)
    assert e.done and e.stopped and e.next_deadline() is None and e.poll(START + 2 * NS) == []


class VirtualWire:
    """A transport on a virtual clock: time passes only when the loop waits."""

    def __init__(self) -> None:
        self.clock = START
        self.sent: list[tuple[int, bytes]] = []
        self.bursts: list[int] = []

    def now(self) -> int:
        return self.clock

    def send(self, send: Send) -> tuple[int, bytes | None]:
        self.sent.append((self.clock, send.data))
        self.bursts.append(1)
        return self.clock, None

    def send_all(self, sends: list[Send]) -> list[tuple[int, bytes | None]]:
        self.bursts.append(len(sends))
        self.sent += [(self.clock, s.data) for s in sends]
        return [(self.clock, None)] * len(sends)

    def wait(self, deadline_ns: int | None, wake_fd: int | None = None) -> list[Received]:
        if deadline_ns is not None:
            self.clock = max(self.clock, deadline_ns)
        return []

    def close(self) -> None:
        pass


@pytest.mark.parametrize("pps", [1000.0, 7.5])
def test_the_real_loop_drives_pps_to_the_exact_grid(pps):
    wire = VirtualWire()
    e = InjectEngine(frames_at([0] * 50), InjectOptions(pacing="pps", pps=pps, loops=2))
    assert run(e, wire) == "done"
    stamps = [t - START for t, _ in wire.sent]
    assert len(stamps) == 100
    assert stamps == [-(-j * NS * 2 // int(pps * 2)) for j in range(100)]


def test_the_real_loop_gives_a_topspeed_burst_to_send_all_whole():
    wire = VirtualWire()
    e = InjectEngine(frames_at([0] * 2500), InjectOptions(pacing="topspeed"))
    run(e, wire)
    assert wire.bursts == [1024, 1024, 452] and len(wire.sent) == 2500
    assert e.packets == 2500 and e.elapsed_ns == 0
