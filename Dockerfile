# syntax=docker/dockerfile:1
# Birbal AI as one container: `docker build -t birbal .` (CPU) or `docker build --build-arg VARIANT=cuda -t birbal:cuda .`
# (ONNX Runtime's CUDA provider; run with a GPU and set Ml__Serving__ExecutionProvider=Cuda, the default of that
# variant). CI does not build this image (no Docker engine there); tests/BirbalAI.IntegrationTests/Deployment runs
# what it runs — the publish output as an unprivileged user, with only the volume paths writable.
#
# Run (read-only root file system; the only writable paths are /tmp and the blob cache volume):
#   docker run --read-only --tmpfs /tmp -v birbal-cache:/var/cache/birbal -p 8080:8080 -p 8081:8081 \
#     -e Database__ConnectionString=… -e Redis__ConnectionString=… -e RabbitMq__Uri=… \
#     -v "$PWD/secrets:/run/secrets/birbal:ro" birbal
# Verbs: `docker run … birbal migrate`, `… birbal admin create --email ops@example.org` (password on stdin, -i).
ARG VARIANT=cpu

# ---- build: publish the app and train the starter model (about 3 minutes on two cores) ----
# .NET 10's images are Ubuntu 24.04 ("noble"); Microsoft publishes no Debian ones for it.
FROM mcr.microsoft.com/dotnet/sdk:10.0-noble AS build
# npm fetches the front-end libraries at build time (BirbalAI.Web/package.json).
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN dotnet publish BirbalAI.Web/BirbalAI.Web.csproj -c Release -o /app --nologo
# `ml starter-model` prints the folder it trained (or found) on standard output, its logs go to standard error;
# it needs no server.
RUN dir=$(dotnet /app/BirbalAI.Web.dll ml starter-model --cache /models) && mv "$dir" /starter-model

# ---- runtime bases ----
# curl for the health check; postgresql-client-15 (pg_dump, pg_restore for `backup` and `restore`) from the
# PostgreSQL project's apt repository, as Ubuntu 24.04 ships only version 16.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble AS runtime-cpu
ENV Ml__Serving__ExecutionProvider=Cpu
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt noble-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*

# CUDA 13 and cuDNN from NVIDIA's image (Ubuntu 24.04 too), with the ASP.NET Core runtime copied in.
FROM nvidia/cuda:13.0.0-cudnn-runtime-ubuntu24.04 AS runtime-cuda
ENV Ml__Serving__ExecutionProvider=Cuda DOTNET_ROOT=/usr/share/dotnet PATH=/usr/share/dotnet:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl libicu74 \
    && install -d /usr/share/postgresql-common/pgdg \
    && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
    && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt noble-pgdg main" > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=mcr.microsoft.com/dotnet/aspnet:10.0-noble /usr/share/dotnet /usr/share/dotnet

# ---- the image ----
FROM runtime-${VARIANT}
# Files belong to root and are read-only to the app's user; it writes only to the volumes below.
RUN groupadd --gid 10001 birbal && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin birbal \
    && mkdir -p /var/cache/birbal/blobs /run/secrets/birbal && chown -R 10001:10001 /var/cache/birbal
COPY --from=build /app /app
COPY --from=build /starter-model /app/models/starter
WORKDIR /app
ENV ASPNETCORE_ENVIRONMENT=Production \
    Listen__Web=http://0.0.0.0:8080 \
    Listen__Grpc=http://0.0.0.0:8081 \
    Listen__Worker=http://0.0.0.0:8082 \
    Ml__StarterModelDirectory=/app/models/starter \
    Blobs__CacheDirectory=/var/cache/birbal/blobs \
    SecretsDirectory=/run/secrets/birbal
VOLUME ["/var/cache/birbal"]
EXPOSE 8080 8081 8082
USER 10001:10001
# Liveness of `--role all` or `web` (port 8080); a worker (`--role worker`) answers on 8082: override the check.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["dotnet", "/app/BirbalAI.Web.dll"]
CMD ["--role", "all"]
