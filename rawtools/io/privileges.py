"""Dropping root once the sockets that need it are open.

Raw sockets and SO_BINDTODEVICE need CAP_NET_RAW only when they are
created; everything after (sending, reading, writing a capture file, name
lookups) runs as the user who invoked sudo, so a bug in packet parsing never
runs with root's rights and files written belong to that user.
"""

from __future__ import annotations

import os
import pwd

CAP_NET_RAW = 13


def has_net_raw() -> bool:
    """True if this process may open raw sockets (root, or CAP_NET_RAW given).

    iputils decides "may flood / may use short intervals" by this capability
    rather than by uid, so a capability-bearing binary behaves like root and a
    root shell stripped of capabilities does not.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_NET_RAW & 1)
    except OSError:
        pass
    return os.geteuid() == 0


def drop_target(user: str | None = None) -> tuple[int, int, str] | None:
    """(uid, gid, name) `drop_privileges(user)` would switch to, or None to stay as is.

    A daemon asks before dropping, to hand that uid what it must still
    manage afterwards (the directory of its socket, to unlink it at exit).
    """
    if os.geteuid() != 0:
        return None
    if user:
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            from rawtools.errors import UsageError
            raise UsageError(f"unknown user {user!r}") from None
        return pw.pw_uid, pw.pw_gid, pw.pw_name
    uid_s, gid_s = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if not uid_s or not uid_s.isdigit() or int(uid_s) == 0:
        return None
    uid = int(uid_s)
    return uid, int(gid_s) if gid_s and gid_s.isdigit() else uid, str(uid)


def drop_privileges(user: str | None = None) -> str | None:
    """Switch to `user`, else to SUDO_UID/SUDO_GID; return who we became.

    Does nothing when not root, or when root was not reached through sudo
    and no user is named (a root shell stays root, as ping and tcpdump do).
    """
    target = drop_target(user)
    if target is None:
        return None
    uid, gid, name = target
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    return name
