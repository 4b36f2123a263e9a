# inferbench's container image: the static binary on an empty base, run as
# the non-root user 65532, no shell. scripts/mkimage builds the same image
# with no Docker daemon and no network (see deploy/README.md).
#
#   docker build -t inferbench:0.1.0-dev --build-arg VERSION=0.1.0-dev .

FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/usr/local/bin/inferbench ./cmd/inferbench \
 && /out/usr/local/bin/inferbench --version \
 && mkdir -p /out/etc/ssl/certs /out/home/nonroot /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /out/etc/passwd \
 && printf 'root:x:0:\nnonroot:x:65532:\n' > /out/etc/group \
 && chown 65532:65532 /out/home/nonroot && chmod 0700 /out/home/nonroot && chmod 1777 /out/tmp

FROM scratch
ARG VERSION=0.1.0-dev
COPY --from=build /out/ /
# COPY makes files root-owned: the home is the user's own.
COPY --from=build --chown=65532:65532 /out/home/nonroot /home/nonroot
LABEL org.opencontainers.image.title="inferbench" \
      org.opencontainers.image.description="benchmarks ML inference deployments (KServe v2, Triton, NIM)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/inferbench/inferbench" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/usr/local/bin HOME=/home/nonroot SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /home/nonroot
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/inferbench"]
CMD ["--help"]
