# wallet-engine's container image: walletd, walletctl, wallet-reconcile and wallet-loadtest, built
# on Debian 12 with the project's own install script and run on debian:12-slim as a non-root user
# with only the runtime libraries. Works with a read-only root filesystem (nothing is written
# outside /tmp). Checked without a Docker engine by tests/chart/dockerfile.test.mjs.
#
#   docker build -t wallet-engine:0.1.0 .
#   docker run --rm wallet-engine:0.1.0 --help

# ---- build: the same packages and flags as scripts/install-deps.sh and scripts/build.sh ----------
FROM debian:12 AS build
ARG DEBIAN_FRONTEND=noninteractive
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN bash scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
# Only the shipped programs: no test suite; WALLET_BUILD_BENCHMARKS holds the load-test harness.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DWALLET_BUILD_TESTS=OFF -DWALLET_BUILD_BENCHMARKS=ON \
 && cmake --build /build -j"$(nproc)" --target walletd walletctl wallet-reconcile wallet-loadtest \
 && mkdir -p /out/bin \
 && install -m 0755 /build/app/walletd /build/app/walletctl/walletctl \
      /build/app/reconcile/wallet-reconcile /build/loadtest/wallet-loadtest /out/bin/ \
 && strip /out/bin/*

# ---- runtime ------------------------------------------------------------------------------------
FROM debian:12-slim AS runtime
ARG DEBIAN_FRONTEND=noninteractive
# The packages of the libraries the programs link directly (their dependencies follow), TLS
# libraries and CA certificates for tls:// and verify-full connections.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      ca-certificates \
      libboost-json1.81.0 \
      libboost-url1.81.0 \
      libcaf-core0.17 \
      libgcc-s1 \
      libnats3.4 \
      libpq5 \
      libpqxx-6.4 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libspdlog1.10 \
      libssl3 \
      libstdc++6 \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric identity, the one the Helm chart's securityContext names.
RUN groupadd --system --gid 10001 walletd \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin walletd
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build /src/config/examples/walletd.json /etc/walletd/walletd.example.json
USER 10001:10001
WORKDIR /tmp
# HTTP API (http.port) and Prometheus metrics (metrics.port).
EXPOSE 8080 9464
# walletd drains and exits 0 on SIGTERM within shutdown.grace_period_ms.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/walletd"]
# Outside Kubernetes: listen beyond the container's loopback. The chart sets its own arguments.
CMD ["--http.listen_address=0.0.0.0"]
