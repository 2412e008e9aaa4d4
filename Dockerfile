# The iamgraph CLI and HTTP API (api extra) with the Neo4j driver; see docker-compose.yml and README "Neo4j".
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY iamgraph ./iamgraph
COPY api ./api
COPY ui ./ui
RUN pip install --no-cache-dir '.[api,neo4j]' \
    && useradd --create-home --uid 10001 iamgraph
USER iamgraph
EXPOSE 8000
ENTRYPOINT ["iamgraph"]
CMD ["--help"]
