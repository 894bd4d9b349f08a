"""Property-based: no value of any option, however hostile, ends in a traceback.

hypothesis generates what a careless or hostile user types (nan, inf, negative,
zero, huge, non-numeric, empty, unicode, very long) for every option that takes
a value, of every tool, and the same values for the Python API's arguments.
The property is the project's rule for bad input: a normal run, or one line
on stderr and exit 2 (3 for a replay that diverges from its recording); from
Python, a result or a `RawtoolsError`, never another exception.

Nothing is sent: ping, trace and udpcksum run on a recording (--replay), sniff
reads a file, icmpd replays one, inject and udpcli are given an interface or a
daemon socket that does not exist, and dropping privileges is a no-op here (it
would otherwise change the user of the test process itself). Each test prints
how many cases it ran; RAWTOOLS_HYPOTHESIS_EXAMPLES sets the examples per
option (default 100) for a longer hunt.
"""

from __future__ import annotations

import atexit
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from clirun import run_cli
from conftest import CAPTURES, CORPUS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rawtools
from rawtools.errors import RawtoolsError

EXAMPLES = int(os.environ.get("RAWTOOLS_HYPOTHESIS_EXAMPLES", "100"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))

# The values the issue lists, always tried first, then whatever hypothesis invents.
HOSTILE_TEXT = ["nan", "-nan", "inf", "-inf", "1e300", "1e400", "-1", "0", "-0", "00",
                "1099511627776", "18446744073709551616", "9" * 400, "", " ", "x", "0x10",
                "1_000", "\u0663", "\uff11", "\u00b2", "é", "😀", "\u202e", "a" * 5000, "-", "--",
                "0.0000001", "1e-300", "65535", "65536", "255", "256"]
text_values = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40),
                        st.floats().map(repr), st.integers().map(str))
py_values = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1, 0, -0.0, 2**64, 2**1000,
                     "", "x", "nan", "a\0b", "😀", "a" * 5000, None, True, False, b"", b"\xff" * 40,
                     [], {}]),
    st.floats(), st.integers(), st.text(max_size=40))

PING = ["--replay", str(CAPTURES / "ping-v4-raw.pcap")]
TRACE = ["--replay", str(CAPTURES / "trace-udp4.pcap"), "-n"]
UDPCKSUM = ["--replay", str(CAPTURES / "udpcksum-on4.pcap")]
SNIFF_FILE = str(CORPUS / "IGMP_V1.pcap")
INJECT_FILE = str(CAPTURES / "icmpd-errors-eth.pcap")
NO_IFACE = "rtfz0"  # no such interface: inject refuses before it sends anything
NO_DAEMON = "/nonexistent/rawtools-icmpd.sock"
OUT_DIR = tempfile.mkdtemp(prefix="rawtools-prop-")  # sniff -w's target for -C, -G, -W
atexit.register(shutil.rmtree, OUT_DIR, True)


def _flag(tool: str, flag: str, base: list[str], *, after: list[str] = ()) -> tuple:
    return (tool, flag, lambda v: [tool, *base, flag, v, *after])


def _positional(tool: str, name: str, build: Callable[[str], list[str]]) -> tuple:
    return (tool, name, build)


# (tool, option, argv from one value): every option of every tool that takes a value.
CLI_CASES = [
    *[_flag("ping", f, PING) for f in ("-c", "-i", "-s", "-t", "-W", "-w", "-I", "-p", "-g",
                                       "--retries")],
    _positional("ping", "HOST", lambda v: ["ping", *PING, "--", v]),
    *[_flag("trace", f, TRACE) for f in ("-m", "-f", "-q", "-w", "-N", "-z", "-p", "-c",
                                         "-s", "-i", "--gap", "--confidence", "--dot")],
    _positional("trace", "HOST", lambda v: ["trace", *TRACE, "--", v]),
    *[_flag("udpcksum", f, UDPCKSUM) for f in ("-l", "-q", "--payload", "-w", "-r", "-i")],
    _positional("udpcksum", "HOST", lambda v: ["udpcksum", *UDPCKSUM, "--", v, "53"]),
    _positional("udpcksum", "SERVICE",
                lambda v: ["udpcksum", *UDPCKSUM, "--", "198.18.1.2", v]),
    *[_flag("sniff", f, ["-r", SNIFF_FILE]) for f in ("-c", "-s", "-B", "--timeout")],
    *[_flag("sniff", f, ["-r", SNIFF_FILE, "-w", os.path.join(OUT_DIR, "s.pcap")])
      for f in ("-C", "-G", "-W")],
    _positional("sniff", "EXPRESSION", lambda v: ["sniff", "-r", SNIFF_FILE, "--", v]),
    *[_flag("inject", f, ["-i", NO_IFACE], after=[INJECT_FILE])
      for f in ("--speed", "--pps", "--loop", "-c", "--dmac", "--smac")],
    _positional("inject", "EXPRESSION",
                lambda v: ["inject", "-i", NO_IFACE, INJECT_FILE, "--", v]),
    *[_flag("icmpd", f, ["--replay", str(CAPTURES / "icmpd-errors.pcap")])
      for f in ("--watch", "--mode", "--group", "--socket")],
    *[_flag("udpcli", f, ["--icmpd", NO_DAEMON], after=["198.18.0.9", "9"])
      for f in ("-t", "--ttl", "-l")],
    _positional("udpcli", "PORT", lambda v: ["udpcli", "--icmpd", NO_DAEMON, "198.18.0.9",
                                             "--", v]),
    _positional("udpcli", "HOST", lambda v: ["udpcli", "--icmpd", NO_DAEMON, "--", v, "9"]),
    _positional("ifaces", "IFACE", lambda v: ["ifaces", "--", v]),
    # doctor checks only the interfaces: the other checks would probe from this namespace.
    *[_flag("doctor", f, ["--check", "interfaces"])
      for f in ("-w", "-m", "--dns", "--query", "--qtype", "--resolv-conf", "--check")],
    _positional("doctor", "HOST", lambda v: ["doctor", "--check", "interfaces", "--", v]),
]


def _params(cases: list[tuple], ids: list[str]) -> list[Any]:
    return [pytest.param(*c, id=i) for c, i in zip(cases, ids, strict=True)]


@pytest.fixture(scope="module", autouse=True)
def _privileges_kept() -> Iterator[None]:
    """Dropping root would change the user of pytest itself: here it does nothing."""
    import importlib

    with pytest.MonkeyPatch.context() as mp:
        for mod in ("rawtools.tools.ping.session", "rawtools.tools.trace.session",
                    "rawtools.tools.udpcksum.session", "rawtools.tools.sniff.cli",
                    "rawtools.tools.inject.session", "rawtools.tools.icmpd.session"):
            mp.setattr(importlib.import_module(mod), "drop_privileges", lambda *a, **k: None)
        yield


def _report(capsys: pytest.CaptureFixture[str], what: str, n: int, t0: float) -> None:
    with capsys.disabled():
        print(f"\n[hypothesis] {what}: {n} cases in {time.monotonic() - t0:.1f} s", end="")


@pytest.mark.parametrize("tool,option,argv",
                         _params(CLI_CASES, [f"{c[0]}:{c[1]}" for c in CLI_CASES]))
def test_cli_option_values_never_give_a_traceback(tool, option, argv, capsys):
    count = 0
    t0 = time.monotonic()

    @SETTINGS
    @given(value=text_values)
    def check(value: str) -> None:
        nonlocal count
        count += 1
        if "\0" in value:
            return  # no shell can pass a NUL inside an argument
        r = run_cli(*argv(value))
        assert "Traceback" not in r.stderr, r.stderr
        if r.returncode in (2, 3):
            assert len(r.stderr.splitlines()) == 1, (value, r.stderr)
        else:
            assert r.returncode in (0, 1), (value, r.returncode, r.stderr)

    check()
    _report(capsys, f"rawtools {tool} {option}", count, t0)


def _sniff_all(**kw: Any) -> list[Any]:
    return list(rawtools.sniff(file=SNIFF_FILE, **kw))


def _sniff_writing(write: Any) -> list[Any]:
    """sniff(write=...): a string becomes a name inside OUT_DIR, never a path elsewhere.

    What matters is the name's content (NUL, unencodable, 5,000 characters,
    empty); the test runs as root and must not scatter files.
    """
    if isinstance(write, str) and write:
        write = os.path.join(OUT_DIR, "w-" + write.replace("/", "_"))
    return _sniff_all(write=write)


API_CASES: list[tuple[str, Callable[..., Any], list[str]]] = [
    ("ping", lambda **kw: rawtools.ping(replay=PING[1], **kw),
     ["count", "interval", "size", "ttl", "timeout", "deadline", "sweep", "version",
      "interface", "pattern", "retries", "mechanism", "broadcast", "dont_fragment"]),
    ("ping", lambda **kw: rawtools.ping(kw.pop("host"), replay=PING[1], **kw), ["host"]),
    ("trace", lambda **kw: rawtools.trace(replay=TRACE[1], **kw),
     ["host", "method", "version", "first_ttl", "max_ttl", "nqueries", "wait", "inflight",
      "pause", "port", "paris", "source", "interface", "mechanism", "cycles", "gap",
      "on_hop"]),
    ("udpcksum", lambda **kw: rawtools.udpcksum(replay=UDPCKSUM[1], **kw),
     ["host", "service", "query", "ntp", "payload", "zero", "wait", "retries", "local",
      "interface", "version"]),
    ("inject", lambda **kw: rawtools.inject(INJECT_FILE, NO_IFACE, **kw),
     ["filter", "backend", "speed", "pps", "topspeed", "loop", "count", "dmac", "smac"]),
    ("sniff", _sniff_all,
     ["filter", "count", "snaplen", "promisc", "immediate", "backend", "direction",
      "buffer_kib", "numeric", "verbose", "timeout", "stop", "pcapng"]),
    ("sniff", _sniff_writing, ["write"]),
    # Only the interfaces are checked (nothing is sent); every value is still validated.
    ("doctor", lambda **kw: rawtools.doctor(checks=["interfaces"], **kw),
     ["host", "dns", "wait", "resolv_conf", "query", "qtype", "version", "max_ttl", "strict",
      "on_check"]),
]
API_PARAMS = [(tool, call, arg) for tool, call, args in API_CASES for arg in args]


@pytest.mark.parametrize("tool,call,arg",
                         _params(API_PARAMS, [f"{p[0]}:{p[2]}" for p in API_PARAMS]))
def test_api_argument_values_raise_only_rawtools_errors(tool, call, arg, capsys):
    count = 0
    t0 = time.monotonic()

    @SETTINGS
    @given(value=py_values)
    def check(value: Any) -> None:
        nonlocal count
        count += 1
        try:
            call(**{arg: value})
        except RawtoolsError as e:
            assert "\n" not in str(e), str(e)

    check()
    _report(capsys, f"rawtools.{tool}({arg}=...)", count, t0)
