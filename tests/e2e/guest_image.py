# SPDX-License-Identifier: BSD-3-Clause
"""A tiny Linux guest for QEMU, built in a second or two from Debian packages.

  kernel:    Debian's cloud kernel (linux-image-*-cloud-amd64; virtio_net,
             virtio_pci are modules there, copied into the initramfs): the
             one installed in /boot, else the one scripts/setup.sh unpacks
             into $XVS_GUEST_CACHE/kernel (not installed: a kernel's install
             hooks may not run in a container or chroot)
  initramfs: busybox (the dynamic one scripts/setup.sh installs, with its
             libraries), iperf3 and ethtool with theirs, the virtio modules,
             and the /init below

The guest is driven by its kernel command line (no disk, no agent):

  xvs.ip=10.77.0.1/24   address of eth0
  xvs.offload=off       ethtool -K eth0 off for tso/gso/gro/tx/rx csum
                        (default: the offloads virtio_net negotiated stay on)
  xvs.cmd=<base64>      a shell command run once eth0 is up; its output, then
                        "XVS-DONE rc=N", go to the serial console (ttyS0), and
                        the guest powers off

The image is cached under $XVS_GUEST_CACHE (default /var/tmp/xvs-guest), in a
directory keyed by the kernel's, busybox's and iperf3's package versions and
this file's /init, so a test run builds it once.

Run as a script, it builds the image and prints the kernel and initramfs paths:
  /usr/bin/python3 tests/e2e/guest_image.py
"""
import base64
import glob
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CACHE = Path(os.environ.get("XVS_GUEST_CACHE", "/var/tmp/xvs-guest"))

# virtio_net on the PCI transport, in load order (modules.dep decides the rest)
MODULES = ["virtio_net", "virtio_pci"]
TOOLS = ["/bin/busybox", "/usr/bin/iperf3", "/usr/sbin/ethtool"]

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in $(cat /modules.order); do insmod /lib/modules/$m 2>/dev/null; done
arg() { for w in $(cat /proc/cmdline); do case "$w" in "$1="*) echo "${w#*=}";; esac; done; }
IP=$(arg xvs.ip)
ip link set lo up
i=0
while ! ip link show eth0 >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
ip addr add "$IP" dev eth0
ip link set eth0 up
if [ "$(arg xvs.offload)" = off ]; then
    ethtool -K eth0 tso off gso off gro off tx off rx off
fi
echo "XVS-UP $IP"
ethtool -k eth0 | grep -E '^(tcp-segmentation-offload|tx-checksumming|generic-receive-offload):'
echo "$(arg xvs.cmd)" | base64 -d > /cmd.sh
sh /cmd.sh
echo "XVS-DONE rc=$?"
sync
poweroff -f
"""


def _pkg_version(path):
    """Debian package name=version that owns path, or the file's mtime+size."""
    try:
        pkg = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True,
                             check=True).stdout.split(":")[0].split(",")[0].strip()
        ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                             text=True, check=True).stdout.strip()
        return f"{pkg}={ver}"
    except (subprocess.CalledProcessError, FileNotFoundError):
        st = os.stat(path)
        return f"{path}:{st.st_mtime_ns}:{st.st_size}"


def find_kernel(cache=CACHE):
    """(vmlinuz, modules dir) of the newest cloud kernel in /boot or unpacked
    under cache/kernel by scripts/setup.sh, or (None, reason)."""
    for root in (Path("/"), cache / "kernel"):
        kernels = sorted(glob.glob(str(root / "boot/vmlinuz-*-cloud-amd64")),
                         key=lambda k: [int(x) if x.isdigit() else x
                                        for x in re.split(r"(\d+)", k)])  # -10- after -9-
        if not kernels:
            continue
        k = kernels[-1]
        rel = os.path.basename(k)[len("vmlinuz-"):]
        mods = root / "lib/modules" / rel
        if (mods / "modules.dep").exists():
            return k, mods
    return None, ("no cloud kernel in /boot or " + str(cache / "kernel") +
                  " (scripts/setup.sh unpacks linux-image-*-cloud-amd64 there)")


def _deps(mods, names):
    """Module files (relative to mods) for names and their dependencies, each
    after what it depends on."""
    dep = {}
    for line in (mods / "modules.dep").read_text().splitlines():
        f, _, rest = line.partition(":")
        dep[f] = rest.split()
    by_name = {re.sub(r"\.ko(\.\w+)?$", "", os.path.basename(f)).replace("-", "_"): f
               for f in dep}
    out = []

    def add(f):
        for d in dep.get(f, []):
            add(d)
        if f not in out:
            out.append(f)
    for n in names:
        if n not in by_name:
            raise RuntimeError(f"module {n} not in {mods}/modules.dep")
        add(by_name[n])
    return out


def _libs(binary):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+)\s+\(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def build(cache=CACHE):
    """Return (kernel, initramfs) paths, building the initramfs if not cached.
    Raises RuntimeError with the reason when something needed is missing."""
    kernel, mods = find_kernel(cache)
    if kernel is None:
        raise RuntimeError(mods)
    for t in TOOLS:
        if not os.path.exists(t):
            raise RuntimeError(f"{t} missing (scripts/setup.sh installs it)")
    if shutil.which("cpio") is None:
        raise RuntimeError("cpio missing: apt install cpio")
    key = hashlib.sha256("\n".join([_pkg_version(kernel), *map(_pkg_version, TOOLS),
                                    INIT, " ".join(MODULES)]).encode()).hexdigest()[:16]
    d = cache / key
    initrd = d / "initrd.gz"
    if initrd.exists():
        return kernel, str(initrd)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        root = Path(tmp) / "root"
        for sub in ("bin", "sbin", "proc", "sys", "dev", "tmp", "lib/modules", "etc"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        for t in TOOLS:
            shutil.copy2(t, root / "bin" / os.path.basename(t))
            for lib in _libs(t):
                dst = root / lib.lstrip("/")
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(os.path.realpath(lib), dst)
        order = _deps(mods, MODULES)
        for f in order:
            shutil.copy2(mods / f, root / "lib/modules" / os.path.basename(f))
        (root / "modules.order").write_text("\n".join(os.path.basename(f) for f in order) + "\n")
        (root / "etc/passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
        init = root / "init"
        init.write_text(INIT)
        init.chmod(0o755)
        files = subprocess.run(["find", "."], cwd=root, capture_output=True, text=True,
                               check=True).stdout
        cp = subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=files.encode(),
                            capture_output=True, check=True).stdout
        out = Path(tmp) / "initrd.gz"
        out.write_bytes(gzip.compress(cp, compresslevel=1))
        d.mkdir(exist_ok=True)
        os.replace(out, initrd)  # atomic: a parallel build wins or loses whole
    return kernel, str(initrd)


def cmdline(ip, cmd, offload=True):
    """Kernel command line for a guest with eth0 at ip running cmd."""
    c = base64.b64encode(cmd.encode()).decode()
    return (f"console=ttyS0 quiet panic=-1 xvs.ip={ip} xvs.cmd={c}"
            + ("" if offload else " xvs.offload=off"))


def qemu_argv(kernel, initrd, append, vsock, mac, serial, mem=256):
    """QEMU (TCG, 1 vCPU) with one virtio-net-pci on vhost-user socket vsock, the
    way libvirt attaches a guest to a switch that owns the socket: QEMU is the
    client and reconnects (reconnect=1) when the switch restarts.
      - memory-backend-memfd,share=on: the switch maps the guest's memory
      - vectors=0: Debian 12's QEMU 7.2 crashes under TCG with vhost-user and MSI-X
      - romfile=: no iPXE option ROM needed with -kernel
    """
    return ["qemu-system-x86_64", "-machine", "pc,accel=tcg,memory-backend=mem",
            "-cpu", "max", "-smp", "1", "-m", f"{mem}M",
            "-object", f"memory-backend-memfd,id=mem,size={mem}M,share=on",
            "-nographic", "-nodefaults", "-no-user-config", "-no-reboot",
            "-serial", f"file:{serial}", "-monitor", "none",
            "-kernel", kernel, "-initrd", initrd, "-append", append,
            "-chardev", f"socket,id=vu0,path={vsock},reconnect=1",
            "-netdev", "vhost-user,id=n0,chardev=vu0",
            "-device", f"virtio-net-pci,netdev=n0,mac={mac},vectors=0,romfile="]


if __name__ == "__main__":
    try:
        print(*build())
    except RuntimeError as e:
        print(f"guest_image: {e}", file=sys.stderr)
        sys.exit(1)
