"""An uncaught page exception reaches the server's log without its message."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from streamlit import error_util

from ui import log_privacy

SECRET = "DEMO-001 Arden Xu, 13 Feb 2025 · IV ketamine 35 mg"


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What Streamlit's logger of uncaught exceptions writes, as the console shows it."""
    logger = logging.getLogger(log_privacy.UNCAUGHT_LOGGER)
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    filters = list(logger.filters)
    # As a new server starts: without the filter an earlier run of dashboard.py installed.
    logger.filters[:] = [
        f for f in filters if not isinstance(f, log_privacy.WithholdExceptionMessages)
    ]
    yield output
    logger.removeHandler(handler)
    logger.filters[:] = filters


def _fail_on_a_patient() -> None:
    raise ValueError(f"invalid literal for int() with base 10: {SECRET!r}")


def _log_a_page_failure() -> None:
    try:
        _fail_on_a_patient()
    except ValueError as error:
        error_util._log_uncaught_app_exception(error)  # what a page's failure goes through


def test_without_the_filter_streamlit_logs_the_message(server_log: io.StringIO) -> None:
    _log_a_page_failure()
    assert SECRET in server_log.getvalue(), "the fault this module exists for"


def test_the_log_keeps_the_type_and_place_but_not_the_message(server_log: io.StringIO) -> None:
    log_privacy.withhold_exception_messages()
    log_privacy.withhold_exception_messages()  # every run of the entry script: one filter
    logger = logging.getLogger(log_privacy.UNCAUGHT_LOGGER)
    assert sum(isinstance(f, log_privacy.WithholdExceptionMessages) for f in logger.filters) == 1
    _log_a_page_failure()
    logged = server_log.getvalue()
    assert SECRET not in logged and "Arden" not in logged and "DEMO-001" not in logged
    assert "Uncaught app execution: ValueError (message withheld" in logged
    assert "test_log_privacy.py" in logged and "in _fail_on_a_patient" in logged
    assert "Traceback" not in logged


def test_a_record_without_an_exception_is_left_alone(server_log: io.StringIO) -> None:
    log_privacy.withhold_exception_messages()
    logging.getLogger(log_privacy.UNCAUGHT_LOGGER).error("plain %s", "words")
    assert server_log.getvalue() == "plain words\n"
