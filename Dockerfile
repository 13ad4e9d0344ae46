# Image for the worker and the API (docker-compose.yml). The same code users run with `make demo`.
FROM python:3.11-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
# The locked runtime dependencies, hashes checked (`make lock` writes the lock from pyproject.toml).
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY streamapp ./streamapp
COPY agents ./agents
COPY tables ./tables
COPY connectors ./connectors
RUN pip install --no-cache-dir --no-deps .
# Processes run as an unprivileged user who owns only the data volume (code and packages stay root's).
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /data --shell /usr/sbin/nologin streamapp \
    && mkdir -p /data/worker /data/chroma && chown -R streamapp:streamapp /data
ENV DATA_DIR=/data/worker CHROMA_PATH=/data/chroma
VOLUME /data
USER streamapp:streamapp
