#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer on stable Rust (the instrumentation flags of
# `cargo fuzz build --sanitizer none`) and runs each for SECONDS, starting from the seed
# corpus. Every target runs; any that fails (crash, panic, timeout, out-of-memory, any
# non-zero exit or signal) is named at the end with the input libFuzzer kept under
# fuzz/artifacts/<target>/, and the script exits 1.
#   bash fuzz/run.sh [SECONDS] [TARGET...]      (default: 30 s, every target)
# FUZZ_BIN_DIR=dir skips the build and runs dir/<target> instead (the script's own test
# uses it with stand-in targets).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(handshake chunk_decoder chunk_round_trip amf0 amf3 session)

if [ -n "${FUZZ_BIN_DIR:-}" ]; then
  bin_dir=$FUZZ_BIN_DIR
else
  host=$(rustc -vV | sed -n 's/^host: //p')
  flags=(-Cpasses=sancov-module --cfg fuzzing -Cdebug-assertions -Coverflow-checks)
  for opt in level=4 inline-8bit-counters pc-table trace-compares stack-depth; do
    flags+=("-Cllvm-args=-sanitizer-coverage-${opt}")
  done
  # --target keeps build scripts and proc macros uninstrumented, as cargo-fuzz does.
  RUSTFLAGS="${flags[*]}" cargo build --release --target "$host" --bins
  bin_dir="${CARGO_TARGET_DIR:-target}/$host/release"
fi

failed=()
for target in "${targets[@]}"; do
  work="target/corpus/$target"
  artifacts="artifacts/$target"
  log="target/logs/$target.log"
  mkdir -p "$work" "$artifacts" "$(dirname "$log")"
  if [ -d "corpus/$target" ]; then cp -f "corpus/$target"/* "$work"/; fi
  echo "fuzz: $target for ${seconds}s"
  # libFuzzer's -timeout bounds one input; timeout(1), where there is one, bounds the whole
  # run (a hang outside an input, or a target that ignores -max_total_time) and exits 124
  # (137 after the KILL).
  bound=()
  command -v timeout >/dev/null && bound=(timeout --kill-after=30 "$((seconds + 120))")
  # The inputs already kept, to name only the ones this run adds (a file's mtime can
  # equal a marker's within the clock's granularity, so no -newer test).
  before=$(find "$artifacts" -type f | sort)
  status=0
  ${bound[@]+"${bound[@]}"} "$bin_dir/$target" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  grep -E '^(#[0-9]+ *DONE|Done|stat::number_of_executed_units|==|SUMMARY|thread|.*panicked)' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "fuzz: $target FAILED (exit $status); the end of its output without progress lines ($log):"
    grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse|INITED|RELOAD)[^=]*$' "$log" | tail -n 40 | sed 's/^/  | /' || true
    kept=$(comm -13 <(printf '%s\n' "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d; s|^|fuzz/|' | tr '\n' ' ')
    echo "fuzz: $target input kept: ${kept:-none written under fuzz/$artifacts/ (the target failed outside an input)}"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]} (inputs under fuzz/artifacts/<target>/)"
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a failure"
