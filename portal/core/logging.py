"""JSON-lines log output, so a log collector can read security events field by field,
and the filter that keeps template contexts (residents' details among them) out of logs."""

import datetime
import json
import logging

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, event (the
    message) and every field passed in `extra`."""

    def format(self, record):
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class WithoutTemplateContext(logging.Filter):
    """Django's template engine logs, at DEBUG, every variable it cannot resolve
    together with the exception, whose text is the whole template context: on
    the coordinators' pages, residents' details. Keep the record (variable and
    template), drop the exception."""

    def filter(self, record):
        record.exc_info = None
        record.exc_text = None
        return True
