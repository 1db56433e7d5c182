# roomcast container image (Debian bookworm). Multi-stage: the builder runs the SAME set-up script
# as a developer machine (scripts/setup.sh → apt packages, npm ci, offline mediasoup worker build),
# the runtime stage carries only what the gateway needs at run time.
#
#   docker build -t roomcast .
#   docker run --rm -p 8080:8080 -p 1935:1935 -p 40000-40100:40000-40100/udp \
#     -e ROOMCAST_MEDIASOUP__RTC_MAX_PORT=40100 -e ROOMCAST_MEDIASOUP__ANNOUNCED_ADDRESS=<public ip> \
#     -v roomcast-data:/app/data roomcast

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY patches ./patches
# Only the set-up script's steps that need no sources yet: system packages, npm ci, worker build.
# The worker cache lives in /root/.cache/roomcast (a BuildKit cache mount keeps it across builds).
RUN --mount=type=cache,target=/root/.cache/roomcast \
    SETUP_SKIP_WEB=1 SETUP_SKIP_BROWSER=1 bash scripts/setup.sh
COPY . .
RUN npm run build:web && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim AS runtime
# Runtime libraries of the worker (it links Debian's libssl, libuv, libsrtp2, libusrsctp, abseil,
# flatbuffers dynamically) and ffmpeg for the compositor, HLS packager, relays and recorder.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ffmpeg libssl3 libuv1 libsrtp2-1 libusrsctp2 libflatbuffers2 \
      libabsl20220623 ca-certificates tini \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
RUN useradd --system --home /app roomcast && mkdir -p /app/data && chown -R roomcast /app/data
USER roomcast
EXPOSE 8080 1935 40000-49999/udp 40000-49999/tcp
HEALTHCHECK --interval=30s --timeout=5s CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--import", "tsx", "gateway/src/main.ts", "--config", "config/default.yaml"]
