"""The dispatcher and the public API surface."""

import subprocess

from conftest import rawtools_argv

import rawtools


def test_every_listed_tool_has_a_cli_and_an_api():
    from rawtools.cli import TOOLS, load_tool
    for tool in TOOLS:
        module = load_tool(tool)
        assert callable(module.add_arguments) and callable(module.run)
    for name in rawtools.__all__:
        if name == "aio":  # the asyncio forms: a module of coroutines
            import inspect
            assert all(inspect.iscoroutinefunction(getattr(rawtools.aio, f))
                       for f in ("ping", "trace"))
            continue
        assert callable(getattr(rawtools, name))


def test_unknown_tool_and_unknown_flag_are_one_line_exit_2():
    for argv in (["nosuchtool"], ["ping", "--no-such-flag", "198.18.0.1"]):
        r = subprocess.run(rawtools_argv(*argv), capture_output=True, text=True)
        assert r.returncode == 2
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_python_m_rawtools_is_the_same_entry_point():
    r = subprocess.run(rawtools_argv("--help"), capture_output=True, text=True)
    assert r.returncode == 0 and "ifaces" in r.stdout
