"""Streamlit hardening in .streamlit/config.toml, and what the code must never do with data."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
FOLDERS = ("pages", "services", "ui", "models", "redflags")
CODE = [
    *sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py")),
    ROOT / "dashboard.py",
    ROOT / "manage.py",
]


def test_xsrf_protection_and_cors_are_on() -> None:
    assert CONFIG["server"]["enableXsrfProtection"] is True
    assert CONFIG["server"]["enableCORS"] is True


def test_error_details_never_reach_the_browser() -> None:
    assert CONFIG["client"]["showErrorDetails"] == "none"


def test_static_file_serving_is_off() -> None:
    assert CONFIG["server"]["enableStaticServing"] is False


def test_the_upload_limit_fits_a_large_import_and_no_more() -> None:
    from services.records import max_import_bytes

    upload_mb = CONFIG["server"]["maxUploadSize"]
    assert isinstance(upload_mb, int)
    assert max_import_bytes() <= upload_mb * 1024 * 1024, "an allowed import must be uploadable"
    assert upload_mb <= 500


def test_no_page_is_discovered_from_the_folder_and_no_usage_statistics_leave() -> None:
    assert CONFIG["client"]["showSidebarNavigation"] is False
    assert CONFIG["browser"]["gatherUsageStats"] is False
    assert CONFIG["runner"]["magicEnabled"] is False
    assert CONFIG["server"]["fileWatcherType"] == "none"


def test_tables_offer_no_unaudited_download_or_copy() -> None:
    # st.dataframe's own CSV download would bypass the role check, the audit and
    # the formula quote of the export buttons.
    assert CONFIG["client"]["disableDataExport"] is True


def test_every_chart_is_drawn_without_the_image_download() -> None:
    from ui.charts import PLOTLY_CONFIG

    assert "toImage" in PLOTLY_CONFIG["modeBarButtonsToRemove"]
    charts = [
        (path.name, call)
        for path in CODE
        for call in _calls(path)
        if _name(call) == "st.plotly_chart"
    ]
    assert charts, "the patient report draws its timelines with st.plotly_chart"
    for name, call in charts:
        configs = [ast.unparse(k.value) for k in call.keywords if k.arg == "config"]
        assert configs == ["charts.PLOTLY_CONFIG"], f"{name}:{call.lineno}: chart config {configs}"


def _calls(path: Path) -> list[ast.Call]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)]


def _name(call: ast.Call) -> str:
    return ast.unparse(call.func)


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_html_is_rendered_unsafely(path: Path) -> None:
    for call in _calls(path):
        for keyword in call.keywords:
            assert not (
                keyword.arg == "unsafe_allow_html"
                and not (isinstance(keyword.value, ast.Constant) and keyword.value.value is False)
            ), f"{path.name}:{call.lineno}: unsafe_allow_html"
        assert _name(call) not in ("st.html", "components.html", "st.components.v1.html"), (
            f"{path.name}:{call.lineno}: raw HTML"
        )


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_data_is_cached_across_users(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "cache_data" not in text, (
        f"{path.name}: st.cache_data is shared by every user; patient data must not go there"
    )
    for match in re.finditer(r"@st\.cache_resource", text):
        following = text[match.end() : match.end() + 200]
        assert re.search(r"def (engine|rules)\(", following), (
            f"{path.name}: st.cache_resource is for the engine and the rules only"
        )


SECRETISH = re.compile(r"password|passwd|secret|token", re.IGNORECASE)


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_logs_or_prints_a_password(path: Path) -> None:
    for call in _calls(path):
        name = _name(call)
        is_output = name in (
            "print",
            "_err",
            "logging.info",
            "logging.warning",
            "logging.error",
        ) or (
            re.fullmatch(
                r"(logger|log|logging)\.(debug|info|warning|error|exception|critical)", name
            )
            is not None
        )
        if not is_output:
            continue
        for argument in [*call.args, *(k.value for k in call.keywords)]:
            names = {n.id for n in ast.walk(argument) if isinstance(n, ast.Name)}
            names |= {n.attr for n in ast.walk(argument) if isinstance(n, ast.Attribute)}
            assert not any(SECRETISH.search(n) for n in names), (
                f"{path.name}:{call.lineno}: {name}() is given {sorted(names)}"
            )


def test_the_code_does_not_use_the_logging_module_for_records() -> None:
    # Audit rows are the record of who did what; stray log lines could hold patient data.
    # ui/log_privacy.py writes no record: it filters Streamlit's own (messages withheld).
    offenders = [
        str(p.relative_to(ROOT))
        for p in CODE
        if re.search(r"^\s*(import logging|from logging )", p.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == ["ui/log_privacy.py"]


def test_the_accent_colour_is_not_the_red_of_a_red_flag() -> None:
    red, green, blue = (int(CONFIG["theme"]["primaryColor"][i : i + 2], 16) for i in (1, 3, 5))
    assert blue > red and blue > green
