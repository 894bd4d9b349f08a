"""Shell completion, driven through bash itself as a user's Tab would.

Oracles: each tool's `--help` text (argparse's formatter, a path separate
from the completion generator's walk of the parsers) for the flags and
choices; /sys/class/net for interfaces; the files of a folder made here.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import rawtools_argv

from rawtools.cli import TOOLS


def script(shell: str) -> str:
    r = subprocess.run(rawtools_argv("--completion", shell), capture_output=True, text=True,
                       timeout=60, check=True)
    return r.stdout


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("completion") / "rawtools.bash"
    path.write_text(script("bash"))
    return str(path)


def complete(bash_script: str, line: str, cwd: str | None = None) -> list[str]:
    """What Tab offers after `line` (words split on spaces; a trailing space starts a new one)."""
    words = line.split(" ")
    program = (f"source {bash_script}\n"
               f"COMP_WORDS=({' '.join(repr(w) for w in words)})\n"
               f"COMP_CWORD={len(words) - 1}\n"
               "_rawtools\n"
               'printf "%s\\n" "${COMPREPLY[@]}"\n')
    r = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30,
                       cwd=cwd)
    assert r.returncode == 0, r.stderr
    return sorted(x for x in r.stdout.splitlines() if x)


def help_flags(tool: str) -> set[str]:
    """The flags `--help` lists: the invocation column of each option line."""
    text = subprocess.run(rawtools_argv(tool, "--help"), capture_output=True, text=True,
                          timeout=60).stdout
    out: set[str] = set()
    for line in text.split("options:", 1)[1].splitlines():
        m = re.match(r"^ {2}(-\S.*?)(?: {2,}|$)", line)
        if m:
            out |= set(re.findall(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)", m.group(1)))
    return out


def test_the_first_word_is_a_tool(bash_script):
    text = subprocess.run(rawtools_argv("--help"), capture_output=True, text=True).stdout
    listed = set(re.findall(r"^ {4}([a-z]+) ", text, re.M))
    got = complete(bash_script, "rawtools ")
    assert listed == set(TOOLS) and listed <= set(got)
    assert complete(bash_script, "rawtools tr") == ["trace"]


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_flag_of_every_tool_completes(bash_script, tool):
    assert set(complete(bash_script, f"rawtools {tool} -")) == help_flags(tool)


def test_values_complete_by_kind(bash_script, tmp_path):
    assert complete(bash_script, "rawtools trace --socket ") == ["dgram", "raw"]
    assert complete(bash_script, "rawtools trace --socket d") == ["dgram"]
    assert complete(bash_script, "rawtools ping -c ") == []  # a number: nothing to guess
    (tmp_path / "run1.pcap").write_bytes(b"")
    (tmp_path / "run2.pcap").write_bytes(b"")
    assert complete(bash_script, "rawtools ping --replay run", cwd=str(tmp_path)) == \
        ["run1.pcap", "run2.pcap"]
    ifaces = sorted(p.name for p in __import__("pathlib").Path("/sys/class/net").iterdir())
    assert complete(bash_script, "rawtools trace -i ") == ifaces


def test_zsh_loads_it_through_bashcompinit():
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed (scripts/setup.sh installs it)")
    r = subprocess.run(["zsh", "-fc", "autoload -U compinit && compinit -u -D; "
                        f"eval \"$({' '.join(rawtools_argv('--completion', 'zsh'))})\"; "
                        "print -r -- ${+functions[_rawtools]} ${_comps[rawtools]}"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # The function is defined, and zsh's table sends `rawtools` to it through bashcompinit.
    assert r.stdout.split() == ["1", "_bash_complete", "-F", "_rawtools"], r.stdout
