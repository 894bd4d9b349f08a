"""What a short run loads: start-up is most of `ping -c 1` and `trace -q 1`.

Wall time is measured in scripts/bench/startup.py, never asserted here; what
a test can hold fixed is the cause: a plain run must not load the modules
only some runs need (dpkt alone is about 70 ms, the recording and replay
code brings it, the error-queue and icmpd modules serve unprivileged
sockets). Each run goes through the real CLI in a lab, and the list of
modules is read from the process that ran it.
"""

from __future__ import annotations

import json
import sys

import pytest

# Loaded by none of the runs below (as root, raw sockets, no flags asking for them).
# dataclasses (with inspect, ast, dis) and typing cost a start more than all of
# rawtools' own modules: records come from rawtools.values, and typing's names
# are imported for the type checker only (TYPE_CHECKING).
HEAVY = ("dpkt", "pcapy", "rawtools.io.pcapfile", "rawtools.io.replay", "json",
         "rawtools.wire.icmpdmsg", "rawtools.tools.trace.explain",
         "rawtools.tools.trace.mda", "rawtools.tools.ping.report", "shutil", "random",
         "dataclasses", "inspect", "typing")

_PROBE = """
import sys
sys.argv = ["rawtools", *sys.argv[1:]]
from rawtools.cli import main
code = main()
modules = sorted(sys.modules)
import json
print(json.dumps({"code": code, "modules": modules}), file=sys.stderr)
"""


def loaded(lab, *argv: str) -> list[str]:
    r = lab.run("host", [sys.executable, "-c", _PROBE, *argv], timeout=60)
    record = json.loads(r.stderr.strip().splitlines()[-1])
    assert record["code"] == 0, (r.stdout, r.stderr)
    return record["modules"]


@pytest.mark.parametrize("argv", [
    ("ping", "-c", "1", "-n", "{dst}"),
    ("ping", "-6", "-c", "1", "-n", "{dst6}"),
    ("trace", "-n", "-q", "1", "{dst}"),
    ("trace", "-I", "-n", "-q", "1", "{dst6}"),
    ("trace", "-T", "-n", "-q", "1", "{dst}"),
], ids=lambda a: " ".join(a))
def test_a_plain_run_loads_nothing_it_does_not_use(make_lab, argv):
    lab = make_lab(1)
    args = [a.format(dst=lab.dst4, dst6=lab.dst6) for a in argv]
    mods = loaded(lab, *args)
    assert not [m for m in mods if m.split(".")[0] in HEAVY or m in HEAVY]


@pytest.mark.parametrize("argv,needs", [
    (("ping", "-c", "1", "--json", "{dst}"), "rawtools.tools.ping.report"),
    (("ping", "-c", "1", "--record", "{tmp}/p.pcap", "{dst}"), "dpkt"),
    (("trace", "-n", "-q", "1", "--json", "{dst}"), "json"),
], ids=lambda a: " ".join(a) if isinstance(a, tuple) else a)
def test_what_a_flag_asks_for_is_loaded_when_given(make_lab, tmp_path, argv, needs):
    """The other side: the lazy imports happen, and the flags still work."""
    lab = make_lab(1)
    args = [a.format(dst=lab.dst4, tmp=tmp_path) for a in argv]
    assert needs in loaded(lab, *args)


@pytest.mark.parametrize("argv", [
    ("ping", "-c", "1", "--json", "{dst}"),
    ("ping", "-c", "1", "--socket", "raw", "--record", "{tmp}/p.pcap", "{dst}"),
    ("ping", "-c", "1", "--socket", "dgram", "-t", "1", "{dst}"),
    ("trace", "-n", "-q", "1", "--json", "{dst}"),
    ("trace", "-n", "-q", "1", "--record", "{tmp}/t.pcap", "{dst}"),
    ("trace", "-n", "-q", "1", "--explain", "{dst}"),
], ids=lambda a: " ".join(a))
def test_what_loads_late_is_loaded_before_root_is_given_up(make_lab, argv):
    """After the drop to the sudo user the interpreter's files may be unreadable (here they
    live under /root): whatever a flag needs must be imported before the sockets open."""
    import os
    import tempfile

    lab = make_lab(2)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        args = [a.format(dst=lab.dst4, tmp=d) for a in argv]
        env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534")
        r = lab.run("host", [sys.executable, "-m", "rawtools", *args], env=env, timeout=60)
    assert "Traceback" not in r.stderr and "Error" not in r.stderr, r.stderr
    assert r.returncode in (0, 1), r.stderr  # ping -t 1 gets time exceeded: exit 1


def test_every_module_imports():
    """What hides under TYPE_CHECKING is invisible at run time, and mypy cannot tell
    when a module still imports such a name for real: importing each one can."""
    import importlib
    import pkgutil

    import rawtools

    failed = {}
    for mod in pkgutil.walk_packages(rawtools.__path__, "rawtools."):
        if mod.name == "rawtools.__main__":  # runs the CLI
            continue
        try:
            importlib.import_module(mod.name)
        except Exception as e:  # noqa: BLE001 - every failure is the finding
            failed[mod.name] = repr(e)
    assert not failed
