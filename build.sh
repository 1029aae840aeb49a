#!/usr/bin/env bash
# build.sh - builds dist/ (nitro.wasm, the ESM modules, the script-tag bundle)
# and, with --native, the C unit tests under ASan/UBSan into build/native/.
#
#   bash build.sh            WebAssembly + JS into dist/
#   bash build.sh --native   also the sanitizer test binaries
#   bash build.sh --fuzz     also the libFuzzer targets into build/fuzz/
#   bash build.sh --emscripten  also the Emscripten build: build/emcc/nitro.wasm
#                            (same exports; NITRO_WASM=build/emcc/nitro.wasm runs
#                            the JS on it) and the static library dist/c/
#                            (libnitro.a + include/), docs/toolchains.md
set -euo pipefail
cd "$(dirname "$0")"

want_native=0; want_fuzz=0; want_emcc=0
for a in "$@"; do
  case "$a" in
    --native) want_native=1 ;;
    --fuzz) want_fuzz=1 ;;
    --emscripten) want_emcc=1 ;;
    *) echo "build.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

# --- toolchain: install what is missing when root, else say how -----------------
PKGS="clang lld wasi-libc libclang-rt-dev-wasm32 binaryen"
missing=()
command -v clang >/dev/null || missing+=(clang)
command -v wasm-ld >/dev/null || [ -x /usr/bin/wasm-ld-14 ] || missing+=(lld)
[ -f /usr/include/wasm32-wasi/stdlib.h ] || missing+=(wasi-libc)
ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1 || missing+=(libclang-rt-dev-wasm32)
command -v wasm-opt >/dev/null || missing+=(binaryen)
if [ $want_emcc = 1 ]; then
  PKGS="$PKGS emscripten"
  command -v emcc >/dev/null || missing+=(emscripten)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "build.sh: installing ${missing[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $PKGS) >/dev/null
  else
    echo "build.sh: missing ${missing[*]}; run: sudo apt-get install -y $PKGS" >&2
    exit 1
  fi
fi
if [ ! -d node_modules/esbuild ]; then
  echo "build.sh: node_modules missing; run: npm install" >&2
  exit 1
fi

CFLAGS_COMMON="-std=c11 -Wall -Wextra -Werror -Wno-unused-parameter"
SRCS=(src/*.c)

# --- WebAssembly ------------------------------------------------------------------
mkdir -p dist build
# clang runs wasm-opt itself when linking with -O and it is on PATH, and that
# run fails with bulk memory enabled (docs/boundary.md, Bulk memory and wasm-opt): compile with -O3, link
# without -O, then optimise with wasm-opt ourselves.
mkdir -p build/wasm
objs=()
for s in "${SRCS[@]}"; do
  o="build/wasm/$(basename "$s" .c).o"
  clang --target=wasm32-wasi $CFLAGS_COMMON -O3 -mbulk-memory -DNW_WASM=1 -fvisibility=hidden -c "$s" -o "$o"
  objs+=("$o")
done
# A 256 KiB stack: the deepest recursion (256 nested sections or partials,
# the render depth limit) needs well under half of it; the 1 MiB it was
# counted against every page's memory.
clang --target=wasm32-wasi -mexec-model=reactor -mbulk-memory \
  -Wl,--export-dynamic -Wl,--stack-first -Wl,-z,stack-size=262144 -Wl,--strip-all \
  -o build/nitro.raw.wasm "${objs[@]}"
wasm-opt --enable-bulk-memory -O3 build/nitro.raw.wasm -o dist/nitro.wasm
if command -v wasm-objdump >/dev/null; then
  if wasm-objdump -x -j Import dist/nitro.wasm 2>/dev/null | grep -q ' <- '; then
    echo "build.sh: nitro.wasm has imports (stdio or WASI calls crept in):" >&2
    wasm-objdump -x -j Import dist/nitro.wasm >&2
    exit 1
  fi
fi

# --- JavaScript -------------------------------------------------------------------
# js/wire.js (the boundary constants) is generated from src/wire.h
node scripts/gen-wire.js
# js/ is grouped by layer (js/dom/, js/datastar/, ...): dist/ keeps the tree.
rm -rf dist/*.js dist/*.d.ts dist/dom dist/datastar dist/sync dist/sync-client
cp -r js/. dist/
# the reference sync server (nitro-wasm/server, npx nitro-wasm serve): server/
# beside js/ in the tree, dist/server/ beside the client modules in the
# package, so its imports of shared client modules ('../js/x.js') lose the js/.
if [ -d server ]; then
  rm -rf dist/server
  mkdir -p dist/server
  cp -r server/. dist/server/
  find dist/server -name '*.js' -o -name '*.d.ts' | xargs sed -i -E "s#(['\"](\.\./)+)js/#\1#g"
fi
# The demo's stylesheet, built by the Tailwind CLI from npm (no CDN). It is
# served from dist/ but kept out of the npm package (package.json "files").
if [ -f web/styles.css ]; then
  if ! node_modules/.bin/tailwindcss -i web/styles.css -o dist/app.css --minify >build/tailwind.log 2>&1; then
    cat build/tailwind.log >&2
    exit 1
  fi
fi
node_modules/.bin/esbuild js/iife-entry.js --bundle --format=iife --global-name=Nitro \
  --minify --target=es2020 --log-level=warning --external:node:* --log-override:empty-import-meta=silent --outfile=dist/nitro.iife.js

wasm_size=$(wc -c < dist/nitro.wasm)
echo "build.sh: dist/nitro.wasm $wasm_size bytes ($(gzip -9 -c dist/nitro.wasm | wc -c) gzipped), dist/nitro.iife.js $(wc -c < dist/nitro.iife.js) bytes"

# --- Emscripten: the same exports, and the C core as a static library -------------
# Standalone WASM without Emscripten's JS glue; its one import,
# env.emscripten_notify_memory_growth, is met by js/core.js. emmalloc (half the
# size of dlmalloc), the same 256 KiB stack placed first as in the clang build.
if [ $want_emcc = 1 ]; then
  rm -rf build/emcc && mkdir -p build/emcc/obj
  (cd build/emcc/obj && emcc $CFLAGS_COMMON -O3 -mbulk-memory -DNW_WASM=1 -fvisibility=hidden -c "${SRCS[@]/#/../../../}")
  emcc -O3 -mbulk-memory --no-entry -sSTANDALONE_WASM -sALLOW_MEMORY_GROWTH -sMAXIMUM_MEMORY=4GB \
    -sMALLOC=emmalloc -sTOTAL_STACK=262144 -sINITIAL_MEMORY=327680 -Wl,--stack-first \
    -o build/emcc/nitro.full.wasm build/emcc/obj/*.o
  # Drop what emcc exports for its own JS glue (stackSave, __errno_location,
  # the table, ...), then check the exports are exactly the clang build's.
  node scripts/wasm-exports.js graph build/emcc/nitro.full.wasm > build/emcc/keep.json
  wasm-metadce --enable-bulk-memory -f build/emcc/keep.json build/emcc/nitro.full.wasm -o build/emcc/nitro.wasm >/dev/null
  node scripts/wasm-exports.js same dist/nitro.wasm build/emcc/nitro.wasm
  # libnitro.a: everything but the JS boundary (api*.c); the headers it needs.
  rm -rf dist/c && mkdir -p dist/c/include
  lib_objs=()
  for o in build/emcc/obj/*.o; do case "$(basename "$o")" in api*.o) ;; *) lib_objs+=("$o") ;; esac; done
  emar rcs dist/c/libnitro.a "${lib_objs[@]}"
  public_h="store.h query.h record_view.h template.h nval.h alloc.h"
  for h in $(printf '#include "%s"\n' $public_h | clang -MM -Isrc -x c - | tr -d '\\' | tr ' ' '\n' | grep '^src/.*\.h$'); do
    cp "$h" dist/c/include/
  done
  # nitro.h: one include for C and C++ (the headers have no extern "C" of their own).
  {
    echo '/* nitro.h - the nitro C core (store, queries, templates): generated by build.sh. */'
    echo '#ifndef NITRO_H'; echo '#define NITRO_H'
    printf '#include <%s>\n' stdarg.h stdbool.h stddef.h stdint.h
    echo '#ifdef __cplusplus'; echo 'extern "C" {'; echo '#endif'
    printf '#include "%s"\n' $public_h
    echo '#ifdef __cplusplus'; echo '}'; echo '#endif'
    echo '#endif'
  } > dist/c/include/nitro.h
  echo "build.sh: build/emcc/nitro.wasm $(wc -c < build/emcc/nitro.wasm) bytes ($(gzip -9 -c build/emcc/nitro.wasm | wc -c) gzipped), dist/c/libnitro.a $(wc -c < dist/c/libnitro.a) bytes, $(ls dist/c/include | wc -l) headers"
fi

# --- native tests under sanitizers ------------------------------------------------------
if [ $want_native = 1 ]; then
  mkdir -p build/native/obj
  SAN="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
  # each source compiled once (in parallel), then each test linked against them
  printf '%s\n' "${SRCS[@]}" | xargs -P "$(nproc)" -I{} sh -c \
    'clang '"$CFLAGS_COMMON $SAN"' -Isrc -c "$1" -o "build/native/obj/$(basename "$1" .c).o"' _ {}
  for t in tests/c/test_*.c; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .c)
    clang $CFLAGS_COMMON $SAN -Isrc -o "build/native/$name" "$t" build/native/obj/*.o -lm
  done
  echo "build.sh: native tests in build/native/"
fi

if [ $want_fuzz = 1 ]; then
  mkdir -p build/fuzz
  for f in fuzz/fuzz_*.c; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .c)
    clang $CFLAGS_COMMON -g -O1 -fsanitize=fuzzer,address,undefined -DNW_TRIGRAM_FEW=1 -Isrc -Ifuzz -o "build/fuzz/$name" "$f" "${SRCS[@]}" -lm
  done
  echo "build.sh: fuzzers in build/fuzz/"
fi
