"""Run rawtools in benchmarks as an installed copy runs, not as the editable checkout.

`pip install -e` adds an import hook that alone costs 25-40 ms a start, and
PYTHONDONTWRITEBYTECODE (set in some shells and CI) would have every start
compile rawtools again: neither is what a user who installed the package
pays, so start-up figures taken that way would be wrong by more than the
effects they measure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_env() -> dict[str, str]:
    """The environment of an installed package: bytecode cached, never recompiled.

    The cache goes to a directory of its own so the checkout stays clean.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "rawtools-bench-pycache")
    return env


def installed_python(where: Path) -> str:
    """An interpreter that imports rawtools as an installed copy would.

    A venv of the same Python, with one .pth naming the checkout and the
    dependencies' directory: plain entries on sys.path, no import hook.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    site = subprocess.run([str(where / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]
    Path(site, "rawtools-bench.pth").write_text(f"{ROOT}\n{deps}\n")
    return str(where / "bin" / "python")


def installed_script(python: str) -> list[str]:
    """The `rawtools` command as pip installs it, beside `python` (from installed_python).

    A user types `rawtools`, which runs pip's entry-point script: `python -m
    rawtools` would add runpy and importlib.util to every start measured.
    The script is pip's, line for line.
    """
    script = Path(python).parent / "rawtools"
    script.write_text(f"#!{python}\n"
                      "import re\nimport sys\nfrom rawtools.cli import main\n"
                      "if __name__ == '__main__':\n"
                      "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                      "    sys.exit(main())\n")
    script.chmod(0o755)
    return [str(script)]
