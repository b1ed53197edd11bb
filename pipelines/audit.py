"""Dependency audit: `python -m pipelines audit [--online] [--json]`.

Offline (the default, and what the tests run): every installed distribution is checked against
`data/security/advisories.json`, this project's list of releases with known flaws that it must
never run; `requirements.txt` excludes them too. Online (`--online`, the one network call in the
project, never made at run time or in tests): each installed distribution is also looked up in
PyPI's JSON API, which lists the known vulnerabilities of a release. A release the API cannot
answer for is reported as "not audited", never as clean.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pipelines.config import REPO_ROOT

ADVISORIES = REPO_ROOT / "data" / "security" / "advisories.json"
PYPI = "https://pypi.org/pypi"


@dataclass(frozen=True)
class Advisory:
    package: str
    affected: str  # a PEP 440 specifier, e.g. "<1.54"
    summary: str
    reference: str

    def matches(self, name: str, version: str) -> bool:
        if canonicalize_name(name) != canonicalize_name(self.package):
            return False
        try:
            return Version(version) in SpecifierSet(self.affected)
        except InvalidVersion:
            return False


@dataclass
class Report:
    checked: int = 0
    flawed: list[dict[str, str]] = field(default_factory=list)  # advisory hits (offline list)
    vulnerable: list[dict[str, object]] = field(default_factory=list)  # PyPI-listed (online)
    clean_online: int = 0
    not_audited: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.flawed and not self.vulnerable


def load_advisories(path: Path = ADVISORIES) -> list[Advisory]:
    return [Advisory(**row) for row in json.loads(path.read_text("utf-8"))["advisories"]]


def installed() -> dict[str, str]:
    """Installed distributions of this interpreter, by canonical name."""
    out: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name")
        if name:
            out[canonicalize_name(name)] = dist.version
    return out


def pinned(requirements: Path = REPO_ROOT / "requirements.txt") -> dict[str, str]:
    """The `name==version` pins of a requirements file (extras dropped)."""
    out = {}
    for line in requirements.read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            out[canonicalize_name(name.split("[", 1)[0])] = version.strip()
    return out


def check(versions: dict[str, str], advisories: list[Advisory]) -> list[dict[str, str]]:
    """Every (distribution, advisory) pair where the version falls in the affected range."""
    return [{"package": name, "version": version, "affected": a.affected, "summary": a.summary,
             "reference": a.reference}
            for name, version in sorted(versions.items()) for a in advisories if a.matches(name, version)]


def pypi_vulnerabilities(name: str, version: str, timeout: float = 10.0) -> list[dict] | None:
    """PyPI's known vulnerabilities for one release, or None when PyPI cannot say."""
    public = version.split("+", 1)[0]
    for url, exact in ((f"{PYPI}/{name}/{public}/json", True), (f"{PYPI}/{name}/json", False)):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = json.load(response)
        except (urllib.error.URLError, TimeoutError, ValueError):
            continue
        # The project-level document describes the newest release only.
        if exact or data.get("info", {}).get("version") == public:
            return list(data.get("vulnerabilities") or [])
    return None


def audit(online: bool = False, versions: dict[str, str] | None = None) -> Report:
    versions = installed() if versions is None else versions
    report = Report(checked=len(versions), flawed=check(versions, load_advisories()))
    if online:
        for name, version in sorted(versions.items()):
            found = pypi_vulnerabilities(name, version)
            if found is None:
                report.not_audited.append(f"{name} {version}")
            elif found:
                report.vulnerable.append({"package": name, "version": version,
                                          "ids": [v.get("id") for v in found]})
            else:
                report.clean_online += 1
    return report


def main(online: bool, as_json: bool) -> int:
    report = audit(online)
    if as_json:
        print(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
        return 0 if report.ok else 1
    print(f"{report.checked} installed distributions checked against {len(load_advisories())} advisories "
          f"in {ADVISORIES.relative_to(REPO_ROOT)}: {len(report.flawed)} flawed")
    for row in report.flawed:
        print(f"  FLAWED {row['package']} {row['version']} ({row['affected']}): {row['summary']} [{row['reference']}]")
    if online:
        print(f"PyPI: {report.clean_online} with no known vulnerability, {len(report.vulnerable)} vulnerable, "
              f"{len(report.not_audited)} not audited (PyPI could not say)")
        for row in report.vulnerable:
            print(f"  VULNERABLE {row['package']} {row['version']}: {', '.join(map(str, row['ids']))}")
        for item in report.not_audited:
            print(f"  not audited: {item}")
    return 0 if report.ok else 1
