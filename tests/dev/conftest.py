"""The stand-in's tests share the gateway tests' delivery-report receiver."""

from tests.gateway.conftest import receiver

__all__ = ["receiver"]
