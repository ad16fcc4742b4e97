"""The Docker image (the README's third way) holds every package the service imports."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_docker_image_copies_every_package_that_is_installed() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY\s+(\w+)\s+\./\1\s*$", (ROOT / "Dockerfile").read_text(), re.M))
    assert packages, "no packages found in pyproject.toml"
    assert packages <= copied, f"the Dockerfile does not copy {sorted(packages - copied)}"
