# syntax=docker/dockerfile:1
# The switchyard gateway as an image: the packages built and packed in one stage, installed from those
# tarballs with `npm ci --omit=dev` in the next (no sources, no TypeScript, no tsx), run as a non-root
# user. Both stages run packaging/app.sh, which the consumer test (npm test) also runs.
#
#   docker build -t switchyard .
#   docker run --rm -p 4000:4000 -v "$PWD/switchyard.yaml:/config/switchyard.yaml:ro" -e OPENAI_API_KEY switchyard

FROM node:24-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund && bash packaging/app.sh pack /app

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/packaging/app.sh /usr/local/lib/switchyard/app.sh
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/packages ./packages
RUN bash /usr/local/lib/switchyard/app.sh install /app && npm cache clean --force
USER node
EXPOSE 4000
# The config is mounted here (compose.yaml does); secrets come from the environment (os.environ/NAME).
CMD ["node", "/app/node_modules/@switchyard/proxy/bin/switchyard.js", "--config", "/config/switchyard.yaml", "--host", "0.0.0.0", "--port", "4000"]
# No curl in the slim image: Node's fetch asks the liveness endpoint.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/health/liveliness').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
