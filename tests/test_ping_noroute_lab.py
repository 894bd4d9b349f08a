"""No route to the target: an error for one target, a state per target in a sweep.

iputils ping, run on the same namespace, is the oracle for the message and
the exit code: it connects a probe socket first and gives up at once with
`ping: connect: Network is unreachable`, exit 2.
"""

from __future__ import annotations

import json
import shutil
import sys
import time

import pytest
from conftest import rawtools_argv

pytestmark = pytest.mark.lab

# Inside the lab but routed nowhere: the host knows only 198.18.0.0/24 and 198.18.1.0/24.
NOWHERE4 = "198.18.9.9"
NOWHERE6 = "2001:db8:9::9"

API_RUN = """
import json, sys, rawtools
from rawtools.errors import RouteError
try:
    r = rawtools.ping(*sys.argv[1:], count=1, timeout=0.5)
except RouteError as e:
    print(json.dumps({"error": type(e).__name__, "message": str(e), "reason": e.reason}))
else:
    print(json.dumps([[t.addr, t.state, t.no_route, t.transmitted] for t in r.targets]))
"""


def iputils(lab, dst: str) -> tuple[int, str]:
    """iputils ping's exit code and message without its `ping: ` prefix."""
    if shutil.which("ping") is None:
        pytest.skip("iputils-ping not installed")
    r = lab.run("host", ["ping", "-n", "-c", "2", dst], timeout=30)
    assert r.stderr.startswith("ping: "), r.stderr
    return r.returncode, r.stderr.strip().removeprefix("ping: ")


def api(lab, *hosts: str) -> object:
    r = lab.run("host", [sys.executable, "-c", API_RUN, *hosts], timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("dst", [NOWHERE4, NOWHERE6])
def test_no_route_is_iputils_error_line_and_exit_code(make_lab, dst):
    lab = make_lab(1)
    want_code, want_message = iputils(lab, dst)
    assert want_code == 2 and "unreachable" in want_message  # the oracle's own answer
    t0 = time.monotonic()
    r = lab.run("host", rawtools_argv("ping", "-c", "2", dst), timeout=30)
    took = time.monotonic() - t0
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert r.returncode == want_code
    assert r.stderr.splitlines() == [f"rawtools ping: {want_message}"]
    assert took < 5  # before the fix: two probes and a 10 s wait for replies that never come


@pytest.mark.parametrize("dst", [NOWHERE4, NOWHERE6])
def test_no_route_raises_route_error_from_the_api(make_lab, dst):
    lab = make_lab(1)
    _, want_message = iputils(lab, dst)
    got = api(lab, dst)
    assert got == {"error": "RouteError", "message": want_message,
                   "reason": want_message.removeprefix("connect: ")}


def test_a_sweep_gives_the_target_without_a_route_a_state_and_probes_the_rest(make_lab):
    lab = make_lab(1)
    assert iputils(lab, NOWHERE4)[0] == 2
    alive = lab.run("host", ["ping", "-n", "-c", "1", lab.dst4], timeout=30)
    assert alive.returncode == 0, alive.stdout  # iputils: the other target answers
    _, message = iputils(lab, NOWHERE4)
    reason = message.removeprefix("connect: ")
    got = api(lab, NOWHERE4, lab.dst4)
    assert got == [[NOWHERE4, "no-route", reason, 0], [lab.dst4, "alive", None, 1]]
    cli = lab.run("host", rawtools_argv("ping", NOWHERE4, lab.dst4), timeout=30)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.splitlines()[:2] == [f"{NOWHERE4} has no route ({reason})",
                                           f"{lab.dst4} is alive"]
    assert cli.stdout.splitlines()[2].startswith("2 targets, 1 alive, 1 unreachable (1 no route)")


TRACE_API = """
import sys, rawtools
from rawtools.errors import RouteError
try:
    rawtools.trace(sys.argv[1], nqueries=1)
except RouteError as e:
    print(e)
"""


def test_trace_refuses_the_same_way_with_the_same_class(make_lab):
    lab = make_lab(1)
    _, want_message = iputils(lab, NOWHERE4)
    cli = lab.run("host", rawtools_argv("trace", "-n", NOWHERE4), timeout=30)
    assert (cli.returncode, cli.stderr.splitlines()) == (2, [f"rawtools trace: {want_message}"])
    r = lab.run("host", [sys.executable, "-c", TRACE_API, NOWHERE4], timeout=30)
    assert r.returncode == 0 and r.stdout.strip() == want_message, r.stderr
