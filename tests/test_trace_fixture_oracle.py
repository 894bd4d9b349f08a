"""Each trace fixture's expected text, checked against its own packets read by dpkt.

Every captures/trace-*.txt is what rawtools printed live, so a replay test
alone would check rawtools against itself. Here the recording is read by an
independent parser (dpkt) and matched by hand: each answer is tied to the
probe it answers (the quoted transport header of an ICMP error, the
identifier and sequence of an echo reply, the acknowledgement of a TCP
answer), the probe's TTL is read from its own IP header, and its round trip
is the difference of the two recorded timestamps. Every hop line must then
show, for that TTL, the addresses that answered and round trips equal to
those differences (to the printed 3 decimals); `* ` only where no answer to
a probe of that TTL survives.
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
TOKEN = re.compile(r"\*|(?P<addr>[0-9a-f.:]+)?\s*(?P<rtt>\d+\.\d{3}) ms(?: !\w+)?")


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


def oracle(name: str) -> dict[int, list[tuple[str | None, str | None]]]:
    # Keys are unique per probe within a recording: ports rise, sequences rise, and
    # a Paris flow's tag sits in the checksum, all within the first 8 bytes.
    """TTL -> for each probe of that TTL in sending order: (who answered, round trip text)."""
    with open(CAPTURES / f"{name}.pcap", "rb") as f:
        records = [(ts, buf) for ts, buf in dpkt.pcap.Reader(f)]
    first = records[0][1]
    ours = _addr(dpkt.ip6.IP6(first).src if first[0] >> 4 == 6 else dpkt.ip.IP(first).src)
    sent: dict[tuple[object, ...], tuple[int, int, object]] = {}  # key -> probe, ttl, ts
    probes: dict[int, list[int]] = defaultdict(list)
    answered: dict[int, tuple[str, str]] = {}
    for ts, buf in records:
        ip = dpkt.ip6.IP6(buf) if buf[0] >> 4 == 6 else dpkt.ip.IP(buf)
        ttl = ip.hlim if isinstance(ip, dpkt.ip6.IP6) else ip.ttl
        if _addr(ip.src) == ours:
            keys = _keys_of_probe(ip)
            n = len(sent)
            for key in keys:
                sent[key] = (n, ttl, ts)
            if keys:
                probes[ttl].append(n)
            continue
        key = _quoted(ip)
        if key is None or key not in sent:
            continue
        n, _ttl, sent_ts = sent[key]
        if n not in answered:
            answered[n] = (_addr(ip.src), f"{(ts - sent_ts) * 1000:.3f}")
    return {ttl: [answered.get(n, (None, None)) for n in ns] for ttl, ns in probes.items()}


def printed(name: str) -> dict[int, list[tuple[str | None, str | None]]]:
    """Hop -> what the fixture's text shows for each probe: (address, rtt) or (None, None)."""
    hops: dict[int, list[tuple[str | None, str | None]]] = {}
    for line in (CAPTURES / f"{name}.txt").read_text().splitlines():
        m = HOP.match(line)
        if not m:
            continue
        shown: list[tuple[str | None, str | None]] = []
        addr = None
        for t in TOKEN.finditer(m.group(2)):
            if t.group(0) == "*":
                shown.append((None, None))
                continue
            addr = t.group("addr") or addr
            shown.append((addr, t.group("rtt")))
        hops[int(m.group(1))] = shown
    return hops


def close(a: str, b: str) -> bool:
    """Equal to the printed precision (the last digit may round either way)."""
    return abs(float(a) - float(b)) <= 0.0011


@pytest.mark.parametrize("name", TRACES)
def test_each_hop_shows_who_answered_that_ttl_and_the_recorded_round_trips(name):
    truth = oracle(name)
    shown = printed(name)
    assert shown, f"{name}: no hop lines"
    last = max(shown)
    for hop, probes in shown.items():
        answers = [(a, r) for a, r in truth.get(hop, []) if a is not None]
        if hop == last:
            # The destination answers probes of any TTL above its distance too:
            # the first one at the maximum TTL (the tracer's scout) counts for it.
            addrs = {a for a, _ in probes if a is not None}
            answers += [(a, r) for t, ps in truth.items() if t > hop for a, r in ps
                        if a in addrs]
        pool = list(answers)
        for addr, rtt in probes:
            if addr is None:
                continue
            match = next((x for x in pool if x[0] == addr and close(x[1], rtt)), None)
            assert match is not None, (f"{name} hop {hop}: {addr} {rtt} ms is in no answer of "
                                       f"a TTL {hop} probe: {answers}")
            pool.remove(match)
        stars = sum(1 for a, _ in probes if a is None)
        if stars == len(probes):
            assert not answers, f"{name} hop {hop}: all stars, yet answers came: {answers}"


def test_the_fixtures_hold_every_kind_of_answer():
    """The oracle above must have met errors, echo replies and TCP answers alike."""
    kinds = {name.split("-")[1][:4] for name in TRACES}
    assert {"udp4", "udp6", "icmp", "tcp4", "tcp6"} <= kinds
    for name in TRACES:
        assert any(a is not None for probes in oracle(name).values() for a, _ in probes), name
