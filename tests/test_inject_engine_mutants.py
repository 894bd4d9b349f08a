"""The inject engine where mutation testing found tests/test_inject_engine.py blind.

As there, every expected instant and byte count is worked out by hand from the
capture's timestamps, sizes and the flags (tcpreplay's meaning of them:
recorded gaps divided by the speed, a fixed packet rate, loops), never taken
from the engine.
"""

from __future__ import annotations

from test_inject_engine import MS, START, T0, drive, frames_at

from rawtools.tools.inject.engine import NS, InjectEngine, InjectOptions
from rawtools.tools.inject.events import Progress


def test_the_defaults_are_tcpreplays_recorded_timing_once_through():
    """tcpreplay with no timing flag: the recorded gaps at speed 1, one pass, no limit."""
    o = InjectOptions()
    assert (o.pacing, o.speed, o.loops, o.count) == ("recorded", 1.0, 1, None)
    e = InjectEngine(frames_at([0, 10, 25]), o)
    assert [t - START for t, _ in drive(e)] == [0, 10 * MS, 25 * MS] and e.passes == 1


def test_a_later_loop_starts_one_capture_span_after_the_one_before():
    """Three frames at 0, 10 and 25 ms: each pass begins 25 ms after the previous one."""
    e = InjectEngine(frames_at([0, 10, 25]), InjectOptions(loops=3))
    got = drive(e)
    assert [t - START for t, _ in got] == [0, 10 * MS, 25 * MS, 25 * MS, 35 * MS, 50 * MS,
                                           50 * MS, 60 * MS, 75 * MS]
    assert e.loop == 4  # nine frames sent: the pass after the last
    assert e.passes == 3


def test_loops_at_another_speed_divide_the_span_too():
    e = InjectEngine(frames_at([0, 10, 30]), InjectOptions(loops=2, speed=2.0))
    assert [t - START for t, _ in drive(e)] == [0, 5 * MS, 15 * MS, 15 * MS, 20 * MS, 30 * MS]


def test_the_loop_under_way_and_the_passes_begun():
    e = InjectEngine(frames_at([0, 0, 0]), InjectOptions(pacing="topspeed", loops=0, burst=1))
    seen = []
    for _ in range(7):
        seen.append((e.loop, e.passes))
        for s in e.poll(START):
            e.sent(s, START)
    # Before frame j is sent: loop j // 3 + 1; passes begun ceil(j / 3).
    assert seen == [(1, 0), (1, 1), (1, 1), (2, 1), (2, 2), (2, 2), (3, 2)]


def test_bytes_of_sums_unequal_frames_across_loops():
    frames = [(T0, b"a" * 60), (T0 + MS, b"b" * 100), (T0 + 2 * MS, b"c" * 1514)]
    e = InjectEngine(frames, InjectOptions(loops=0))
    assert [e.bytes_of(n) for n in (0, 1, 2, 3, 4, 5, 7)] == [
        0, 60, 160, 1674, 1734, 1834, 1674 * 2 + 60]


def test_a_pps_poll_before_the_next_frame_is_due_sends_nothing():
    e = InjectEngine(frames_at([0] * 3), InjectOptions(pacing="pps", pps=1000.0))
    assert len(e.poll(START)) == 1
    assert e.poll(START + MS - 1) == []
    assert len(e.poll(START + MS)) == 1


def test_pps_with_a_count_and_loops_stops_at_the_count():
    e = InjectEngine(frames_at([0] * 2), InjectOptions(pacing="pps", pps=10.0, loops=0,
                                                       count=5))
    got = drive(e)
    assert [t - START for t, _ in got] == [0, 100 * MS, 200 * MS, 300 * MS, 400 * MS]
    assert [d[0] for _, d in got] == [0, 1, 0, 1, 0]
    assert e.done and e.next_deadline() is None


def test_count_above_what_the_loops_hold_stops_with_the_loops():
    e = InjectEngine(frames_at([0, 1]), InjectOptions(pacing="topspeed", loops=2, count=9))
    assert len(drive(e)) == 4


def test_a_late_poll_gives_one_progress_then_the_next_whole_second():
    """Progress comes at the first poll at or after each second of the run; seconds a late
    wake-up skipped are not made up."""
    e = InjectEngine(frames_at([0, 3500, 4200]), InjectOptions())
    for s in e.poll(START):
        e.sent(s, START)
    for s in e.poll(START + 3500 * MS):  # the loop overslept three seconds
        e.sent(s, START + 3500 * MS)
    assert e.next_deadline() == START + 4 * NS
    assert e.poll(START + 4 * NS) == []
    progress = [ev for ev in e.take_events() if isinstance(ev, Progress)]
    assert [(ev.ts_ns - START, ev.packets) for ev in progress] == [(3500 * MS, 1), (4 * NS, 2)]
    assert progress[1].elapsed_ns == 3500 * MS and progress[1].bytes == 120


def test_progress_every_quarter_second():
    e = InjectEngine(frames_at([0, 600]), InjectOptions(progress_ns=NS // 4))
    drive(e)
    assert [ev.ts_ns - START for ev in e.take_events() if isinstance(ev, Progress)] == [
        250 * MS, 500 * MS]


def test_stop_after_the_end_is_not_a_stop():
    e = InjectEngine(frames_at([0]), InjectOptions())
    assert e.stopped is False
    drive(e)
    assert e.done
    e.stop(START + NS)
    assert e.stopped is False


def test_elapsed_is_from_the_first_poll_to_the_last_send():
    e = InjectEngine(frames_at([0, 10]), InjectOptions())
    assert e.elapsed_ns == 0
    (s,) = e.poll(START)
    assert e.elapsed_ns == 0  # nothing sent yet
    e.sent(s, START + 3)
    assert e.elapsed_ns == 3


def test_each_send_is_a_whole_link_frame_with_no_address_of_its_own():
    """The frame's own link header says where it goes; the Send names no destination."""
    frames = frames_at([0, 1])
    e = InjectEngine(frames, InjectOptions())
    assert [(s.dst, s.data) for s in e.sends] == [("", f) for _, f in frames]


def test_with_nothing_to_send_no_loop_is_under_way():
    e = InjectEngine(frames_at([0]), InjectOptions(), keep=lambda f: False)
    assert (e.loop, e.passes, e.bytes_of(3)) == (0, 0, 0)
    assert InjectEngine(frames_at([0]), InjectOptions()).loop == 1


def test_a_late_pps_wake_up_sends_to_the_end_of_the_pass_then_the_next_pass():
    """Ten frames fell due at 1000 pps; a burst stops at the capture's end (a loop boundary)."""
    e = InjectEngine(frames_at([0, 0, 0]), InjectOptions(pacing="pps", pps=1000.0, loops=2))
    late = START + 10 * MS
    assert [s.data[0] for s in e.poll(START)] == [0]
    assert [s.data[0] for s in e.poll(late)] == [1, 2]
    assert [s.data[0] for s in e.poll(late)] == [0, 1, 2]
    assert e.done and e.poll(late) == []
