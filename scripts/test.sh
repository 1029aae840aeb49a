#!/usr/bin/env bash
# scripts/test.sh - every test: C under ASan/UBSan, the JS API in Node,
# the packed tarball, real Chromium, and the Node tests again on the
# Emscripten build. `npm test` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

# Chromium for the browser tests: install when root, else say how.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test.sh: installing chromium" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "test.sh: Chromium missing; run: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

bash build.sh --native --emscripten

# What failed is repeated at the end, so that the tail of a long log says it.
failed=build/test-failures.txt
: > "$failed"
# Runs Node's test runner, keeping the TAP of every failed test for the end.
node_tests() {
  local log rc=0
  log=$(mktemp)
  node --test --test-concurrency=2 "$@" 2>&1 | tee "$log" || rc=1
  awk '/^ *not ok /{p=1} /^ *ok /{p=0} p' "$log" | head -200 >> "$failed"
  rm -f "$log"
  return $rc
}

status=0
c_pass=0; c_fail=0
for t in build/native/test_*; do
  [ -x "$t" ] || continue
  if out=$("$t" 2>&1); then :; else status=1; echo "$out" | grep -v '^ok - ' | tee -a "$failed"; fi
  line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -1)
  p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  c_pass=$((c_pass + ${p:-0})); c_fail=$((c_fail + ${f:-1}))
done
echo "C tests: $c_pass passed, $c_fail failed"

# Every libFuzzer target for a few seconds, from its seeds in fuzz/corpus/
# (longer: bash scripts/fuzz.sh 600, see docs/testing.md).
fuzz_out=$(bash scripts/fuzz.sh 7 2>&1) || { status=1; echo "$fuzz_out" >> "$failed"; }
echo "$fuzz_out"

# Node's runner: unit tests, the packed tarball, then real Chromium.
node_tests tests/js/*.test.js tests/pack/*.test.js tests/browser/*.test.js || status=1
# The Node unit tests again on the Emscripten build of the same C (same
# exports, docs/toolchains.md), and its static library (tests/emcc/).
NITRO_WASM=build/emcc/nitro.wasm node_tests tests/js/*.test.js tests/emcc/*.test.js || status=1
if [ "$status" != 0 ]; then
  echo "test.sh: FAILED; what failed:"
  cat "$failed"
fi
exit $status
