# syntax=docker/dockerfile:1
# IntegraMon Runtime: ONE image for every role; the command picks the role.
#   integramon migrate | worker --group NAME | worker --queue NAME | controller | api
#   integramon simulator --port P --tenants N --seed S
# Runs as a non-root user. Its single HEALTHCHECK (integramon-healthcheck) finds out which role the
# container runs and probes that role's LIVENESS only (a failing check gets the container replaced):
# a worker its own heartbeat, the controller `controller --live`, the api /health/live, ...
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9 && python -m venv /opt/venv
WORKDIR /app
# Runtime dependencies only (no dev extras) at exactly the versions of requirements.lock. This layer
# is rebuilt only when the dependency list or the lock changes, not on every code change.
COPY pyproject.toml requirements.lock README.md ./
RUN uv pip install --no-cache --python /opt/venv/bin/python -r pyproject.toml -c requirements.lock
COPY core ./core
COPY functions ./functions
COPY controller ./controller
COPY admin_api ./admin_api
COPY simulator ./simulator
COPY integramon ./integramon
# Editable install: alembic reads core/db/migrations/versions/ from the source tree, and that folder
# is not a Python package, so a wheel would leave the migrations out. In compat mode (a .pth path
# entry, not setuptools' import-hook finder, which costs every process ~25 ms of start-up). The catalog check fails the
# build early if the code cannot even be imported.
RUN uv pip install --no-cache --python /opt/venv/bin/python --no-deps -e . -C editable_mode=compat \
 && /opt/venv/bin/python -m compileall -q /app \
 && /opt/venv/bin/integramon catalog >/dev/null

FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="IntegraMon Runtime" \
      org.opencontainers.image.description="arq worker groups, controller, admin API and CPI simulator of IntegraMon"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    INTEGRAMON_DATA_DIR=/var/lib/integramon \
    INTEGRAMON_API_HOST=0.0.0.0 \
    INTEGRAMON_API_PORT=8000
RUN groupadd --system --gid 10001 integramon \
 && useradd --system --uid 10001 --gid integramon --home-dir /var/lib/integramon \
      --shell /usr/sbin/nologin integramon \
 && mkdir -p /var/lib/integramon \
 && chown integramon:integramon /var/lib/integramon
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY --chmod=0755 infra/image/healthcheck.py /usr/local/bin/integramon-healthcheck
# CA bundles for verified TLS, e.g. the RDS bundle the Terraform database URL names in sslrootcert
# (infra/image/certs/README.md says how to fetch it before the build).
COPY infra/image/certs/ /etc/integramon/certs/
# The writable paths under a read-only root file system. Declared as volumes so that Fargate's task
# volumes (and Docker's anonymous ones) start with this folder's owner, uid 10001, not root.
VOLUME ["/var/lib/integramon", "/tmp"]
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["integramon-healthcheck"]
ENTRYPOINT ["integramon"]
CMD ["api"]
