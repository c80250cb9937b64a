# syntax=docker/dockerfile:1
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
ARG VERSION=dev
# go build fetches only the modules the binary links (about 47), not every
# module in go.mod (sqlc and genqlient, tools for `go generate`, bring ~117);
# the cache mounts keep them, and compiled packages, between builds.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/pnwbot ./cmd/pnwbot

# distroless/static: CA certificates and tzdata, no shell, runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pnwbot /usr/local/bin/pnwbot
USER nonroot:nonroot
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/pnwbot", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/pnwbot"]
CMD ["run"]
