#!/usr/bin/env bash
# scripts/fuzz.sh - runs every libFuzzer target (fuzz/fuzz_*.c) for a bounded
# time each. npm test (scripts/test.sh) runs it with 7 seconds a target;
# for a longer hunt give more seconds and, optionally, target names:
#
#   bash scripts/fuzz.sh 600                    ten minutes each
#   bash scripts/fuzz.sh 3600 fuzz_query fuzz_record
#
# Each target reads its checked-in seeds in fuzz/corpus/<target>/ (read only)
# and grows its corpus in build/fuzz-corpus/<target>/; a crash, leak or
# failed check leaves the input in build/fuzz-crashes/ and the log in
# build/<target>.log. Ends with "fuzz: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-7}"; shift || true
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: seconds must be a whole number, got '$secs'" >&2; exit 2 ;; esac
bash build.sh --fuzz >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then for f in build/fuzz/fuzz_*; do [ -x "$f" ] && targets+=("$(basename "$f")"); done; fi
mkdir -p build/fuzz-crashes
pass=0; fail=0; status=0
for name in "${targets[@]}"; do
  f="build/fuzz/$name"
  [ -x "$f" ] || { echo "fuzz.sh: no target $name (fuzz/$name.c)" >&2; fail=$((fail + 1)); status=1; continue; }
  corpus="build/fuzz-corpus/$name"; mkdir -p "$corpus"
  seeds=(); [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  if "$f" -max_total_time="$secs" -max_len=2048 -artifact_prefix=build/fuzz-crashes/"$name"- \
      "$corpus" "${seeds[@]}" >"build/$name.log" 2>&1; then pass=$((pass + 1))
  else fail=$((fail + 1)); status=1; tail -40 "build/$name.log"; fi
done
echo "fuzz: $pass passed, $fail failed"
exit $status
