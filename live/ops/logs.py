"""Log lines as JSON objects, one a line, for a log shipper (`SALEN_LOG_FORMAT=json`).

Each line has `time` (UTC, ISO 8601), `level`, `logger` and `message` (formatted after the
filters ran, so tokens are already redacted: `live.accesslog`), `exception` when the record
has one, and for uvicorn's access lines `client`, `method`, `path`, `status`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            line.update(zip(_ACCESS_FIELDS, args, strict=True))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
