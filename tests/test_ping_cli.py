"""Bad input to rawtools ping: one clear line on stderr, exit 2, no traceback."""

import os
import shutil
import subprocess

import pytest
from conftest import CORPUS, rawtools_argv, without_privileges


def run(*args, unprivileged=False):
    argv = rawtools_argv("ping", *args)
    if unprivileged:
        if os.geteuid() != 0 or shutil.which("setpriv") is None:
            pytest.skip("needs root to drop capabilities with setpriv")
        argv = without_privileges(argv)
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def one_line_error(r, *words):
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0]
    return lines[0]


@pytest.mark.parametrize("args,words", [
    (["-c", "0", "198.18.0.1"], ["count"]),
    (["-c", "-3", "198.18.0.1"], ["-c"]),
    (["-W", "-1", "198.18.0.1"], ["-W"]),
    (["-W", "0", "198.18.0.1"], ["timeout"]),
    (["-w", "0", "198.18.0.1"], ["deadline"]),
    (["-s", "70000", "198.18.0.1"], ["-s"]),
    (["-t", "0", "198.18.0.1"], ["-t"]),
    (["-t", "256", "198.18.0.1"], ["-t"]),
    (["-p", "xyz", "198.18.0.1"], ["hex"]),
    (["-c", "abc", "198.18.0.1"], ["-c"]),
    (["::ffff:198.18.0.1"], ["IPv4-mapped"]),
    (["-4", "2001:db8::1"], ["IPv4"]),
    (["-I", "198.18.0.1", "198.18.0.1", "2001:db8::1"], ["source address", "mix"]),
    (["-g", "198.18.0.0/8"], ["more than"]),
    (["-g", "not-a-net"], ["-g"]),
    ([], ["no target"]),
    # issue 11, defect 1: nan and inf got past the range checks into int() (a traceback)
    (["-i", "nan", "198.18.0.1"], ["interval (-i)", "nan"]),
    (["-i", "inf", "198.18.0.1"], ["interval (-i)", "inf"]),
    (["-W", "nan", "198.18.0.1"], ["timeout (-W)", "nan"]),
    (["-W", "inf", "198.18.0.1"], ["timeout (-W)", "inf"]),
    (["-w", "nan", "198.18.0.1"], ["deadline (-w)", "nan"]),
    (["-w", "inf", "198.18.0.1"], ["deadline (-w)", "inf"]),
    (["-w", "1e300", "198.18.0.1"], ["deadline (-w)", "at most 2147483 seconds"]),
])
def test_bad_arguments(args, words):
    one_line_error(run(*args), *words)


def test_short_interval_and_flood_need_privileges():
    one_line_error(run("-i", "0.1", "-c", "1", "198.18.0.1", unprivileged=True), "200ms")
    one_line_error(run("-f", "-c", "1", "198.18.0.1", unprivileged=True), "flood")


def test_no_permission_for_a_raw_socket_says_what_is_needed():
    line = one_line_error(run("--socket", "raw", "-c", "1", "198.18.0.1", unprivileged=True))
    assert "sudo" in line and "CAP_NET_RAW" in line


def test_replay_file_problems(tmp_path):
    one_line_error(run("--replay", str(tmp_path / "missing.pcap")), "missing.pcap")
    junk = tmp_path / "junk.pcap"
    junk.write_bytes(b"this is not a capture at all")
    one_line_error(run("--replay", str(junk)), "junk.pcap")
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    one_line_error(run("--replay", str(empty)), "empty.pcap")
    zigbee = CORPUS / "802_15_4-data.pcap"
    if zigbee.exists():
        one_line_error(run("--replay", str(zigbee)), "link type")
    igmp = CORPUS / "IGMP_V1.pcap"  # Ethernet is fine, but there is no ping in it
    if igmp.exists():
        one_line_error(run("--replay", str(igmp)), "echo request")


def test_truncated_recording_replays_what_is_whole(tmp_path):
    from rawtools.io.pcapfile import PcapWriter
    from rawtools.wire.icmp import build_echo
    from rawtools.wire.ip import build_ipv4

    path = tmp_path / "cut.pcap"
    with open(path, "wb") as f:
        w = PcapWriter(f)
        echo = build_echo(4, 7, 1, bytes(range(56)))
        w.write(1_000_000_000, build_ipv4("198.18.0.1", "198.18.3.2", 1, 64, echo))
        reply = bytes([0, 0]) + echo[2:]
        reply = reply[:2] + (((echo[2] << 8 | echo[3]) + 0x0800) & 0xFFFF).to_bytes(2, "big") \
            + reply[4:]
        w.write(1_000_300_000, build_ipv4("198.18.3.2", "198.18.0.1", 1, 61, reply))
    data = path.read_bytes()
    path.write_bytes(data[:-10])  # the reply is cut short, as by a crash
    r = run("--replay", str(path))
    assert r.returncode == 1 and "1 packets transmitted, 0 received" in r.stdout
    path.write_bytes(data)
    r = run("--replay", str(path))
    assert r.returncode == 0 and "icmp_seq=1 ttl=61 time=0.300 ms" in r.stdout


def test_help_is_fast_to_import_and_lists_tools():
    r = subprocess.run(rawtools_argv("--help"), capture_output=True, text=True)
    assert r.returncode == 0
    for tool in ("ping", "trace", "sniff", "ifaces"):
        assert tool in r.stdout
