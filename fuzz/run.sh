#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer on stable Rust (the instrumentation flags of
# `cargo fuzz build --sanitizer none`) and runs each for SECONDS, starting from the seed
# corpus. A failing input is saved under fuzz/artifacts/<target>/ and fails the run.
#   bash fuzz/run.sh [SECONDS] [TARGET...]      (default: 30 s, every target)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(handshake chunk_decoder chunk_round_trip amf0 amf3 session)

host=$(rustc -vV | sed -n 's/^host: //p')
flags=(-Cpasses=sancov-module --cfg fuzzing -Cdebug-assertions -Coverflow-checks)
for opt in level=4 inline-8bit-counters pc-table trace-compares stack-depth; do
  flags+=("-Cllvm-args=-sanitizer-coverage-${opt}")
done
# --target keeps build scripts and proc macros uninstrumented, as cargo-fuzz does.
RUSTFLAGS="${flags[*]}" cargo build --release --target "$host" --bins

for target in "${targets[@]}"; do
  work="target/corpus/$target"
  mkdir -p "$work" "artifacts/$target"
  cp -n "corpus/$target"/* "$work"/
  echo "fuzz: $target for ${seconds}s"
  "target/$host/release/$target" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="artifacts/$target/" 2>&1 |
    grep -E '^(#[0-9]+ *DONE|Done|stat::number_of_executed_units|==|SUMMARY|thread|.*panicked)' || true
  status=${PIPESTATUS[0]}
  [ "$status" -eq 0 ] || { echo "fuzz: $target failed (exit $status), input in fuzz/artifacts/$target/"; exit 1; }
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a failure"
