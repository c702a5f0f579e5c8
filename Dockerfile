# The ctdata image: Airflow 3 and the project, installed from the pinned set (requirements.txt +
# constraints.txt). Every Airflow service of docker-compose.yaml runs it, and so do the local S3
# server and the demo's portal stand-in.
#
#   docker build -t ctdata-airflow .                                  # on debian:bookworm-slim
#   docker build --build-arg BASE_IMAGE=registry.example/bookworm -t ctdata-airflow .
#
# The base must be Debian 12 (bookworm): its python3 is 3.11, the version the pins are made for.
# Behind a TLS-inspecting proxy, copy the proxy's CA certificates to deploy/certs/*.crt first:
# they are trusted by apt, pip, uv and the pipeline's HTTP clients.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

ENV DEBIAN_FRONTEND=noninteractive \
    LANG=C.UTF-8 \
    LC_ALL=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY deploy/certs/ /usr/local/share/ca-certificates/ctdata/
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl python3 python3-venv tini \
    && update-ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# Airflow's convention: user 50000 in group 0, so files on shared volumes stay readable.
RUN useradd --uid 50000 --gid 0 --create-home --home-dir /home/airflow airflow \
    && mkdir -p /opt/airflow/logs /opt/ctdata/var/portal /opt/ctdata/var/sources /opt/ctdata/reports \
    && chown -R 50000:0 /opt/airflow /opt/ctdata/var /opt/ctdata/reports

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/ctdata/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/ctdata/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    CTDATA_VAR_DIR=/opt/ctdata/var \
    CTDATA_REPORTS_DIR=/opt/ctdata/reports \
    GX_ANALYTICS_ENABLED=False

WORKDIR /opt/ctdata
# Dependencies first, so editing the project does not reinstall them. Bytecode is compiled here:
# the services run as user 50000, who cannot write __pycache__ in root's folders, so every
# task's process would otherwise compile Airflow, pandas and GX from source again.
COPY requirements.txt constraints.txt ./
RUN python3 -m venv /opt/venv \
    && pip install --no-cache-dir uv==0.13.9 \
    && uv pip install --no-cache --compile-bytecode --python /opt/venv/bin/python \
        -r requirements.txt -c constraints.txt

COPY pyproject.toml ./
COPY include/ include/
COPY dags/ dags/
COPY plugins/ plugins/
COPY expectations/ expectations/
COPY deploy/ deploy/
# Editable, as `make` does: the project's folders (specs, suites, dags) stay where settings.py
# looks for them.
RUN uv pip install --no-cache --python /opt/venv/bin/python --no-deps -e . \
    && python -m compileall -q include dags plugins deploy \
    && python -c "import ctdata, airflow.providers.celery, airflow.providers.amazon"

USER 50000:0
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
