"""The dependency audit fails on a known-vulnerable pin and never passes silently.

The advisory sources are stood in for by small servers on 127.0.0.1 (an OSV
API that pip-audit itself queries through ``--osv-url``, and PyPI's project
JSON), so these tests decide the same way with or without the internet. One
test also asks the real PyPI about a release with published advisories.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from scripts import audit_deps

#: A real advisory (Jinja2 sandbox escape through str.format_map, fixed in 2.10.1), in OSV form.
JINJA2_ADVISORY: dict[str, Any] = {
    "schema_version": "1.4.0",
    "id": "CVE-2019-10906",
    "aliases": ["GHSA-462w-v97r-4m45"],
    "summary": "Jinja2 sandbox escape via str.format_map",
    "affected": [
        {
            "package": {"name": "jinja2", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}],
            "versions": ["2.10"],
        }
    ],
}


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[tuple[str, str], Any]] = {}

    def _answer(self, body: Any) -> None:
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # an OSV /v1/query
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        package, version = query["package"]["name"], query["version"]
        vulns = [
            v
            for v in self.routes.get(("osv", package), [])
            if version in v["affected"][0]["versions"]
        ]
        self._answer({"vulns": vulns} if vulns else {})

    def do_GET(self) -> None:  # PyPI's /pypi/NAME/json
        name = self.path.strip("/").split("/")[-2]
        self._answer(self.routes.get(("pypi", name)))

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def advisories() -> Iterator[tuple[str, type[_Handler]]]:
    """A local advisory server; tests fill ``routes``."""
    handler = type("Handler", (_Handler,), {"routes": {}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _requirements(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_line_of_the_requirements_is_an_exact_pin() -> None:
    pins = audit_deps.read_pins(audit_deps.DEFAULT_REQUIREMENTS)
    names = {pin.key for pin in pins}
    assert {"streamlit", "argon2-cffi", "sqlalchemy", "pytest"} <= names
    assert len(pins) == len(names)


def test_an_unpinned_requirement_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = _requirements(tmp_path, "streamlit>=1.0\n")
    assert audit_deps.main(["-r", str(file), "--sources", "pypi-latest"]) == audit_deps.EXIT_USAGE
    assert "not pinned with ==" in capsys.readouterr().err


def test_pip_audit_fails_on_a_deliberately_vulnerable_pin(
    tmp_path: Path,
    advisories: tuple[str, type[_Handler]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, handler = advisories
    handler.routes[("osv", "jinja2")] = [JINJA2_ADVISORY]
    vulnerable = _requirements(tmp_path, "Jinja2==2.10\npackaging==26.4\n")
    status = audit_deps.main(
        ["-r", str(vulnerable), "--sources", "pip-audit-osv", "--osv-url", f"{url}/v1/query"]
    )
    err = capsys.readouterr().err
    assert status == audit_deps.EXIT_VULNERABLE, err
    assert "VULNERABLE Jinja2==2.10" in err and "CVE-2019-10906" in err and "2.10.1" in err

    fixed = _requirements(tmp_path, "Jinja2==2.10.1\npackaging==26.4\n")
    assert (
        audit_deps.main(
            ["-r", str(fixed), "--sources", "pip-audit-osv", "--osv-url", f"{url}/v1/query"]
        )
        == audit_deps.EXIT_OK
    )


def _project(version: str, vulnerabilities: list[dict[str, Any]]) -> dict[str, Any]:
    return {"info": {"version": version}, "vulnerabilities": vulnerabilities}


def test_the_latest_release_source_fails_on_its_advisories_and_only_audits_latest_pins(
    tmp_path: Path,
    advisories: tuple[str, type[_Handler]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, handler = advisories
    handler.routes[("pypi", "pycrypto")] = _project(
        "2.6.1",
        [
            {"id": "PYSEC-2017-94", "aliases": ["CVE-2013-7459"], "fixed_in": []},
            {"id": "OLD-1", "withdrawn": "2020-01-01T00:00:00Z"},
        ],
    )
    handler.routes[("pypi", "numpy")] = _project("9.9.9", [])
    file = _requirements(tmp_path, "pycrypto==2.6.1\nnumpy==2.4.6\n")
    status = audit_deps.main(["-r", str(file), "--sources", "pypi-latest", "--pypi-url", url])
    err = capsys.readouterr().err
    assert status == audit_deps.EXIT_VULNERABLE
    assert "PYSEC-2017-94" in err and "OLD-1" not in err
    assert "numpy==2.4.6" in err and "latest is 9.9.9" in err


def test_pins_no_source_could_check_fail_unless_explicitly_allowed_and_then_warn_loudly(
    tmp_path: Path,
    advisories: tuple[str, type[_Handler]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, handler = advisories
    handler.routes[("pypi", "attrs")] = _project("26.1.0", [])
    file = _requirements(tmp_path, "attrs==26.1.0\nnumpy==2.4.6\n")  # numpy: 404 here
    arguments = ["-r", str(file), "--sources", "pypi-latest", "--pypi-url", url]
    assert audit_deps.main(arguments) == audit_deps.EXIT_UNAUDITED
    assert "ERROR: 1 of 2 pinned packages were NOT checked" in capsys.readouterr().err
    assert audit_deps.main([*arguments, "--allow-unaudited"]) == audit_deps.EXIT_OK
    captured = capsys.readouterr()
    assert "WARNING: 1 of 2 pinned packages were NOT checked" in captured.err
    assert "numpy==2.4.6" in captured.err
    assert "1 of 2 pinned packages checked" in captured.out


def test_a_vulnerability_fails_even_when_unaudited_pins_are_allowed(
    tmp_path: Path, advisories: tuple[str, type[_Handler]]
) -> None:
    url, handler = advisories
    handler.routes[("pypi", "pycrypto")] = _project("2.6.1", [{"id": "PYSEC-2017-94"}])
    file = _requirements(tmp_path, "pycrypto==2.6.1\nnumpy==2.4.6\n")
    arguments = ["-r", str(file), "--sources", "pypi-latest", "--pypi-url", url]
    assert audit_deps.main([*arguments, "--allow-unaudited"]) == audit_deps.EXIT_VULNERABLE


def test_pip_audit_reporting_nothing_found_while_skipping_every_package_is_not_a_pass(
    tmp_path: Path,
) -> None:
    # What pip-audit does here against PyPI: exit 0, "No known vulnerabilities found",
    # and a skip_reason for every package. A stand-in pip-audit replays exactly that.
    report = {
        "dependencies": [
            {
                "name": "packaging",
                "skip_reason": "Dependency not found on PyPI and could not be audited: "
                "packaging (26.4)",
            }
        ],
        "fixes": [],
    }
    fake = tmp_path / "pip-audit"
    fake.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        "out = sys.argv[sys.argv.index('--output') + 1]\n"
        f"json.dump({report!r}, open(out, 'w'))\n"
        "print('No known vulnerabilities found')\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    file = _requirements(tmp_path, "packaging==26.4\n")
    arguments = ["-r", str(file), "--sources", "pip-audit-pypi", "--pip-audit", str(fake)]
    assert audit_deps.main(arguments) == audit_deps.EXIT_UNAUDITED


def test_an_unreachable_advisory_service_is_not_a_pass(
    tmp_path: Path, advisories: tuple[str, type[_Handler]]
) -> None:
    url, _handler = advisories
    file = _requirements(tmp_path, "packaging==26.4\n")
    dead = f"{url.rsplit(':', 1)[0]}:9/v1/query"  # nothing listens on the discard port
    assert (
        audit_deps.main(["-r", str(file), "--sources", "pip-audit-osv", "--osv-url", dead])
        == audit_deps.EXIT_UNAUDITED
    )


def test_the_real_pypi_names_a_known_vulnerable_release(tmp_path: Path) -> None:
    try:
        urllib.request.urlopen("https://pypi.org/pypi/pycrypto/json", timeout=20).close()
    except OSError as error:
        pytest.skip(f"PyPI is not reachable here: {error}")
    file = _requirements(tmp_path, "pycrypto==2.6.1\n")
    assert audit_deps.main(["-r", str(file), "--sources", "pypi-latest"]) == (
        audit_deps.EXIT_VULNERABLE
    )
