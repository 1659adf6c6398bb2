"""Verify-suite helpers: ``toolchain(name, ...)`` skips (with a reason) when a tool is absent."""

from __future__ import annotations

import shutil

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "toolchain(name): needs an external compiler; skipped with a reason when absent"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers(name="toolchain"):
        for tool in marker.args:
            if shutil.which(tool) is None:
                pytest.skip(f"{tool} not found on PATH (toolchain marker)")
