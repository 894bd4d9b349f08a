"""The ping engine and its renderers, driven by hand with literal datagrams."""

import io
import struct

from rawtools.engine import Received
from rawtools.tools.icmpwords import describe_error
from rawtools.tools.ping.engine import MS, NS, PingEngine, PingOptions, Target, rtt_stats
from rawtools.tools.ping.events import Alive, Corrupt, NoRoute, Reply, RouterError, Unreachable
from rawtools.tools.ping.render import TextRenderer, fmt_rtt
from rawtools.wire.checksum import inet_checksum
from rawtools.wire.icmp import parse_ip
from rawtools.wire.ip import build_ipv4

US = "198.18.0.1"
DST = "198.18.3.2"


def reply_for(send_data: bytes, src: str = DST, ttl: int = 61, corrupt: bool = False) -> bytes:
    msg = bytearray(send_data)
    msg[0] = 0
    msg[2:4] = b"\0\0"
    msg[2:4] = struct.pack("!H", inet_checksum(bytes(msg)))
    if corrupt:
        msg[-1] ^= 0x55
    return build_ipv4(src, US, 1, ttl, bytes(msg))


def error_for(send_data: bytes, src: str, typ: int = 11, code: int = 0) -> bytes:
    quoted = build_ipv4(US, DST, 1, 1, send_data)[:28]
    body = bytearray(struct.pack("!BBHI", typ, code, 0, 0) + quoted)
    body[2:4] = struct.pack("!H", inet_checksum(bytes(body)))
    return build_ipv4(src, US, 1, 63, bytes(body))


def engine(**kw) -> PingEngine:
    return PingEngine([Target(DST, DST)], PingOptions(**kw), idents={4: 0x4242})


def test_count_stops_after_replies_and_stats_are_iputils_integers():
    e = engine(count=3, interval_ns=NS)
    t0 = 1_000 * NS
    rtts = [250_000, 114_000, 116_000]
    for i in range(3):
        now = t0 + i * NS
        sends = e.poll(now)
        assert len(sends) == 1 and parse_ip(build_ipv4(US, DST, 1, 64, sends[0].data)).seq == i + 1
        e.sent(sends[0], now)
        e.received(Received(now + rtts[i], reply_for(sends[0].data)))
    assert e.done and e.total_received == 3
    st = rtt_stats(e.targets[0].rtts_ns)
    assert (st.min_us, st.avg_us, st.max_us) == (114, 160, 250)
    assert st.mdev_us == 63  # isqrt(mean of squares - avg^2) on whole microseconds
    assert e.elapsed_ms == 2000


def test_duplicate_and_foreign_and_corrupt_replies():
    e = engine(count=2, interval_ns=NS)
    s = e.poll(0)[0]
    e.sent(s, 0)
    e.received(Received(100_000, reply_for(s.data)))
    e.received(Received(200_000, reply_for(s.data)))
    foreign = bytearray(s.data)
    foreign[4:6] = b"\x99\x99"
    e.received(Received(300_000, reply_for(bytes(foreign))))
    e.received(Received(400_000, reply_for(s.data, corrupt=True)))
    t = e.targets[0]
    assert (t.received, t.duplicates, t.corrupted) == (1, 1, 1)
    kinds = [type(ev) for ev in e.take_events()]
    assert kinds == [Reply, Reply, Corrupt]


def test_router_error_is_matched_through_the_quote():
    e = engine(count=1)
    s = e.poll(0)[0]
    e.sent(s, 0)
    e.received(Received(50_000, error_for(s.data, "198.18.1.2")))
    assert e.done and e.targets[0].errors == 1
    ev = e.take_events()[0]
    assert isinstance(ev, RouterError) and ev.icmp.src == "198.18.1.2" and ev.seq == 1
    assert describe_error(ev.icmp) == "Time to live exceeded"


def test_linger_is_w_when_nothing_came_back():
    e = engine(count=1, linger_ns=2 * NS)
    s = e.poll(0)[0]
    e.sent(s, 0)
    assert e.next_deadline() == 2 * NS
    e.poll(2 * NS)
    assert e.done and e.end_ns == 2 * NS


def test_deadline_ends_an_endless_ping():
    e = engine(deadline_ns=3 * NS, interval_ns=NS)
    sent = 0
    now = 0
    while not e.done:
        for s in e.poll(now):
            e.sent(s, now)
            sent += 1
        nxt = e.next_deadline()
        now = nxt
    assert sent == 3 and e.end_ns == 3 * NS


def test_multi_target_retries_silent_targets_then_reports_them():
    targets = [Target("198.18.9.7", "a"), Target("198.18.9.8", "b")]
    e = PingEngine(targets, PingOptions(multi=True, timeout_ns=500 * MS, retries=1,
                                        spacing_ns=MS), idents={4: 1})
    now, sent = 0, []
    while not e.done:
        for s in e.poll(now):
            e.sent(s, now)
            sent.append(s)
            if s.dst == "198.18.9.7":
                e.received(Received(now + 10_000, reply_for(s.data, src=s.dst)))
        now = e.next_deadline()
    assert [s.dst for s in sent] == ["198.18.9.7", "198.18.9.8", "198.18.9.8"]
    kinds = [(type(ev), ev.target.name) for ev in e.take_events() if not isinstance(ev, Reply)]
    assert kinds == [(Alive, "a"), (Unreachable, "b")]


def test_a_target_without_a_route_is_never_probed_and_not_waited_for():
    targets = [Target("198.18.9.7", "a"), Target("198.18.9.8", "b", no_route="No route")]
    e = PingEngine(targets, PingOptions(multi=True, timeout_ns=500 * MS, retries=2,
                                        spacing_ns=MS), idents={4: 1})
    sent = e.poll(0)
    assert [s.dst for s in sent] == ["198.18.9.7"]
    e.sent(sent[0], 0)
    e.received(Received(10_000, reply_for(sent[0].data, src="198.18.9.7")))
    # The one target with a route answered: the run ends there, with no retry
    # and no linger for the other.
    assert e.done and e.end_ns == 10_000
    events = [(type(ev), ev.target.name) for ev in e.take_events() if not isinstance(ev, Reply)]
    assert events == [(NoRoute, "b"), (Alive, "a")]
    assert targets[1].transmitted == 0


def test_a_sweep_with_no_route_at_all_ends_at_once():
    targets = [Target(f"198.18.9.{i}", str(i), no_route="Network is unreachable")
               for i in (1, 2)]
    e = PingEngine(targets, PingOptions(multi=True), idents={4: 1})
    assert e.poll(5) == [] and e.done and e.end_ns == 5
    assert [ev.reason for ev in e.take_events() if isinstance(ev, NoRoute)] == \
        ["Network is unreachable"] * 2


def test_text_rendering_follows_iputils():
    assert fmt_rtt(123) == "0.123"
    assert fmt_rtt(1234) == "1.23"
    assert fmt_rtt(12345) == "12.3"
    assert fmt_rtt(123456) == "123"
    e = engine(count=2, interval_ns=NS)
    out = io.StringIO()
    r = TextRenderer(out)
    r.header(e.targets[0], 56, b"", None, None)
    for i in range(2):
        s = e.poll(i * NS)[0]
        e.sent(s, i * NS)
        if i == 0:
            e.received(Received(i * NS + 80_000, reply_for(s.data)))
    e.poll(2 * NS + 10 * NS)
    for ev in e.take_events():
        r.event(ev)
    r.summary(e)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"PING {DST} ({DST}) 56(84) bytes of data."
    assert lines[1] == f"64 bytes from {DST}: icmp_seq=1 ttl=61 time=0.080 ms"
    assert lines[3] == f"--- {DST} ping statistics ---"
    assert lines[4] == "2 packets transmitted, 1 received, 50% packet loss, time 1000ms"
    assert lines[5] == "rtt min/avg/max/mdev = 0.080/0.080/0.080/0.000 ms"


def test_with_a_count_several_targets_wait_for_every_probes_answer():
    """fping -c: each probe's fate is counted, so the last reply already on its way is
    awaited; stopping once every target had answered once dropped it."""
    targets = [Target("198.18.9.7", "a"), Target("198.18.9.8", "b")]
    e = PingEngine(targets, PingOptions(multi=True, count=2, interval_ns=200 * MS,
                                        timeout_ns=500 * MS, spacing_ns=MS), idents={4: 1})
    now, inflight = 0, []
    while not e.done and now < 10 * NS:
        for s in e.poll(now):
            e.sent(s, now)
            inflight.append((now + 5 * MS, s))  # replies slower than the 1 ms spacing
        for due, s in [x for x in inflight if x[0] <= (e.next_deadline() or now)]:
            inflight.remove((due, s))
            e.received(Received(due, reply_for(s.data, src=s.dst)))
        now = max(now + 1, min([d for d, _ in inflight] + [e.next_deadline() or now + MS]))
    assert e.done
    # Arithmetic done by hand: 2 targets x 2 probes, every one answered.
    assert [(t.transmitted, t.received) for t in targets] == [(2, 2), (2, 2)]
