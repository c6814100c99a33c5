FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 ACTIVATION_ENVIRONMENT=production
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY core core
COPY models models
COPY activities activities
COPY workflows workflows
COPY workers workers
COPY api api
RUN pip install --no-cache-dir --no-deps . && useradd --system app
USER app
CMD ["activation", "api"]
