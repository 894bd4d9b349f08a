"""Running `rawtools.cli.main` in-process, output captured: many runs in little time.

A subprocess costs a third of a second of interpreter start-up; the replay and
property tests run hundreds of cases, so they call the entry point directly
and see exactly what a user would: stdout, stderr and the exit code.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from rawtools.cli import main


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*argv: str) -> Ran:
    """`rawtools ARGV...` as the shell would run it; argparse's exits become the code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    return Ran(code, out.getvalue(), err.getvalue())


def one_line_error(r: Ran, code: int = 2) -> str:
    """The single stderr line of a refused run; fails on a traceback or several lines."""
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]
