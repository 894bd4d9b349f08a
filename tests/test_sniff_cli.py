"""`rawtools sniff` from files: output, -w, --json, and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess

import pytest
from conftest import CORPUS, rawtools_argv
from test_capture import mixed, udp_frame, write_pcap

from rawtools.io.pcapfile import read_packets

needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")


def tcpdump(*args: str) -> subprocess.CompletedProcess:
    """The real tcpdump on the same file: the oracle for sniff's text."""
    return subprocess.run(["tcpdump", *args], capture_output=True, text=True, timeout=120)


def assert_same_as_tcpdump(ours: str, theirs: str) -> None:
    """sniff's lines are tcpdump's, one for one.

    The fixture's DNS-port datagrams carry 20 bytes of 'x', which tcpdump 4.99.3
    decodes as opcode "zoneRef" where rawtools prints "op15": on those lines only the
    packet's identity (time, addresses, ports) is compared.
    """
    mine, peer = ours.splitlines(), [ln for ln in theirs.splitlines() if ln[:1].isdigit()]
    assert len(mine) == len(peer), (len(mine), len(peer))
    for n, (a, b) in enumerate(zip(mine, peer, strict=True), 1):
        cut = b.find(".53: ")
        if cut >= 0:
            a, b = a[:cut + 5], b[:cut + 5]
        assert a == b, f"line {n}:\n rawtools {a}\n tcpdump  {b}"


def sniff(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(rawtools_argv("sniff", *args), capture_output=True, timeout=120, **kw)


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The single stderr line of a refused run (exit 2, no traceback)."""
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def capfile(tmp_path):
    return write_pcap(tmp_path / "m.pcap", mixed(30))


@needs_tcpdump
def test_reads_file_one_line_per_packet_and_reports_file(capfile):
    proc = sniff("-n", "-r", str(capfile))
    assert proc.returncode == 0
    peer = tcpdump("-n", "-r", str(capfile))
    assert_same_as_tcpdump(proc.stdout.decode(), peer.stdout)
    assert len(proc.stdout.decode().splitlines()) == 30
    assert proc.stderr.decode().startswith(f"reading from file {capfile}, link-type EN10MB")
    assert proc.stderr.decode().splitlines()[0] == peer.stderr.splitlines()[0]


@needs_tcpdump
def test_filter_from_remaining_arguments_and_count(capfile):
    proc = sniff("-n", "-r", str(capfile), "udp", "dst", "port", "53")
    assert_same_as_tcpdump(proc.stdout.decode(),
                           tcpdump("-n", "-r", str(capfile), "udp", "dst", "port", "53").stdout)
    assert len(proc.stdout.decode().splitlines()) == 10
    proc = sniff("-n", "-c", "4", "-r", str(capfile), "icmp")
    assert_same_as_tcpdump(proc.stdout.decode(),
                           tcpdump("-n", "-c", "4", "-r", str(capfile), "icmp").stdout)
    assert len(proc.stdout.decode().splitlines()) == 4


def test_write_keeps_exactly_the_matching_packets(capfile, tmp_path):
    out = tmp_path / "out.pcap"
    proc = sniff("-r", str(capfile), "-w", str(out), "udp")
    assert proc.returncode == 0 and proc.stdout == b""
    _, recs = read_packets(str(out))
    want = [d for i, (_, d) in enumerate(mixed(30)) if i % 3 != 1]
    assert [d for _, d in recs] == want


@needs_tcpdump
def test_write_to_stdout_is_a_pcap_stream(capfile, tmp_path):
    proc = sniff("-r", str(capfile), "-w", "-", "icmp")
    out = tmp_path / "stdout.pcap"
    out.write_bytes(proc.stdout)
    _, recs = read_packets(str(out))
    assert len(list(recs)) == 10
    # tcpdump reads the stream back as the very packets its own filter picks.
    assert tcpdump("-n", "-r", str(out)).stdout == \
        tcpdump("-n", "-r", str(capfile), "icmp").stdout


@needs_tcpdump
def test_pcapng_output_is_read_by_tcpdump(capfile, tmp_path):
    out = tmp_path / "o.pcapng"
    assert sniff("-r", str(capfile), "-w", str(out), "--pcapng", "udp").returncode == 0
    assert out.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"
    res = subprocess.run(["tcpdump", "-nr", str(out)], capture_output=True, text=True)
    assert res.returncode == 0 and len(res.stdout.splitlines()) == 20


def test_json_lines_end_with_a_summary(capfile):
    proc = sniff("-n", "--json", "-r", str(capfile), "udp port 53")
    objs = [json.loads(ln) for ln in proc.stdout.decode().splitlines()]
    assert [o["type"] for o in objs] == ["packet"] * 10 + ["summary"]
    assert all(o["schema"] == "rawtools/1" and o["tool"] == "sniff" for o in objs)
    assert objs[-1]["captured"] == 10


def test_size_rotation_from_the_command_line(tmp_path):
    pkts = [(1_700_000_000 * 10**9 + i * 1000, udp_frame(1, 2, b"q" * 958)) for i in range(12)]
    src = write_pcap(tmp_path / "big.pcap", pkts)
    out = tmp_path / "rot" / "part"
    out.parent.mkdir()
    assert sniff("-r", str(src), "-w", str(out), "-C", "0.004").returncode == 0
    names = sorted(p.name for p in out.parent.iterdir())
    assert names == ["part", "part1", "part2"]
    counts = [len(list(read_packets(str(out.parent / n))[1])) for n in names]
    assert counts == [4, 4, 4]


@pytest.mark.parametrize("args,needle", [
    (["udp", "port"], "syntax error"),
    (["udp", "port", "nosuchservice"], "unknown port 'nosuchservice'"),
])
def test_bad_filter_is_one_line_with_libpcaps_message(capfile, args, needle):
    assert needle in one_line_error(sniff("-r", str(capfile), *args))


def test_missing_unreadable_and_non_pcap_files(tmp_path):
    assert "No such file" in one_line_error(sniff("-r", str(tmp_path / "none.pcap")))
    junk = tmp_path / "junk.pcap"
    junk.write_text("not a capture at all\n" * 10)
    assert "unknown file format" in one_line_error(sniff("-r", str(junk)))
    assert one_line_error(sniff("-r", str(tmp_path)))  # a directory


@needs_tcpdump
def test_truncated_file_prints_what_it_can_then_fails(capfile, tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capfile.read_bytes()[:-10])
    proc = sniff("-n", "-r", str(cut))
    peer = tcpdump("-n", "-r", str(cut))
    assert_same_as_tcpdump(proc.stdout.decode(), peer.stdout)
    assert len(proc.stdout.decode().splitlines()) == 29
    err = proc.stderr.decode().splitlines()
    assert proc.returncode == 2 and "truncated dump file" in err[-1]
    # libpcap's own sentence, as tcpdump prints it after "pcap_loop: ".
    assert err[-1].endswith(peer.stderr.splitlines()[-1].split("pcap_loop: ", 1)[1])
    assert "Traceback" not in proc.stderr.decode()


# A damaged file read on the batch path (snapshot length 262144) is reopened and read
# again packet by packet up to the damage; the filter must hold on the reopened handle.
# Corpus files written by current tcpdump (snaplen 262144), cut 7 bytes short.
@needs_tcpdump
@pytest.mark.parametrize("name,expr,whole", [
    ("dns-badcookie.pcap", "udp dst port 53", True),
    ("dhcp-rfc4388.pcap", "udp dst port 67", False),
    ("babel_rfc6126bis.pcap", "ip6 src fe80::e091:f5ff:fecc:7abd", False),
])
def test_damaged_file_reopened_keeps_the_filter_as_tcpdump(tmp_path, name, expr, whole):
    data = (CORPUS / name).read_bytes()
    assert struct.unpack_from("<I", data, 16)[0] > 65535  # the batch path, then the reopen
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-7])
    proc = sniff("-n", "-r", str(cut), expr)
    peer = tcpdump("-n", "-r", str(cut), expr)
    assert proc.returncode == 2 and peer.returncode == 1
    ours = proc.stdout.decode().splitlines()
    theirs = [ln for ln in peer.stdout.splitlines() if ln[:1].isdigit()]
    assert 0 < len(theirs) < len(tcpdump("-n", "-r", str(cut)).stdout.splitlines())
    if whole:
        assert ours == theirs
    else:  # rawtools decodes fewer application protocols: the packets' identity
        assert [ln.split(": ", 1)[0] for ln in ours] == \
            [ln.split(": ", 1)[0] for ln in theirs]


def test_damaged_synthetic_file_reopened_keeps_the_filter(tmp_path):
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(write_pcap(tmp_path / "m.pcap", mixed(60)).read_bytes()[:-10])
    proc = sniff("-n", "-r", str(cut), "udp dst port 53")
    lines = proc.stdout.decode().splitlines()
    # mixed(): every third packet of 60 is a DNS query; the last (an ICMP echo) is cut.
    assert len(lines) == 20 and all(".53: " in ln for ln in lines)


def test_usage_errors_are_one_line(capfile):
    assert "need -w" in one_line_error(sniff("-r", str(capfile), "-C", "1"))
    assert "needs -w" in one_line_error(sniff("-r", str(capfile), "--pcapng"))
    assert "immediate" in one_line_error(sniff("-i", "lo", "--immediate", "--backend", "pcap"))


def test_missing_interface_is_one_line():
    line = one_line_error(sniff("-i", "nosuch0"))
    assert "nosuch0" in line and ("No such device" in line or "permission" in line)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to become nobody")
@pytest.mark.parametrize("backend", ["pcap", "packet"])
def test_no_permission_says_what_is_needed(backend):
    argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
            *rawtools_argv("sniff", "-i", "lo", "--backend", backend)]
    proc = subprocess.run(argv, capture_output=True, timeout=60, cwd="/")
    line = one_line_error(proc)
    assert "root or CAP_NET_RAW" in line
