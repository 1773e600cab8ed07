#!/usr/bin/env bash
# Runs every kquota-net cargo-fuzz target briefly (CI smoke run; default 20 s each).
#
#   scripts/fuzz-smoke.sh              # all targets, FUZZ_SECONDS=20 each
#   FUZZ_SECONDS=300 scripts/fuzz-smoke.sh response
#
# Needs the nightly toolchain; installs cargo-fuzz if missing. New inputs go to a temporary
# corpus; the checked-in seeds (testdata/fuzz-corpus/<target>/) are read, never modified.
# Crashes are saved under fuzz/artifacts/<target>/ and make the script fail.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-20}

bash "$root/scripts/prepare-kafka-protocol.sh"
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

cd "$root/fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  seeds="$root/testdata/fuzz-corpus/$t"
  mkdir -p "$work/$t" "$seeds"
  echo "fuzz-smoke: $t for ${secs}s" >&2
  # -rss_limit_mb/-malloc_limit_mb: an allocation sized from a hostile count is a failure.
  cargo +nightly fuzz run "$t" "$work/$t" "$seeds" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 -print_final_stats=1
done
echo "fuzz-smoke: ${#targets[@]} targets clean" >&2
