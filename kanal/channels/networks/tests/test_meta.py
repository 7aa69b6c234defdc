"""Every registered network has an adapter class and contract tests."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import pytest

from kanal.channels.networks import REGISTRY, adapter_class
from kanal.channels.networks.base import NetworkAdapter

from . import contract

TESTS_PACKAGE = "kanal.channels.networks.tests"


def contract_networks() -> dict[str, list[str]]:
    """Network slug -> contract test classes, found by importing test modules."""
    package = importlib.import_module(TESTS_PACKAGE)
    found: dict[str, list[str]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{TESTS_PACKAGE}.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type)
                    and issubclass(value, contract.NetworkContractTests)
                    and value is not contract.NetworkContractTests
                    and value.network):
                found.setdefault(value.network, []).append(value.__qualname__)
    return found


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_registered_network_has_an_adapter_class(slug):
    cls = adapter_class(slug)
    assert issubclass(cls, NetworkAdapter)
    assert cls.network == slug
    assert cls.api_version


@pytest.mark.parametrize("slug", sorted(REGISTRY))
def test_registered_network_has_contract_tests(slug):
    assert slug in contract_networks(), (
        f"{slug} is in REGISTRY but no test module subclasses "
        f"NetworkContractTests with network = {slug!r}"
    )


def test_every_contract_subclass_names_a_registered_network():
    assert set(contract_networks()) <= set(REGISTRY)
