"""The daemon's Unix socket on the file system: taken over safely, given back at exit.

A path left by a daemon that died is a socket nobody answers on (connect
says ECONNREFUSED): it is removed and the new daemon binds there. A socket
that answers belongs to a running daemon, and anything that is not a socket
belongs to somebody else; both are refused and never unlinked. At exit the
path is removed only if it is still the socket this daemon bound, so a
daemon started after it in the meantime keeps its own.
"""

from __future__ import annotations

import errno
import os
import socket
import stat

from rawtools.errors import PermissionNeeded, RawtoolsError

BACKLOG = 1024
PROBE_TIMEOUT = 2.0


class Listener:
    """A bound, listening Unix stream socket; `created_dir` if its directory is ours."""

    def __init__(self, sock: socket.socket, path: str, created_dir: str | None) -> None:
        self.sock = sock
        self.path = path
        self.created_dir = created_dir
        st = os.stat(path)
        self._ident = (st.st_dev, st.st_ino)

    def remove(self) -> str | None:
        """Unlink the socket if it is still ours; a one-line reason if that fails."""
        self.sock.close()
        try:
            st = os.lstat(self.path)
            if (st.st_dev, st.st_ino) == self._ident:
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        except OSError as e:
            return f"cannot remove {self.path}: {e.strerror}"
        return None


def _failure(what: str, e: OSError) -> RawtoolsError:
    if e.errno in (errno.EPERM, errno.EACCES):
        return PermissionNeeded(f"{what}: {e.strerror} (run as a user who may write there, "
                                "e.g. with sudo, or choose another --socket)")
    return RawtoolsError(f"{what}: {e.strerror}")


def clear_stale(path: str) -> bool:
    """Remove a dead daemon's socket at `path`; True if there was one. Refuse anything else."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as e:
        raise _failure(path, e) from None
    if not stat.S_ISSOCK(st.st_mode):
        raise RawtoolsError(f"{path} exists and is not a socket; remove it or choose another "
                            "--socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(PROBE_TIMEOUT)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        pass
    except TimeoutError:
        raise RawtoolsError(f"a daemon already answers on {path} (busy)") from None
    except OSError as e:
        raise _failure(f"cannot tell whether a daemon answers on {path}", e) from None
    else:
        raise RawtoolsError(f"a daemon already answers on {path}")
    finally:
        probe.close()
    try:
        os.unlink(path)
    except OSError as e:
        raise _failure(f"cannot remove the stale socket {path}", e) from None
    return True


def open_listener(path: str, mode: int, gid: int | None) -> tuple[Listener, bool]:
    """Bind and listen at `path` with permissions `mode` (and group `gid`); (listener, stale).

    The socket is created under a umask that already gives it `mode`, so
    there is no moment at which it is more open than asked.
    """
    parent = os.path.dirname(os.path.abspath(path))
    created = None
    if not os.path.isdir(parent):
        try:
            os.makedirs(parent, 0o755)
            os.chmod(parent, 0o755)  # makedirs' mode is filtered by the umask
        except OSError as e:
            raise _failure(f"cannot create directory {parent}", e) from None
        created = parent
    stale = clear_stale(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o777 & ~mode)
    try:
        sock.bind(path)
    except OSError as e:
        sock.close()
        raise _failure(f"cannot create socket {path}", e) from None
    finally:
        os.umask(old)
    try:
        os.chmod(path, mode)
        if gid is not None:
            os.chown(path, -1, gid)
        sock.listen(BACKLOG)
    except OSError as e:
        sock.close()
        os.unlink(path)
        raise _failure(f"cannot set up {path}", e) from None
    return Listener(sock, path, created), stale
