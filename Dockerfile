# kinesis-load in an image, for the Kubernetes Job in deploy/kubernetes/. Untested here (no
# Docker engine on the machines this is built on): scripts/static-binary.sh builds the same
# binary the build stage does and checks that it needs no Swift runtime library.
FROM swift:6.3-bookworm AS build
WORKDIR /src
COPY Package.swift Package.resolved ./
RUN swift package resolve
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --product kinesis-load --static-swift-stdlib \
    && cp "$(swift build -c release --show-bin-path)/kinesis-load" /kinesis-load

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates libsqlite3-0 libstdc++6 zlib1g && rm -rf /var/lib/apt/lists/*
COPY --from=build /kinesis-load /usr/local/bin/kinesis-load
COPY Scenarios /scenarios
WORKDIR /work
ENTRYPOINT ["kinesis-load"]
CMD ["--help"]
