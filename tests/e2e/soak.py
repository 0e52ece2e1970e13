# SPDX-License-Identifier: BSD-3-Clause
"""Fault and soak driver: traffic on every port kind while random changes,
kill -9 and restarts hit xvsd; used by test_soak.py and scripts/soak.sh.

   ns t1 [t1]   ns t2 [t2]   ns up [up]        ns xdp [xdp]      ns g: testpmd icmpecho
     | tap        | tap        | veth            | veth            | virtio-user server=1
  +--+------------+------------+-----------------+-----------------+------------------+
  |  t1           t2           up (afpacket)     xdp (afxdp)       vm (vhost client)  |
  |  d0..d7: ports the driver adds and deletes: null, tap, afpacket on spare veths    |
  |  (peers in ns w)                     xvsd (ns xe<sfx>sw), --workers 2            |
  +-------------------------------------------------------------------------------------+

Traffic: one ping (500/s) per host toward another host or the guest, over
static neighbour entries (no ARP, whose broadcasts testpmd's icmpecho would
answer for everybody). The guest answers pings for any address.

The driver (a seeded PRNG; the seed is printed and XVS_SOAK_SEED replays it)
keeps a model of every acknowledged change: ports with the options it set,
static MACs, the worker count. It picks operations at random: add, delete and
re-add ports, VLAN changes, RSS settings, static MACs, the worker count, a
guest crash and restart, a clean restart, and kill -9, either between
requests or while one is in flight. After each restart the switch's state
(xvsctl --json) must equal the model; after a kill during a request, either
the model before it or (always, if the reply arrived) after it. Before each
kill and at the end, traffic is paused and both conservation equations
(doc/l2.md) must hold on every port. xvsd must never die unasked, and its
exit status after SIGTERM must be 0.
"""
import copy
import os
import random
import signal
import threading
import time

from conftest import nsrun, run
from guest import Guest

GUEST_IP = "10.77.0.200"
DYN = [f"d{i}" for i in range(8)]
VLAN_CHOICES = [
    {"vlan-mode": "access", "vlan": "1"},
    {"vlan-mode": "access", "vlan": "1"},
    {"vlan-mode": "access", "vlan": "10"},
    {"vlan-mode": "trunk", "trunks": "10,20", "native": "1"},
    {"vlan-mode": "trunk", "trunks": "1-5", "native": "none"},
]
RSS_CHOICES = [
    ("enabled", "rss", ["on", "off"]),
    ("profile", "rss-profile", ["closest", "static", "conservative"]),
    ("max-cpus", "rss-max-cpus", ["1", "2", "all"]),
    ("reta-size", "rss-reta-size", ["64", "128", "256"]),
]
BOOL = {"on": "true", "off": "false"}


class SoakFailure(AssertionError):
    pass


class Soak:
    def __init__(self, sw, seconds, seed=None, out=print):
        self.sw, self.seconds, self.out = sw, seconds, out
        self.seed = seed if seed is not None else random.SystemRandom().randrange(1 << 31)
        self.rng = random.Random(self.seed)
        self.model = {"ports": {}, "static": {}, "workers": 1}
        self.stats = {"ops": 0, "acked": 0, "refused": 0, "kills": 0, "kills_in_flight": 0,
                      "restarts": 0, "guest_restarts": 0, "checks": 0}
        self.frames = 0           # rx_packets summed over ports, over every xvsd life
        self.by_kind = {}         # the same per port kind
        self.gens = []            # traffic generators (ping processes)
        self.afxdp = None         # None: works; else the reason it was left out
        self.spare = []           # spare veths in the switch namespace

    # ------------------------------------------------------------ setup

    def setup(self):
        sw = self.sw
        self.out(f"soak: seed {self.seed} (XVS_SOAK_SEED={self.seed} replays the choices)")
        self.model["workers"] = int(sw.show()["settings"]["workers"])
        self.hosts = [sw.vm("t1", ipv6=False), sw.vm("t2", ipv6=False),
                      sw.uplink("up", ipv6=False)]
        self.model["ports"]["t1"] = self._tap_model(self.hosts[0])
        self.model["ports"]["t2"] = self._tap_model(self.hosts[1])
        self.model["ports"]["up"] = {"kind": "afpacket",
                                     "opts": {"ifname": self.hosts[2].sw_ifname}}
        xdp = sw.uplink("xdp", ipv6=False, add_port=False)
        r = sw.rpc({"method": "port.add", "params": {
            "name": "xdp", "kind": "afxdp", "options": {"ifname": xdp.sw_ifname}}}, timeout=30)
        if "result" in r:
            self.hosts.append(xdp)
            self.model["ports"]["xdp"] = {"kind": "afxdp", "opts": {"ifname": xdp.sw_ifname}}
        else:
            self.afxdp = r["error"]["message"]
            self.out(f"soak: afxdp left out: {self.afxdp}")
        # the guest owns its socket: it outlives xvsd restarts, xvsd reconnects
        self.vsock = sw.tmp / "vm.sock"
        self.guest = Guest(sw, "g", self.vsock, server=True, fwd="icmpecho",
                           mac=sw.names.mac(0x70)).start(wait=False)
        sw.ctl("port", "add", "vm", "vhost", f"path={self.vsock}", "client=on")
        self.guest.wait_running()
        self.model["ports"]["vm"] = {"kind": "vhost", "opts": {"path": str(self.vsock),
                                                               "client": "true"}}
        wns = sw.add_ns("w")
        for i in range(2):
            dev = sw.names.dev(f"s{i}")
            run(["ip", "link", "add", "name", dev, "netns", sw.ns, "type", "veth", "peer",
                 "name", sw.names.dev(f"w{i}"), "netns", wns])
            nsrun(sw.ns, ["ip", "link", "set", dev, "up"])
            nsrun(wns, ["ip", "link", "set", sw.names.dev(f"w{i}"), "up"])
            self.spare.append(dev)
        self._neighbours()
        targets = [GUEST_IP, self.hosts[2].ip4, self.hosts[-1].ip4, self.hosts[1].ip4]
        for h, dst in zip(self.hosts, targets):
            self.gens.append(sw.spawn(h.ns, ["ping", "-q", "-n", "-i", "0.002", dst]))

    def _tap_model(self, h):
        return {"kind": "tap", "opts": {"ifname": h.ifname, "netns": h.ns, "mac": h.mac}}

    def _neighbours(self):
        """Static neighbours on every host (after a tap is created again too)."""
        peers = [(h.ip4, h.mac) for h in self.hosts] + [(GUEST_IP, self.guest.mac)]
        for h in self.hosts:
            for ip, mac in peers:
                if ip != h.ip4:
                    h.run(["ip", "neigh", "replace", ip, "lladdr", mac, "dev", h.ifname,
                           "nud", "permanent"], check=False)

    def _host_back(self, name):
        """A VM's tap was created again (port re-added, xvsd restarted)."""
        for h in self.hosts:
            if h.port == name and h.kind == "tap":
                t0 = time.monotonic()
                while time.monotonic() - t0 < 10:
                    if h.run(["ip", "link", "show", h.ifname], check=False).returncode == 0:
                        break
                    time.sleep(0.05)
                h.configure()
                self._neighbours()

    # ------------------------------------------------------------ state

    def state(self):
        sw = self.sw
        ports = {}
        for p in sw.ctl("port", "list")["ports"]:
            ports[p["name"]] = p
        static = {(e["mac"], e["vlan"]): e["port"] for e in sw.fdb()["entries"]
                  if e["type"] == "static"}
        workers = int(sw.show()["settings"]["workers"])
        return ports, static, workers

    @staticmethod
    def differences(model, state):
        ports, static, workers = state
        d = []
        if sorted(ports) != sorted(model["ports"]):
            d.append(f"ports {sorted(ports)} != model {sorted(model['ports'])}")
        for name, m in model["ports"].items():
            p = ports.get(name)
            if p is None:
                continue
            if p["kind"] != m["kind"]:
                d.append(f"port {name}: kind {p['kind']} != {m['kind']}")
            for k, v in m["opts"].items():
                if p["options"].get(k) != v:
                    d.append(f"port {name}: {k}={p['options'].get(k)!r}, model {v!r}")
        if static != model["static"]:
            d.append(f"static MACs {sorted(static.items())} != model "
                     f"{sorted(model['static'].items())}")
        if workers != model["workers"]:
            d.append(f"workers {workers} != model {model['workers']}")
        return d

    def check_state(self, ctx, alternatives=None):
        """The switch equals the model (or one of the alternatives); every
        port it could open is up."""
        st = self.state()
        alts = alternatives or [self.model]
        diffs = [self.differences(m, st) for m in alts]
        if all(diffs):
            raise SoakFailure(f"{ctx}: state differs from every acceptable model:\n  "
                              + "\n  ".join("; ".join(x) for x in diffs))
        down = [f"{n}: {p.get('error')}" for n, p in st[0].items() if p["state"] != "up"]
        if down:
            raise SoakFailure(f"{ctx}: ports not up: {down}")
        return alts[[not x for x in diffs].index(True)]

    def check_alive(self, ctx):
        x = self.sw.xvsd
        if x.proc is None or x.proc.poll() is not None:
            rc = x.proc.returncode if x.proc is not None else None
            raise SoakFailure(f"{ctx}: xvsd died (status {rc}):\n{x.log_tail()}")

    def pause(self, on):
        for p in self.gens:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGSTOP if on else signal.SIGCONT)

    def check_conservation(self, ctx):
        """Traffic paused, nothing in flight: both equations on every port."""
        self.pause(True)
        try:
            time.sleep(0.3)
            errs = []
            for _ in range(15):
                errs = self.sw.conservation_errors()
                if not errs:
                    break
                time.sleep(0.2)
            if errs:
                raise SoakFailure(f"{ctx}: conservation:\n  " + "\n  ".join(errs))
            self.stats["checks"] += 1
            kinds = {n: p["kind"] for n, p in self.sw.ports().items()}
            for n, st in self.sw.stats().items():
                k = kinds.get(n, "?")
                self.by_kind[k] = self.by_kind.get(k, 0) + st["rx_packets"]
                self.frames += st["rx_packets"]
        finally:
            self.pause(False)

    # ------------------------------------------------------------ operations

    def pick(self):
        """One random operation: (label, rpc request, model after it), or None."""
        rng, m = self.rng, self.model
        after = copy.deepcopy(m)
        ports = sorted(m["ports"])
        dyn = sorted(p for p in ports if p in DYN)
        kind = rng.choice(["add", "add", "del", "vlan", "vlan", "rss", "rss", "static",
                           "unstatic", "workers", "readd"])
        if kind == "add":
            free = [d for d in DYN if d not in m["ports"]]
            if not free:
                return None
            name = rng.choice(free)
            used = {p["opts"].get("ifname") for p in m["ports"].values()}
            k = rng.choice(["null", "null", "tap", "afpacket"])
            opts = dict(rng.choice(VLAN_CHOICES))
            if k == "tap":
                opts["ifname"] = self.sw.names.dev(name)
            elif k == "afpacket":
                spare = [s for s in self.spare if s not in used]
                if not spare:
                    k = "null"
                else:
                    opts["ifname"] = rng.choice(spare)
            after["ports"][name] = {"kind": k, "opts": opts}
            return (f"add {name} {k}", {"method": "port.add", "params": {
                "name": name, "kind": k, "options": opts}}, after)
        if kind == "del" and dyn:
            name = rng.choice(dyn)
            del after["ports"][name]
            after["static"] = {k: v for k, v in after["static"].items() if v != name}
            return (f"del {name}", {"method": "port.del", "params": {"name": name}}, after)
        if kind == "readd":
            # a traffic port deleted and added again (as a VM's is on migration),
            # the afxdp one too (it releases its socket's queue on delete)
            name = rng.choice(list(ports))
            p = m["ports"][name]
            return (f"readd {name}", [
                ({"method": "port.del", "params": {"name": name}},
                 self._without(m, name)),
                ({"method": "port.add", "params": {"name": name, "kind": p["kind"],
                                                    "options": dict(p["opts"])}},
                 self._readded(m, name))], None)
        if kind == "vlan":
            name = rng.choice(ports)
            opts = dict(rng.choice(VLAN_CHOICES))
            after["ports"][name]["opts"].update(opts)
            return (f"vlan {name} {opts}", {"method": "port.set", "params": {
                "name": name, "options": opts}}, after)
        if kind == "rss":
            name = rng.choice(ports)
            key, opt, vals = rng.choice(RSS_CHOICES)
            v = rng.choice(vals)
            after["ports"][name]["opts"][opt] = BOOL.get(v, v)
            return (f"rss {name} {key}={v}", {"method": "rss.set", "params": {
                "name": name, "options": {key: v}}}, after)
        if kind == "static":
            mac = "02:5b:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(4))
            vid = rng.choice([1, 10, 20])
            port = rng.choice(ports)
            after["static"][(mac, vid)] = port
            return (f"static {mac} {vid} {port}", {"method": "fdb.add", "params": {
                "mac": mac, "vlan": vid, "port": port}}, after)
        if kind == "unstatic" and m["static"]:
            mac, vid = rng.choice(sorted(m["static"]))
            del after["static"][(mac, vid)]
            return (f"unstatic {mac} {vid}", {"method": "fdb.del", "params": {
                "mac": mac, "vlan": vid}}, after)
        if kind == "workers":
            n = rng.choice([1, 2])
            after["workers"] = n
            return (f"workers {n}", {"method": "switch.set", "params": {
                "options": {"workers": n}}}, after)
        return None

    @staticmethod
    def _without(m, name):
        a = copy.deepcopy(m)
        del a["ports"][name]
        a["static"] = {k: v for k, v in a["static"].items() if v != name}
        return a

    def _readded(self, m, name):
        a = self._without(m, name)
        a["ports"][name] = copy.deepcopy(m["ports"][name])
        return a

    def apply(self, label, req, after):
        """Send one request; on success the model becomes after. Returns True if acked."""
        r = self.sw.rpc(req, timeout=60)
        self.stats["ops"] += 1
        if r is not None and "result" in r:
            self.stats["acked"] += 1
            self.model = after
            if req["method"] == "port.add" and req["params"]["kind"] == "tap":
                self._host_back(req["params"]["name"])
            return True
        self.stats["refused"] += 1
        # a refused request changes nothing
        self.check_state(f"after refused '{label}' ({r})")
        return False

    def kill_in_flight(self, label, req, after):
        """kill -9 while req is in flight: the state after restart is the model
        before or after it, and after it if the reply came back."""
        out = {}
        before = self.model

        def client():
            try:
                out["reply"] = self.sw.rpc(req, timeout=60)
            except (OSError, ValueError) as e:
                out["exc"] = e

        th = threading.Thread(target=client)
        th.start()
        time.sleep(self.rng.uniform(0, 0.01))
        self.kill9()
        th.join(30)
        self.stats["ops"] += 1
        self.stats["kills_in_flight"] += 1
        acked = "result" in (out.get("reply") or {})
        self.restart_xvsd()
        alts = [after] if acked else [before, after]
        self.model = self.check_state(f"after kill -9 during '{label}' (reply: {out})", alts)
        if acked:
            self.stats["acked"] += 1

    def kill9(self):
        self.stats["kills"] += 1
        self.sw.xvsd.kill9()

    def restart_xvsd(self):
        self.sw.start()
        self.stats["restarts"] += 1
        for h in self.hosts:
            if h.kind == "tap" and h.port in self.model["ports"]:
                self._host_back(h.port)

    def before_kill(self, ctx):
        self.check_conservation(ctx)

    # ------------------------------------------------------------ main loop

    def run(self):
        t_end = time.monotonic() + self.seconds
        result = "PASS"
        try:
            self.setup()
            self.check_state("after setup")
            while time.monotonic() < t_end:
                self.step()
            self.check_alive("at the end")
            self.check_state("at the end")
            self.check_conservation("at the end")
        except SoakFailure as e:
            result = f"FAIL: {e}"
        except Exception as e:  # noqa: BLE001 - a failed xvsctl call is a result too
            x = self.sw.xvsd
            died = x.proc is not None and x.proc.poll() is not None
            result = (f"FAIL: {type(e).__name__}: {e}" + (
                f"\nxvsd died (status {x.proc.returncode}):\n{x.log_tail()}" if died else ""))
        finally:
            s = self.stats
            line = (f"soak: seed {self.seed}, {self.seconds} s, {s['ops']} operations "
                    f"({s['acked']} acknowledged, {s['refused']} refused), {s['kills']} kill -9 "
                    f"({s['kills_in_flight']} mid-request), {s['restarts']} restarts, "
                    f"{s['guest_restarts']} guest restarts, {self.frames} frames ("
                    + ", ".join(f"{k} {v}" for k, v in sorted(self.by_kind.items()))
                    + f"), "
                    f"{s['checks']} conservation checks"
                    + ("" if self.afxdp is None else ", afxdp left out")
                    + f": {result.splitlines()[0] if result else result}")
            self.out(line)
            self.summary = line
            if result != "PASS":
                self.out(result)
        return result

    def step(self):
        rng = self.rng
        self.check_alive("before a step")
        roll = rng.random()
        if roll < 0.06:
            self.before_kill("before kill -9")
            self.kill9()
            self.restart_xvsd()
            self.check_state("after kill -9 between requests")
            return
        if roll < 0.09:
            self.before_kill("before a clean restart")
            rc = self.sw.xvsd.stop()
            if rc != 0:
                raise SoakFailure(f"xvsd exited with {rc} after SIGTERM:\n"
                                  + self.sw.xvsd.log_tail())
            self.restart_xvsd()
            self.check_state("after a clean restart")
            return
        if roll < 0.12:
            self.stats["guest_restarts"] += 1
            self.guest.kill()
            self.guest.start(wait=False)
            return
        op = self.pick()
        if op is None:
            return
        label, req, after = op
        if isinstance(req, list):  # readd: two requests
            for r, a in req:
                if not self.apply(label, r, a):
                    # the port worked with these options a moment ago
                    raise SoakFailure(f"'{label}': {r['method']} refused")
            self.check_state(f"after '{label}'")
            return
        if roll < 0.20:
            self.before_kill(f"before kill -9 during '{label}'")
            self.kill_in_flight(label, req, after)
            return
        self.apply(label, req, after)
        if rng.random() < 0.3:
            self.check_state(f"after '{label}'")
