"""IEEE 802.11 frames, for the management frames this decoder names as tcpdump does.

Without -v tcpdump names the management frame and gives the few fields
that say what happened: an authentication's algorithm and transaction
number, with the status where tcpdump shows it, and why a station was
disassociated or deauthenticated (and by whom). Other frames are not
decoded here (None), and the caller keeps its short line.
"""

from __future__ import annotations

import struct

_MGMT_HEADER = 24
_AUTH = struct.Struct("<HHH")
_MGMT, _AUTHENTICATION = 0, 11
_ALGORITHMS = {0: "Open System", 1: "Shared Key", 2: "EAP"}
_SHARED_KEY = 1
_DISASSOCIATION, _DEAUTHENTICATION = 10, 12
_REASON = struct.Struct("<H")
_TRANSMITTER = slice(10, 16)  # address 2 of a management frame: its source
# tcpdump's reason texts by code (IEEE 802.11-2016 table 9-45, in tcpdump's words);
# codes past the table are "Reserved".
_REASONS = (
    "Reserved",
    "Unspecified reason",
    "Previous authentication no longer valid",
    "Deauthenticated because sending STA is leaving (or has left) IBSS or ESS",
    "Disassociated due to inactivity",
    "Disassociated because AP is unable to handle all currently  associated STAs",
    "Class 2 frame received from nonauthenticated STA",
    "Class 3 frame received from nonassociated STA",
    "Disassociated because sending STA is leaving (or has left) BSS",
    "STA requesting (re)association is not authenticated with responding STA",
    "Disassociated because the information in the Power Capability element is unacceptable",
    "Disassociated because the information in the Supported Channels element is unacceptable",
    "Disassociated due to BSS transition management",
    ("Invalid element, i.e., an element defined in this standard for which the content does not "
     "meet the specifications in Clause 9"),
    "Message integrity code (MIC) failure",
    "4-Way Handshake timeout",
    "Group key handshake timeout",
    ("Information element in 4-Way Handshake different from (Re)AssociationRequest/Probe "
     "Response/Beacon frame"),
    "Invalid group cipher",
    "Invalid pairwise cipher",
    "Invalid AKMP",
    "Unsupported RSNE version",
    "Invalid RSNE capabilities",
    "IEEE 802.1X authentication failed",
    "Cipher suite rejected because of the security policy",
    "TDLS direct-link teardown due to TDLS peer STA unreachable via the TDLS direct link",
    "TDLS direct-link teardown for unspecified reason",
    "Disassociated because session terminated by SSP request",
    "Disassociated because of lack of SSP roaming agreement",
    "Requested service rejected because of SSP cipher suite or AKM requirement",
    "Requested service not authorized in this location",
    ("TS deleted because QoS AP lacks sufficient bandwidth for this QoS STA due to a change in "
     "BSS service characteristics or operational mode (e.g. an HT BSS change from 40 MHz "
     "channel to 20 MHz channel)"),
    "Disassociated for unspecified, QoS-related reason",
    "Disassociated because QoS AP lacks sufficient bandwidth for this QoS STA",
    ("Disassociated because of excessive number of frames that need to be acknowledged, but are "
     "not acknowledged due to AP transmissions and/or poor channel conditions"),
    "Disassociated because STA is transmitting outside the limits of its TXOPs",
    "Requested from peer STA as the STA is leaving the BSS (or resetting)",
    "Requested from peer STA as it does not want to use the mechanism",
    ("Requested from peer STA as the STA received frames using the mechanism for which a set up "
     "is required"),
    "Requested from peer STA due to time out",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Peer STA does not support the requested cipher suite",
    ("In a DLS Teardown frame: The teardown was initiated by the DLS peer. In a Disassociation "
     "frame: Disassociated because authorized access limit reached"),
    ("In a DLS Teardown frame: The teardown was initiated by the AP. In a Disassociation frame: "
     "Disassociated due to external service requirements"),
    "Invalid FT Action frame count",
    "Invalid pairwise master key identifier (PMKID)",
    "Invalid MDE",
    "Invalid FTE",
    "Mesh peering canceled for unknown reasons",
    "The mesh STA has reached the supported maximum number of peer mesh STAs",
    ("The received information violates the Mesh Configuration policy configured in the mesh "
     "STA profile"),
    "The mesh STA has received a Mesh Peering Close frame requesting to close the mesh peering",
    ("The mesh STA has resent dot11MeshMaxRetries Mesh Peering Open frames, without receiving a "
     "Mesh Peering Confirm frame"),
    "The confirmTimer for the mesh peering instance times out",
    "The mesh STA fails to unwrap the GTK or the values in the wrapped contents do not match",
    ("The mesh STA receives inconsistent information about the mesh parameters between mesh "
     "peering Management frames"),
    ("The mesh STA fails the authenticated mesh peering exchange because due to failure in "
     "selecting either the pairwise ciphersuite or group ciphersuite"),
    "The mesh STA does not have proxy information for this external destination",
    "The mesh STA does not have forwarding information for this destination",
    ("The mesh STA determines that the link to the next hop of an active path in its forwarding "
     "information is no longer usable"),
    ("The Deauthentication frame was sent because the MAC address of the STA already exists in "
     "the mesh BSS"),
    "The mesh STA performs channel switch to meet regulatory requirements",
    "The mesh STA performs channel switching with unspecified reason",
)


def _authentication(body: bytes) -> tuple[str, bool] | None:
    if len(body) < _AUTH.size:
        return "Authentication [|802.11]", False
    algorithm, seq, status = _AUTH.unpack_from(body)
    name = _ALGORITHMS.get(algorithm, "Reserved")
    if algorithm == _SHARED_KEY and seq in (2, 3):
        return None  # the challenge text and its status: not rendered here
    if seq % 2 == 0:
        return f"Authentication ({name})-{seq:x}: ", True
    if status != 0:
        return None  # tcpdump's status texts are not rendered here
    return f"Authentication ({name})-{seq:x}: Successful", True


def _reason(subtype: int, p: bytes, length: int) -> tuple[str, bool]:
    """A disassociation's or deauthentication's reason; the latter names its sender."""
    name = "Disassociation" if subtype == _DISASSOCIATION else "DeAuthentication"
    body = p[_MGMT_HEADER:]
    if len(body) < _REASON.size or length - _MGMT_HEADER < _REASON.size:
        return name + " [|802.11]", False
    code = _REASON.unpack_from(body)[0]
    reason = _REASONS[code] if code < len(_REASONS) else "Reserved"
    if subtype == _DISASSOCIATION:
        return f"{name}: {reason}", True
    return f"{name} ({p[_TRANSMITTER].hex(':')}): {reason}", True


def frame(p: bytes, length: int) -> tuple[str, bool] | None:
    """tcpdump's text of an 802.11 frame, or None where it is not decoded here."""
    if len(p) < 2:
        return None
    fc = p[0] | p[1] << 8
    kind, subtype = fc >> 2 & 3, fc >> 4 & 15
    if kind != _MGMT or len(p) < _MGMT_HEADER:
        return None
    if subtype == _AUTHENTICATION:
        return _authentication(p[_MGMT_HEADER:])
    if subtype in (_DISASSOCIATION, _DEAUTHENTICATION):
        return _reason(subtype, p, length)
    return None
