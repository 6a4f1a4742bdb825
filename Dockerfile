# Spar's container image: the `spar` binary on a distroless base (CA certificates, libc,
# a non-root user, no shell). Migrations and prompts are compiled into the binary.
#
#   docker build -t spar .
#   docker run --rm -e SPAR_DISCORD_TOKEN=… -e DATABASE_URL=postgres://… spar

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p spar \
 && strip target/release/spar

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/spar /usr/local/bin/spar
# The default SQLite file lives under the data directory; mount a volume there, or set
# DATABASE_URL to PostgreSQL to run several instances.
ENV XDG_DATA_HOME=/home/nonroot/.local/share \
    SPAR_LOG_FORMAT=json
USER nonroot
# 9090: /metrics, /healthz, /readyz. 3000: Slack over HTTP, when `--slack-http` is given.
EXPOSE 9090 3000
ENTRYPOINT ["/usr/local/bin/spar"]
CMD ["serve", "--metrics", "0.0.0.0:9090"]
