"""A broadcast address: ping refuses it without -b, says why and how, as iputils ping does.

The kernel refuses to send to a broadcast address from a socket without
SO_BROADCAST (EACCES, the errno a firewall rule gives too); iputils tells the
two apart and points at -b. The oracle is iputils ping run in the same lab.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import rawtools_argv


@pytest.fixture
def lab(make_lab):
    if shutil.which("ping") is None:
        pytest.skip("iputils ping is needed as the oracle")
    return make_lab(1)


@pytest.mark.lab
@pytest.mark.parametrize("socket_kind", ["raw", "dgram"])
def test_a_broadcast_address_needs_b_as_with_iputils(lab, socket_kind):
    brd = lab.host4.rsplit(".", 1)[0] + ".255"  # the host's /24 link
    theirs = lab.run("host", ["ping", "-c", "1", "-W", "0.3", brd])
    ours = lab.run("host", rawtools_argv("ping", "--socket", socket_kind, "-c", "1", "-W",
                                         "0.3", brd))
    assert "-b" in theirs.stderr and "broadcast" in theirs.stderr and theirs.returncode == 2
    assert ours.returncode == theirs.returncode and ours.stdout == ""
    (line,) = ours.stderr.splitlines()
    assert f"{brd} is a broadcast address" in line and "give -b" in line and "firewall" in line

    theirs = lab.run("host", ["ping", "-b", "-c", "1", "-W", "0.3", brd])
    ours = lab.run("host", rawtools_argv("ping", "-b", "--socket", socket_kind, "-c", "1",
                                         "-W", "0.3", brd))
    # Sent this time; whether anyone answers (Linux ignores broadcast echoes by default),
    # both tools agree on it, and both warn.
    assert ours.returncode == theirs.returncode, (ours, theirs)
    assert "1 packets transmitted" in ours.stdout and "1 packets transmitted" in theirs.stdout
    assert "WARNING: pinging broadcast address" in ours.stderr
    assert "WARNING: pinging broadcast address" in theirs.stderr + theirs.stdout


def test_b_through_the_api_is_checked():
    from rawtools.errors import UsageError
    from rawtools.tools.ping.config import ping_config

    assert ping_config(["198.18.0.255"], broadcast=True).broadcast
    with pytest.raises(UsageError):
        ping_config(["198.18.0.255"], broadcast="yes")  # type: ignore[arg-type]
