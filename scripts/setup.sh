#!/usr/bin/env bash
# Installs everything crossroot and its tests need on a Debian/Ubuntu machine
# with Node.js >= 20: Debian packages (as root, or through sudo), the npm
# dependencies, and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  binutils        # readelf: the authority the ELF reader is compared with
  file            # the peer `crossroot scan` is benchmarked against
  pax-utils       # scanelf: the other scan peer and a correctness reference
  gcc libc6-dev   # static probe programs for the kernel tests
  util-linux      # unshare, mount
  coreutils       # chroot
  qemu-user-static # the emulators binfmt_misc entries point at
  dpkg-dev        # dpkg-deb for the Debian-package fixtures
  mmdebstrap      # builds foreign roots (crossroot create)
  uidmap          # newuidmap/newgidmap for rootless runs
  xz-utils zstd bzip2  # --from-tar decompressors
  tmux            # drives the interactive shell test
  passwd          # useradd/userdel for the rootless tests
  diffutils       # cmp, for comparing accelerated and emulated objects
  icecc           # icecc, iceccd, icecc-scheduler: run --icecream and its cluster test
  iproute2        # ip netns: the icecream test's private network
  debootstrap arch-install-scripts proot  # peers measured side by side in bench/
  attr            # getfattr/setfattr: xattrs of exported and imported image layers
  skopeo umoci podman runc catatonit  # real image clients the export/import tests use (runc: crun refuses hybrid cgroups)
  ca-certificates
)

as_root=()
if [ "$(id -u)" != 0 ]; then as_root=(sudo); fi

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

node -e 'const [major] = process.versions.node.split("."); if (Number(major) < 20) { console.error(`crossroot needs Node.js >= 20, this is ${process.version}`); process.exit(1); }'
npm ci --no-audit --no-fund
npm run build
