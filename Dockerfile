# Dockerfile - the nitro-wasm sync server (`nitro-wasm serve`) as a container.
#
# NOT RUN HERE: the machine this was written on has no Docker daemon, so this
# file was checked by reading only. See docs/deploy.md for how to use it and
# compose.yaml for server + PostgreSQL.
#
#   docker build -t nitro-sync .
#   docker run -p 8787:8787 -e NITRO_SECRET=... -v nitro-data:/data nitro-sync
#
# Stage 1 builds dist/ from source (clang + wasi-libc, as build.sh expects on
# Debian) and packs the npm tarball; stage 2 installs that tarball with its
# optional server peers (better-sqlite3, pg) into a slim runtime image, so the
# image runs exactly what `npm install nitro-wasm` would give a user.

FROM node:20-bookworm AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      clang lld wasi-libc libclang-rt-dev-wasm32 binaryen \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (there is no .dockerignore: node_modules stays out).
COPY package.json package-lock.json .npmrc build.sh LICENSE README.md ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild esbuild
COPY src ./src
COPY js ./js
COPY server ./server
RUN bash build.sh && npm pack --ignore-scripts --pack-destination /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787 \
    DATABASE_URL=/data/nitro.db \
    LOG_LEVEL=info
WORKDIR /app
COPY --from=build /out/*.tgz /tmp/
# better-sqlite3 ships prebuilt binaries for linux x64/arm64 on Node 20; pg is
# pure JavaScript. Both are optional peers: install only the one you use.
RUN npm init -y >/dev/null \
 && npm install --omit=dev --no-audit --no-fund /tmp/nitro-wasm-*.tgz better-sqlite3@12 pg@8 \
 && rm /tmp/*.tgz \
 && mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8787
# Liveness only; orchestrators should also probe /ready (database reachable,
# not draining) before sending traffic.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# node itself is PID 1 (no npx/npm wrapper) so SIGTERM reaches the server's
# graceful shutdown; `docker stop` waits 10 s by default, matching the default
# NITRO_SHUTDOWN_TIMEOUT, so give it a little more: docker stop -t 15.
STOPSIGNAL SIGTERM
CMD ["node", "node_modules/nitro-wasm/dist/server/cli.js", "serve"]
