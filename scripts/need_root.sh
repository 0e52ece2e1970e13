# Sourced by demo.sh and test.sh: they install packages and create network
# namespaces, so they run as root. As another user, re-run the script under
# sudo where sudo exists (a bare Debian 12 root has none, and needs none).
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null; then
		exec sudo -- "$0" "$@"
	fi
	echo "$(basename "$0"): run this as root (there is no sudo here)" >&2
	exit 1
fi
