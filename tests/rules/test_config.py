"""The rules configuration (rules.md §10): shipped defaults, validation, the clinic's own file."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from redflags.config import (
    RULES_FILE_ENV,
    SHIPPED_RULES_FILE,
    RulesConfigError,
    load_rules,
    rules_file_in_force,
    rules_in_force,
    rules_rows,
)

SHIPPED_TEXT = SHIPPED_RULES_FILE.read_text(encoding="utf-8")

DEFAULTS = {
    "window.sessions": 3,
    "window.repeat": 2,
    "window.stale_days": 21,
    "theme.hard": 7,
    "theme.green": 4,
    "safety.phq9_item9": 1,
    "safety.pre_sys": 140,
    "safety.pre_dia": 90,
    "safety.rise_sys": 40,
    "safety.rise_dia": 25,
    "safety.post_sys": 180,
    "safety.post_dia": 110,
    "safety.observation_min": 120,
    "outcome.response": -0.50,
    "outcome.remission": 4,
    "outcome.review_after": 8,
    "outcome.nonresponse": -0.25,
    "dose.esketamine_lowest_mg": 56,
    "dose.max_mg.esketamine_nasal": 84,
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "clinic_rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _replace(old: str, new: str) -> str:
    assert old in SHIPPED_TEXT
    return SHIPPED_TEXT.replace(old, new, 1)


@pytest.fixture(autouse=True)
def _no_clinic_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RULES_FILE_ENV, raising=False)


def test_shipped_file_holds_every_default_of_the_spec() -> None:
    assert dict(rules_rows(load_rules())) == DEFAULTS


def test_rows_are_dotted_keys_in_file_order() -> None:
    keys = [key for key, _ in rules_rows(load_rules())]
    assert keys == list(DEFAULTS)


def test_no_ketamine_route_has_a_maximum_dose() -> None:
    rules = load_rules()
    assert rules.max_dose_mg("esketamine_nasal") == 84
    for route in ("ketamine_iv", "ketamine_im", "ketamine_oral"):
        assert rules.max_dose_mg(route) is None


def test_every_key_has_a_comment_line_above_it() -> None:
    lines = SHIPPED_TEXT.splitlines()
    for number, line in enumerate(lines):
        if "=" in line and not line.lstrip().startswith("#"):
            assert lines[number - 1].lstrip().startswith("#"), f"no comment above {line!r}"


def test_unset_environment_means_the_shipped_file() -> None:
    path, rules = rules_in_force()
    assert path == SHIPPED_RULES_FILE.resolve()
    assert rules == load_rules(SHIPPED_RULES_FILE)
    assert rules_file_in_force() == SHIPPED_RULES_FILE


def test_empty_environment_variable_means_the_shipped_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(RULES_FILE_ENV, "  ")
    assert rules_file_in_force() == SHIPPED_RULES_FILE


def test_environment_variable_points_at_the_clinics_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = _write(tmp_path, _replace("hard = 7", "hard = 8"))
    monkeypatch.setenv(RULES_FILE_ENV, str(custom))
    path, rules = rules_in_force()
    assert path == custom.resolve()
    assert rules.theme.hard == 8
    assert load_rules().theme.hard == 8


def test_an_explicit_path_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RULES_FILE_ENV, str(_write(tmp_path, _replace("hard = 7", "hard = 8"))))
    assert load_rules(SHIPPED_RULES_FILE).theme.hard == 7


def test_missing_file_named_by_the_environment_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.toml"
    monkeypatch.setenv(RULES_FILE_ENV, str(missing))
    with pytest.raises(RulesConfigError, match="does not exist") as raised:
        load_rules()
    assert str(missing) in str(raised.value)
    assert RULES_FILE_ENV in str(raised.value)


def test_missing_file_given_as_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError, match="does not exist"):
        load_rules(tmp_path / "nowhere.toml")


def test_a_file_that_is_not_toml_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError, match="not valid TOML"):
        load_rules(_write(tmp_path, "[window\nsessions = 3"))


@pytest.mark.parametrize(
    ("old", "new", "key", "allowed"),
    [
        ("hard = 7", "hard = 11", "theme.hard", "from 1 to 10"),
        ("hard = 7", "hard = 0", "theme.hard", "from 1 to 10"),
        ("sessions = 3", "sessions = 0", "window.sessions", "from 1 to 20"),
        ("stale_days = 21", "stale_days = -1", "window.stale_days", "from 1 to 365"),
        ("phq9_item9 = 1", "phq9_item9 = 4", "safety.phq9_item9", "from 1 to 3"),
        ("pre_sys = 140", "pre_sys = 400", "safety.pre_sys", "from 50 to 300"),
        ("observation_min = 120", "observation_min = 2000", "safety.observation_min", "to 1440"),
        ("response = -0.50", "response = -1.5", "outcome.response", "at least -1.0"),
        ("remission = 4", "remission = 28", "outcome.remission", "from 0 to 27"),
        (
            "esketamine_nasal = 84",
            "esketamine_nasal = 0",
            "dose.max_mg.esketamine_nasal",
            "above 0",
        ),
    ],
)
def test_out_of_range_value_names_the_key_and_what_is_allowed(
    tmp_path: Path, old: str, new: str, key: str, allowed: str
) -> None:
    with pytest.raises(RulesConfigError) as raised:
        load_rules(_write(tmp_path, _replace(old, new)))
    message = str(raised.value)
    assert f"{key} = " in message
    assert "out of range" in message
    assert allowed in message


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("hard = 7", 'hard = "7"', "theme.hard"),
        ("hard = 7", "hard = 7.0", "theme.hard"),
        ("sessions = 3", "sessions = true", "window.sessions"),
        ("response = -0.50", 'response = "-0.5"', "outcome.response"),
        ("esketamine_lowest_mg = 56", "esketamine_lowest_mg = 56.5", "dose.esketamine_lowest_mg"),
    ],
)
def test_wrong_type_names_the_key_and_what_is_allowed(
    tmp_path: Path, old: str, new: str, key: str
) -> None:
    with pytest.raises(RulesConfigError) as raised:
        load_rules(_write(tmp_path, _replace(old, new)))
    message = str(raised.value)
    assert f"{key} = " in message
    assert "wrong type" in message
    assert "allowed:" in message


def test_unknown_key_is_named_with_the_keys_allowed_beside_it(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError) as raised:
        load_rules(_write(tmp_path, _replace("hard = 7", "hard = 7\nhardness = 8")))
    message = str(raised.value)
    assert "theme.hardness is not a known key" in message
    assert "hard, green" in message


def test_unknown_section_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError, match="colour is not a known key"):
        load_rules(_write(tmp_path, SHIPPED_TEXT + "\n[colour]\nred = 1\n"))


def test_missing_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError, match=r"theme\.green is missing"):
        load_rules(_write(tmp_path, _replace("green = 4\n", "")))


def test_unknown_route_in_max_dose_is_named(tmp_path: Path) -> None:
    text = SHIPPED_TEXT + "ketamine_spray = 100\n"
    with pytest.raises(RulesConfigError) as raised:
        load_rules(_write(tmp_path, text))
    assert "dose.max_mg.ketamine_spray is not a known route" in str(raised.value)
    assert "esketamine_nasal, ketamine_iv, ketamine_im, ketamine_oral" in str(raised.value)


def test_a_ketamine_route_may_get_a_maximum_dose(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, SHIPPED_TEXT + "ketamine_iv = 70.5\n"))
    assert rules.max_dose_mg("ketamine_iv") == 70.5


def test_repeat_above_the_window_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        RulesConfigError, match=r"window\.repeat = 4 .*at most window\.sessions = 3"
    ):
        load_rules(_write(tmp_path, _replace("repeat = 2", "repeat = 4")))


def test_repeat_equal_to_the_window_size_is_allowed(tmp_path: Path) -> None:
    assert load_rules(_write(tmp_path, _replace("repeat = 2", "repeat = 3"))).window.repeat == 3


def test_response_must_not_overlap_nonresponse(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError, match=r"outcome\.response = -0\.2 .*outcome\.nonresponse"):
        load_rules(_write(tmp_path, _replace("response = -0.50", "response = -0.20")))


def test_lowest_esketamine_dose_must_be_an_esketamine_dose(tmp_path: Path) -> None:
    with pytest.raises(RulesConfigError, match=r"dose\.esketamine_lowest_mg = 50 .*28, 56, 84"):
        load_rules(
            _write(tmp_path, _replace("esketamine_lowest_mg = 56", "esketamine_lowest_mg = 50"))
        )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = _replace("hard = 7", "hard = 70").replace("green = 4", "green = -1")
    with pytest.raises(RulesConfigError) as raised:
        load_rules(_write(tmp_path, text))
    assert "theme.hard" in str(raised.value)
    assert "theme.green" in str(raised.value)


def test_the_message_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, _replace("hard = 7", "hard = 70"))
    with pytest.raises(RulesConfigError, match=str(path)):
        load_rules(path)


def test_configuration_is_frozen() -> None:
    rules = load_rules()
    with pytest.raises(ValueError, match="frozen"):
        rules.theme.hard = 3  # type: ignore[misc]


def test_shipped_file_parses_as_plain_toml() -> None:
    assert tomllib.loads(SHIPPED_TEXT)["window"]["sessions"] == 3
