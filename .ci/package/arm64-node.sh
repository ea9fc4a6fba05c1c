#!/usr/bin/env bash
# Unpacks Debian's arm64 Node (nodejs:arm64 and the libraries it needs, from bookworm through
# apt's multiarch, not installed: only extracted) into DEST/root, to be run as
#   qemu-aarch64 -L DEST/root DEST/root/usr/bin/node
# Prints that node's path on success; exits non-zero when apt cannot provide it.
set -euo pipefail
dest=$1
mkdir -p "$dest/debs" "$dest/root"
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  # Where apt has no arm64 lists, leave dpkg as it was (nothing arm64 is installed, only unpacked).
  apt-get update -q >/dev/null || { dpkg --remove-architecture arm64; apt-get update -q >/dev/null || true; exit 1; }
fi
apt-cache show nodejs:arm64 >/dev/null 2>&1 || apt-get update -q >/dev/null
# nodejs:arm64 and its run-time libraries (arm64), plus Debian's arch-independent node-* modules
# that its nodejs uses for bundled dependencies (acorn, undici, cjs-module-lexer, ...).
mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances nodejs:arm64 2>/dev/null \
  | grep -E '^((nodejs|lib[a-z0-9.+-]+|zlib1g|gcc-[0-9]+-base):arm64|node-[a-z0-9.+-]+)$' | sort -u)
[ ${#pkgs[@]} -gt 0 ] || { echo "arm64-node: apt has no nodejs:arm64" >&2; exit 1; }
(cd "$dest/debs" && apt-get download -q "${pkgs[@]}" >/dev/null 2>&1)
for deb in "$dest"/debs/*.deb; do dpkg -x "$deb" "$dest/root"; done
node=$dest/root/usr/bin/node
[ -x "$node" ] || { echo "arm64-node: no usr/bin/node in the unpacked packages" >&2; exit 1; }
echo "$node"
