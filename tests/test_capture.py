"""The capture handle, the pcapng writer and -w rotation, on files made here."""

from __future__ import annotations

import shutil
import struct
import subprocess

import dpkt
import pytest

from rawtools.errors import CaptureError
from rawtools.io.capture import Capture, _file_snaplen
from rawtools.io.pcapfile import PcapWriter, read_packets
from rawtools.io.pcapng import PcapngWriter
from rawtools.tools.sniff.output import CaptureWriter, parse_size, rotated_name

T0 = 1_700_000_000_000_000_000


def udp_frame(sport: int, dport: int, payload: bytes = b"x" * 20) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(src=bytes([198, 18, 0, 1]), dst=bytes([198, 18, 1, 2]), p=17, data=udp)
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=0x0800,
                                        data=ip))


def icmp_frame(seq: int, size: int = 56) -> bytes:
    icmp = dpkt.icmp.ICMP(type=8, data=dpkt.icmp.ICMP.Echo(id=7, seq=seq, data=b"z" * size))
    ip = dpkt.ip.IP(src=bytes([198, 18, 0, 1]), dst=bytes([198, 18, 1, 2]), p=1, data=icmp)
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=0x0800,
                                        data=ip))


def mixed(n: int) -> list[tuple[int, bytes]]:
    """n packets: every third a DNS query, the others ICMP echoes and other UDP."""
    out = []
    for i in range(n):
        if i % 3 == 0:
            frame = udp_frame(40000 + i, 53)
        elif i % 3 == 1:
            frame = icmp_frame(i)
        else:
            frame = udp_frame(5000, 6000 + i)
        out.append((T0 + i * 1_000_000 + i, frame))  # microsecond steps, odd nanoseconds
    return out


def write_pcap(path, packets, snaplen=262144, nanoseconds=False):
    with open(path, "wb") as f:
        w = PcapWriter(f, linktype=1, snaplen=snaplen, nanoseconds=nanoseconds)
        for ts, data in packets:
            cut = data[:snaplen]
            w.write(ts, cut, len(data))
    return path


def as_us(ts_ns: int) -> int:
    """libpcap 1.9.1 reads microseconds, so a nanosecond stamp comes back truncated."""
    return ts_ns // 1000 * 1000


@pytest.mark.parametrize("snaplen", [262144, 65535])
def test_offline_reads_every_packet_with_timestamp_and_length(tmp_path, snaplen):
    # 262144 takes the next_batch path, 65535 the exact dispatch path.
    pkts = mixed(50)
    path = write_pcap(tmp_path / "m.pcap", pkts, snaplen)
    with Capture.open_offline(str(path)) as cap:
        got = list(cap.packets())
    assert [(ts, d, n) for ts, d, n in got] == [(as_us(ts), d, len(d)) for ts, d in pkts]


def test_filter_runs_in_libpcap_and_count_stops_early(tmp_path):
    pkts = mixed(60)
    path = write_pcap(tmp_path / "m.pcap", pkts)
    with Capture.open_offline(str(path)) as cap:
        cap.set_filter("udp dst port 53")
        got = list(cap.packets())
    assert [d for _, d, _ in got] == [d for i, (_, d) in enumerate(pkts) if i % 3 == 0]
    with Capture.open_offline(str(path)) as cap:
        cap.set_filter("icmp")
        assert len(list(cap.packets(count=5))) == 5


def test_truncated_packets_keep_their_wire_length(tmp_path):
    pkts = [(T0 + i * 1000, icmp_frame(i, size=200)) for i in range(4)]
    path = write_pcap(tmp_path / "short.pcap", pkts, snaplen=96)
    with Capture.open_offline(str(path)) as cap:
        got = list(cap.packets())
    assert [(len(d), n) for _, d, n in got] == [(96, len(f)) for _, f in pkts]


def test_truncated_file_gives_good_packets_then_one_error(tmp_path):
    pkts = mixed(40)
    whole = write_pcap(tmp_path / "whole.pcap", pkts)
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(whole.read_bytes()[:-30])
    cap = Capture.open_offline(str(cut))
    got = []
    with pytest.raises(CaptureError, match="truncated"):
        for batch in cap.batches():
            got.extend(batch)
    assert [d for _, d, _ in got] == [d for _, d in pkts[:-1]]


@pytest.mark.parametrize("content,needle", [(b"", "truncated dump file"),
                                            (b"hello, this is not a capture\n" * 4,
                                             "unknown file format")])
def test_not_a_capture_is_a_capture_error(tmp_path, content, needle):
    path = tmp_path / "junk.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureError, match=f"^{path}: .*{needle}"):
        Capture.open_offline(str(path))


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(CaptureError, match=r"nope\.pcap: No such file"):
        Capture.open_offline(str(tmp_path / "nope.pcap"))


def test_bad_filter_gives_libpcaps_message(tmp_path):
    path = write_pcap(tmp_path / "m.pcap", mixed(3))
    with Capture.open_offline(str(path)) as cap:
        with pytest.raises(CaptureError, match="syntax error"):
            cap.set_filter("udp port")
        with pytest.raises(CaptureError, match="unknown port 'nosuchservice'"):
            cap.set_filter("udp port nosuchservice")


def test_file_snaplen_of_pcap_and_pcapng(tmp_path):
    p = write_pcap(tmp_path / "a.pcap", mixed(1), snaplen=1234)
    assert _file_snaplen(str(p)) == 1234
    ng = tmp_path / "b.pcapng"
    with open(ng, "wb") as f:
        PcapngWriter(f, 1, snaplen=4321).close()
    assert _file_snaplen(str(ng)) == 4321
    assert _file_snaplen(str(tmp_path / "missing")) == 0


def pcapng_blocks(data: bytes) -> list[tuple[int, bytes]]:
    blocks, off = [], 0
    while off < len(data):
        btype, total = struct.unpack_from("<II", data, off)
        blocks.append((btype, data[off + 8:off + total - 4]))
        off += total
    return blocks


def test_pcapng_round_trip_and_statistics_block(tmp_path):
    from rawtools.io.capture import CaptureStats

    pkts = mixed(10)
    path = tmp_path / "s.pcapng"
    with open(path, "wb") as f:
        # 65535: small enough that the reader trusts the recorded wire length.
        w = PcapngWriter(f, 1, snaplen=65535, if_name="l0a")
        for ts, data in pkts:
            w.write(ts, data, len(data) + 3)
        w.write_statistics(CaptureStats(received=12, dropped=2, ifdropped=1), T0 + 10**9)
        w.close()
    with Capture.open_offline(str(path)) as cap:
        got = list(cap.packets())
    assert [(ts, d, n) for ts, d, n in got] == [(as_us(ts), d, len(d) + 3) for ts, d in pkts]
    blocks = pcapng_blocks(path.read_bytes())
    assert [b for b, _ in blocks] == [0x0A0D0D0A, 1] + [6] * 10 + [5]
    isb = blocks[-1][1]
    opts, off = {}, 12
    while off < len(isb):
        code, length = struct.unpack_from("<HH", isb, off)
        opts[code] = isb[off + 4:off + 4 + length]
        off += 4 + length + (-length % 4)
    assert struct.unpack("<Q", opts[6])[0] == 12  # isb_filteraccept
    assert struct.unpack("<Q", opts[7])[0] == 2  # isb_osdrop
    assert struct.unpack("<Q", opts[5])[0] == 1  # isb_ifdrop
    assert struct.unpack("<Q", opts[8])[0] == 10  # isb_usrdeliv
    high, low = struct.unpack("<II", opts[2])
    assert (high << 32 | low) == pkts[0][0]  # nanosecond start time, exact


@pytest.mark.skipif(shutil.which("tshark") is None, reason="needs tshark")
def test_tshark_reads_pcapng_with_nanoseconds(tmp_path):
    pkts = mixed(5)
    path = tmp_path / "t.pcapng"
    with open(path, "wb") as f:
        w = PcapngWriter(f, 1)
        for ts, data in pkts:
            w.write(ts, data)
        w.write_statistics(None, T0)
        w.close()
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.time_epoch"],
                         capture_output=True, text=True, check=True).stdout.split()
    assert [int(x.replace(".", "")) for x in out] == [ts for ts, _ in pkts]


def test_rotated_names_follow_tcpdump():
    assert rotated_name("cap", 0, 0, None) == "cap"
    assert rotated_name("cap", 3, 0, None) == "cap3"
    assert rotated_name("cap", 0, 2, None) == "cap00"
    assert rotated_name("cap-%Y", 0, 0, 0.0).startswith("cap-19")


def test_parse_size_units():
    assert parse_size("2") == 2_000_000
    assert parse_size("0.5") == 500_000
    assert parse_size("10k") == 10 * 1024
    assert parse_size("1m") == 1024 * 1024


def test_size_rotation_with_ring_of_files(tmp_path):
    pkts = [(T0 + i, udp_frame(1, 2, b"p" * 958)) for i in range(40)]  # 1016-byte records
    base = tmp_path / "ring"
    w = CaptureWriter(str(base), 1, 262144, size=4000, files=3)
    assert w.write_batch([(ts, d, len(d)) for ts, d in pkts]) == 40
    w.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ring0", "ring1", "ring2"]
    # 4 records fit before a file passes 4000 bytes, so 40 packets make ten
    # files in a ring of three: ring0 holds the tenth, ring1/ring2 the 8th/9th.
    stamps = {name: [ts for ts, _ in read_packets(str(tmp_path / name))[1]]
              for name in ("ring0", "ring1", "ring2")}
    assert stamps == {"ring0": [ts for ts, _ in pkts[36:40]],
                      "ring1": [ts for ts, _ in pkts[28:32]],
                      "ring2": [ts for ts, _ in pkts[32:36]]}


def test_time_rotation_stops_after_w_files(tmp_path):
    now = [1000.0]
    w = CaptureWriter(str(tmp_path / "t%S"), 1, 262144, seconds=10, files=2,
                      clock=lambda: now[0])
    frame = udp_frame(1, 2)
    assert w.write_batch([(T0, frame, len(frame))]) == 1
    now[0] += 10
    assert w.write_batch([(T0, frame, len(frame))]) == 1  # second file
    now[0] += 10
    assert w.write_batch([(T0, frame, len(frame))]) == 0
    assert w.finished
    w.close()
    assert len(list(tmp_path.iterdir())) == 2
