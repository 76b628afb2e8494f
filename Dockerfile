# meetbot production image: `meetbot serve` on $PORT (default 3000).
# Configuration comes from the environment (see the README's table), e.g.
#   docker run -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… -e MEETBOT_HCM_APP_ID=… \
#     -e MEETBOT_HCM_APP_KEY=… -e MEETBOT_DATABASE_URL=postgresql+psycopg://… -p 3000:3000 meetbot

# Both stages start from the same python:3.11-slim, pinned by the digest of its multi-platform
# index (python:3.11.17-slim-trixie, published 2026-10-01). To move to a newer base on purpose:
#   docker buildx imagetools inspect python:3.11-slim    # "Digest:" line
# and replace the digest in both FROM lines.
FROM python:3.11-slim@sha256:45037981b62b34b44602584fccbc4d884d5f7dc92c7ee86bb38a698a79fe1e51 AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Runtime dependencies exactly as locked, every file checked against its hash (README,
# "Dependencies"); wheels only, so nothing is built from source here.
COPY requirements/lock.txt ./requirements/lock.txt
RUN python -m venv /opt/meetbot \
    && /opt/meetbot/bin/pip install --require-hashes --only-binary=:all: -r requirements/lock.txt
# Then meetbot alone: every dependency it declares is in the lock.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN /opt/meetbot/bin/pip install --no-deps .

FROM python:3.11-slim@sha256:45037981b62b34b44602584fccbc4d884d5f7dc92c7ee86bb38a698a79fe1e51
ENV PATH=/opt/meetbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORT=3000 \
    MEETBOT_DATA_DIR=/var/lib/meetbot \
    MEETBOT_DATABASE_URL=sqlite:////var/lib/meetbot/meetbot.db
RUN useradd --system --uid 10001 --home-dir /var/lib/meetbot --create-home meetbot
COPY --from=build /opt/meetbot /opt/meetbot
USER meetbot
WORKDIR /var/lib/meetbot
VOLUME ["/var/lib/meetbot"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4)"
CMD ["meetbot", "serve"]
