"""A script's type checker sees the real API, not `Any` (py.typed, TYPE_CHECKING imports)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """\
import rawtools
reveal_type(rawtools.ping)
reveal_type(rawtools.trace)
reveal_type(rawtools.sniff)
reveal_type(rawtools.ifaces)
r: rawtools.PingResult = rawtools.ping("198.18.0.1")
n: int = r.targets[0].received
t: list[rawtools.Hop] = rawtools.trace("198.18.0.1").hops
"""


def test_mypy_sees_the_public_api(tmp_path):
    script = tmp_path / "uses_rawtools.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    # As for an installed package: its modules are read for types, their findings not shown.
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                        "--cache-dir", str(tmp_path / "cache"), str(script)],
                       capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    revealed = [ln for ln in r.stdout.splitlines() if "Revealed type" in ln]
    assert len(revealed) == 4
    assert all('"Any"' not in ln and "def (" in ln for ln in revealed), revealed
