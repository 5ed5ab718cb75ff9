# The lab's web, worker and beat image for docker compose (production). The toolchain is built
# in a first stage from the Go module proxy, exactly as `make toolchain` does on a host.
FROM golang:1.26-bookworm AS toolchain
WORKDIR /src
COPY toolchain/ toolchain/
RUN K8S_LAB_CACHE=/opt/k8s-lab bash toolchain/build.sh api

FROM node:20-bookworm-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 lab
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY --from=toolchain /opt/k8s-lab /opt/k8s-lab
COPY --from=frontend /src/node_modules node_modules
COPY . .
ENV K8S_LAB_CACHE=/opt/k8s-lab LAB_DATA_DIR=/data STATIC_ROOT=/app/static-root PYTHONUNBUFFERED=1
RUN SECRET_KEY=build-only python manage.py collectstatic --noinput -v0 && mkdir -p /data && chown lab /data
USER lab
EXPOSE 8000
CMD ["python", "-m", "uvicorn", "lab.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets", "--ws-per-message-deflate", "false", "--proxy-headers", "--forwarded-allow-ips", "*"]
