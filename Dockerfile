# Builds the nudge binary into a small image for `nudge serve`: a static
# binary (no cgo; pure-Go SQLite) on distroless/static, running as the
# unprivileged user 65532, with no shell. Health checks use `nudge probe`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/nudge ./cmd/nudge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/nudge /usr/local/bin/nudge
USER 65532:65532
# 8080: API, webhooks, console. 9090: /metrics and probes with
# NUDGE_METRICS_LISTEN=:9090 (keep it unpublished).
EXPOSE 8080 9090
ENTRYPOINT ["/usr/local/bin/nudge"]
CMD ["serve"]
