"""Dependency hygiene, offline: no installed or pinned release falls in a known-flawed range."""

from __future__ import annotations

import subprocess
import sys

from pipelines import audit
from pipelines.config import REPO_ROOT


def test_advisory_ranges_flag_the_flawed_releases_and_pass_the_fixed_ones():
    advisories = audit.load_advisories()
    flawed = audit.check({"streamlit": "1.53.2", "pdfminer-six": "20251107", "unstructured": "0.14.2",
                          "torch": "2.5.1"}, advisories)
    assert {(row["package"], row["reference"].split(" ")[0]) for row in flawed} == {
        ("streamlit", "CVE-2026-33682"), ("pdfminer-six", "CVE-2025-70559"),
        ("unstructured", "CVE-2024-46455"), ("torch", "CVE-2025-32434")}
    assert audit.check({"streamlit": "1.54.0", "pdfminer-six": "20251230", "unstructured": "0.14.3",
                        "torch": "2.13.0+cpu"}, advisories) == []


def test_requirements_pin_past_every_advisory():
    pins = audit.pinned()
    assert {"streamlit", "pdfminer-six", "unstructured", "torch"} <= set(pins)
    assert audit.check(pins, audit.load_advisories()) == []


def test_the_installed_environment_has_no_flawed_release():
    report = audit.audit(online=False)
    assert report.checked > 50  # the whole environment, not an empty list
    assert report.flawed == [], report.flawed


def test_audit_command_exits_nonzero_naming_the_flaw(tmp_path):
    ok = subprocess.run([sys.executable, "-m", "pipelines", "audit"], capture_output=True, text=True,
                        cwd=REPO_ROOT, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "0 flawed" in ok.stdout
    report = audit.audit(online=False, versions={"streamlit": "1.40.0"})
    assert not report.ok and report.flawed[0]["reference"].startswith("CVE-2026-33682")
