# syntax=docker/dockerfile:1.7
# One image for both programs of the chart: `node /app/dist/operator.mjs operator ...` and `... tunnel ...`.
# It also carries dist/client-service.mjs, the bundle the operator uploads to the SLURM cluster.
ARG NODE_IMAGE=node:20.20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# esbuild bundles each program with its dependencies into one file, so the runtime stage needs no node_modules.
RUN npm run build \
 && node dist/operator.mjs --help >/dev/null \
 && test -s dist/client-service.mjs

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=0:0 /src/dist/ /app/dist/
# The numeric user the chart's securityContext expects (runAsNonRoot needs a number to verify); root owns the
# files, so the process cannot change its own code, and the chart mounts the root filesystem read-only.
USER 65532:65532
EXPOSE 8080 8081 3000 9090
ENTRYPOINT ["node", "/app/dist/operator.mjs"]
CMD ["operator"]
