"""No patient data in the server's log: an uncaught exception is logged without its message.

Streamlit logs every uncaught exception of a page, with its message, to the
server's console (``streamlit.error_util``), even with error details hidden
from the browser. A message can quote what it failed on: a patient's code, a
session's date and dose, a note. :class:`WithholdExceptionMessages` keeps what
an administrator needs to report the fault (the exception's type and where it
was raised) and drops the message and the rest of the traceback text.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

#: The logger Streamlit reports a page's uncaught exceptions on.
UNCAUGHT_LOGGER = "streamlit.error_util"
WITHHELD = "message withheld: it may hold patient data"
#: The innermost frames named in the log line.
FRAMES_SHOWN = 8


class WithholdExceptionMessages(logging.Filter):
    """Rewrite a record that carries an exception: its type and frames, never its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        kind, _error, trace = record.exc_info
        frames = traceback.extract_tb(trace)[-FRAMES_SHOWN:]
        where = "; ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames)
        name = kind.__name__ if kind is not None else "exception"
        record.msg = f"{record.getMessage()}: {name} ({WITHHELD}) at {where}"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        return True


def withhold_exception_messages(logger_name: str = UNCAUGHT_LOGGER) -> None:
    """Install the filter on ``logger_name`` once (the entry script runs on every click)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, WithholdExceptionMessages) for f in logger.filters):
        logger.addFilter(WithholdExceptionMessages())
