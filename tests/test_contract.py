"""The engine contract and the one path that checks every tool's options."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import rawtools_argv

import rawtools
from rawtools.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
ENGINES = sorted((ROOT / "rawtools" / "tools").glob("*/engine.py"))


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_engines_are_sans_io():
    assert len(ENGINES) >= 2
    for path in ENGINES:
        bad = {m for m in _imported_modules(path)
               if m.startswith("rawtools.io") or m in ("socket", "select", "selectors", "time")}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"



def test_the_contract_builds_no_typing_at_run_time():
    """rawtools.engine's aliases and protocols are for the type checker only (every tool
    loads the contract as it starts, and typing cost a tenth of `ping -c 1`'s start):
    importing it, and the records it defines, must not load typing."""
    probe = ("import sys, rawtools.engine as e; "
             "e.Send('198.18.0.1', b''), e.Received(0, b''); "
             "print('typing' in sys.modules, hasattr(e, 'Engine'))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                       timeout=30, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]

BAD_PING = [
    {"interval": "fast"}, {"interval": math.nan}, {"interval": math.inf},
    {"interval": 1e300}, {"timeout": -1.0}, {"deadline": math.nan}, {"count": -1},
    {"count": 0}, {"count": 2.5}, {"count": True}, {"size": 70000}, {"ttl": 0},
    {"mechanism": "bogus"}, {"retries": -1}, {"pattern": "xyz"}, {"version": 5},
    {"dont_fragment": 1}, {"dont_fragment": "yes"},
]


@pytest.mark.parametrize("kw", BAD_PING, ids=lambda kw: "-".join(map(str, kw.items())))
def test_the_ping_api_refuses_what_the_cli_refuses(kw):
    with pytest.raises(UsageError):
        rawtools.ping("198.18.0.1", **kw)


def test_the_ping_api_refuses_empty_and_non_string_hosts():
    for host in ("", 42):
        with pytest.raises(UsageError):
            rawtools.ping(host)


BAD_TRACE = [
    {"wait": math.nan}, {"wait": math.inf}, {"wait": 0}, {"pause": math.nan},
    {"pause": -1}, {"max_ttl": 256}, {"first_ttl": 0}, {"nqueries": 11},
    {"inflight": 0}, {"port": 70000}, {"method": "sctp"},
    {"mechanism": "bogus"}, {"max_ttl": "30"}, {"gap": 0}, {"gap": 256}, {"gap": math.nan},
    {"gap": "5"}, {"cycles": -1}, {"cycles": 0.5}, {"on_hop": 5}, {"on_hop": "print"},
]


@pytest.mark.parametrize("kw", BAD_TRACE, ids=lambda kw: "-".join(map(str, kw.items())))
def test_the_trace_api_refuses_what_the_cli_refuses(kw):
    with pytest.raises(UsageError):
        rawtools.trace("198.18.0.1", **kw)


@pytest.mark.parametrize("kw", [{"confidence": 100}, {"confidence": 49}, {"confidence": math.nan},
                                {"confidence": "95"}, {"max_ttl": 0}, {"method": "sctp"}],
                         ids=lambda kw: "-".join(map(str, kw.items())))
def test_the_mda_api_refuses_what_the_cli_refuses(kw):
    with pytest.raises(UsageError):
        rawtools.trace_mda("198.18.0.1", **kw)


BAD_SNIFF = [
    {"timeout": math.nan}, {"timeout": math.inf}, {"timeout": -1}, {"timeout": 0},
    {"timeout": 1e300}, {"timeout": "1"}, {"timeout": True}, {"stop": "x"}, {"stop": 5},
    {"write": ""}, {"write": "a\0b"}, {"write": 42}, {"pcapng": 1}, {"pcapng": True},
]


@pytest.mark.parametrize("kw", BAD_SNIFF, ids=lambda kw: "-".join(map(str, kw.items())))
def test_the_sniff_api_refuses_before_opening_anything(kw):
    # The interface does not exist: only the call's own checks can raise UsageError.
    with pytest.raises(UsageError) as e:
        rawtools.sniff("rtnone0", **kw)
    assert "\n" not in str(e.value)


BAD_DOCTOR = [
    {"wait": math.nan}, {"wait": math.inf}, {"wait": 0}, {"wait": -1}, {"wait": 61},
    {"wait": "1"}, {"dns": "resolver.lab"}, {"dns": ["198.18.0.1", ""]}, {"dns": 5},
    {"dns": []}, {"dns": b"198.18.0.1"}, {"checks": "bogus"}, {"checks": []}, {"checks": 3},
    {"checks": ["path"]}, {"host": ""}, {"host": 7}, {"max_ttl": 0}, {"max_ttl": 256},
    {"max_ttl": 1.5}, {"version": 5}, {"strict": 1}, {"query": ""}, {"query": "a..b"},
    {"query": "x" * 64}, {"qtype": "MX"}, {"resolv_conf": ""}, {"resolv_conf": "a\0b"},
    {"on_check": 5},
]


@pytest.mark.parametrize("kw", BAD_DOCTOR, ids=lambda kw: "-".join(map(str, kw.items())))
def test_the_doctor_api_refuses_before_any_check(kw):
    # Nothing may be probed: the test process is in the machine's own namespace.
    with pytest.raises(UsageError) as e:
        rawtools.doctor(**kw)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("argv", [
    ["ping", "-i", "nan", "198.18.0.1"], ["ping", "-i", "inf", "198.18.0.1"],
    ["ping", "-W", "nan", "198.18.0.1"], ["ping", "-w", "1e300", "198.18.0.1"],
    ["trace", "-w", "inf", "198.18.0.1"], ["trace", "-w", "nan", "198.18.0.1"],
    ["trace", "-z", "nan", "198.18.0.1"],
    ["sniff", "--timeout", "nan", "-i", "lo"], ["sniff", "--timeout", "-1", "-i", "lo"],
    ["sniff", "--timeout", "1e300", "-i", "lo"],
    # doctor with --check interfaces only: a check that slipped would still send nothing.
    ["doctor", "-w", "nan", "--check", "interfaces"],
    ["doctor", "-w", "inf", "--check", "interfaces"],
    ["doctor", "-w", "0", "--check", "interfaces"],
    ["doctor", "--dns", "resolver.lab", "--check", "interfaces"],
    ["doctor", "--check", "path"], ["doctor", "--query", "a..b", "--check", "interfaces"],
])
def test_nan_inf_and_huge_flags_are_one_line_exit_2(argv):
    r = subprocess.run(rawtools_argv(*argv), capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr


def test_version_is_written_once_and_printed():
    r = subprocess.run(rawtools_argv("--version"), capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == f"rawtools {rawtools.__version__}"
    from importlib.metadata import version
    assert version("rawtools") == rawtools.__version__


def test_the_api_is_visible_to_dir():
    public = [n for n in dir(rawtools) if not n.startswith("_")]
    assert {"ping", "trace", "sniff", "ifaces", "PingResult", "TraceResult"} <= set(public)
    assert set(public) == set(rawtools.__all__)
