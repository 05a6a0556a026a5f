# syntax=docker/dockerfile:1
# The ondemand-eks command as an image, for deploy/kubernetes/webhook and sqs-consumer:
#   docker build -t <registry>/ondemand-eks:<tag> .
# Two stages: the first builds the workspace and assembles /app (the built packages and
# only the CLI's production dependencies); the second is Node.js and /app, run as
# 65532 (no root, nothing writable but /tmp in the cluster).
#
# The base is pinned by digest, so a rebuild gets the same bytes and a moved tag cannot
# slip anything in. To update it, look up the tag's current digest (the multi-platform
# index, not one platform's manifest):
#   docker buildx imagetools inspect node:22-slim --format '{{json .Manifest.Digest}}'
# put it below, build, and run the tests against the image; or let Renovate or Dependabot
# pin and bump it. (This digest was taken from a public build log of node:22-slim; no
# image can be built where this project's tests run.)
ARG NODE_IMAGE=node:22-slim@sha256:83f487e0a63425e5b4d146fb5e5be574bcbe1b7b843d3ebafdd95eaf7767a7e5

FROM ${NODE_IMAGE} AS build
ENV TURBO_TELEMETRY_DISABLED=1
WORKDIR /src
COPY . .
# Exactly what CI installs (package-lock.json), then the CLI and the packages it needs.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund \
 && npx turbo run build --filter=@ondemand-eks/cli... --output-logs=errors-only
# /app: each workspace's package.json and dist/ (and the bundled pod library), installed
# with the CLI's production dependencies only. Workspaces stay npm links to /app/packages.
RUN mkdir -p /app \
 && cp package.json package-lock.json /app/ \
 && for dir in packages/*/; do \
      mkdir -p "/app/$dir" && cp "$dir/package.json" "/app/$dir"; \
      if [ -d "$dir/dist" ]; then cp -R "$dir/dist" "/app/$dir"; fi; \
    done \
 && cp -R packages/pod-library/pods /app/packages/pod-library/pods
WORKDIR /app
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace=@ondemand-eks/cli --ignore-scripts --no-audit --no-fund \
 && node packages/cli/dist/bin.js --help > /dev/null \
 && node packages/cli/dist/bin.js validate > /dev/null

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# A user for 65532 (the Deployments' runAsUser), so the process has a name and a home
# directory (which does not exist: nothing writes there). npm and corepack are not
# needed at run time.
RUN groupadd --gid 65532 ondemand-eks \
 && useradd --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin ondemand-eks \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
# Owned by root and read-only to the user that runs it.
COPY --from=build /app /app
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "/app/packages/cli/dist/bin.js"]
CMD ["--help"]
