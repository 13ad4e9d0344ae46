# Image for the worker and the API (docker-compose.yml). The same code users run with `make demo`.
FROM python:3.11-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY streamapp ./streamapp
COPY agents ./agents
COPY tables ./tables
COPY connectors ./connectors
RUN pip install --no-cache-dir .
ENV DATA_DIR=/data/worker CHROMA_PATH=/data/chroma
VOLUME /data
