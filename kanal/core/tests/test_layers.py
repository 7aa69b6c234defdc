"""The layers hold: an upward import between apps fails this test.

The contracts are in pyproject.toml ([tool.importlinter]); README:
Architecture shows them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[3]


def contracts() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def test_every_layer_contract_is_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(no_cache=True) == 0


def test_the_contracts_are_the_agreed_ones():
    found = contracts()
    assert found["layers"]["layers"] == [
        "kanal.records",
        "kanal.insights",
        "kanal.sources",
        "kanal.inbox",
        "kanal.planning",
        "kanal.publishing",
        "kanal.channels",
        "kanal.notifications",
        "kanal.organisations",
        "kanal.core",
    ]
    assert found["networks"]["source_modules"] == ["kanal.channels.networks"]
    assert {"django", "kanal.core", "kanal.channels.models"} <= set(
        found["networks"]["forbidden_modules"]
    )
    assert found["sandbox"]["forbidden_modules"] == ["kanal"]
    # Only tests may cross a layer.
    assert found["layers"]["ignore_imports"] == ["kanal.*.tests.** -> kanal.**"]
