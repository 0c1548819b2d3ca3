"""The rules in force as a table for the "Rules in force" page (rules.md §10)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from redflags.config import RulesConfig, rules_rows

_SECTION = re.compile(r"^\s*\[([A-Za-z0-9_.]+)\]\s*$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=")


def rule_comments(text: str) -> dict[str, str]:
    """The comment lines written just above each key of a rules file, by dotted key.

    Comments above a ``[section]`` header describe the section, not a key. A
    file without comments gives an empty mapping.
    """
    comments: dict[str, str] = {}
    section = ""
    pending: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        header = _SECTION.match(line)
        if header:
            section = header.group(1)
            pending = []
            continue
        key = _KEY.match(line)
        if key:
            dotted = f"{section}.{key.group(1)}" if section else key.group(1)
            if pending:
                comments[dotted] = " ".join(pending)
            pending = []
            continue
        if not stripped:
            pending = []
    return comments


def rules_table(config: RulesConfig, path: Path) -> pd.DataFrame:
    """Every value in force (``key``, ``value``) with what it means from the file's comments."""
    try:
        comments = rule_comments(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        comments = {}
    rows = rules_rows(config)
    return pd.DataFrame(
        {
            "key": [key for key, _ in rows],
            "value": [
                f"{value:g}" if isinstance(value, float) else str(value) for _, value in rows
            ],
            "meaning": [comments.get(key, "") for key, _ in rows],
        }
    )
