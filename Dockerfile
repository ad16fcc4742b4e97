FROM python:3.11-slim-bookworm
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 MEDIA_DIR=/var/lib/geo_service/media
COPY pyproject.toml README.md LICENSE ./
COPY geo_service ./geo_service
COPY boundaries ./boundaries
COPY maps ./maps
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["sh", "-c", "geo-service init --demo-reports ${DEMO_REPORTS:-5000} && exec geo-service serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
