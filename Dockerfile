# The dealer chat service in a container: built in one stage, run from the release folder in a slim,
# non-root one. The database lives in the /data volume (SQLite), or in Postgres via DATABASE_URL
# (docker-compose.yml).
#
#   docker build -t dealer-chat .
#   docker run -p 3000:3000 -v dealer-chat-data:/data --env-file .env dealer-chat

FROM node:20-slim AS build
WORKDIR /app
# better-sqlite3 compiles its addon when no prebuilt one can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# Install scripts run only for the one package that needs its own: better-sqlite3's addon.
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3
COPY tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY locales ./locales
COPY scripts ./scripts
COPY assets ./assets
# dist/ plus only the packages it loads at run time (better-sqlite3 and its two helpers): about 8 MB.
RUN node scripts/build.mjs --release /release

FROM node:20-slim
# MALLOC_ARENA_MAX and --optimize-for-size (below) halve the memory under load (BENCHMARKS.md).
ENV NODE_ENV=production \
    PORT=3000 \
    DATABASE_URL=file:/data/dealer-chat.sqlite \
    MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=build /release ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is process 1's only child of note: `docker stop` sends SIGTERM straight to the service, which
# finishes what is in flight and exits 0. The operator commands run beside it:
#   docker exec -it <container> npm run staff:create -- --email you@dealer.example --role admin
#   docker exec <container> npm run backup -- /data/backups/nightly.sqlite
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "--optimize-for-size", "dist/entry/node.js"]
