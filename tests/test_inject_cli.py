"""`rawtools inject` refusing bad input: one line on stderr, exit code 2, no traceback.

Values wrong in themselves are refused before anything is opened (no lab
needed); what needs the interface open (a file that is no capture, a link
type that cannot go out, a bad filter, missing privileges) runs in a lab's
host namespace, where nothing could leave the machine even if it were sent.
"""

from __future__ import annotations

import math
import subprocess

import pytest
from conftest import rawtools_argv, without_privileges
from injectcaps import LINKTYPE_IEEE802_11, mixed_frames, write_pcap

import rawtools
from rawtools.errors import UsageError
from rawtools.tools.inject.events import Progress
from rawtools.tools.inject.render import ProgressLine


def one_line_exit_2(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert r.stdout == ""
    return r.stderr


def inject(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(rawtools_argv("inject", *args), capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("flags, words", [
    (["--pps", "nan"], "--pps"), (["--pps", "inf"], "--pps"), (["--pps", "-5"], "--pps"),
    (["--pps", "0"], "--pps"), (["--pps", "1e300"], "--pps"), (["--speed", "nan"], "--speed"),
    (["--speed", "inf"], "--speed"), (["--speed", "0"], "--speed"),
    (["--speed", "-2"], "--speed"), (["--loop", "-1"], "--loop"), (["-c", "0"], "-c"),
    (["--dmac", "02:00:00:00:00"], "--dmac"), (["--smac", "bogus"], "--smac"),
    (["--speed", "2", "--pps", "3"], "not allowed with"), (["--backend", "dpdk"], "invalid choice"),
])
def test_bad_values_are_one_line(tmp_path, flags, words):
    cap = write_pcap(tmp_path / "c.pcap", mixed_frames())
    err = one_line_exit_2(inject("-i", "lo", *flags, str(cap)))
    assert words in err


def test_the_interface_is_required():
    assert "-i" in one_line_exit_2(inject("x.pcap"))


def test_an_unknown_interface_is_one_line(tmp_path):
    cap = write_pcap(tmp_path / "c.pcap", mixed_frames())
    for backend in ("pcap", "packet"):
        err = one_line_exit_2(inject("-i", "nosuch0", "--backend", backend, str(cap)))
        assert err == "rawtools inject: nosuch0: No such device exists\n"


BAD_API = [
    {"pps": math.nan}, {"pps": math.inf}, {"pps": -1}, {"pps": "fast"}, {"pps": True},
    {"speed": 0}, {"speed": 1e300}, {"loop": -1}, {"loop": 1.5}, {"count": 0},
    {"dmac": "ff"}, {"smac": b"\x02\x00\x00\x00\x00\x01"}, {"backend": "dpdk"},
    {"speed": 2.0, "topspeed": True}, {"loop": 0}, {"filter": 42},
]


@pytest.mark.parametrize("kw", BAD_API, ids=lambda kw: "-".join(map(str, kw.items())))
def test_the_api_refuses_what_the_cli_refuses(kw):
    with pytest.raises(UsageError):
        rawtools.inject("capture.pcap", "lo", **kw)


def test_the_api_refuses_empty_names():
    for file, iface in (("", "lo"), ("c.pcap", ""), (None, "lo")):
        with pytest.raises(UsageError):
            rawtools.inject(file, iface)


class Tty:
    """A stderr that says it is a terminal and keeps what is written."""

    def __init__(self, tty: bool) -> None:
        self.text, self.tty = "", tty

    def isatty(self) -> bool:
        return self.tty

    def write(self, s: str) -> int:
        self.text += s
        return len(s)

    def flush(self) -> None:
        pass


def test_progress_is_drawn_on_a_terminal_and_erased_at_the_end():
    tty = Tty(True)
    line = ProgressLine(tty)  # type: ignore[arg-type]
    line.event(Progress(0, 1000, 60000, 2_000_000_000, 1))
    assert tty.text == "\r1000 packets (60000 bytes) in 2 s, 500 pps, loop 1\033[K"
    line.clear()
    assert tty.text.endswith("\r\033[K")
    pipe = Tty(False)
    quiet = ProgressLine(pipe)  # type: ignore[arg-type]
    quiet.event(Progress(0, 1000, 60000, 2_000_000_000, 1))
    quiet.clear()
    assert pipe.text == ""


@pytest.mark.lab
def test_refusals_once_the_interface_is_open(make_lab, tmp_path):
    lab = make_lab(0)
    good = write_pcap(tmp_path / "good.pcap", mixed_frames())
    text = tmp_path / "notes.txt"
    text.write_text("this is not a capture\n" * 10)
    truncated = tmp_path / "cut.pcap"
    truncated.write_bytes(good.read_bytes()[:24 + 16 + 20])
    wifi = write_pcap(tmp_path / "wifi.pcap", [bytes(40)], LINKTYPE_IEEE802_11)

    def run(*args: str, privileged: bool = True) -> str:
        argv = rawtools_argv("inject", "-i", lab.host_if, *args)
        r = lab.run("host", argv if privileged else without_privileges(argv), timeout=60)
        return one_line_exit_2(r)

    for backend in ("pcap", "packet"):
        b = ["--backend", backend]
        assert "unknown file format" in run(*b, str(text))
        assert "truncated" in run(*b, str(truncated))
        assert "No such file" in run(*b, str(tmp_path / "missing.pcap"))
        err = run(*b, str(wifi))
        assert "link type 105 cannot be sent on l0a" in err and "EN10MB" in err
        assert "bad filter expression" in run(*b, str(good), "udp", "port")
        err = run(*b, str(good), privileged=False)
        assert "CAP_NET_RAW" in err and "sudo" in err, err
    lab.run("host", ["ip", "link", "set", lab.host_if, "down"], check=True)
    assert run(str(good)).endswith(f"{lab.host_if}: the interface is down\n")
