# One image for the API and every worker; the command picks the role (see docker-compose.yml).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The build also writes dist/workflow-bundle.js (shipped with dist/ below): the pipeline worker
# loads it instead of running webpack at every container start.
RUN npm run build && test -s dist/workflow-bundle.js && npm prune --omit=dev

FROM node:22-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
# The dashboard's plain files, served by the API from public/dashboard beside dist/.
COPY public ./public
RUN mkdir -p /data && chown node:node /data
USER node
ENV BIBLIO_DATA_DIR=/data NODE_ENV=production
# API on 3000; every worker's /metrics, /healthz, /readyz on WORKER_HEALTH_PORT (compose: 9464).
EXPOSE 3000 9464
CMD ["node", "dist/api/main.js"]
