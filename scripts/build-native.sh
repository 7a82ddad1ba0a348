#!/bin/sh
# Builds crossroot's native helper (src/runner/enter/crossroot-enter.c) into
# dist/, with the system's C compiler (gcc, from scripts/setup.sh). Run by
# `npm run build` and scripts/setup.sh; nothing is downloaded.
set -eu
cd "$(dirname "$0")/.."
mkdir -p dist/runner/enter
out=dist/runner/enter/crossroot-enter
cc -O2 -Wall -Wextra -o "$out.tmp.$$" src/runner/enter/crossroot-enter.c
mv -f "$out.tmp.$$" "$out"
