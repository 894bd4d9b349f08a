"""One exception hierarchy for everything a user can get wrong or lack.

The CLI catches `RawtoolsError` and prints its message as a single line on
stderr with exit code 2, so every module raises one of these rather than
letting an OSError or a library exception reach the user as a traceback.
"""


class RawtoolsError(Exception):
    """Base of every error the CLI turns into one line and exit code 2.

    Messages quote what the user typed, which may hold a newline, a carriage
    return or an escape sequence; they are shown escaped, so the error stays
    one line and cannot rewrite the terminal.
    """

    exit_code = 2

    def __str__(self) -> str:
        text = super().__str__()
        if text.isprintable():
            return text
        return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class UsageError(RawtoolsError):
    """A flag or argument out of range, or a combination that makes no sense."""


class ResolveError(RawtoolsError):
    """A host name that does not resolve, or resolves to an unusable address."""


class RouteError(RawtoolsError):
    """The kernel has no route to the destination: connecting towards it failed.

    Raised before anything is sent, with the kernel's words in iputils ping's
    and traceroute's form (`connect: Network is unreachable`), so a script can
    tell "no way out" from a host that is down (which is a result, not an
    error). `reason` is the kernel's text alone (`Network is unreachable`).
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PermissionNeeded(RawtoolsError):
    """The operation needs root or CAP_NET_RAW (or a ping_group_range entry)."""


class InterfaceError(RawtoolsError):
    """A named interface or source address that does not exist here."""


class CaptureError(RawtoolsError):
    """libpcap refused: bad filter, unreadable or corrupt capture file, ..."""


class ReplayError(RawtoolsError):
    """A replay file that cannot drive the engine (wrong content, truncated)."""


class IcmpdError(RawtoolsError):
    """icmpd cannot be reached, refused a socket, or ended the connection."""


class ReplayDiverged(ReplayError):
    """A replay whose run parts from its recording (other options, or a cut-short run).

    Its own exit code, 3, tells a script that the file is fine but the replay
    could not reproduce it: the report would have described another run.
    """

    exit_code = 3
