"""Write a pcap of mixed, realistic traffic for benchmarking packet decoders.

    python scripts/bench/genpcap.py OUT.pcap [--count 1000000] [--seed 1]

The mix is what a sniffer on a busy LAN sees: TCP conversations (handshake,
bulk data with timestamps, acks, teardown), DNS queries and answers, other
UDP, ICMP and ICMPv6 echo and neighbour discovery, and ARP, over IPv4 and
IPv6 on Ethernet with a few VLAN-tagged frames. Every checksum is right so
that `-v` measures real verification, sizes follow the mix of small control
packets and full segments, and only the documentation ranges 198.18.0.0/15
and 2001:db8::/32 appear in them. The same seed gives the same file.

About 1 % are a LAN's own services, made here (as no test capture of
tcpdump's holds a well-formed one): TFTP, RIP, HSRP, VRRP v2/v3, multicast
DNS, LACP, MPLS-labelled IP, SNMP, L2TP and SMB over NetBIOS. They are
judged by tcpdump's lines like the rest, so building them here does not
make our printer its own oracle.

Beside that, about 2 % of the frames are the rest of what a LAN carries:
control, routing, tunnel and service protocols (STP, LLDP, CDP, EAPOL,
PPPoE, IGMP, ESP, AH, GRE, DCCP, DHCP, DHCPv6, NTP, VXLAN, Geneve, BFD,
IKE, PTP, BGP, MPTCP, PPTP, EIGRP, IS-IS, PIM, OSPF, UDLD...). Writing
each of those by hand would test our builder against our printer; they are
taken instead, frame by frame as recorded (addresses included), from
tcpdump's own test captures in tests/corpus/, so a decoder meets them as
real stacks sent them.
"""

from __future__ import annotations

import argparse
import random
import struct
from pathlib import Path

from rawtools.wire.checksum import inet_checksum

HOSTS4 = [bytes([198, 18 + (i >> 8 & 1), i & 0xFF, 10 + i % 200]) for i in range(256)]
HOSTS6 = [bytes.fromhex("20010db8") + bytes(8) + struct.pack("!I", 0x1000 + i)
          for i in range(128)]
MACS = [bytes([2, 0, 0, 0, i >> 8, i & 0xFF]) for i in range(384)]
RESOLVER4, RESOLVER6 = bytes([198, 18, 255, 53]), bytes.fromhex("20010db8" + "00" * 10 + "0035")
NAMES = [f"{w}.example.{tld}" for w in ("www", "mail", "api", "cdn", "ns1", "git", "db", "img")
         for tld in ("net", "org", "com")]
_REC = struct.Struct("<IIII")
CORPUS = Path(__file__).resolve().parents[2] / "tests" / "corpus"
# Ethernet captures of tcpdump's test suite that show one protocol doing its
# ordinary work (none of the deliberately malformed ones).
ZOO = ("802.1ad_QinQ.pcap", "802.1w_rapid_STP.pcap", "LLDP_and_CDP.pcap", "3560_CDP.pcap",
       "eapon1.pcap", "pppoe.pcap", "pppoes.pcap", "IGMP_V1.pcap", "IGMP_V2.pcap",
       "icmpv6.pcap", "02-sunrise-sunset-esp.pcap", "OSPFv3_with_AH.pcap", "various_gre.pcap",
       "dccp_partial_csum_v6_simple.pcap", "dhcp-rfc4388.pcap", "dhcpv6-ntp-server.pcap",
       "ntp.pcap", "ntp-time.pcap", "vxlan_port_8472.pcap", "bigtcp-ipv6-geneve-ipv4.pcap",
       "bfd-multihop.pcap", "ikev2-id-normal.pcap", "ptp.pcap", "bgp-4byte-asn.pcap",
       "mptcp-fclose.pcap", "pptp.pcap", "EIGRP_adjacency.pcap", "ISIS_level2_adjacency.pcap",
       "PIMv2_hellos.pcap", "ospf_graceful_restart_rfc3623.pcap", "UDLD.pcap")


def read_frames(path: Path) -> list[bytes]:
    """The frames of a classic Ethernet pcap, either byte order (what ZOO holds)."""
    data = path.read_bytes()
    order = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">",
             b"\x4d\x3c\xb2\xa1": "<", b"\xa1\xb2\x3c\x4d": ">"}[data[:4]]
    if struct.unpack_from(order + "I", data, 20)[0] != 1:
        raise SystemExit(f"{path}: not an Ethernet capture")
    frames, pos = [], 24
    while pos + 16 <= len(data):
        incl = struct.unpack_from(order + "I", data, pos + 8)[0]
        frames.append(data[pos + 16:pos + 16 + incl])
        pos += 16 + incl
    return frames


def ether(dst: bytes, src: bytes, etype: int, payload: bytes, vlan: int = 0) -> bytes:
    if vlan:
        return dst + src + struct.pack("!HHH", 0x8100, vlan, etype) + payload
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int, ttl: int = 64) -> bytes:
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, ttl,
                      proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", inet_checksum(hdr)) + hdr[12:] + payload


def ipv6(src: bytes, dst: bytes, nxt: int, payload: bytes, hlim: int = 64) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nxt, hlim, src, dst) + payload


def l4_checksum(src: bytes, dst: bytes, proto: int, seg: bytes, at: int) -> bytes:
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!xBH", proto, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return seg[:at] + struct.pack("!H", inet_checksum(pseudo + seg)) + seg[at + 2:]


def ip(src: bytes, dst: bytes, proto: int, seg: bytes, ident: int) -> tuple[int, bytes]:
    if len(src) == 4:
        return 0x0800, ipv4(src, dst, proto, seg, ident)
    return 0x86DD, ipv6(src, dst, proto, seg)


def qname(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


class Traffic:
    """Produces one frame at a time from a weighted mix of conversations."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ident = 0
        self.flows: list[list] = []
        self.pending: list[bytes] = []
        self.zoo_frames = [read_frames(CORPUS / name) for name in ZOO]
        self.zoo_next = [0] * len(ZOO)

    def _mac(self, addr: bytes) -> bytes:
        return MACS[addr[-1] + (128 if len(addr) == 16 else 0)]

    def _frame(self, src: bytes, dst: bytes, proto: int, seg: bytes) -> bytes:
        self.ident += 1
        etype, packet = ip(src, dst, proto, seg, self.ident)
        vlan = 100 if src[-1] % 16 == 0 else 0
        return ether(self._mac(dst), self._mac(src), etype, packet, vlan)

    def _tcp(self, src, dst, sport, dport, seq, ack, flags, payload=b"", syn=False) -> bytes:
        ts = struct.pack("!BBII", 8, 10, self.ident & 0xFFFFFFFF, (self.ident * 7) & 0xFFFFFFFF)
        opts = (b"\x02\x04\x05\xb4\x04\x02" + ts + b"\x01\x03\x03\x07") if syn \
            else b"\x01\x01" + ts
        hl = 20 + len(opts)
        seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          (hl // 4) << 4, flags, 501 if not syn else 64240, 0, 0) + opts + payload
        return self._frame(src, dst, 6, l4_checksum(src, dst, 6, seg, 16))

    def tcp_flow(self) -> list[bytes]:
        """A whole short conversation: handshake, a response in full segments, teardown."""
        rng = self.rng
        hosts = HOSTS4 if rng.random() < 0.7 else HOSTS6
        c, s = rng.sample(hosts, 2)
        cp, sp = rng.randrange(32768, 61000), rng.choice((80, 443, 22, 8080))
        cs, ss = rng.getrandbits(32), rng.getrandbits(32)
        out = [self._tcp(c, s, cp, sp, cs, 0, 0x02, syn=True),
               self._tcp(s, c, sp, cp, ss, cs + 1, 0x12, syn=True),
               self._tcp(c, s, cp, sp, cs + 1, ss + 1, 0x10)]
        request = rng.randbytes(rng.randrange(60, 600))
        out.append(self._tcp(c, s, cp, sp, cs + 1, ss + 1, 0x18, request))
        cs += 1 + len(request)
        ss += 1
        mss = 1448 if len(c) == 4 else 1428
        for i in range(rng.randrange(2, 30)):
            size = mss if rng.random() < 0.8 else rng.randrange(1, mss)
            out.append(self._tcp(s, c, sp, cp, ss, cs, 0x18 if size < mss else 0x10,
                                 rng.randbytes(size)))
            ss += size
            if i % 2:
                out.append(self._tcp(c, s, cp, sp, cs, ss, 0x10))
        out += [self._tcp(s, c, sp, cp, ss, cs, 0x11), self._tcp(c, s, cp, sp, cs, ss + 1, 0x11),
                self._tcp(s, c, sp, cp, ss + 1, cs + 1, 0x10)]
        return out

    def dns(self) -> list[bytes]:
        rng = self.rng
        v6 = rng.random() < 0.3
        client = rng.choice(HOSTS6 if v6 else HOSTS4)
        server = RESOLVER6 if v6 else RESOLVER4
        name, qtype = rng.choice(NAMES), rng.choice((1, 1, 1, 28))
        txid, port = rng.getrandbits(16), rng.randrange(1024, 65535)
        question = qname(name) + struct.pack("!HH", qtype, 1)
        query = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 1) + question \
            + b"\0\x00\x29\x04\xd0\0\0\0\0\0\0"
        answers = b""
        count = rng.randrange(1, 4)
        for _ in range(count):
            rdata = bytes(HOSTS4[rng.randrange(256)]) if qtype == 1 else HOSTS6[rng.randrange(128)]
            answers += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(rdata)) + rdata
        reply = struct.pack("!HHHHHH", txid, 0x8180, 1, count, 0, 0) + question + answers
        out = []
        for src, dst, sport, dport, msg in ((client, server, port, 53, query),
                                            (server, client, 53, port, reply)):
            seg = struct.pack("!HHHH", sport, dport, 8 + len(msg), 0) + msg
            out.append(self._frame(src, dst, 17, l4_checksum(src, dst, 17, seg, 6)))
        return out

    def udp(self) -> list[bytes]:
        rng = self.rng
        hosts = HOSTS4 if rng.random() < 0.7 else HOSTS6
        a, b = rng.sample(hosts, 2)
        msg = rng.randbytes(rng.choice((48, 100, 160, 512, 1200)))
        seg = struct.pack("!HHHH", rng.randrange(1024, 65535), rng.choice((123, 514, 5004, 4789)),
                          8 + len(msg), 0) + msg
        return [self._frame(a, b, 17, l4_checksum(a, b, 17, seg, 6))]

    def icmp(self) -> list[bytes]:
        rng = self.rng
        a, b = rng.sample(HOSTS4, 2)
        ident, seq, data = rng.getrandbits(16), rng.getrandbits(8), rng.randbytes(56)
        out = []
        for src, dst, typ in ((a, b, 8), (b, a, 0)):
            msg = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
            msg = msg[:2] + struct.pack("!H", inet_checksum(msg)) + msg[4:]
            out.append(self._frame(src, dst, 1, msg))
        return out

    def icmp6(self) -> list[bytes]:
        rng = self.rng
        a, b = rng.sample(HOSTS6, 2)
        if rng.random() < 0.5:
            ns = struct.pack("!BBHI16s", 135, 0, 0, 0, b) + b"\x01\x01" + self._mac(a)
            na = struct.pack("!BBHI16s", 136, 0, 0, 0x60000000, b) + b"\x02\x01" + self._mac(b)
            msgs = ((a, b, ns), (b, a, na))
        else:
            ident, seq, data = rng.getrandbits(16), rng.getrandbits(8), rng.randbytes(56)
            msgs = ((a, b, struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data),
                    (b, a, struct.pack("!BBHHH", 129, 0, 0, ident, seq) + data))
        return [self._frame(s, d, 58, l4_checksum(s, d, 58, m, 2)) for s, d, m in msgs]

    def arp(self) -> list[bytes]:
        a, b = self.rng.sample(HOSTS4, 2)
        ma, mb = self._mac(a), self._mac(b)
        pad = bytes(18)
        req = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, ma, a, bytes(6), b) + pad
        rep = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, mb, b, ma, a) + pad
        return [ether(b"\xff" * 6, ma, 0x0806, req), ether(ma, mb, 0x0806, rep)]

    def lan(self) -> list[bytes]:
        """One exchange of a LAN service (see the module's docstring), addressed like the rest."""
        rng = self.rng
        a, b = rng.sample(HOSTS4, 2)
        port = rng.randrange(1024, 65535)
        kind = rng.randrange(10)
        if kind == 0:  # TFTP: a read request, and the server's error from its own port
            req = b"\x00\x01" + rng.choice(NAMES).encode() + b"\x00octet\x00blksize\x001428\x00"
            err = b"\x00\x05\x00\x01File not found\x00"
            return [self._udp4(a, b, port, 69, req), self._udp4(b, a, 50000 + kind, port, err)]
        if kind == 1:  # RIPv2: a response with a few routes
            routes = b"".join(struct.pack("!HH4s4s4sI", 2, 0, h[:3] + b"\0", b"\xff\xff\xff\0",
                                          bytes(4), rng.randrange(1, 16))
                              for h in rng.sample(HOSTS4, rng.randrange(1, 6)))
            return [self._udp4(a, b, 520, 520, b"\x02\x02\x00\x00" + routes)]
        if kind == 2:  # HSRP v0: a hello from the active router
            msg = struct.pack("!8B8s4s", 0, 0, 16, 3, 10, rng.randrange(256), rng.randrange(256),
                              0, b"cisco\0\0\0", b)
            return [self._udp4(a, b, 1985, 1985, msg)]
        if kind == 3:  # VRRP v2 over IPv4, v3 over IPv6: an advertisement, TTL 255
            if rng.random() < 0.5:
                msg = struct.pack("!6BH4s8x", 0x21, rng.randrange(1, 256), 100, 1, 0, 1, 0, b)
                msg = msg[:6] + struct.pack("!H", inet_checksum(msg)) + msg[8:]
                return [ether(self._mac(b), self._mac(a), 0x0800, ipv4(a, b, 112, msg, 0, 255))]
            c, d = rng.sample(HOSTS6, 2)
            msg = struct.pack("!4BHH16s", 0x31, rng.randrange(1, 256), 100, 1, 100, 0, d)
            return [ether(self._mac(d), self._mac(c), 0x86DD,
                          ipv6(c, d, 112, l4_checksum(c, d, 112, msg, 6), 255))]
        if kind == 4:  # multicast DNS: a question asking for a unicast answer, and the answer
            name = qname(rng.choice(NAMES).replace(".example.", "-") + ".local")
            q = struct.pack("!6H", 0, 0, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 0x8001)
            r = (struct.pack("!6H", 0, 0x8400, 0, 1, 0, 0) + name
                 + struct.pack("!HHIH4s", 1, 0x8001, 120, 4, b))
            return [self._udp4(a, b, 5353, 5353, q), self._udp4(b, a, 5353, 5353, r)]
        if kind == 5:  # LACP (IEEE 802.1AX over Slow Protocols): an actor/partner PDU
            info = struct.pack("!H6sHHHB3x", 0x8000, self._mac(a), 1, 0x8000, 1, 0x3D)
            # Actor and partner TLVs (type, length 20), the collector's (3, 16), the terminator.
            pdu = (b"\x01\x01" + b"\x01\x14" + info + b"\x02\x14" + info
                   + b"\x03\x10" + bytes(14) + b"\x00\x00" + bytes(50))
            return [ether(b"\x01\x80\xc2\x00\x00\x02", self._mac(a), 0x8809, pdu)]
        if kind == 6:  # MPLS: one label, bottom of stack, over an IPv4 UDP datagram
            inner = ipv4(a, b, 17, struct.pack("!HHHH", port, 5004, 8 + 32, 0) + bytes(32),
                         rng.getrandbits(16))
            label = struct.pack("!I", rng.randrange(16, 1 << 20) << 12 | 1 << 8 | 64)
            return [ether(self._mac(b), self._mac(a), 0x8847, label + inner)]
        if kind == 7:  # SNMPv2c: a get-request for sysDescr.0
            oid = b"\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00"
            varbind = b"\x30" + bytes([len(oid) + 2]) + oid + b"\x05\x00"
            vbl = b"\x30" + bytes([len(varbind)]) + varbind
            body = (b"\x02\x04" + rng.randbytes(4) + b"\x02\x01\x00\x02\x01\x00" + vbl)
            pdu = b"\xa0" + bytes([len(body)]) + body
            msg = b"\x02\x01\x01\x04\x06public" + pdu
            return [self._udp4(a, b, port, 161, b"\x30" + bytes([len(msg)]) + msg)]
        if kind == 8:  # L2TP: a control connection's Hello (its message type AVP only)
            avp = struct.pack("!HHHH", 0x8008, 0, 0, 6)
            msg = struct.pack("!HHHHHH", 0xC802, 12 + len(avp), rng.randrange(1, 65535), 0,
                              1, 1) + avp
            return [self._udp4(a, b, 1701, 1701, msg)]
        # SMB over NetBIOS session service: a Negotiate request (TCP 445 and 139)
        smb = (b"\xffSMB\x72" + bytes(4) + b"\x18\x01\x28" + bytes(12) + b"\xff\xfe"
               + bytes(6) + b"\x00\x0c\x00\x02NT LM 0.12\x00")
        nb = b"\x00" + struct.pack("!I", len(smb))[1:] + smb
        return [self._tcp(a, b, port, rng.choice((445, 139)), rng.getrandbits(32),
                          rng.getrandbits(32), 0x18, nb)]

    def _udp4(self, src: bytes, dst: bytes, sport: int, dport: int, msg: bytes) -> bytes:
        seg = struct.pack("!HHHH", sport, dport, 8 + len(msg), 0) + msg
        return self._frame(src, dst, 17, l4_checksum(src, dst, 17, seg, 6))

    def zoo(self) -> list[bytes]:
        """The next frame of one of the ZOO captures, each replayed in its own order."""
        i = self.rng.randrange(len(ZOO))
        frames, n = self.zoo_frames[i], self.zoo_next[i]
        self.zoo_next[i] = (n + 1) % len(frames)
        return [frames[n]]

    def next(self) -> bytes:
        if not self.pending:
            # About 218 frames in 59 draws without the zoo: a weight of 5 makes it 2 %,
            # and the LAN services' 1.4 frames a draw at weight 2, about 1 %.
            kind = self.rng.choices((self.tcp_flow, self.dns, self.udp, self.icmp, self.icmp6,
                                     self.arp, self.zoo, self.lan),
                                    weights=(4, 30, 12, 6, 4, 3, 5, 2))[0]
            self.pending = kind()[::-1]
        return self.pending.pop()


def write(path: str, count: int, seed: int) -> None:
    """Write `count` frames to `path` as a microsecond pcap (what tcpdump -w makes)."""
    traffic = Traffic(random.Random(seed))
    ts = 1_700_000_000_000_000
    rng = random.Random(seed + 1)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        chunk = []
        for i in range(count):
            frame = traffic.next()
            ts += rng.randrange(1, 200)
            sec, usec = divmod(ts, 1_000_000)
            chunk.append(_REC.pack(sec, usec, len(frame), len(frame)) + frame)
            if len(chunk) == 10000 or i == count - 1:
                f.write(b"".join(chunk))
                chunk = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", help="pcap file to write")
    parser.add_argument("--count", type=int, default=1_000_000, help="packets (default 1000000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write(args.out, args.count, args.seed)


if __name__ == "__main__":
    main()
