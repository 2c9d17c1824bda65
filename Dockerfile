# Builds the nudge binary into a small image for `nudge serve`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/nudge ./cmd/nudge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/nudge /usr/local/bin/nudge
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/nudge"]
CMD ["serve"]
