"""SALEN_LOG_FORMAT=json: one JSON object a line, tokens still redacted."""

from __future__ import annotations

import json
import logging

from live.accesslog import RedactSecrets
from live.cli import log_config
from live.ops.logs import JsonFormatter


def _access_record() -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5000", "GET", "/r/s3cret-token?x=1", "1.1", 200), None)


def test_json_log_lines_carry_the_access_fields_redacted() -> None:
    """An access line becomes one JSON object with its fields, the token replaced by "…"."""
    record = _access_record()
    assert RedactSecrets().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["logger"] == "uvicorn.access" and line["level"] == "info"
    assert line["path"] == "/r/…?x=1" and line["status"] == 200
    assert line["client"] == "203.0.113.7:5000" and line["method"] == "GET"
    assert "s3cret" not in line["message"]
    assert line["time"].endswith("+00:00")


def test_json_log_lines_keep_the_exception() -> None:
    """A record with an exception carries it as text under "exception", on one line."""
    try:
        raise ValueError("boom")
    except ValueError as exc:
        record = logging.LogRecord("live.x", logging.ERROR, __file__, 1, "failed %s", ("it",),
                                   (type(exc), exc, exc.__traceback__))
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed it" and "ValueError: boom" in line["exception"]


def test_log_config_switches_formatters_only_for_json() -> None:
    """log_config("json") formats uvicorn's and Salen's lines as JSON; "text" keeps uvicorn's."""
    text, as_json = log_config("text"), log_config("json")
    assert text["formatters"]["access"]["()"] == "uvicorn.logging.AccessFormatter"
    for name in ("default", "access"):
        assert as_json["formatters"][name] == {"()": "live.ops.logs.JsonFormatter"}
    assert as_json["root"] == {"handlers": ["default"], "level": "WARNING"}
    assert "redact_secrets" in as_json["handlers"]["access"]["filters"]
