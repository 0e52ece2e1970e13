# SPDX-License-Identifier: BSD-3-Clause
"""Bad input through xvsctl and raw on the control socket: every one is refused
with a non-zero exit and a one-line message, and changes nothing.

   xvsctl / raw AF_UNIX client (root namespace)
        |  tmp/x.sock (0600, root)
  +-----+-------------------------------------+
  |  xvsd (ns xe<sfx>sw)                      |
  |  ports: a (null, vlan 10), t (null, trunk)|
  |  static 02:5a:00:00:00:01 vlan 10 on a    |
  +-------------------------------------------+
"""
import json
import os
import socket
import stat

import pytest

MAC = "02:5a:00:00:00:01"

# (args, error code expected from the daemon)
DAEMON_ERRORS = [
    (("port", "show", "nosuch"), "ENOENT"),
    (("port", "del", "nosuch"), "ENOENT"),
    (("port", "set", "nosuch", "vlan=5"), "ENOENT"),
    (("port", "stats", "nosuch"), "ENOENT"),
    (("fdb", "show", "port=nosuch"), "ENOENT"),
    (("fdb", "add", "02:00:00:00:00:zz", "vlan=10", "port=a"), "EINVAL"),
    (("fdb", "add", "02:00:00:00:00", "vlan=10", "port=a"), "EINVAL"),
    (("fdb", "add", "02:00:00:00:00:01:02", "vlan=10", "port=a"), "EINVAL"),
    (("fdb", "add", "0200.0000.0001", "vlan=10", "port=a"), "EINVAL"),
    (("fdb", "add", "01:00:5e:00:00:01", "vlan=10", "port=a"), "EINVAL"),
    (("fdb", "add", "02:00:00:00:00:01", "vlan=10", "port=nosuch"), "ENOENT"),
    (("fdb", "add", "02:00:00:00:00:01", "vlan=0", "port=a"), "EINVAL"),
    (("fdb", "add", "02:00:00:00:00:01", "vlan=4095", "port=a"), "EINVAL"),
    (("fdb", "add", "02:00:00:00:00:01", "port=a"), "EINVAL"),
    (("fdb", "del", "zz", "vlan=10"), "EINVAL"),
    (("fdb", "show", "vlan=0"), "EINVAL"),
    (("fdb", "show", "vlan=5000"), "EINVAL"),
    (("port", "set", "a", "vlan=0"), "EINVAL"),
    (("port", "set", "a", "vlan=4095"), "EINVAL"),
    (("port", "set", "a", "vlan=5000"), "EINVAL"),
    (("port", "set", "a", "vlan=-1"), "EINVAL"),
    (("port", "set", "a", "vlan=10x"), "EINVAL"),
    (("port", "set", "a", "vlan="), "EINVAL"),
    (("port", "set", "t", "trunks=1-5000"), "EINVAL"),
    (("port", "set", "t", "trunks=0"), "EINVAL"),
    (("port", "set", "t", "trunks=10-5"), "EINVAL"),
    (("port", "set", "t", "trunks=1,"), "EINVAL"),
    (("port", "set", "t", "native=4095"), "EINVAL"),
    (("port", "set", "a", "vlan-mode=hybrid"), "EINVAL"),
    (("port", "set", "a", "mtu=67"), "EINVAL"),
    (("port", "set", "a", "mtu=9001"), "EINVAL"),
    (("port", "set", "a", "bogus=1"), "EINVAL"),
    (("port", "add", "x", "null", "vlan=0"), "EINVAL"),
    (("port", "add", "x", "null", "vlan=4095"), "EINVAL"),
    (("port", "add", "x", "null", "vlan=5000"), "EINVAL"),
    (("port", "add", "x", "null", "bogus=1"), "EINVAL"),
    (("port", "add", "x", "null", "ifname=foo"), "EINVAL"),   # not an option of null ports
    (("port", "add", "x", "tap", "mac=01:00:00:00:00:01"), "EINVAL"),
    (("port", "add", "x", "tap", "mac=nonsense"), "EINVAL"),
    (("port", "add", "x", "tap", "netns=../../etc"), "EINVAL"),
    (("port", "add", "x", "vhost"), "EINVAL"),                # no path
    (("port", "add", "x", "bogus"), "EINVAL"),
    (("port", "add", "-x", "null"), "EINVAL"),
    (("port", "add", "x" * 200, "null"), "EINVAL"),
    (("port", "add", "a", "null"), "EEXIST"),
    (("switch", "set", "aging=9"), "EINVAL"),
    (("switch", "set", "aging=abc"), "EINVAL"),
    (("switch", "set", "fdb-max=0"), "EINVAL"),
    (("switch", "set", "workers=0"), "EINVAL"),
    (("switch", "set", "workers=64"), "EINVAL"),
    (("switch", "set", "bogus=1"), "EINVAL"),
]

# Refused by xvsctl itself, before anything is sent.
USAGE_ERRORS = [
    ("frobnicate",),
    ("port", "frobnicate"),
    ("port", "add", "x"),
    ("port", "set", "a"),
    ("port", "set", "a", "vlan"),
    ("port", "set", "a", "vlan=1", "vlan=2"),
    ("switch", "set"),
    ("port", "list", "extra"),
    ("--bogus-option", "port", "list"),
]


def _state(sw):
    show = sw.show()
    return {"ports": sw.ctl("port", "list"), "settings": show["settings"],
            "fdb": sorted((e["mac"], e["vlan"], e["port"], e["type"])
                          for e in sw.fdb()["entries"]),
            "static": show["fdb"]["static"]}


def _setup(sw):
    sw.ctl("port", "add", "a", "null", "vlan=10")
    sw.ctl("port", "add", "t", "null", "vlan-mode=trunk", "trunks=10,20", "native=30")
    sw.ctl("fdb", "add", MAC, "vlan=10", "port=a")
    return _state(sw)


def test_bad_input_is_refused_with_one_line_and_changes_nothing(switch):
    pristine = _setup(switch)
    errors0 = switch.show()["rpc_errors"]
    problems = []
    for args, code in DAEMON_ERRORS:
        argv, p = switch.xvsd.ctl_proc(*args, json_out=False)
        lines = p.stderr.splitlines()
        if p.returncode == 0:
            problems.append(f"{args}: accepted (exit 0): {p.stdout.strip()}")
        elif len(lines) != 1 or not lines[0].strip():
            problems.append(f"{args}: stderr is not one line: {p.stderr!r}")
        if p.stdout.strip():
            problems.append(f"{args}: printed on stdout on error: {p.stdout!r}")
        argv, p = switch.xvsd.ctl_proc(*args)
        try:
            err = json.loads(p.stdout)["error"]
            if err["code"] != code or not err["message"]:
                problems.append(f"{args}: --json error {err}, expected code {code}")
        except (ValueError, KeyError, TypeError):
            problems.append(f"{args}: --json did not print {{'error': ...}}: {p.stdout!r}")
        if p.returncode == 0:
            problems.append(f"{args}: --json accepted (exit 0)")
    assert not problems, "\n".join(problems)
    assert _state(switch) == pristine
    # every refusal was counted by the daemon (2 per case: plain and --json)
    assert switch.show()["rpc_errors"] - errors0 == 2 * len(DAEMON_ERRORS)


def test_usage_errors_exit_2_and_send_nothing(switch):
    """xvsctl refuses these itself (exit 2): the daemon never sees a request."""
    pristine = _setup(switch)
    req0 = switch.show()["rpc_requests"]
    problems = []
    for args in USAGE_ERRORS:
        argv, p = switch.xvsd.ctl_proc(*args, json_out=False)
        if p.returncode != 2 or not p.stderr.startswith("xvsctl: "):
            problems.append(f"{args}: exit {p.returncode}, stderr {p.stderr!r}")
    assert not problems, "\n".join(problems)
    # only this switch.show reached the daemon
    assert switch.show()["rpc_requests"] - req0 == 1
    assert _state(switch) == pristine


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=lambda a: " ".join(a)[:30])
def test_usage_errors_are_one_line(switch_unstarted, args):
    argv, p = switch_unstarted.xvsd.ctl_proc(*args, json_out=False)
    assert p.returncode == 2
    assert len(p.stderr.splitlines()) == 1, p.stderr


def test_unreachable_daemon_is_exit_3_with_one_line(switch_unstarted):
    argv, p = switch_unstarted.xvsd.ctl_proc("port", "list", json_out=False)
    assert p.returncode == 3
    assert len(p.stderr.splitlines()) == 1 and "cannot reach" in p.stderr


def test_raw_socket_bad_requests(switch):
    pristine = _setup(switch)
    big_params = {"name": "big", "kind": "null", "options": {"vlan": "1" * 70000}}
    cases = [
        ("oversized request (> 64 KiB) with no newline", b"{" + b" " * 70000, "E2BIG"),
        ("oversized valid JSON port.add",
         (json.dumps({"method": "port.add", "params": big_params}) + "\n").encode(), "E2BIG"),
        ("malformed JSON", b'{"method": "port.add", "params": {"name": "x",\n', "EINVAL"),
        ("not JSON", b"port add x null\n", "EINVAL"),
        ("JSON array", b'["port.add"]\n', "EINVAL"),
        ("method not a string", b'{"method": 5}\n', "EINVAL"),
        ("no method", b'{"params": {}}\n', "EINVAL"),
        ("params not an object", b'{"method": "port.add", "params": [1, 2]}\n', "EINVAL"),
        ("unknown method", b'{"method": "port.frobnicate", "params": {}}\n', "EINVAL"),
        ("duplicate keys", b'{"method": "port.add", "method": "port.del"}\n', "EINVAL"),
        ("option value an object",
         b'{"method": "port.add", "params": {"name": "x", "kind": "null", '
         b'"options": {"vlan": {"a": 1}}}}\n', "EINVAL"),
        ("NUL inside a string",
         b'{"method": "port.add", "params": {"name": "x\\u0000y", "kind": "null"}}\n', "EINVAL"),
        ("invalid UTF-8", b'{"method": "port.add", "params": {"name": "\xff\xfe", '
                          b'"kind": "null"}}\n', "EINVAL"),
    ]
    problems = []
    for what, data, code in cases:
        out = switch.xvsd.rpc_bytes(data)
        lines = out.split(b"\n")
        try:
            reply = json.loads(lines[0])
            if reply.get("error", {}).get("code") != code:
                problems.append(f"{what}: reply {reply}, expected error {code}")
        except ValueError:
            problems.append(f"{what}: reply is not JSON: {out[:200]!r}")
        if out.count(b"\n") != 1 or not out.endswith(b"\n"):
            problems.append(f"{what}: reply is not exactly one line: {out[:200]!r}")
    # a client that connects and says nothing, or hangs up mid-request, is harmless
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(switch.xvsd.sock))
        s.sendall(b'{"method": "port.add", "par')
    assert not problems, "\n".join(problems)
    assert _state(switch) == pristine
    # and the daemon still answers well-formed requests
    r = switch.rpc({"method": "port.add", "params": {"name": "ok", "kind": "null",
                                                     "options": {"vlan": 5}}})
    assert r["result"]["options"]["vlan"] == "5"


def test_control_socket_is_root_only(switch):
    st = os.stat(switch.xvsd.sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0, oct(st.st_mode)
    assert (st.st_uid, st.st_gid) == (0, 0)


def test_control_socket_is_0600(switch):
    assert stat.S_IMODE(os.stat(switch.xvsd.sock).st_mode) == 0o600


def test_methods_and_help(switch):
    ms = {m["method"] for m in switch.ctl("methods")["methods"]}
    for m in ("port.add", "port.del", "port.set", "port.list", "port.stats", "worker.stats",
              "fdb.show", "fdb.flush", "fdb.add", "fdb.del", "switch.show", "switch.set"):
        assert m in ms
    argv, p = switch.xvsd.ctl_proc("--help", json_out=False)
    assert p.returncode == 0 and "port add" in p.stdout
