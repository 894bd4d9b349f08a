"""`rawtools sniff` against a careless or hostile user (issue 11): full disks, absurd flag
values, pipes, Ctrl-C during a slow filter, impossible timestamps, too few descriptors.

The oracles are tcpdump (its messages, limits and output on the same file) and the
device itself (/dev/full, a file size limit).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import CORPUS, rawtools_argv
from test_capture import mixed, write_pcap
from test_sniff_cli import one_line_error, sniff

import rawtools
from rawtools.errors import CaptureError, UsageError
from rawtools.io.pcapfile import PcapWriter
from rawtools.io.pcapng import PcapngWriter

needs_tcpdump = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="needs tcpdump")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root")


@pytest.fixture
def capfile(tmp_path):
    return write_pcap(tmp_path / "m.pcap", mixed(3000))


def limited(limit_cmd: str, *args: str) -> subprocess.CompletedProcess:
    """rawtools run by a shell that first applies `limit_cmd` (a ulimit) to itself."""
    script = f"{limit_cmd}; exec \"$@\""
    return subprocess.run(["bash", "-c", script, "bash", *rawtools_argv(*args)],
                          capture_output=True, timeout=120)


def tcpdump_lines(path) -> tuple[list[str], str]:
    """tcpdump's line for each packet (not the indented lines some protocols add), stderr."""
    res = subprocess.run(["tcpdump", "-n", "-r", str(path)], capture_output=True, text=True,
                         timeout=120)
    return [ln for ln in res.stdout.splitlines() if not ln[:1].isspace()], res.stderr


# -- 2: a full disk ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [[], ["--pcapng"]])
def test_sniff_write_to_a_full_device_is_one_line(capfile, fmt):
    line = one_line_error(sniff("-r", str(capfile), "-w", "/dev/full", *fmt))
    assert line == "rawtools sniff: /dev/full: No space left on device"


def test_sniff_write_to_standard_output_on_a_full_device_is_one_line(capfile):
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(rawtools_argv("sniff", "-r", str(capfile), "-w", "-"),
                              stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert one_line_error(proc) == "rawtools sniff: standard output: No space left on device"


@pytest.mark.parametrize("fmt", [[], ["--json"]])
def test_sniff_text_to_a_full_device_is_one_line(capfile, fmt):
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(rawtools_argv("sniff", *fmt, "-r", str(capfile)),
                              stdout=full, stderr=subprocess.PIPE, timeout=120)
    err = proc.stderr.decode().splitlines()
    assert proc.returncode == 2 and err[0].startswith("reading from file "), err
    assert err[1:] == ["rawtools sniff: standard output: No space left on device"]


@needs_tcpdump
@pytest.mark.parametrize("fmt", [[], ["--pcapng"]])
def test_sniff_write_cut_by_the_device_leaves_only_whole_records(capfile, tmp_path, fmt):
    # `ulimit -f 64`: 64 KiB (bash counts KiB), then EFBIG, as a filling disk gives
    # ENOSPC; the file must end at a record boundary, so tcpdump reads it without complaint.
    out = tmp_path / "cut.pcap"
    proc = limited("ulimit -f 64", "sniff", "-r", str(capfile), "-w", str(out), *fmt)
    # Like tcpdump: the banner, then the error that ended the capture.
    err = proc.stderr.decode().splitlines()
    assert proc.returncode == 2 and err[0].startswith("reading from file "), err
    assert err[1:] == [f"rawtools sniff: {out}: File too large"]
    size = out.stat().st_size
    assert 0 < size <= 64 * 1024
    got, err = tcpdump_lines(out)
    want, _ = tcpdump_lines(capfile)
    assert "truncated" not in err and "error" not in err.lower(), err
    assert got and got == want[:len(got)]


def test_writers_raise_a_capture_error_on_a_full_device():
    with pytest.raises(CaptureError, match="No space left on device"):
        PcapWriter.open("/dev/full")
    with open("/dev/full", "wb", buffering=0) as f, pytest.raises(CaptureError, match="/dev/full"):
        PcapngWriter(f, 1)


@pytest.mark.lab
@needs_tcpdump
@pytest.mark.parametrize("tool", [["ping", "-c", "30", "-i", "0.01"], ["trace", "-q", "3"]])
def test_record_to_a_full_device_is_one_line(make_lab, tmp_path, tool):
    lab = make_lab(1)
    proc = lab.run("host", rawtools_argv(*tool, "--record", "/dev/full", lab.dst4))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"rawtools {tool[0]}: /dev/full: No space left on device\n"
    # Filled during the run (1 KiB allowed): the recording keeps its whole packets.
    rec = tmp_path / "rec.pcap"
    argv = ["bash", "-c", 'ulimit -f 1; exec "$@"', "bash",
            *rawtools_argv(*tool, "--record", str(rec), lab.dst4)]
    proc = lab.run("host", argv)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"rawtools {tool[0]}: {rec}: File too large\n"
    got, err = tcpdump_lines(rec)
    assert got and "truncated" not in err, err


# -- 3: values no capture can take --------------------------------------------------------

HUGE = "1099511627776"


@pytest.mark.parametrize("args,needle", [
    (["-s", HUGE], f"invalid snaplen {HUGE} (must be >= 0 and <= 262144)"),
    (["-s", "-1"], "invalid snaplen -1 (must be >= 0 and <= 262144)"),
    (["-B", HUGE], f"invalid packet buffer size {HUGE}"),
    (["-B", "0"], "invalid packet buffer size 0"),
    (["-B", HUGE, "--backend", "packet"], f"invalid packet buffer size {HUGE}"),
    (["-s", HUGE, "--backend", "packet"], f"invalid snaplen {HUGE}"),
    (["-c", "-1"], "invalid packet count -1"),
])
def test_capture_sizes_out_of_range_are_refused_as_tcpdump_does(args, needle):
    # On a live interface, so the value would really reach libpcap or the kernel.
    assert needle in one_line_error(sniff("-i", "lo", *args))


@pytest.mark.parametrize("args,needle", [
    (["-C", "inf"], "invalid file size inf"),
    (["-C", "1e400"], "invalid file size 1e400"),
    (["-C", "nan"], "invalid file size nan"),
    (["-C", "0"], "invalid file size 0"),
    (["-C", "9223372036855"], "file size 9223372036855 is too large"),
    (["-G", "-1"], "invalid number of seconds -1"),
    (["-G", "2147483648"], "invalid number of seconds 2147483648"),
    (["-W", "-1", "-C", "1"], "invalid number of output files -1"),
    (["-W", "0", "-C", "1"], "invalid number of output files 0"),
])
def test_rotation_values_tcpdump_refuses_are_refused(capfile, tmp_path, args, needle):
    out = tmp_path / "out.pcap"
    line = one_line_error(sniff("-r", str(capfile), "-w", str(out), *args))
    assert needle in line
    assert not out.exists()


@needs_tcpdump
@pytest.mark.parametrize("args", [["-s", "-1"], ["-B", "0"], ["-C", "inf"], ["-G", "-1"],
                                  ["-W", "-1", "-C", "1"], ["-c", "-1"]])
def test_tcpdump_refuses_the_same_values(capfile, tmp_path, args):
    res = subprocess.run(["tcpdump", "-r", str(capfile), "-w", str(tmp_path / "o"), *args],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "invalid" in res.stderr


@pytest.mark.parametrize("kw", [dict(snaplen=2**40), dict(snaplen=-1), dict(snaplen=1.5),
                                dict(buffer_kib=2**40), dict(buffer_kib=0),
                                dict(buffer_kib=float("nan")), dict(count=-1),
                                dict(count=float("inf")), dict(snaplen=True)])
@pytest.mark.parametrize("backend", ["pcap", "packet"])
def test_the_api_refuses_the_same_values_before_any_packet(kw, backend):
    with pytest.raises(UsageError):
        rawtools.sniff("lo", backend=backend, **kw)


# -- 4: pipes -----------------------------------------------------------------------------


@pytest.fixture(params=[65535, 262144], ids=["snap65535", "snap262144"])
def long_capture(request, tmp_path):
    """A corpus capture's 137 records repeated to 3,014, its header's snapshot length set
    to the parameter (65535 and 262144 take the reader's two paths)."""
    raw = (CORPUS / "of10_s4810.pcap").read_bytes()
    head = raw[:16] + request.param.to_bytes(4, "little") + raw[20:24]
    path = tmp_path / "long.pcap"
    path.write_bytes(head + raw[24:] * 22)
    return path


def _banner_snaplen(stderr: str) -> str:
    return stderr.splitlines()[0].rsplit("snapshot length ", 1)[1]


@needs_tcpdump
@pytest.mark.parametrize("how", ["fifo", "stdin", "process-substitution"])
def test_a_pipe_is_read_to_the_end_as_tcpdump_reads_it(long_capture, tmp_path, how):
    want, want_err = tcpdump_lines(long_capture)
    assert len(want) == 3014
    if how == "fifo":
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        feeder = subprocess.Popen(["cp", str(long_capture), str(fifo)])
        proc = sniff("-n", "-r", str(fifo))
        assert feeder.wait(timeout=60) == 0
    elif how == "stdin":
        with open(long_capture, "rb") as f:
            proc = sniff("-n", "-r", "-", stdin=f)
    else:
        proc = subprocess.run(["bash", "-c", 'exec "$@" <(cat "$0")', str(long_capture),
                               *rawtools_argv("sniff", "-n", "-r")], capture_output=True,
                              timeout=120)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    assert len(proc.stdout.splitlines()) == len(want)
    assert _banner_snaplen(err) == _banner_snaplen(want_err)


# -- 11: seconds no clock converts ---------------------------------------------------------

_SECONDS = (1, 90001, 90000, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 5, 0x80000000)


@needs_tcpdump
@pytest.mark.parametrize("snap", [65535, 262144])
@pytest.mark.parametrize("style", [[], ["-tt"], ["-ttt"]], ids=["abs", "epoch", "delta"])
def test_timestamps_beyond_2038_print_as_tcpdump_prints_them(tmp_path, snap, style):
    raw = (CORPUS / "of10_s4810.pcap").read_bytes()
    caplen = int.from_bytes(raw[32:36], "little")
    frame = raw[40:40 + caplen]
    path = tmp_path / "ts.pcap"
    path.write_bytes(raw[:16] + snap.to_bytes(4, "little") + raw[20:24] + b"".join(
        sec.to_bytes(4, "little") + (5).to_bytes(4, "little") + raw[32:40] + frame
        for sec in _SECONDS))
    env = {**os.environ, "TZ": "Asia/Kolkata"}
    want = subprocess.run(["tcpdump", "-n", *style, "-r", str(path)], capture_output=True,
                          text=True, env=env, timeout=60).stdout.splitlines()
    got = sniff("-n", *style, "-r", str(path), env=env).stdout.decode().splitlines()
    stamps = [ln.split(" IP ")[0] for ln in got]
    assert stamps == [ln.split(" IP ")[0] for ln in want]
    assert any("[Error converting time]" in s for s in stamps)


@needs_tcpdump
@pytest.mark.parametrize("fmt", [[], ["--pcapng"]])
def test_such_timestamps_are_saved_by_w_without_a_traceback(tmp_path, fmt):
    raw = (CORPUS / "of10_s4810.pcap").read_bytes()
    caplen = int.from_bytes(raw[32:36], "little")
    src = tmp_path / "ts.pcap"
    src.write_bytes(raw[:24] + b"".join(sec.to_bytes(4, "little") + raw[28:40 + caplen]
                                        for sec in _SECONDS))
    out = tmp_path / "out"
    proc = sniff("-r", str(src), "-w", str(out), *fmt)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    got, _ = tcpdump_lines(out)
    want, _ = tcpdump_lines(src)
    assert len(got) == len(want) == len(_SECONDS)
    if not fmt:  # classic pcap keeps the very bits: tcpdump prints the same times
        assert got == want


# -- 8: Ctrl-C during a long compile ------------------------------------------------------


def _interrupted_while_compiling(argv: list[str]) -> tuple[float, int, str]:
    """(seconds from SIGINT to exit, exit status, stderr) of `argv` interrupted 1.5 s in."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert proc.poll() is None, "the filter compiled too fast to interrupt"
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return time.monotonic() - start, proc.returncode, err


@needs_tcpdump
def test_ctrl_c_stops_a_long_filter_compile_at_once_as_in_tcpdump():
    # 400 hosts: libpcap 1.9.1 compiles it in about five seconds.
    expression = " or ".join(f"host 198.18.{i // 250}.{i % 250 + 1}" for i in range(400))
    path = str(CORPUS / "of10_s4810.pcap")
    took, status, err = _interrupted_while_compiling(rawtools_argv("sniff", "-r", path,
                                                                   expression))
    _, tcpdump_status, _ = _interrupted_while_compiling(["tcpdump", "-r", path, expression])
    assert took < 1.0 and "Traceback" not in err
    assert status == tcpdump_status == -signal.SIGINT  # the shell's 130


# -- 12: too few descriptors ----------------------------------------------------------------


def _no_traceback_with_few_descriptors(proc: subprocess.CompletedProcess) -> str:
    """stderr of a run under `ulimit -n`: it worked, or said why in one line with exit 2."""
    err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode()
    assert "Traceback" not in err, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert proc.returncode in (0, 2) and (proc.returncode == 0 or len(lines) == 1), err
    return err


@pytest.mark.parametrize("limit", [5, 6, 7, 8])
@pytest.mark.parametrize("args", [["sniff", "-n", "-r", "{F}"], ["sniff", "-r", "{F}", "-w", "{O}"],
                                  ["sniff", "--json", "-r", "{F}"], ["ifaces"], ["ping", "--help"],
                                  ["trace", "--help"]], ids=lambda a: "-".join(a[:2]))
def test_too_few_descriptors_is_one_line(tmp_path, limit, args):
    fill = {"{F}": str(CORPUS / "of10_s4810.pcap"), "{O}": str(tmp_path / "o.pcap")}
    err = _no_traceback_with_few_descriptors(limited(f"ulimit -n {limit}",
                                                     *[fill.get(a, a) for a in args]))
    if limit == 5 and args[0] == "sniff":
        [line] = err.splitlines()
        assert line.startswith("rawtools sniff: ") and "Too many open files" in line


@pytest.mark.lab
@pytest.mark.parametrize("tool", [["ping", "-c", "1"], ["trace", "-q", "1", "-m", "2"]])
def test_too_few_descriptors_is_one_line_for_ping_and_trace(make_lab, tool):
    lab = make_lab(1)
    for limit in (5, 6, 7, 8):
        argv = ["bash", "-c", f'ulimit -n {limit}; exec "$@"', "bash",
                *rawtools_argv(*tool, lab.dst4)]
        _no_traceback_with_few_descriptors(lab.run("host", argv))
