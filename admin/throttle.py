"""Failed logins, counted in Redis per email and per client address, so that every web process
and machine shares one count.

Once an email has had `EMAIL_LIMIT` failures, or an address `ADDRESS_LIMIT`, within `WINDOW`
seconds of the first, further tries are refused unread until the window ends; a success clears
the email's count (not the address's: one good password must not reset a guessing address).

When Redis does not answer the throttle FAILS CLOSED: logins are refused with a message saying
so. The console is not on the health workers' path (USSD and SMS go on without Redis, and
/healthz shows it), a refused login for the minutes of an outage costs an admin little, and an
attacker able to stop or wait out Redis would otherwise get unlimited guesses at accounts that
see a whole country's reports. People already signed in are not affected: their session is a
signed cookie that needs no Redis.
"""

from __future__ import annotations

import hashlib

from redis import Redis
from redis.exceptions import RedisError

from admin.accounts import normal_email

EMAIL_LIMIT = 5
ADDRESS_LIMIT = 20
"""Higher than per email: a CSRef's staff often share one address behind the same NAT."""
WINDOW = 15 * 60
PREFIX = "admin:login-failures"


class ThrottleUnavailable(RuntimeError):
    """Redis did not answer: the throttle cannot count, so logins are refused (fail closed)."""


class LoginThrottle:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def wait(self, email: str, address: str) -> int:
        """Seconds before this email may try again from this address; 0 if it may now."""
        keys = self._keys(email, address)
        try:
            pipe = self.redis.pipeline(transaction=False)
            for key, _ in keys:
                pipe.get(key)
                pipe.ttl(key)
            answers = pipe.execute()
        except RedisError as error:
            raise ThrottleUnavailable from error
        waits = [
            max(int(ttl), 1)
            for (_, limit), count, ttl in zip(keys, answers[::2], answers[1::2], strict=True)
            if count is not None and int(count) >= limit
        ]
        return max(waits, default=0)

    def failed(self, email: str, address: str) -> None:
        """Count one failure for both; the window starts at the first failure."""
        try:
            pipe = self.redis.pipeline(transaction=True)
            for key, _ in self._keys(email, address):
                pipe.set(key, 0, ex=WINDOW, nx=True)  # EXPIRE NX needs Redis 7; the demo has 6.2
                pipe.incr(key)
            pipe.execute()
        except RedisError as error:
            raise ThrottleUnavailable from error

    def succeeded(self, email: str) -> None:
        try:
            self.redis.delete(self._email_key(email))
        except RedisError as error:
            raise ThrottleUnavailable from error

    def _keys(self, email: str, address: str) -> list[tuple[str, int]]:
        return [(self._email_key(email), EMAIL_LIMIT), (f"{PREFIX}:ip:{address}", ADDRESS_LIMIT)]

    @staticmethod
    def _email_key(email: str) -> str:
        """The email hashed: Redis need not hold people's addresses to count their failures."""
        digest = hashlib.sha256(normal_email(email).encode()).hexdigest()[:32]
        return f"{PREFIX}:email:{digest}"
