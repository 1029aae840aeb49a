#!/usr/bin/env bash
# scripts/coverage.sh - line coverage of the C core (src/*.c) by the C unit
# tests plus the fuzz corpora, measured with clang source-based coverage.
#
#   bash scripts/coverage.sh            table; fails if a src/*.c file is under 85%
#   bash scripts/coverage.sh --min 90   another threshold (percent of lines)
#
# It builds every src/*.c natively with -fprofile-instr-generate
# -fcoverage-mapping into build/coverage/, runs each tests/c/test_*.c (linked
# with all of src/, as build.sh --native does, without sanitizers), replays
# each fuzz target's corpora (fuzz/corpus/<target>/, checked in, and
# build/fuzz-corpus/<target>/, grown by npm test or a longer fuzz run)
# through fuzz/replay.c instead of libFuzzer, merges the profiles with
# llvm-profdata and prints per-file line coverage from llvm-cov report.
# Exit status: 0 when every src/*.c file reaches the threshold, 1 when one
# does not or a test or replay fails, 2 on bad usage or missing tools.
set -euo pipefail
cd "$(dirname "$0")/.."

min=85
while [ $# -gt 0 ]; do
  case "$1" in
    --min) min="${2:?--min needs a number}"; shift 2 ;;
    --min=*) min="${1#--min=}"; shift ;;
    *) echo "coverage.sh: unknown option $1 (use --min N)" >&2; exit 2 ;;
  esac
done
case "$min" in ''|*[!0-9.]*) echo "coverage.sh: --min wants a percentage, got '$min'" >&2; exit 2 ;; esac

tool() {  # the unversioned LLVM tool, else the one matching clang's version
  local v
  v=$(clang --version 2>/dev/null | sed -nE 's/.*clang version ([0-9]+).*/\1/p' | head -1)
  for c in "$1-$v" "$1" "$1"-1[0-9]; do command -v "$c" >/dev/null 2>&1 && { echo "$c"; return; }; done
}
PROFDATA=$(tool llvm-profdata); COV=$(tool llvm-cov)
if ! command -v clang >/dev/null || [ -z "$PROFDATA" ] || [ -z "$COV" ]; then
  echo "coverage.sh: needs clang, llvm-profdata and llvm-cov (Debian: clang llvm, listed in .ci/run); run: sudo apt-get install -y clang llvm" >&2
  exit 2
fi

out=build/coverage
rm -rf "$out"; mkdir -p "$out/obj" "$out/bin" "$out/prof"
CFLAGS="-std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -g -O0 -fprofile-instr-generate -fcoverage-mapping"

objs=()
for s in src/*.c; do
  o="$out/obj/$(basename "$s" .c).o"
  clang $CFLAGS -c "$s" -o "$o"
  objs+=("$o")
done

bins=(); status=0
run() {  # run <binary> [args]: one profile per process
  local b="$1"; shift
  if ! LLVM_PROFILE_FILE="$out/prof/$(basename "$b")-%p.profraw" "$b" "$@" >"$b.log" 2>&1; then
    echo "coverage.sh: $b $* failed (log: $b.log):" >&2; tail -20 "$b.log" >&2; status=1
  fi
}
for t in tests/c/test_*.c; do
  [ -e "$t" ] || continue
  b="$out/bin/$(basename "$t" .c)"
  clang $CFLAGS -Isrc -o "$b" "$t" "${objs[@]}" -lm
  bins+=("$b"); run "$b"
done
for f in fuzz/fuzz_*.c; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .c); b="$out/bin/$name"
  clang $CFLAGS -Isrc -Ifuzz -o "$b" "$f" fuzz/replay.c "${objs[@]}" -lm
  bins+=("$b"); run "$b" "fuzz/corpus/$name" "build/fuzz-corpus/$name"
done

shopt -s nullglob
profs=("$out"/prof/*.profraw)
[ ${#profs[@]} -gt 0 ] || { echo "coverage.sh: no profiles were written" >&2; exit 1; }
"$PROFDATA" merge -sparse -o "$out/all.profdata" "${profs[@]}"
objargs=("${bins[0]}"); for b in "${bins[@]:1}"; do objargs+=(-object "$b"); done
"$COV" report -instr-profile="$out/all.profdata" "${objargs[@]}" src/*.c >"$out/report.txt"

# llvm-cov report columns: Filename, Regions, Missed, Cover, Functions,
# Missed, Executed, Lines, Missed, Cover, Branches, Missed, Cover.
awk -v min="$min" '
  $1 ~ /\.c$/ || $1 == "TOTAL" {
    pct = $10; sub(/%/, "", pct)
    name = $1; sub(/.*\/src\//, "src/", name)
    low = ($1 != "TOTAL" && pct + 0 < min + 0)
    printf "%-22s %7s lines %6s missed %8s%s\n", name, $8, $9, $10, low ? "  < " min "%" : ""
    if (low) bad++
  }
  END { if (bad) { printf "coverage.sh: %d file(s) under %s%% line coverage\n", bad, min; exit 1 } }
' "$out/report.txt" || status=1
echo "coverage.sh: full report: $COV show -instr-profile=$out/all.profdata ${bins[0]} src/<file>.c" >&2
exit $status
