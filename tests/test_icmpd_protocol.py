"""The icmpd wire protocol against bytes written out by hand from its documented layout.

Each expected message below is hex typed from the table in
rawtools/wire/icmpdmsg.py's docstring (header: "IE", version 1, type,
body length; then the body), so the packers and parsers are held to the
document a client in another language would be written from.
"""

from __future__ import annotations

import errno
import os
import pathlib

import pytest

from rawtools.wire import icmpdmsg as m

# 198.18.0.1 = c6 12 00 01; 2001:db8::1 and 2001:db8:0:1::2 spelled out.
V4 = "c6120001" + "00" * 12
V6 = "20010db8000000000000000000000001"
V6_DST = "20010db8000000010000000000000002"


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def test_register_and_unregister():
    assert m.register(7) == h("4945 01 01 00000004 00000007")
    assert m.unregister(0xDEADBEEF) == h("4945 01 04 00000004 deadbeef")
    assert m.unpack_tag(h("0000002a")) == 42
    with pytest.raises(m.ProtocolError):
        m.unpack_tag(h("000000"))


def test_registered_accepted_v4_and_v6():
    assert m.registered(7, 0, 4, "198.18.0.1", 5000) == h(
        "4945 01 02 0000001c" "00000007 00000000 04 00 1388" + V4)
    assert m.registered(1, 0, 6, "2001:db8::1", 53) == h(
        "4945 01 02 0000001c" "00000001 00000000 06 00 0035" + V6)
    r = m.unpack_registered(h("00000001 00000000 06 00 0035" + V6))
    assert r == m.Registered(1, 0, 6, "2001:db8::1", 53, "")


def test_registered_refused_carries_the_errno_and_a_reason():
    # ENOTSOCK is 88 on Linux; the reason follows the fixed part.
    msg = m.registered(3, 88, reason="not a socket")
    assert msg == h("4945 01 02 00000028" "00000003 00000058 04 00 0000" + "00" * 16
                    + "6e6f74206120736f636b6574")
    r = m.unpack_registered(msg[8:])
    assert (r.tag, r.status, r.version, r.addr, r.port, r.reason) == (
        3, 88, 4, "0.0.0.0", 0, "not a socket")


def test_unregistered_and_bye():
    assert m.unregistered(7, 2) == h("4945 01 05 00000008 00000007 00000002")
    assert m.unpack_unregistered(h("00000007 00000000")) == (7, 0)
    # EPROTO is 71.
    assert m.bye(71, "bad magic") == h("4945 01 06 0000000d 00000047 626164206d61676963")
    assert m.unpack_bye(h("00000047 626164206d61676963")) == (71, "bad magic")


ERROR6_BODY = h(
    "00000009"              # tag
    "06 02 00 3d"           # family 6, type 2 (packet too big), code 0, ttl 61
    "0000005a"              # errno 90 (EMSGSIZE)
    "00000500"              # mtu 1280
    "0035 9c40"             # dst port 53, local port 40000
    "0005 0000"             # rewritten: bits 0 and 2 (source-address, udp-checksum); pad
    "17979cfe3d85cd15"      # 1700000000123456789 ns
    + V6_DST + V6 + V6 +    # dst, offender, local
    "00000003")             # dropped


def test_error_message_layout_both_ways():
    e = m.IcmpError(tag=9, version=6, type=2, code=0, errno=90, dst="2001:db8:0:1::2",
                    dport=53, offender="2001:db8::1", ttl=61, mtu=1280,
                    ts_ns=1_700_000_000_123_456_789, local="2001:db8::1", lport=40000,
                    rewritten=("source-address", "udp-checksum"))
    assert len(ERROR6_BODY) == m.ERROR_SIZE == 84
    assert m.error(e, dropped=3) == h("4945 01 03 00000054") + ERROR6_BODY
    back = m.unpack_error(ERROR6_BODY)
    assert back == m.IcmpError(9, 6, 2, 0, 90, "2001:db8:0:1::2", 53, "2001:db8::1", 61, 1280,
                               1_700_000_000_123_456_789, "2001:db8::1", 40000,
                               ("source-address", "udp-checksum"), 3)
    assert back.errno_name == "EMSGSIZE"


def test_error_v4_without_mtu():
    body = h("00000001 04 03 03 40 0000006f 00000000 0009 9c40 0000 0000 0000000000000001"
             "c6120102" + "00" * 12 + "c6120102" + "00" * 12 + V4 + "00000000")
    e = m.unpack_error(body)
    assert (e.version, e.type, e.code, e.ttl, e.errno, e.mtu) == (4, 3, 3, 64, 111, None)
    assert (e.dst, e.offender, e.local, e.dport, e.lport) == (
        "198.18.1.2", "198.18.1.2", "198.18.0.1", 9, 40000)
    assert m.error(e) == h("4945 01 03 00000054") + body


@pytest.mark.parametrize("raw, words", [
    ("4946 01 01 00000004", "magic"),
    ("4945 02 01 00000004", "version 2"),
    ("4945 01 09 00000004", "type 9"),
    ("4945 01 01 00000401", "1025 bytes"),
])
def test_headers_that_are_not_the_protocol(raw, words):
    with pytest.raises(m.ProtocolError, match=words):
        m.parse_header(h(raw))


def test_the_largest_body_is_accepted():
    assert m.parse_header(h("4945 01 06 00000400")) == (m.BYE, 1024)


def test_the_udp_length_rewrite_is_bit_1():
    e = m.unpack_error(ERROR6_BODY[:20] + h("0002") + ERROR6_BODY[22:])
    assert e.rewritten == ("udp-length",)
    assert m.error(e, dropped=3)[8:] == ERROR6_BODY[:20] + h("0002") + ERROR6_BODY[22:]


def test_an_ipv4_address_is_padded_to_16_bytes():
    assert m.pack_address(4, "198.18.0.1") == h(V4)
    assert m.unpack_address(4, h(V4)) == "198.18.0.1"


# Every refusal in full: these lines reach the user (a daemon's BYE reason, a
# client's exception), so a garbled message is a bug too.
@pytest.mark.parametrize("call, body, message", [
    (m.parse_header, "4946 01 01 00000004", "not an icmpd message (bad magic)"),
    (m.parse_header, "4945 02 01 00000004", "protocol version 2 is not supported (this is 1)"),
    (m.parse_header, "4945 01 09 00000004", "unknown message type 9"),
    (m.parse_header, "4945 01 01 00000401", "message body of 1025 bytes is over 1024"),
    (m.unpack_tag, "000000", "a tag is 4 bytes, not 3"),
    (m.unpack_registered, "00000001 00000000 06 00", "REGISTERED body too short"),
    (m.unpack_registered, "00000001 00000000 05 00 0035" + V6, "REGISTERED: family 5"),
    (m.unpack_unregistered, "00000007", "UNREGISTERED body is 8 bytes"),
    (m.unpack_bye, "000047", "BYE body too short"),
    (m.unpack_error, "00" * 83, "ERROR body of 83 bytes, not 84"),
    (m.unpack_error, "00000009 05" + "00" * 79, "ERROR: family 5"),
])
def test_each_refusal_says_what_was_wrong(call, body, message):
    with pytest.raises(m.ProtocolError) as exc:
        call(h(body))
    assert str(exc.value) == message


def test_a_bye_without_a_reason():
    assert m.unpack_bye(h("00000000")) == (0, "")


def test_reasons_are_cut_to_fit_the_largest_body():
    # MAX_BODY (1024) less the fixed part: 28 bytes for REGISTERED, 4 for BYE.
    msg = m.registered(1, 22, reason="x" * 5000)
    assert m.parse_header(msg[:8]) == (m.REGISTERED, 1024)
    assert m.unpack_registered(msg[8:]).reason == "x" * (1024 - 28)
    msg = m.bye(71, "y" * 5000)
    assert m.parse_header(msg[:8]) == (m.BYE, 1024)
    assert m.unpack_bye(msg[8:]) == (71, "y" * 1020)


def test_a_reason_that_is_not_utf8_is_still_read():
    assert m.unpack_bye(h("00000047 ff41")) == (71, "\ufffdA")
    body = h("00000001 00000058 04 00 0000") + bytes(16) + b"\xfeB"
    assert m.unpack_registered(body).reason == "\ufffdB"


def test_error_defaults_and_errno_text():
    e = m.IcmpError(1, 4, 3, 3, errno.ECONNREFUSED, "198.18.1.2", 9, "198.18.1.2", 64, None,
                    0, "198.18.0.1", 40000)
    assert (e.rewritten, e.dropped) == ((), 0)
    assert e.strerror == os.strerror(errno.ECONNREFUSED) == "Connection refused"
    assert e.errno_name == "ECONNREFUSED"
    for value in (e, m.Registered(1, 0, 4, "198.18.0.1", 9, "")):
        # Frozen and slotted: events handed to callers cannot be changed under them.
        with pytest.raises(AttributeError):
            value.tag = 2  # type: ignore[misc]
        assert not hasattr(value, "__dict__")


def test_the_default_socket_is_where_the_service_listens():
    unit = pathlib.Path(__file__).parent.parent / "scripts/icmpd/rawtools-icmpd.service"
    exec_start = next(ln for ln in unit.read_text().splitlines() if ln.startswith("ExecStart="))
    argv = exec_start.split()
    assert argv[argv.index("--socket") + 1] == m.DEFAULT_SOCKET
