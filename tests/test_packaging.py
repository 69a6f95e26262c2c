"""Packaging metadata that installs without setuptools' deprecation warnings."""

import re
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_the_license_is_an_spdx_expression_with_a_setuptools_that_reads_it():
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))

    assert project["project"]["license"] == "MIT"  # a table is deprecated (PEP 639)
    [requirement] = project["build-system"]["requires"]
    minimum = re.fullmatch(r"setuptools>=(\d+)", requirement)
    assert minimum and int(minimum[1]) >= 77  # the first to read SPDX expressions
