# Lepus container image: one static binary on distroless, run as a non-root user.
#
#   docker build -t lepus .
#   docker run -p 8080:8080 -v lepus-data:/data lepus          # lepus serve: SQLite + files in /data
#   docker run ... lepus api | worker | migrate                # the scale-out roles (see compose.yaml)
#
# Both base images can be swapped (a mirror, or a runtime with a shell):
#   --build-arg GO_IMAGE=… --build-arg RUNTIME_IMAGE=…
# No HEALTHCHECK: distroless has no shell or curl to run one with. Probe
# GET /livez (process up) and GET /readyz (database, bucket and migrations)
# from the orchestrator instead (Kubernetes httpGet probes, a load balancer).
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${GO_IMAGE} AS build
WORKDIR /src
# modernc.org/sqlite is pure Go, so the binary needs no C library.
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/lepus ./cmd/lepus \
    && mkdir -p /out/data

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/lepus /usr/local/bin/lepus
# The data dir (SQLite database, local blobs, generated JWT secret), owned by
# distroless's "nonroot" user (65532); numeric, so any runtime image works.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV LEPUS_DATA_DIR=/data LEPUS_ADDR=0.0.0.0:8080
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/lepus"]
CMD ["serve"]
