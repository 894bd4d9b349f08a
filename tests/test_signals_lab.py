"""Ctrl-C and SIGTERM end every one-shot tool cleanly, with the shell's codes.

A C tool killed by a signal exits 128 + its number: 130 for SIGINT, 143 for
SIGTERM, which service managers and scripts tell apart. The one exception
is ping on Ctrl-C, which iputils ping answers with its summary and 0 or 1.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from conftest import CAPTURES, rawtools_argv


def _argv(tool, lab):
    dst = lab.dst4
    return {
        "ping": ["ping", "-n", "-c", "1000", dst],
        "trace": ["trace", "-n", "-q", "10", "-m", "60", "-w", "20", dst],
        "udpcksum": ["udpcksum", "-w", "20", dst, "53"],
        "inject": ["inject", "-i", lab.host_if, "--loop", "0", "--pps", "100",
                   str(CAPTURES / "icmpd-errors-eth.pcap")],
    }[tool]


@pytest.mark.lab
@pytest.mark.parametrize("tool", ["ping", "trace", "udpcksum", "inject"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_a_signal_ends_the_run_with_128_plus_its_number(make_lab, tool, sig):
    lab = make_lab(1)
    lab.firewall_dst()  # nothing answers: every tool is still waiting when the signal comes
    p = subprocess.Popen(lab.exec_argv("host", rawtools_argv(*_argv(tool, lab))),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert p.poll() is None, p.communicate()
    p.send_signal(sig)
    out, err = p.communicate(timeout=20)
    assert "Traceback" not in err, err
    if tool == "ping" and sig == signal.SIGINT:
        assert p.returncode == 1 and "packets transmitted, 0 received" in out  # iputils' way
    else:
        assert p.returncode == 128 + sig, (out, err)
