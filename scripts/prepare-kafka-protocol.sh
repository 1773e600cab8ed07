#!/usr/bin/env bash
# Puts a patched copy of the kafka-protocol 0.18.0 crate in .cache/ for Cargo's [patch.crates-io].
#
# Why: kafka-protocol 0.18.0 pre-allocates arrays from the count on the wire, so a 14-byte hostile
# response makes the process abort (see ../shared/reference/rust-ecosystem.md §1, "Known issues" 1).
# The fix (cap pre-allocation at the bytes remaining, 4 lines) lives in
# patches/kafka-protocol-0.18.0-alloc-cap.patch; the crate's source is never committed here. This
# script takes the published .crate (from Cargo's cache, else crates.io), checks its SHA-256 against
# the registry's checksum, unpacks it and applies the patch. It is idempotent and fast when done.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ver=0.18.0
sha=099d5c2f1b40cd830cbf18ca4d2a0805f2875b811ca18f0372b2433e68fe2dda   # crates.io checksum of kafka-protocol-0.18.0.crate
patch_file="$root/patches/kafka-protocol-$ver-alloc-cap.patch"
dest="$root/.cache/kafka-protocol-$ver"
stamp="$dest/.kquota-patch-sha256"
want=$(sha256sum "$patch_file" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/kafka-protocol-$ver.crate 2>/dev/null | head -n1 || true)
if [ -z "$crate" ]; then
  crate="$tmp/kafka-protocol-$ver.crate"
  curl -sSfL --retry 3 -o "$crate" "https://static.crates.io/crates/kafka-protocol/kafka-protocol-$ver.crate" \
    || { echo "prepare-kafka-protocol: cannot download kafka-protocol $ver from crates.io" >&2; exit 1; }
fi
got=$(sha256sum "$crate" | cut -d' ' -f1)
[ "$got" = "$sha" ] || { echo "prepare-kafka-protocol: checksum mismatch for $crate ($got)" >&2; exit 1; }
tar xzf "$crate" -C "$tmp"
(cd "$tmp/kafka-protocol-$ver" && patch -s -p1 < "$patch_file") \
  || { echo "prepare-kafka-protocol: $patch_file does not apply" >&2; exit 1; }
rm -rf "$dest"; mkdir -p "$root/.cache"
mv "$tmp/kafka-protocol-$ver" "$dest"
echo "$want" > "$stamp"
echo "prepare-kafka-protocol: patched kafka-protocol $ver in $dest" >&2
