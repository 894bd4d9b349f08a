"""Privileges given up, seen on the running process itself (/proc/PID/status).

Each tool is started as root in a lab namespace the way sudo starts it
(SUDO_UID/SUDO_GID of nobody, 65534) and with supplementary groups of its
own (`setpriv --groups`), so that a drop that forgets `setgroups([])` shows.
While it runs (a ping of five probes, a trace whose only hop is silent, a
sniff waiting on an interface) the test reads the kernel's view of it: real,
effective, saved and filesystem uid and gid must be 65534, no supplementary
groups, and no capabilities left (permitted and effective): rawtools keeps
none once its sockets are open. A file's owner after the run only shows the
filesystem uid at the moment it was opened; this checks the process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from conftest import rawtools_argv

from rawtools.testing.lab import Lab

pytestmark = pytest.mark.lab

NOBODY = 65534
GROUPS = "4,27,100"  # supplementary groups the tool starts with and must give up


def status_of(pid: int) -> dict[str, str] | None:
    """/proc/PID/status as a dict, if PID is still the rawtools process."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if b"rawtools" not in f.read():
                return None  # still `ip netns exec` or setpriv, before their exec
        with open(f"/proc/{pid}/status") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except (FileNotFoundError, ProcessLookupError):
        return None


def watch_running(lab: Lab, args: list[str], settle_s: float = 5.0) -> dict[str, str]:
    """Start `rawtools ARGS` as sudo would and return its status once it has dropped.

    "Dropped" is the uid leaving 0 (setuid comes last); if that never
    happens while the tool runs, the last status seen as root is returned,
    so the assertions say what was kept. The tool is interrupted afterwards.
    """
    env = dict(os.environ, SUDO_UID=str(NOBODY), SUDO_GID=str(NOBODY), SUDO_USER="nobody")
    argv = lab.exec_argv("host", ["setpriv", "--groups", GROUPS, *rawtools_argv(*args)])
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    seen: dict[str, str] | None = None
    try:
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline and proc.poll() is None:
            st = status_of(proc.pid)
            if st is not None:
                seen = st
                if st["Uid"].split()[0] != "0":
                    # one more look a moment later: the drop must also hold while it works
                    time.sleep(0.3)
                    seen = status_of(proc.pid) or seen
                    break
            time.sleep(0.05)
        running = proc.poll() is None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert seen is not None, f"never saw rawtools running: {err}"
    assert running, f"the tool ended before it could be inspected: {out} {err}"
    assert "Traceback" not in err, err
    return seen


def assert_dropped_to_nobody(st: dict[str, str]) -> None:
    assert st["Uid"].split() == [str(NOBODY)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(NOBODY)] * 4, st["Gid"]
    assert st["Groups"].split() == [], st["Groups"]
    assert int(st["CapEff"], 16) == 0, st["CapEff"]
    assert int(st["CapPrm"], 16) == 0, st["CapPrm"]


def test_privilege_drop_running_ping_is_nobody_without_groups_or_caps(lab3):
    st = watch_running(lab3, ["ping", "-c", "5", "-i", "0.5", "--socket", "raw", lab3.dst4])
    assert_dropped_to_nobody(st)


def test_privilege_drop_running_trace_is_nobody_without_groups_or_caps(lab3):
    lab3.silence(1)  # the only hop asked about never answers; probes 1 s apart: ~10 s
    st = watch_running(lab3, ["trace", "-n", "-m", "1", "-q", "10", "-z", "1", lab3.dst4])
    assert_dropped_to_nobody(st)


def test_privilege_drop_running_sniff_is_nobody_without_groups_or_caps(lab3):
    st = watch_running(lab3, ["sniff", "-n", "-i", lab3.host_if])
    assert_dropped_to_nobody(st)
