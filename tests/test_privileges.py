"""Who a tool becomes after opening its sockets, decided without being root.

The lab test (test_privilege_drop_lab) reads /proc of a running tool; these
pin each branch of the decision with a faked /proc, euid and environment, so
a wrong bit, a wrong default or a reordered drop fails here in a second.
"""

from __future__ import annotations

import io
import os
import pwd

import pytest

from rawtools.errors import UsageError
from rawtools.io import privileges

# CAP_NET_RAW is capability number 13 in linux/capability.h; the masks are
# written out bit by bit rather than computed from the module's constant.
NET_RAW_ONLY = "0000000000002000"
BIT_12 = "0000000000001000"
BIT_14 = "0000000000004000"
ROOT_FULL = "000001ffffffffff"
ALL_BUT_NET_RAW = "000001ffffffdfff"


def _status(capeff: str) -> str:
    return ("Name:\tpython3\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\n"
            "CapPrm:\t000001ffffffffff\n"
            f"CapEff:\t{capeff}\nCapBnd:\t000001ffffffffff\n")


@pytest.fixture
def proc_status(monkeypatch: pytest.MonkeyPatch):
    def use(text: str | None, euid: int = 0) -> None:
        def fake_open(path: str, *a: object, **k: object) -> io.StringIO:
            assert path == "/proc/self/status"
            if text is None:
                raise FileNotFoundError(path)
            return io.StringIO(text)
        monkeypatch.setattr(privileges, "open", fake_open, raising=False)
        monkeypatch.setattr(os, "geteuid", lambda: euid)
    return use


@pytest.mark.parametrize("capeff, expect", [
    (NET_RAW_ONLY, True), (ROOT_FULL, True), (BIT_12, False), (BIT_14, False),
    (ALL_BUT_NET_RAW, False), ("0000000000000000", False)])
def test_net_raw_is_bit_13_of_the_effective_set(proc_status, capeff: str,
                                                  expect: bool) -> None:
    # euid 0 throughout: a root shell stripped of CAP_NET_RAW may not use raw sockets.
    proc_status(_status(capeff), euid=0)
    assert privileges.has_net_raw() is expect


def test_a_capability_bearing_user_has_net_raw(proc_status) -> None:
    proc_status(_status(NET_RAW_ONLY), euid=1000)
    assert privileges.has_net_raw() is True


@pytest.mark.parametrize("euid, expect", [(0, True), (1000, False)])
def test_without_proc_root_is_the_answer(proc_status, euid: int, expect: bool) -> None:
    proc_status(None, euid=euid)
    assert privileges.has_net_raw() is expect


def test_a_status_without_capeff_falls_back_to_the_uid(proc_status) -> None:
    proc_status("Name:\tx\nUid:\t1000\n", euid=1000)
    assert privileges.has_net_raw() is False


def test_this_process_agrees_with_its_own_proc_status() -> None:
    # The real file, read another way: the hex mask's bit 13 tested with a mask.
    with open("/proc/self/status") as f:
        capeff = next(line for line in f if line.startswith("CapEff:")).split(":")[1]
    assert privileges.has_net_raw() is bool(int(capeff.strip(), 16) & 0x2000)


@pytest.fixture
def as_root(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    for var in ("SUDO_UID", "SUDO_GID"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_not_root_stays_as_is(as_root: pytest.MonkeyPatch) -> None:
    as_root.setattr(os, "geteuid", lambda: 1000)
    as_root.setenv("SUDO_UID", "1000")
    as_root.setenv("SUDO_GID", "1000")
    assert privileges.drop_target() is None
    assert privileges.drop_target("nobody") is None


def test_a_named_user_comes_from_the_password_database(as_root: pytest.MonkeyPatch) -> None:
    with open("/etc/passwd") as f:
        fields = next(line.split(":") for line in f if line.startswith("nobody:"))
    assert privileges.drop_target("nobody") == (int(fields[2]), int(fields[3]), "nobody")


def test_a_named_user_wins_over_sudo(as_root: pytest.MonkeyPatch) -> None:
    as_root.setenv("SUDO_UID", "1234")
    as_root.setenv("SUDO_GID", "1234")
    assert privileges.drop_target("nobody") == (
        pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid, "nobody")


def test_an_unknown_user_is_a_usage_error(as_root: pytest.MonkeyPatch) -> None:
    with pytest.raises(UsageError, match="unknown user 'no-such-user-x'"):
        privileges.drop_target("no-such-user-x")


@pytest.mark.parametrize("uid, gid, expect", [
    ("1000", "1001", (1000, 1001, "1000")),
    ("1000", None, (1000, 1000, "1000")),
    ("1000", "", (1000, 1000, "1000")),
    ("1000", "staff", (1000, 1000, "1000")),
    ("0", "0", None),
    ("", "1000", None),
    (None, "1000", None),
    ("12ab", "1000", None),
    ("-5", "1000", None),
])
def test_sudo_names_the_user_to_become(as_root: pytest.MonkeyPatch, uid: str | None,
                                       gid: str | None, expect: object) -> None:
    if uid is not None:
        as_root.setenv("SUDO_UID", uid)
    if gid is not None:
        as_root.setenv("SUDO_GID", gid)
    assert privileges.drop_target() == expect


def test_an_empty_user_name_means_sudo(as_root: pytest.MonkeyPatch) -> None:
    as_root.setenv("SUDO_UID", "1000")
    as_root.setenv("SUDO_GID", "1000")
    assert privileges.drop_target("") == (1000, 1000, "1000")


@pytest.fixture
def calls(as_root: pytest.MonkeyPatch) -> list[tuple[str, object]]:
    made: list[tuple[str, object]] = []
    as_root.setattr(os, "setgroups", lambda g: made.append(("setgroups", list(g))))
    as_root.setattr(os, "setgid", lambda g: made.append(("setgid", g)))
    as_root.setattr(os, "setuid", lambda u: made.append(("setuid", u)))
    return made


def test_the_drop_clears_groups_then_gid_then_uid(as_root: pytest.MonkeyPatch,
                                                  calls: list[tuple[str, object]]) -> None:
    # setuid first would leave no right to change the gid or the groups after it.
    as_root.setenv("SUDO_UID", "1000")
    as_root.setenv("SUDO_GID", "1001")
    assert privileges.drop_privileges() == "1000"
    assert calls == [("setgroups", []), ("setgid", 1001), ("setuid", 1000)]


def test_a_root_shell_without_sudo_is_left_alone(calls: list[tuple[str, object]]) -> None:
    assert privileges.drop_privileges() is None
    assert calls == []


def test_a_named_user_is_dropped_to(calls: list[tuple[str, object]]) -> None:
    pw = pwd.getpwnam("nobody")
    assert privileges.drop_privileges("nobody") == "nobody"
    assert calls == [("setgroups", []), ("setgid", pw.pw_gid), ("setuid", pw.pw_uid)]
