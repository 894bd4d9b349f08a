"""Each trace fixture's expected text, checked against its own packets read by dpkt.

Every captures/trace-*.txt is what rawtools printed live, so a replay test
alone would check rawtools against itself. Here the recording is read by an
independent parser (dpkt) and matched by hand: each answer is tied to the
probe it answers (the quoted transport header of an ICMP error, the
identifier and sequence of an echo reply, the acknowledgement of a TCP
answer), the probe's TTL is read from its own IP header, and its round trip
is the difference of the two recorded timestamps. Every hop line must then
show, probe by probe, who answered that probe and a round trip equal to that
difference (to the printed 3 decimals), and `*` exactly where the probe got
no answer, even where a retry of it did.
"""

from __future__ import annotations

import re
import socket
from collections import defaultdict
from pathlib import Path

import dpkt
import pytest

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
TRACES = sorted(p.stem for p in CAPTURES.glob("trace-*.pcap"))
HOP = re.compile(r"^ ?(\d+)  (.*)$")
TOKEN = re.compile(r"\*|(?P<addr>[0-9a-f.:]+)?\s*(?P<rtt>\d+\.\d{3}) ms(?: !\S+)?"
                   r"(?P<retry> \(retry\))?")


def _addr(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _keys_of_probe(ip: dpkt.ip.IP | dpkt.ip6.IP6) -> list[tuple[object, ...]]:
    """Every name an answer may give a probe by: its first 8 transport bytes (what an
    ICMP error quotes), the echo identifier and sequence, the TCP ports and sequence."""
    t = ip.data
    if isinstance(t, dpkt.udp.UDP):
        return [("t", bytes(t)[:8])]
    if isinstance(t, dpkt.tcp.TCP):
        return [("t", bytes(t)[:8]), ("tcp", t.sport, t.dport, t.seq)]
    if isinstance(t, (dpkt.icmp.ICMP, dpkt.icmp6.ICMP6)) and t.type in (8, 128):
        return [("t", bytes(t)[:8]), ("echo", bytes(t)[4:8])]
    return []


def _quoted(ip: dpkt.ip.IP | dpkt.ip6.IP6) -> tuple[object, ...] | None:
    """The probe key an answer names: from an error's quote, an echo reply, or TCP."""
    t = ip.data
    if isinstance(t, dpkt.tcp.TCP):
        seq = (t.ack - 1) & 0xFFFFFFFF
        return ("tcp", t.dport, t.sport, seq)
    if not isinstance(t, (dpkt.icmp.ICMP, dpkt.icmp6.ICMP6)):
        return None
    if t.type in (0, 129):
        return ("echo", bytes(t)[4:8])
    if t.type in (3, 11) if isinstance(t, dpkt.icmp.ICMP) else t.type in (1, 3):
        body = bytes(t)[8:]
        inner_len = ((body[0] & 0x0F) * 4) if body and body[0] >> 4 == 4 else 40
        quote = body[inner_len:inner_len + 8]
        return ("t", quote) if len(quote) == 8 else None
    return None


Wire = dict[int, list[tuple[str | None, str | None]]]
"""TTL -> for each probe sent with that TTL, in sending order: (who answered, rtt text)."""


def _flow(ip: dpkt.ip.IP | dpkt.ip6.IP6) -> tuple[object, ...]:
    """What stays fixed over one run's probes: the source port, or the echo identifier."""
    t = ip.data
    if isinstance(t, (dpkt.udp.UDP, dpkt.tcp.TCP)):
        return (type(t).__name__, t.sport)
    return ("echo", bytes(t)[4:6])


def wire_runs(path: Path, ours: str | None = None,
              starts: list[float] | None = None) -> list[Wire]:
    """Each run recorded in `path` (a trace's --record, or tcpdump on the sending host),
    in the order the runs began: what became of every probe, read from the packets.

    Probes are ours (`ours`, else the first packet's source); keys are unique per
    probe within a run: ports rise, sequences rise, and a Paris flow's tag sits in
    the checksum, all within the first 8 bytes. Runs are told apart by when they
    began (`starts`, wall-clock seconds, for runs one after the other), else by
    source port or echo identifier."""
    with open(path, "rb") as f:
        reader = dpkt.pcap.Reader(f)
        ethernet = reader.datalink() == dpkt.pcap.DLT_EN10MB
        records = [(ts, buf) for ts, buf in reader]
    packets = []
    for ts, buf in records:
        if ethernet:
            ip = dpkt.ethernet.Ethernet(buf).data
            if not isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)):
                continue
        else:
            ip = dpkt.ip6.IP6(buf) if buf[0] >> 4 == 6 else dpkt.ip.IP(buf)
        packets.append((ts, ip))
    if ours is None:
        ours = _addr(packets[0][1].src)
    sent: dict[tuple[object, ...], tuple[int, int, object]] = {}  # key -> probe, ttl, ts
    runs: dict[tuple[object, ...], dict[int, list[int]]] = {}
    answered: dict[int, tuple[str, str]] = {}
    for ts, ip in packets:
        ttl = ip.hlim if isinstance(ip, dpkt.ip6.IP6) else ip.ttl
        if _addr(ip.src) == ours:
            keys = _keys_of_probe(ip)
            n = len(sent)
            # A key names its run already (source port, identifier), except
            # across runs told apart by time, which may reuse them.
            run = (sum(1 for t in starts if t <= ts),) if starts else _flow(ip)
            for key in keys:
                sent[(*run, *key) if starts else key] = (n, ttl, ts)
            if keys:
                runs.setdefault(run, defaultdict(list))[ttl].append(n)
            continue
        key = _quoted(ip)
        if key is not None and starts:
            key = (sum(1 for t in starts if t <= ts), *key)
        if key is None or key not in sent:
            continue
        n, _ttl, sent_ts = sent[key]
        if n not in answered:
            answered[n] = (_addr(ip.src), f"{(ts - sent_ts) * 1000:.3f}")
    return [{ttl: [answered.get(n, (None, None)) for n in ns] for ttl, ns in run.items()}
            for run in runs.values()]


def oracle(name: str) -> Wire:
    (run,) = wire_runs(CAPTURES / f"{name}.pcap")
    return run


Shown = tuple[str | None, str | None, bool]  # (address, rtt text, from a retry)


def shown_slots(text: str) -> dict[int, list[list[Shown]]]:
    """Hop -> its slots as a trace's text shows them: each slot a star or an answer
    to its own probe, and a star may be followed by a retry's answer."""
    hops: dict[int, list[list[Shown]]] = {}
    for line in text.splitlines():
        m = HOP.match(line)
        if not m:
            continue
        slots: list[list[Shown]] = []
        addr = None
        for t in TOKEN.finditer(m.group(2)):
            if t.group(0) == "*":
                slots.append([(None, None, False)])
                continue
            addr = t.group("addr") or addr
            if t.group("retry"):
                assert slots and slots[-1] == [(None, None, False)], line
                slots[-1].append((addr, t.group("rtt"), True))
            else:
                slots.append([(addr, t.group("rtt"), False)])
        hops[int(m.group(1))] = slots
    return hops


def nqueries(args: list[str]) -> int:
    return int(args[args.index("-q") + 1]) if "-q" in args else 3


def assert_shows_the_wire(text: str, truth: Wire, q: int, within_ms: float = 0.0011) -> None:
    """Slot by slot: the first `q` probes of a TTL are the slots' own probes, any
    later ones retries. A slot is a star exactly when its own probe got no answer
    on the wire; otherwise it shows that answer, and its round trip within
    `within_ms`. A retry's answer, marked, is an answer to one of the retries of
    that TTL. The destination's line holds answers to probes of its own TTL only
    (not the scout's, sent with the highest TTL, nor those of probes sent past
    it)."""
    def close(a: str, b: str) -> bool:
        return abs(float(a) - float(b)) <= within_ms

    shown = shown_slots(text)
    assert shown, f"no hop lines in {text!r}"
    for hop, slots in shown.items():
        probes = truth.get(hop, [])
        own, retries = probes[:q], probes[q:]
        assert len(slots) == q == len(own), (hop, slots, own)
        for i, (first, *retried) in enumerate(slots):
            addr, rtt, _ = first
            if addr is None:
                assert own[i][0] is None, f"hop {hop}: a star, yet {own[i]} answered"
            else:
                assert own[i][0] == addr and close(own[i][1], rtt), (hop, first, own[i])
            for addr, rtt, _ in retried:
                assert any(a == addr and close(r, rtt) for a, r in retries if a), (
                    f"hop {hop}: retry {addr} {rtt} ms is in no answer of a retry: {retries}")
        if all(a is None for a, _ in own) and any(a for a, _ in retries):
            assert any(len(s) > 1 for s in slots), f"hop {hop}: a retry's answer unshown"


@pytest.mark.parametrize("name", TRACES)
def test_each_hop_shows_who_answered_each_probe_and_the_recorded_round_trips(name):
    """The printed round trips are the recorded ones to the printed 3 decimals (the
    last digit may round either way)."""
    text = (CAPTURES / f"{name}.txt").read_text()
    args = text.splitlines()[0].split()
    assert_shows_the_wire(text, oracle(name), nqueries(args))


def test_the_fixtures_hold_every_kind_of_answer():
    """The oracle above must have met errors, echo replies and TCP answers alike."""
    kinds = {name.split("-")[1][:4] for name in TRACES}
    assert {"udp4", "udp6", "icmp", "tcp4", "tcp6"} <= kinds
    for name in TRACES:
        assert any(a is not None for probes in oracle(name).values() for a, _ in probes), name
