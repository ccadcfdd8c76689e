# Evergreen API image: compiled in one stage, run from a second with production dependencies only.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm can end with "Exit handler never called!" and status 0 when the registry is unreachable: check the result.
RUN npm ci --no-audit --no-fund && test -x node_modules/.bin/tsc
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && test -d node_modules/fastify && npm cache clean --force
COPY --from=build /app/dist ./dist
# Code and dependencies stay owned by root: the service cannot modify itself.
USER node
EXPOSE 3000
# Ready, not just live: NGINX and Compose should route only to an instance that reaches the Redis master.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/server.js"]
