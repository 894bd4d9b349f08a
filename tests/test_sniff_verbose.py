"""`sniff -v` and `-vv` on the packets a LAN is mostly made of, against tcpdump -v/-vv.

ARP, ICMPv6 echo and neighbour discovery, DNS answers and the IP header
block's protocol names; tcpdump, run in the test on the same bytes with the
same -v's, gives every expected line (the whole text, continuation lines
included), and the decoder must print it.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile

import pytest
from test_sniff_decode import A6, B6, MAC_A, MAC_B, A, B, eth, ip4, ip6, udp, with_l4_checksum
from test_sniff_printers_lan import DNS_MESSAGES, NAME, answer, dns_msg, question

from rawtools.tools.sniff.decode import Decoder
from rawtools.wire import link
from rawtools.wire.checksum import inet_checksum

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None,
                                reason="needs tcpdump, the oracle (Debian package: tcpdump)")


def tcpdump_texts(frames: list[bytes], verbose: int) -> list[str]:
    """Each frame's whole text from `tcpdump -n -t -v...`, continuation lines included."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1)
    records = b"".join(struct.pack("<IIII", 1_700_000_000, 0, len(f), len(f)) + f
                       for f in frames)
    with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
        tmp.write(header + records)
        tmp.flush()
        flags = ["-" + "v" * verbose] if verbose else []
        out = subprocess.run(["tcpdump", "--number", "-n", "-t", *flags, "-r", tmp.name],
                             capture_output=True, text=True, check=True).stdout
    texts: list[str] = []
    for ln in out.splitlines():
        num, sep, rest = ln.lstrip().partition("  ")
        if sep and num == str(len(texts) + 1):
            texts.append(rest)
        else:
            texts[-1] += "\n" + ln
    return texts


def check_verbose(frames: list[bytes], verbose: int) -> None:
    decoder = Decoder(link.LINKTYPE_ETHERNET, ts_style="none", verbose=verbose)
    ours = [decoder.line(0, f, len(f)) for f in frames]
    assert ours == tcpdump_texts(frames, verbose)


def arp(hrd: int, op: int, hln: int = 6) -> bytes:
    sha, tha = MAC_A[:hln], bytes(hln)
    return eth(struct.pack(f"!HHBBH{hln}s4s{hln}s4s", hrd, 0x0800, hln, 4, op, sha, A, tha, B),
               0x0806)


@pytest.mark.parametrize("verbose", [1, 2])
def test_arp_names_the_hardware_and_protocol_types(verbose):
    check_verbose([arp(hrd, op) for hrd in (1, 6, 7, 23, 24, 32, 99) for op in (1, 2)]
                  + [arp(1, 1, hln=8)], verbose)


def icmp6(typ: int, code: int, rest: bytes, src: bytes = A6, dst: bytes = B6) -> bytes:
    msg = bytes([typ, code, 0, 0]) + rest
    return eth(ip6(58, with_l4_checksum(src, dst, 58, msg, 2), src, dst, hlim=255), 0x86DD)


def lladdr(kind: int, mac: bytes) -> bytes:
    return bytes([kind, 1]) + mac


ND = [
    icmp6(128, 0, struct.pack("!HH", 7, 1) + bytes(56)),
    icmp6(129, 0, struct.pack("!HH", 7, 1) + bytes(56)),
    icmp6(135, 0, bytes(4) + B6 + lladdr(1, MAC_A)),
    icmp6(135, 0, bytes(4) + B6),
    icmp6(136, 0, b"\x60\x00\x00\x00" + A6 + lladdr(2, MAC_B)),
    icmp6(136, 0, b"\xe0\x00\x00\x00" + A6),
    icmp6(136, 0, bytes(4) + A6 + lladdr(2, MAC_B) + lladdr(1, MAC_A)),
    icmp6(133, 0, bytes(4) + lladdr(1, MAC_A)),
    icmp6(133, 0, bytes(4)),
]


@pytest.mark.parametrize("verbose", [1, 2])
def test_icmp6_echo_and_neighbour_discovery(verbose):
    check_verbose(ND, verbose)


def test_dns_answers_name_their_owner_at_v():
    msgs = [*DNS_MESSAGES,
            dns_msg(0x8180, [question(NAME, 1, 1)],
                    [answer(5, 1, b"\x03www\xc0\x0c"), answer(1, 1, bytes([198, 18, 0, 1]))])]
    frames = [eth(ip4(17, udp(53, 40000, m))) for m in msgs]
    frames += [eth(ip6(17, udp(5353, 5353, m, A6, B6), A6, B6), 0x86DD) for m in msgs]
    check_verbose(frames, 1)


def test_ip_header_block_names_every_protocol_tcpdump_names():
    # The header block is the first line; what follows is each protocol's own printer.
    frames = [eth(ip4(proto, bytes(8), A, B)) for proto in
              (8, 9, 33, 46, 55, 62, 88, 108, 113, 135, 240, 200)]
    decoder = Decoder(link.LINKTYPE_ETHERNET, ts_style="none", verbose=1)
    ours = [decoder.line(0, f, len(f)).split("\n")[0] for f in frames]
    assert ours == [t.split("\n")[0] for t in tcpdump_texts(frames, 1)]


def vrrp2(auth: int, addrs: int, good: bool = True) -> bytes:
    msg = struct.pack("!6BH", 0x21, 7, 100, addrs, auth, 1, 0) \
        + b"".join(bytes([198, 18, 0, 250 + i]) for i in range(addrs)) + b"secret\x01\xff"
    cksum = inet_checksum(msg) ^ (0 if good else 0x0101)
    return msg[:6] + struct.pack("!H", cksum) + msg[8:]


def vrrp3(src: bytes, dst: bytes, addrs: list[bytes], good: bool = True) -> bytes:
    msg = struct.pack("!4BHH", 0x31, 9, 200, len(addrs), 100, 0) + b"".join(addrs)
    seg = with_l4_checksum(src, dst, 112, msg, 6)
    return seg if good else seg[:6] + bytes([seg[6] ^ 1, seg[7]]) + seg[8:]


@pytest.mark.parametrize("verbose", [1, 2])
def test_vrrp_checksums_addresses_and_password(verbose):
    frames = [eth(ip4(112, vrrp2(auth, n, good), A, B, ttl=255))
              for auth in (0, 1, 2) for n in (1, 3) for good in (True, False)]
    frames += [eth(ip6(112, vrrp3(A6, B6, [A6, B6][:n], good), A6, B6, hlim=255), 0x86DD)
               for n in (1, 2) for good in (True, False)]
    frames += [eth(ip4(112, vrrp3(A, B, [A, B], good), A, B, ttl=255)) for good in (True, False)]
    check_verbose(frames, verbose)


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_mpls_stacks_reserved_labels_and_the_guessed_payload(verbose):
    """-v puts each label after the first, and the packet inside, on lines of their own
    and names the reserved labels; the payload's kind comes from the bottom label
    (0 and 3: IPv4, 2: IPv6) or else its first byte (0x45-0x4f, 0x60-0x6f, IS-IS's
    NLPID 0x83), as tcpdump guesses it; anything else is shown in hex."""
    def label(value: int, bottom: int = 1) -> bytes:
        return struct.pack("!I", value << 12 | 3 << 9 | bottom << 8 | 64)

    inner4 = ip4(17, udp(40000, 5004, b"x" * 32))
    inner6 = ip6(17, udp(40000, 5004, b"y" * 8, A6, B6))
    isis_hello = bytes.fromhex("831b0100100100000002") + bytes(17)
    payloads = [label(249081) + inner4, label(16, 0) + label(17) + inner6,
                label(0) + inner4, label(2) + inner6, label(1, 0) + label(3) + inner4,
                label(3) + b"\x00" * 20,                 # IPv4 by its label, whatever follows
                label(2) + b"\x45" * 20,                 # IPv6 by its label
                label(16) + b"\x40" + bytes(19),         # version 4, but no plausible length
                label(16) + b"\x5f" + bytes(19),         # neither
                label(15, 0) + label(4) + inner4]
    if not verbose:  # (IS-IS's own -v form is not printed here yet)
        payloads.append(label(16) + isis_hello)
    check_verbose([eth(p, 0x8847) for p in payloads], verbose)
