"""The outbox tests drive a fake second provider as well as the stand-in."""

from tests.workers.fake_gateway import fake_gateway

__all__ = ["fake_gateway"]
