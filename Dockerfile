# One image runs any Brobygger service: `docker run brobygger:0.1.0 referral`
# (or matching, journey, notify); `--entrypoint brobygger` runs the operator CLI.
#
# Builder: installs the project (not editable) into /opt/venv from
# pyproject.toml. Runtime: the same slim Python with only that venv, which
# holds the services' code, migrations, templates and data.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, so that a code change reuses this layer.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt
# Every `where` of [tool.setuptools.packages.find].
COPY contracts/src contracts/src
COPY runtime/src runtime/src
COPY stack/src stack/src
COPY services/referral/src services/referral/src
COPY services/matching/src services/matching/src
COPY services/journey/src services/journey/src
COPY services/notify/src services/notify/src
COPY services/console/src services/console/src
RUN pip install --no-deps . \
 && python -m compileall -q /opt/venv/lib

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="brobygger" \
      org.opencontainers.image.description="Brobygger services: referral, matching, journey, notify, and the web console" \
      org.opencontainers.image.licenses="EUPL-1.2"
RUN groupadd --system --gid 10001 brobygger \
 && useradd --system --uid 10001 --gid brobygger --home-dir /app --shell /usr/sbin/nologin brobygger \
 && mkdir -p /app/data && chown brobygger:brobygger /app/data
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8000 \
    DATA_DIR=/app/data \
    LOG_JSON=true
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# No curl in slim: ask /health/live with the standard library.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/live' % os.environ.get('HTTP_PORT', '8000'), timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["python", "-m"]
CMD ["referral"]
