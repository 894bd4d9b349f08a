"""How the two processes of `sniff -r` share a capture (rawtools.tools.sniff.split).

What either process decodes must not depend on what the other saw: every
segment of a TCP connection goes to one of them, however it is wrapped,
and the rest evens out their work. (tests/test_sniff_helper.py checks the
output of both against tcpdump.)
"""

from __future__ import annotations

import struct

from test_sniff_decode import A6, B6, MAC_A, MAC_B, A, B, decoder, eth, icmp, ip4, ip6, tcp, udp

from rawtools.tools.sniff import split
from rawtools.tools.sniff.split import Split, kinds, share


def vxlan(frame: bytes) -> bytes:
    return eth(ip4(17, udp(50000, 4789, b"\x08\x00\x00\x00\x00\x00\x01\x00" + frame)))


def segment(sport: int, dport: int, seq: int = 1, flags: int = 0x10) -> bytes:
    return eth(ip4(6, tcp(sport, dport, seq, 1, flags)))


def reply(sport: int, dport: int) -> bytes:
    return eth(ip4(6, tcp(sport, dport, 1, 1, 0x10), B, A))


def batch(frames: list[bytes]) -> list[tuple[int, bytes, int]]:
    return [(1_700_000_000 * 10**9 + k, f, len(f)) for k, f in enumerate(frames)]


def test_what_the_headers_tell():
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, MAC_A, A, bytes(6), B)
    frames = [eth(ip4(17, udp(1, 2, b"x"))), eth(ip4(1, icmp(8, 0, bytes(4)))),
              eth(ip4(6, tcp(1, 2, 3, 4, 0x10))), eth(arp, 0x0806),
              eth(ip6(17, udp(1, 2, b"x", A6, B6)), 0x86DD),
              eth(ip6(58, icmp(128, 0, bytes(4))), 0x86DD),
              eth(ip6(6, tcp(1, 2, 3, 4, 0x10, src=A6, dst=B6)), 0x86DD),
              eth(ip6(0, bytes([17, 0]) + bytes(6) + udp(1, 2, b"x", A6, B6)), 0x86DD),
              MAC_B + MAC_A + b"\x81\x00\x00\x64" + b"\x08\x00" + ip4(6, tcp(1, 2, 3, 4, 0x10)),
              eth(ip4(17, udp(1, 2, b"x")))[:30],
              eth(ip4(6, tcp(1, 2, 3, 4, 0x10), frag=0x0010)),
              eth(ip4(6, tcp(1, 2, 3, 4, 0x10), options=b"\x01\x01\x01\x00")),
              vxlan(eth(ip4(6, tcp(1, 2, 3, 4, 0x10))))]
    ports = b"\x00\x01\x00\x02"
    # True: touches no connection; a key: plain TCP; False: only decoding can tell
    # (an extension header, a cut frame, IP options, a tunnel).
    assert kinds(batch(frames)) == [True, True, A + B + ports, True, True, True, A6 + B6 + ports,
                                    False, A + B + ports, False, True, False, False]


def test_once_connections_are_not_split_the_helper_takes_free_packets_up_to_half():
    assert share([True, True, False, True]) == bytes([0, 1, 0, 1])
    assert share([True] * 5) == bytes([0, 0, 1, 1, 1])
    assert share([False, True, False, False]) == bytes([0, 1, 0, 0])


def test_each_connection_stays_with_one_process_in_both_directions():
    s = Split(decoder())
    owner: dict[int, int] = {}
    for round_ in range(3):
        frames = []
        for port in range(1000, 1010):
            frames += [segment(port, 80), reply(80, port)]
        mask, known = s.plan(batch(frames))
        assert not known
        for k, port in enumerate(p for p in range(1000, 1010) for _ in (0, 1)):
            assert owner.setdefault(port, mask[k]) == mask[k], (round_, port)
    # New connections go to whichever has less work: both get some.
    assert set(owner.values()) == {0, 1}


def test_a_batch_of_free_packets_is_shared():
    dns = [eth(ip4(17, udp(40000, 53, bytes(12)))) for _ in range(10)]
    mask, known = Split(decoder()).plan(batch(dns))
    assert 3 <= mask.count(1) <= 5 and not known


def test_a_tunnelled_segment_goes_to_its_connections_owner_and_other_oddities_to_the_helper():
    s = Split(decoder())
    ports = list(range(1000, 1008))
    mask, _ = s.plan(batch([segment(p, 80) for p in ports]))
    inner = [eth(ip4(6, tcp(p, 80, 5, 1, 0x10))) for p in ports]
    gre = eth(ip4(47, b"\x00\x00\x08\x00" + ip4(17, udp(1, 2, b""))))
    frames = [vxlan(f) for f in inner] + [gre]
    got, known = s.plan(batch(frames))
    assert got[:-1] == mask
    # The probe's line is the packet's own when no connection was asked about.
    assert got[-1] == 1 and known == {len(ports): decoder().line(*batch(frames)[-1])}


def test_the_split_stops_before_the_connections_outgrow_one_tracker(monkeypatch):
    monkeypatch.setattr(split, "MAX_CONNECTIONS", 4)
    s = Split(decoder())
    s.plan(batch([segment(p, 80) for p in range(4)]))
    assert s.splitting
    frames = [segment(4, 80), eth(ip4(17, udp(40000, 53, bytes(12))))]
    assert s.plan(batch(frames)) == (bytes([0, 1]), {})
    assert not s.splitting


def test_a_packet_tying_both_processes_connections_stops_the_split(monkeypatch):
    s = Split(decoder())
    frames = [segment(1, 80), segment(2, 80)]
    mask, _ = s.plan(batch(frames))
    assert sorted(mask) == [0, 1]
    # No decoder line reads two connections today; one that did must not split them.
    monkeypatch.setattr(s, "_touched", lambda packet: ("", kinds(batch(frames))))
    odd = eth(ip4(4, ip4(6, tcp(1, 80, 1, 1, 0x10))))
    assert s.plan(batch([odd])) == (bytes([0]), {})
    assert not s.splitting


def test_the_parent_follows_the_helpers_connections_through_their_journal():
    """Once the split stops, or the helper dies, the parent decodes the helper's
    connections with the origins the helper set."""
    one, parent, helper = decoder(), decoder(), decoder()
    journal: list = []
    helper.seqs.journal = journal
    frames = batch([segment(1, 80, 1000, 0x12), reply(80, 1), segment(1, 80, 1500),
                    segment(1, 80, 7, 0x12), segment(1, 80, 9)])
    expected = one.texts(frames)
    assert helper.texts(frames[:4]) == expected[:4]
    parent.seqs.replay(journal)
    assert parent.texts(frames[4:]) == expected[4:]
