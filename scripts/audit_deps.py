"""Dependency audit: fail when a pinned requirement has a known vulnerability.

    .venv/bin/python scripts/audit_deps.py [-r FILE ...] [--allow-unaudited]

Every ``name==version`` pin of the requirements files (``-r`` includes followed)
is checked against three sources, each asked only about the packages pinned:

``pip-audit-pypi``
    pip-audit with PyPI's per-release advisories (``/pypi/NAME/VERSION/json``).
``pip-audit-osv``
    pip-audit with OSV (``--osv-url`` or ``REDFLAGS_OSV_URL`` for a mirror).
``pypi-latest``
    PyPI's project JSON (``/pypi/NAME/json``): its ``vulnerabilities`` are those
    of the *latest* release, so it audits a pin only when the pin is that release.

A pin counts as audited when at least one source answered for it. Exit status:

- 0: every pin audited, none with a known vulnerability;
- 1: a known vulnerability in a pin (whatever else happened);
- 2: wrong usage, or a requirement that is not pinned with ``==``;
- 3: some pins could not be audited by any source (no vulnerability found in the
  others). With ``--allow-unaudited`` this is a loud warning and exit 0 instead.

Why 3 and not a pass: pip-audit itself exits 0 with "No known vulnerabilities
found" when it could not look a single package up. Why ``--allow-unaudited``
exists: a CI without any advisory source would otherwise be red forever; the
test command uses it and the warning names every package left unchecked. A
release build with network access should run without it.

pip-audit runs from its own virtual environment (``PIP_AUDIT_REQUIREMENT``,
pinned here), so the audit tool's dependencies never mix with the app's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
PIP_AUDIT_REQUIREMENT = "pip-audit==2.10.1"
DEFAULT_OSV_URL = "https://api.osv.dev/v1/query"
DEFAULT_PYPI_URL = "https://pypi.org/pypi"
ALL_SOURCES = ("pip-audit-pypi", "pip-audit-osv", "pypi-latest")
EXIT_OK, EXIT_VULNERABLE, EXIT_USAGE, EXIT_UNAUDITED = 0, 1, 2, 3
_PIN = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;#]+)"
)


class UsageError(Exception):
    """Bad arguments or an unpinned requirement (exit 2)."""


@dataclass(frozen=True)
class Pin:
    """One ``name==version`` line of a requirements file."""

    name: str
    version: str
    where: str

    @property
    def key(self) -> str:
        return canonicalize_name(self.name)


@dataclass(frozen=True)
class Advisory:
    """A known vulnerability of a pinned release."""

    id: str
    aliases: tuple[str, ...] = ()
    fixed_in: tuple[str, ...] = ()
    source: str = ""


@dataclass
class Findings:
    """What one source said: advisories per audited pin, or why a pin was not audited."""

    audited: dict[str, list[Advisory]] = field(default_factory=dict)
    unaudited: dict[str, str] = field(default_factory=dict)


Source = Callable[[Sequence[Pin], Path], Findings]


# ---------------------------------------------------------------- requirements


def read_pins(files: Iterable[Path]) -> list[Pin]:
    """Every pin of ``files`` (following ``-r``), once per package; unpinned lines refused."""
    pins: dict[str, Pin] = {}
    seen: set[Path] = set()

    def read(path: Path) -> None:
        path = path.resolve()
        if path in seen:
            return
        seen.add(path)
        if not path.is_file():
            raise UsageError(f"{path}: no such requirements file")
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(("-r ", "--requirement ")):
                read(path.parent / line.split(maxsplit=1)[1])
                continue
            if line.startswith("-"):
                continue  # other pip options (--hash, --index-url …) pin nothing
            match = _PIN.fullmatch(line.split(";", 1)[0].strip())
            if match is None:
                raise UsageError(
                    f"{path.name}:{number}: {line!r} is not pinned with ==; "
                    "only exact pins can be audited"
                )
            pin = Pin(match["name"], match["version"], f"{path.name}:{number}")
            pins.setdefault(pin.key, pin)

    for file in files:
        read(Path(file))
    return list(pins.values())


# ---------------------------------------------------------------- pip-audit


def tool_environment() -> Path:
    """Where pip-audit's own virtual environment lives (outside the work tree)."""
    configured = os.environ.get("REDFLAGS_AUDIT_VENV", "").strip()
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME", "") or Path.home() / ".cache")
    return cache / "redflags" / PIP_AUDIT_REQUIREMENT.replace("==", "-")


def ensure_pip_audit(venv: Path | None = None) -> Path:
    """The pip-audit executable of the tool environment, created on first use."""
    venv = venv or tool_environment()
    executable = venv / "bin" / "pip-audit"
    if executable.is_file():
        return executable
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", PIP_AUDIT_REQUIREMENT],
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise UsageError(
                f"cannot install {PIP_AUDIT_REQUIREMENT} into {venv}: {_last_line(done.stderr)}"
            )
    return executable


def _requirements_file(pins: Sequence[Pin], folder: Path) -> Path:
    path = folder / "pins.txt"
    path.write_text("".join(f"{p.name}=={p.version}\n" for p in pins), encoding="utf-8")
    return path


def pip_audit_source(
    pip_audit: Path, *, service: str, osv_url: str | None = None, timeout: int = 30
) -> Source:
    """A source that runs pip-audit with ``service`` ("pypi" or "osv")."""
    label = f"pip-audit-{service}"

    def run(pins: Sequence[Pin], folder: Path) -> Findings:
        findings = Findings()
        output = folder / f"{label}.json"
        command = [
            str(pip_audit),
            "--requirement",
            str(_requirements_file(pins, folder)),
            "--no-deps",
            "--disable-pip",
            "--vulnerability-service",
            service,
            "--format",
            "json",
            "--output",
            str(output),
            "--progress-spinner",
            "off",
            "--timeout",
            str(timeout),
            "--cache-dir",
            str(folder / "cache"),
        ]
        if service == "osv" and osv_url:
            command += ["--osv-url", osv_url]
        done = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=30 * 60, check=False
        )
        if not output.is_file():
            reason = _last_line(done.stderr) or f"pip-audit exited with {done.returncode}"
            findings.unaudited = {p.key: f"{label}: {reason}" for p in pins}
            return findings
        report = json.loads(output.read_text(encoding="utf-8"))
        for dependency in report.get("dependencies", []):
            key = canonicalize_name(dependency.get("name", ""))
            if "skip_reason" in dependency:
                findings.unaudited[key] = f"{label}: {dependency['skip_reason']}"
                continue
            findings.audited[key] = [
                Advisory(
                    id=vuln["id"],
                    aliases=tuple(vuln.get("aliases", [])),
                    fixed_in=tuple(vuln.get("fix_versions", [])),
                    source=label,
                )
                for vuln in dependency.get("vulns", [])
            ]
        for pin in pins:
            if pin.key not in findings.audited and pin.key not in findings.unaudited:
                findings.unaudited[pin.key] = f"{label}: not in pip-audit's report"
        return findings

    return run


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


# ---------------------------------------------------------------- PyPI, latest release


def pypi_latest_source(base_url: str = DEFAULT_PYPI_URL, timeout: int = 30) -> Source:
    """A source reading PyPI's project JSON: authoritative only for a pin that is the latest."""
    label = "pypi-latest"

    def run(pins: Sequence[Pin], _folder: Path) -> Findings:
        findings = Findings()
        for pin in pins:
            url = f"{base_url.rstrip('/')}/{pin.key}/json"
            try:
                request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                    project = json.load(response)
            except (OSError, ValueError) as error:
                findings.unaudited[pin.key] = f"{label}: {type(error).__name__}: {error}"[:300]
                continue
            latest = str(project.get("info", {}).get("version", ""))
            try:
                is_latest = Version(latest) == Version(pin.version)
            except InvalidVersion:
                is_latest = latest == pin.version
            if not is_latest:
                findings.unaudited[pin.key] = (
                    f"{label}: pinned {pin.version}, latest is {latest}; PyPI's project data "
                    "carries advisories for the latest release only"
                )
                continue
            findings.audited[pin.key] = [
                Advisory(
                    id=str(vuln.get("id", "?")),
                    aliases=tuple(vuln.get("aliases") or ()),
                    fixed_in=tuple(vuln.get("fixed_in") or ()),
                    source=label,
                )
                for vuln in project.get("vulnerabilities") or []
                if not vuln.get("withdrawn")
            ]
        return findings

    return run


# ---------------------------------------------------------------- verdict


@dataclass
class Report:
    """The audit of every pin by every source."""

    pins: list[Pin]
    vulnerable: dict[str, list[Advisory]] = field(default_factory=dict)
    audited_by: dict[str, list[str]] = field(default_factory=dict)
    unaudited: dict[str, list[str]] = field(default_factory=dict)

    def status(self, *, allow_unaudited: bool) -> int:
        if self.vulnerable:
            return EXIT_VULNERABLE
        if self.unaudited and not allow_unaudited:
            return EXIT_UNAUDITED
        return EXIT_OK


def run_audit(pins: Sequence[Pin], sources: dict[str, Source]) -> Report:
    """Ask every source about ``pins`` and merge what they said."""
    report = Report(pins=list(pins))
    reasons: dict[str, list[str]] = {p.key: [] for p in pins}
    with tempfile.TemporaryDirectory(prefix="audit-deps-") as scratch:
        for label, source in sources.items():
            folder = Path(scratch) / label
            folder.mkdir()
            findings = source(pins, folder)
            for key, advisories in findings.audited.items():
                report.audited_by.setdefault(key, []).append(label)
                known = {a.id for a in report.vulnerable.get(key, [])}
                fresh = [a for a in advisories if a.id not in known]
                if fresh:
                    report.vulnerable.setdefault(key, []).extend(fresh)
            for key, reason in findings.unaudited.items():
                reasons.setdefault(key, []).append(reason)
    report.unaudited = {
        p.key: reasons.get(p.key, []) for p in pins if p.key not in report.audited_by
    }
    return report


def describe(report: Report, *, allow_unaudited: bool) -> tuple[str, str]:
    """The text for standard output and for standard error."""
    by_key = {p.key: p for p in report.pins}
    out: list[str] = []
    err: list[str] = []
    for key, advisories in sorted(report.vulnerable.items()):
        pin = by_key[key]
        for advisory in advisories:
            aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
            fixed = f"; fixed in {', '.join(advisory.fixed_in)}" if advisory.fixed_in else ""
            err.append(
                f"VULNERABLE {pin.name}=={pin.version} ({pin.where}): {advisory.id}{aliases}"
                f"{fixed} [{advisory.source}]"
            )
    audited = len(report.pins) - len(report.unaudited)
    out.append(
        f"Dependency audit: {audited} of {len(report.pins)} pinned packages checked against "
        f"advisory data; {len(report.vulnerable)} with a known vulnerability."
    )
    if report.unaudited:
        banner = "WARNING" if allow_unaudited else "ERROR"
        err.append("=" * 78)
        err.append(
            f"{banner}: {len(report.unaudited)} of {len(report.pins)} pinned packages were NOT "
            "checked for known vulnerabilities (no advisory source answered for them):"
        )
        for key, reasons in sorted(report.unaudited.items()):
            pin = by_key[key]
            err.append(f"  {pin.name}=={pin.version} ({pin.where})")
            err.extend(f"      {reason}" for reason in reasons)
        if allow_unaudited:
            err.append(
                "These pins passed only because --allow-unaudited was given. Run this check "
                "where PyPI or OSV advisory data is reachable before a release."
            )
        err.append("=" * 78)
    return "\n".join(out), "\n".join(err)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audit-deps", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "-r", "--requirement", action="append", type=Path, help="requirements file (repeatable)"
    )
    parser.add_argument(
        "--sources",
        default=",".join(ALL_SOURCES),
        help=f"comma-separated, from {', '.join(ALL_SOURCES)}",
    )
    parser.add_argument("--osv-url", default=os.environ.get("REDFLAGS_OSV_URL") or DEFAULT_OSV_URL)
    parser.add_argument("--pypi-url", default=DEFAULT_PYPI_URL)
    parser.add_argument("--pip-audit", type=Path, help="pip-audit executable (default: own venv)")
    parser.add_argument("--timeout", type=int, default=30, help="seconds per request")
    parser.add_argument(
        "--allow-unaudited",
        action="store_true",
        help="pins no source could check are a loud warning, not a failure (exit 0)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        pins = read_pins(args.requirement or DEFAULT_REQUIREMENTS)
        chosen = [s.strip() for s in args.sources.split(",") if s.strip()]
        unknown = sorted(set(chosen) - set(ALL_SOURCES))
        if unknown or not chosen:
            raise UsageError(f"--sources: unknown {unknown}; choose from {', '.join(ALL_SOURCES)}")
    except UsageError as error:
        sys.stderr.write(f"audit-deps: {error}\n")
        return EXIT_USAGE
    sources: dict[str, Source] = {}
    if any(s.startswith("pip-audit") for s in chosen):
        try:
            pip_audit = args.pip_audit or ensure_pip_audit()
        except UsageError as error:
            sys.stderr.write(f"audit-deps: {error}\n")
            return EXIT_UNAUDITED
        if "pip-audit-pypi" in chosen:
            sources["pip-audit-pypi"] = pip_audit_source(
                pip_audit, service="pypi", timeout=args.timeout
            )
        if "pip-audit-osv" in chosen:
            sources["pip-audit-osv"] = pip_audit_source(
                pip_audit, service="osv", osv_url=args.osv_url, timeout=args.timeout
            )
    if "pypi-latest" in chosen:
        sources["pypi-latest"] = pypi_latest_source(args.pypi_url, timeout=args.timeout)
    report = run_audit(pins, sources)
    out, err = describe(report, allow_unaudited=args.allow_unaudited)
    sys.stdout.write(out + "\n")
    if err:
        sys.stderr.write(err + "\n")
    return report.status(allow_unaudited=args.allow_unaudited)


if __name__ == "__main__":
    sys.exit(main())
