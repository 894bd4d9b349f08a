"""Every tool's `--json` lines against the JSON Schemas the package ships.

The judge is an independent validator, the jsonschema package (draft
2020-12), never rawtools' own earlier output. The lines are real: every
recording in captures/ and every capture of the corpus replayed or read
without privileges, and, for the lines only live runs write (ping's
no-route and outstanding, trace's --explain, --report and --mda, sniff's
kernel counts, inject, icmpd's clients), the tools run inside a namespace
lab. Each line is checked twice: against the schema as shipped (open to the
fields rawtools/1 may add), and against a closed copy that refuses any
property the schema does not name, so that no field goes undocumented.

The types every run printed are collected; the last test requires that each
type of each schema was seen, so a schema cannot describe a line no test
has met, and a new line type cannot go without a schema (it fails
validation: every schema's `type` is an enum).
"""

from __future__ import annotations

import copy
import json
import os
import shlex
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dpkt
import jsonschema
import pytest
from clirun import run_cli
from conftest import CAPTURES, CORPUS, rawtools_argv, without_privileges
from jsonschema.exceptions import best_match
from test_trace_icmpext import IFACE, MPLS, obj, structure, te_with_extensions

import rawtools
import rawtools.schemas
from rawtools.cli import TOOLS as CLI_TOOLS
from rawtools.jsonout import dumps, record
from rawtools.schemas import TOOLS, load
from rawtools.testing.ecmp import Diamond
from rawtools.testing.plugin import lab_skip_reason
from rawtools.tools.trace.hops import Hop, Probe
from rawtools.tools.trace.render import hop_record

SCHEMAS = {tool: load(tool) for tool in TOOLS}


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` in which every object that lists properties admits no other.

    The `if` of each line type is left open: it only asks which type a line is.
    """

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                node["unevaluatedProperties"] = False
            for key, value in node.items():
                if key != "if":
                    close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    out = copy.deepcopy(schema)
    close(out)
    return out


OPEN = {t: jsonschema.Draft202012Validator(s) for t, s in SCHEMAS.items()}
CLOSED = {t: jsonschema.Draft202012Validator(closed(s)) for t, s in SCHEMAS.items()}

# tool -> line types seen valid in this session's runs (for the coverage test at the end)
SEEN: dict[str, set[str]] = {t: set() for t in TOOLS}
# the tests that feed SEEN and have run (coverage is judged only after all of them)
FED: set[str] = set()


def validate(tool: str, stdout: str, fed_by: str, whole: bool = True) -> list[dict[str, Any]]:
    """Each line of `stdout`: one JSON object, valid open and closed; the last ends the run
    (unless not `whole`: lines built by the code a run uses, outside a run)."""
    lines = stdout.splitlines()
    assert lines, "no JSON line at all"
    objs = []
    for text in lines:
        obj = json.loads(text)
        assert isinstance(obj, dict), text
        for kind, validator in (("schema", OPEN[tool]), ("closed schema", CLOSED[tool])):
            error = best_match(validator.iter_errors(obj))
            assert error is None, (f"{tool} {obj.get('type')} line against its {kind}: "
                                   f"{error.message} at {list(error.absolute_path)}\n{text}")
        objs.append(obj)
    ends = [o["type"] for o in objs if o["type"] in ("summary", "fatal")]
    if whole:
        assert ends == [objs[-1]["type"]], f"one summary or fatal line, last: {ends}"
    SEEN[tool].update(o["type"] for o in objs)
    FED.add(fed_by)
    return objs


def types_of(schema: dict[str, Any]) -> set[str]:
    return set(schema["properties"]["type"]["enum"])


# -- the schemas themselves ---------------------------------------------------


@pytest.mark.parametrize("tool", TOOLS)
def test_every_schema_is_a_valid_draft_2020_12_schema(tool):
    jsonschema.Draft202012Validator.check_schema(SCHEMAS[tool])
    jsonschema.Draft202012Validator.check_schema(closed(SCHEMAS[tool]))
    assert SCHEMAS[tool]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMAS[tool]["$defs"]["tool"] == {"const": tool}


def test_the_schemas_are_the_tools_that_have_json():
    """A tool with --json has a schema, and a schema names a tool with --json."""
    with_flag = {t for t in CLI_TOOLS if "--json" in run_cli(t, "--help").stdout}
    assert with_flag == set(TOOLS)
    shipped = Path(rawtools.schemas.__file__).parent.glob("*.json")
    assert sorted(p.stem for p in shipped) == sorted(TOOLS)


def test_every_type_has_its_definition_and_the_fatal_line_is_the_same_everywhere():
    for tool, schema in SCHEMAS.items():
        for kind in types_of(schema):
            assert kind.replace("-", "_") in schema["$defs"], (tool, kind)
        assert {"summary", "fatal"} <= types_of(schema), tool
        fatal = schema["$defs"]["fatal"]
        assert fatal == SCHEMAS["ping"]["$defs"]["fatal"], tool


def ping_lines() -> tuple[dict[str, Any], dict[str, Any]]:
    """A real reply line and summary line of ping, from a replay."""
    r = run_cli("ping", "--json", "--replay", str(CAPTURES / "ping-v4-raw.pcap"), "-c", "4",
                "-i", "0.2", "--socket", "raw", "198.18.3.2")
    reply, *_, summary = [json.loads(x) for x in r.stdout.splitlines()]
    return reply, summary


DAMAGE: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("reply", lambda o: o.update(rtt_ms="0.1")),              # a string for a number
    ("reply", lambda o: o.update(ttl=64.5)),                  # a number for an integer
    ("reply", lambda o: o.update(clock="wall")),              # outside the enum
    ("reply", lambda o: o.pop("seq")),                        # a required field gone
    ("reply", lambda o: o.update(type="pong")),               # no such line
    ("reply", lambda o: o.update(schema="rawtools/2")),
    ("summary", lambda o: o["targets"][0].update(state="down")),
    ("summary", lambda o: o["targets"][0].update(min_ms=-1.0)),
    ("summary", lambda o: o.update(mechanism=None)),          # null where none is written
]


@pytest.mark.parametrize("line,damage", DAMAGE, ids=[f"{k}-{i}" for i, (k, _) in
                                                      enumerate(DAMAGE)])
def test_the_validator_refuses_a_damaged_line(line, damage):
    """The schemas have teeth: a real line passes, the same line damaged in one field fails."""
    obj = dict(zip(("reply", "summary"), ping_lines(), strict=True))[line]
    assert OPEN["ping"].is_valid(obj)
    damage(obj)
    assert not OPEN["ping"].is_valid(obj)


def test_an_added_field_is_admitted_but_only_a_named_one_is_documented():
    """rawtools/1 may add fields: the shipped schema admits them; the tests' closed copy
    does not, so a field the code writes and the schema does not name fails above."""
    reply, summary = ping_lines()
    assert OPEN["ping"].is_valid({**reply, "new_field": 1})
    assert not CLOSED["ping"].is_valid({**reply, "new_field": 1})
    summary["targets"][0]["new_field"] = 1
    assert OPEN["ping"].is_valid(summary) and not CLOSED["ping"].is_valid(summary)


def test_a_fatal_line_exits_non_zero():
    ok = {"schema": "rawtools/1", "tool": "ping", "type": "fatal", "message": "m", "exit_code": 2}
    assert OPEN["ping"].is_valid(ok)
    assert not OPEN["ping"].is_valid({**ok, "exit_code": 0})
    assert not OPEN["trace"].is_valid(ok)  # another tool's line


# -- replays: no privileges ------------------------------------------------------


def recorded_runs() -> list[tuple[str, str, list[str]]]:
    """(tool, capture, arguments) of every recording in captures/ with its `.txt`."""
    runs = []
    for txt in sorted(CAPTURES.glob("*.txt")):
        tool = txt.name.split("-")[0]
        args = shlex.split(txt.read_text().splitlines()[0].removeprefix("args: "))
        runs.append((tool, txt.stem, args))
    return runs


@pytest.mark.parametrize("tool,capture,args", recorded_runs(), ids=lambda x: str(x)[:40])
def test_replayed_recordings(tool, capture, args):
    r = run_cli(tool, "--json", "--replay", str(CAPTURES / f"{capture}.pcap"), *args)
    assert r.returncode in (0, 1), r.stderr
    validate(tool, r.stdout, "replays")


@pytest.mark.parametrize("capture,dst", [("trace-udp4", "198.18.8.2"),
                                         ("trace-udp4-gap", "198.18.8.2"),
                                         ("trace-udp6", "2001:db8:0:8::2")])
def test_trace_summary_with_per_hop_stats(capture, dst):
    """--report's summary, which is `to_dict(report=True)` (the recordings were made
    without --report, whose probing order differs, so they replay through the API)."""
    result = rawtools.trace(dst, replay=str(CAPTURES / f"{capture}.pcap"))
    summary = validate("trace", result.to_json(report=True), "trace-report")[-1]
    assert summary["stats"], summary


def test_trace_extensions_of_a_real_router_and_of_every_object_class():
    """-e's `extensions`: the hop line trace prints, built by its own hop_record from the
    RFC 5837 time-exceeded of tcpdump's corpus (a real router's, over PPP) and from one
    with an MPLS stack, an interface object and an unknown class."""
    with (CORPUS / "icmp-rfc5837.pcap").open("rb") as f:
        ppp = [buf for _, buf in dpkt.pcap.Reader(f)]
    assert ppp and all(buf[:4] == b"\xff\x03\x00\x21" for buf in ppp)  # HDLC-framed IPv4
    packets = [buf[4:] for buf in ppp]
    packets.append(te_with_extensions(structure(MPLS, IFACE, obj(9, 3, b"\xab\xcd"))))
    probes = [Probe(3, i, addr="198.18.3.2", rtt_ns=1_000_000, kind="time-exceeded", tries=1,
                    reply_ttl=62, answered_try=1, answers=1, packet=p)
              for i, p in enumerate(packets)]
    line = dumps(record("trace", "hop", **hop_record(Hop(3, probes), None, extensions=True)))
    (hop,) = validate("trace", line, "trace-extensions", whole=False)
    classes = {e["class"] for p in hop["probes"] for e in p["extensions"]}
    assert {"mpls", "interface", 9} <= classes, classes


def damaged(src: Path, dst: Path, pick: Callable[[bytes], bool]) -> Path:
    """A copy of a DLT_RAW pcap whose first packet `pick` chooses has its last byte flipped:
    the bad checksum of a corrupted reply or error."""
    data = bytearray(src.read_bytes())
    order = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    at = 24
    while at + 16 <= len(data):
        caplen = struct.unpack_from(order + "I", data, at + 8)[0]
        packet = bytes(data[at + 16:at + 16 + caplen])
        if pick(packet):
            data[at + 16 + caplen - 1] ^= 0xFF
            dst.write_bytes(bytes(data))
            return dst
        at += 16 + caplen
    raise AssertionError(f"no packet to damage in {src}")


def icmp4_type(packet: bytes) -> int | None:
    if packet[0] >> 4 != 4 or packet[9] != 1:
        return None
    return packet[(packet[0] & 0xF) * 4]


def test_a_corrupted_echo_reply(tmp_path):
    cap = damaged(CAPTURES / "ping-v4-raw.pcap", tmp_path / "corrupt.pcap",
                  lambda p: icmp4_type(p) == 0)
    r = run_cli("ping", "--json", "--replay", str(cap), "-c", "4", "-i", "0.2", "--socket", "raw",
                "198.18.3.2")
    objs = validate("ping", r.stdout, "ping-corrupt")
    assert "corrupt" in {o["type"] for o in objs}, r.stdout


def test_icmpd_replays_with_a_malformed_error(tmp_path):
    watch = ("--watch", "198.18.0.1:40001", "--watch", "[2001:db8::1]:40002")
    for cap in (CAPTURES / "icmpd-errors.pcap", CAPTURES / "icmpd-errors-eth.pcap",
                damaged(CAPTURES / "icmpd-errors.pcap", tmp_path / "bad.pcap",
                        lambda p: icmp4_type(p) == 3)):
        r = run_cli("icmpd", "--json", "--replay", str(cap), *watch)
        assert r.returncode == 0, r.stderr
        validate("icmpd", r.stdout, "icmpd-replay")
    assert {"error", "unmatched", "malformed"} <= SEEN["icmpd"]


@pytest.mark.parametrize("directory", [CAPTURES, CORPUS], ids=["captures", "corpus"])
def test_sniff_reads_every_capture(directory):
    """All of captures/ and the corpus (every link type, DNS, ARP, VLANs, damage)."""
    files = sorted(p for p in directory.iterdir() if p.suffix in (".pcap", ".pcapng"))
    assert files
    for f in files:
        r = run_cli("sniff", "--json", "-r", str(f))
        assert r.returncode == 0, (f, r.stderr)
        validate("sniff", r.stdout, f"sniff-{directory.name}")


def test_ifaces():
    r = run_cli("ifaces", "--json")
    assert r.returncode == 0, r.stderr
    validate("ifaces", r.stdout, "ifaces")


# -- failures: the fatal line ---------------------------------------------------------


def fatal(tool: str, r: Any, code: int) -> dict[str, Any]:
    """The one fatal line of a failed --json run, beside its unchanged stderr line."""
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr
    (said,) = r.stderr.splitlines()
    obj = validate(tool, r.stdout, f"fatal-{tool}")[-1]
    assert obj["type"] == "fatal" and obj["exit_code"] == code
    # "rawtools TOOL: ", or "rawtools: " where the top parser refuses an unknown flag
    assert said.endswith(": " + obj["message"]) and said.startswith("rawtools")
    return obj


@pytest.mark.parametrize("tool", TOOLS)
def test_a_usage_error_under_json_is_a_fatal_line_too(tool):
    fatal(tool, run_cli(tool, "--json", "--no-such-flag"), 2)


FAILURES = [
    ("ping", ["--replay", "/nonexistent.pcap", "198.18.3.2"], 2),
    ("ping", ["-c", "0", "198.18.3.2"], 2),
    # replies first, then the recording ends before the run does: exit 3
    ("ping", ["--replay", str(CAPTURES / "ping-v4-raw.pcap"), "-c", "5", "-i", "0.2",
              "--socket", "raw", "198.18.3.2"], 3),
    ("ping", ["--replay", str(CAPTURES / "ping-v4-raw.pcap"), "-c", "4", "--socket", "raw",
              "198.18.3.9"], 3),
    ("trace", ["--replay", "/nonexistent.pcap", "198.18.8.2"], 2),
    ("trace", ["-m", "0", "198.18.8.2"], 2),
    ("udpcksum", ["--replay", str(CAPTURES / "udpcksum-on4.pcap"), "198.18.1.2", "nosuchservice"],
     2),
    ("sniff", ["-r", "/nonexistent.pcap"], 2),
    ("sniff", ["-r", str(CAPTURES / "trace-udp4.pcap"), "udp and and"], 2),
    ("inject", ["-i", "lo", "/nonexistent.pcap"], 2),
    ("icmpd", ["--replay", "/nonexistent.pcap", "--watch", "198.18.0.1:1"], 2),
    ("ifaces", ["no-such-interface0"], 2),
]


@pytest.mark.parametrize("tool,args,code", FAILURES, ids=[f"{t}-{i}" for i, (t, _, _) in
                                                          enumerate(FAILURES)])
def test_a_failed_json_run_ends_with_a_fatal_line_and_the_same_exit_code(tool, args, code):
    fatal(tool, run_cli(tool, "--json", *args), code)


def test_want_of_descriptors_under_json_is_a_fatal_line_too():
    r = subprocess.run(["bash", "-c", 'ulimit -n 5; exec "$@"', "bash",
                        *rawtools_argv("sniff", "--json", "-r", str(CAPTURES / "trace-udp4.pcap"))],
                       capture_output=True, text=True, timeout=60)
    assert "Too many open files" in fatal("sniff", r, 2)["message"]


@pytest.mark.parametrize("args", [["ping", "--json", "-c", "0", "198.18.3.2"],
                                  ["ping", "--json", "-c", "x", "198.18.3.2"]])
def test_a_fatal_line_that_stdout_refuses_leaves_the_one_stderr_line(args):
    """stdout on a full device: the JSON line is lost, the person still gets one line."""
    with open("/dev/full", "w") as full:
        r = subprocess.run(rawtools_argv(*args), stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr


def test_a_failure_without_json_prints_no_json():
    r = run_cli("ping", "-c", "x", "198.18.3.2")
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "rawtools ping: argument -c: invalid int value: 'x' (see --help)\n"


@pytest.mark.parametrize("argv", [["udpcli", "--json"], ["--json"], ["pnig", "--json"]])
def test_no_json_line_where_no_schema_applies(argv):
    """udpcli has no --json, and with no known tool there is no schema to follow."""
    r = run_cli(*argv)
    assert (r.returncode, r.stdout) == (2, "")
    assert len(r.stderr.splitlines()) == 1


# -- live, inside a lab ------------------------------------------------------------


def in_lab(lab: Any, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return lab.run("host", rawtools_argv(tool, "--json", *args), timeout=timeout)


NOWHERE4 = "198.18.9.9"  # inside the lab's range, routed nowhere


@pytest.mark.lab
def test_ping_live(make_lab):
    lab = make_lab(1)
    r = in_lab(lab, "ping", NOWHERE4, lab.dst4)
    assert r.returncode == 0, r.stderr
    assert {"no-route", "reply"} <= {o["type"] for o in validate("ping", r.stdout, "ping-lab")}
    # an address on the destination's link that nobody holds: -O reports each silent probe
    r = in_lab(lab, "ping", "-O", "-c", "3", "-i", "0.2", "-W", "0.3", "198.18.1.99")
    assert "outstanding" in {o["type"] for o in validate("ping", r.stdout, "ping-lab")}
    fatal("ping", in_lab(lab, "ping", "-c", "1", NOWHERE4), 2)
    # the same after root is given up (to the sudo user): what the fatal line needs is loaded
    env = dict(os.environ, SUDO_UID="65534", SUDO_GID="65534")
    fatal("ping", lab.run("host", rawtools_argv("ping", "--json", "-c", "1", NOWHERE4), env=env,
                          timeout=30), 2)
    r = lab.run("host", without_privileges(rawtools_argv("ping", "--json", "--socket", "raw",
                                                         "-c", "1", lab.dst4)), timeout=30)
    assert "CAP_NET_RAW" in fatal("ping", r, 2)["message"]


@pytest.mark.lab
def test_trace_live_explain_and_rounds(make_lab):
    lab = make_lab(3)
    lab.silence(2)
    r = in_lab(lab, "trace", "-n", "--explain", lab.dst4, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "explain" in {o["type"] for o in validate("trace", r.stdout, "trace-lab")}
    r = in_lab(lab, "trace", "-n", "-q", "1", "-c", "2", lab.dst6, timeout=120)
    assert r.returncode == 0, r.stderr
    objs = validate("trace", r.stdout, "trace-lab")
    assert {o.get("round") for o in objs[:-1]} == {0, 1} and objs[-1]["stats"]
    fatal("trace", in_lab(lab, "trace", "-n", NOWHERE4), 2)


@pytest.fixture
def diamond() -> Iterator[Diamond]:
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    lab = Diamond(2)
    try:
        yield lab.up()
    finally:
        lab.down()


@pytest.mark.lab
def test_trace_mda_live(diamond):
    r = in_lab(diamond, "trace", "-n", "--mda", diamond.dst4, timeout=120)
    assert r.returncode == 0, r.stderr
    objs = validate("trace", r.stdout, "trace-mda")
    assert objs[-1]["mda"] is True and objs[0]["type"] == "hop" and "interfaces" in objs[0]


@pytest.mark.lab
def test_sniff_live_has_the_kernels_counts(make_lab):
    lab = make_lab(1)
    sniff = subprocess.Popen(
        lab.exec_argv("host", rawtools_argv("sniff", "--json", "-i", lab.host_if, "-c", "2",
                                            "--timeout", "20", "icmp")),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # the capture opens before the ping is sent
        lab.run("host", ["ping", "-n", "-c", "1", lab.dst4], timeout=30)
        out, err = sniff.communicate(timeout=30)
    finally:
        sniff.kill()
    assert sniff.returncode == 0, err
    objs = validate("sniff", out, "sniff-live")
    assert [o["type"] for o in objs] == ["packet", "packet", "summary"]
    assert "received" in objs[-1] and "dropped" in objs[-1]


@pytest.mark.lab
def test_inject_live(make_lab):
    lab = make_lab(1)
    # 8 frames of the icmpd recording, 3 passes at 10 a second: 2.4 s, so progress lines too
    r = in_lab(lab, "inject", "-i", lab.host_if, "--pps", "10", "--loop", "3",
               str(CAPTURES / "icmpd-errors-eth.pcap"))
    assert r.returncode == 0, r.stderr
    objs = validate("inject", r.stdout, "inject-live")
    assert "progress" in {o["type"] for o in objs} and objs[-1]["packets"] == 24


ICMPD_CLIENT = """
import socket, sys
from rawtools.icmpd import Client
from rawtools.wire import icmpdmsg
path, dst = sys.argv[1:]
c = Client(path)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 0))
c.register(u, tag=1)
u.sendto(b"x", (dst, 9))
print(c.wait(timeout=5))
c.unregister(1)
c.close()
# a TCP socket, which Client itself would not send: the daemon refuses it
raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
raw.connect(path)
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
socket.send_fds(raw, [icmpdmsg.register(2)], [tcp.fileno()])
raw.recv(4096)
raw.close()
"""


@pytest.mark.lab
def test_icmpd_live_clients(make_lab, tmp_path):
    lab = make_lab(1)
    path = tmp_path / "icmpd.sock"
    stale = socket.socket(socket.AF_UNIX)  # a socket file nobody listens on: a notice
    stale.bind(str(path))
    stale.close()
    daemon = subprocess.Popen(lab.exec_argv("host", rawtools_argv("icmpd", "--json", "-v",
                                                                  "--socket", str(path))),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 15
        while daemon.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            client = lab.run("host", [sys.executable, "-c", ICMPD_CLIENT, str(path), lab.dst4])
            if client.returncode == 0:
                break
        assert client.returncode == 0 and client.stdout.strip() != "None", client.stderr
    finally:
        daemon.terminate()
        out, err = daemon.communicate(timeout=15)
    assert daemon.returncode == 0, err
    objs = validate("icmpd", out, "icmpd-live")
    assert {"start", "notice", "connect", "register", "refused", "error", "unregister",
            "disconnect"} <= {o["type"] for o in objs}


@pytest.mark.lab
def test_doctor_live(make_lab):
    lab = make_lab(2, mtu={1: 1400})
    r = in_lab(lab, "doctor", "--dns", lab.dst4, "-w", "0.5", lab.dst4, timeout=120)
    objs = validate("doctor", r.stdout, "doctor-lab")
    assert r.returncode in (0, 1), r.stderr
    assert {o["name"] for o in objs if o["type"] == "check"} == \
        {"interfaces", "gateway", "dns", "path", "mtu"}
    assert len(objs[-1]["checks"]) == len(objs) - 1


# -- coverage: last, over what the tests above saw ---------------------------------------

FEEDERS = {"replays", "trace-report", "trace-extensions", "ping-corrupt", "icmpd-replay",
           "sniff-captures", "sniff-corpus", "ifaces", *(f"fatal-{t}" for t in TOOLS),
           "ping-lab", "trace-lab", "trace-mda", "sniff-live", "inject-live", "icmpd-live",
           "doctor-lab"}


def test_every_line_type_of_every_schema_was_seen():
    """Runs last (pytest keeps file order); judged only when every feeding test ran."""
    missing = FEEDERS - FED
    if missing:
        pytest.skip(f"coverage needs the whole file; not run: {sorted(missing)}")
    for tool, schema in SCHEMAS.items():
        assert SEEN[tool] == types_of(schema), (tool, types_of(schema) - SEEN[tool])
