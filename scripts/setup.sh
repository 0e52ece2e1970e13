#!/usr/bin/env bash
# Install what xvs needs on Debian 12 (root), then build it into build/.
# Idempotent: skips apt when everything is already there. Used by demo.sh and
# test.sh, so each of README's two commands works on a bare Debian 12 root.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential meson ninja-build pkg-config git
      dpdk dpdk-dev libdpdk-dev libsqlite3-dev sqlite3 libjansson-dev libcmocka-dev
      libpcap-dev libbpf-dev libxdp-dev
      iproute2 iputils-ping ethtool procps iperf3 python3 python3-pytest python3-pytest-xdist
      python3-scapy tshark
      clang libclang-rt-14-dev busybox dnsmasq-base
      qemu-system-x86 cpio kmod)
# qemu-system-x86, cpio and kmod (depmod): tests/e2e/test_guest.py's QEMU
# guests (tests/e2e/guest_image.py builds their initramfs from busybox, iperf3
# and ethtool above; their kernel is unpacked below).

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The QEMU guests' kernel: Debian's cloud kernel unpacked into a cache, not
# installed (a kernel's install hooks need /boot, initramfs-tools and a boot
# loader that a container or chroot may not have). Without it the guest test
# skips with the reason; nothing else needs it.
guest_kernel=${XVS_GUEST_CACHE:-/var/tmp/xvs-guest}/kernel
if [ "$(id -u)" = 0 ] && ! { compgen -G '/boot/vmlinuz-*-cloud-amd64' ||
	compgen -G "$guest_kernel/boot/vmlinuz-*-cloud-amd64"; } >/dev/null; then
	kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '/Depends: linux-image-[0-9]/ {print $2; exit}' || true)
	ktmp=$(mktemp -d)
	if [ -n "$kpkg" ] && (cd "$ktmp" && apt-get download -qq "$kpkg" >/dev/null 2>&1) &&
		dpkg-deb -x "$ktmp"/*.deb "$ktmp/root" &&
		depmod -b "$ktmp/root" "${kpkg#linux-image-}"; then
		rm -rf "$guest_kernel" && mkdir -p "$(dirname "$guest_kernel")" &&
			mv "$ktmp/root" "$guest_kernel"
		echo "setup: unpacked $kpkg into $guest_kernel for the QEMU guest test"
	else
		echo "setup: no cloud kernel for the QEMU guest test (it will skip)" >&2
	fi
	rm -rf "$ktmp"
fi

# Quiet when it works, the whole story when it does not.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f build/build.ninja ]; then
	meson setup build --buildtype=debugoptimized >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
fi
ninja -C build >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "setup: built build/src/ctl/xvsd and build/cli/xvsctl"
