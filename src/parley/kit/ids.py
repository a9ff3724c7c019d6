"""Every random identifier Parley makes comes from an IdFactory, so a seeded factory makes a
run reproducible (golden files, webhook payloads, emulator fixtures)."""

from __future__ import annotations

import random
import secrets


class IdFactory:
    def __init__(self, seed: int | None = None) -> None:
        # A seeded factory is deterministic. An unseeded one seeds a fast generator from the OS
        # once (request and contact ids are not secrets, and a syscall per request id showed up
        # in profiles); secrets (tokens) always come from the OS when unseeded.
        self._seeded = seed is not None
        self._random = random.Random(seed if seed is not None else secrets.randbits(128))
        self._secret: random.Random = self._random if self._seeded else secrets.SystemRandom()
        self._request_prefix = self.uuid()[:24]  # drawn once: see request_id
        self._requests = 0

    def _hex(self, length: int) -> str:
        return format(self._random.getrandbits(4 * length), f"0{length}x")

    def contact_id(self) -> str:
        """Intercom contact ids are 24 lowercase hex characters."""
        return self._hex(24)

    def uuid(self) -> str:
        """A random UUID-shaped id (version 4 layout), for ids that are stored."""
        h = self._hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def request_id(self) -> str:
        """A UUID-shaped request id (the error schema declares `format: uuid`): this factory's
        random prefix and a count of its requests. Unique within the process, and across
        processes but for the chance that two draw the same 62-bit prefix; drawing 128 random
        bits for every request was a visible share of a GET."""
        self._requests += 1
        return f"{self._request_prefix}{self._requests:012x}"

    def workspace_id(self) -> str:
        """Intercom app id codes are eight lowercase alphanumerics."""
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        return "".join(self._random.choice(alphabet) for _ in range(8))

    def access_token(self) -> str:
        """A bearer token. Only its hash is ever stored."""
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return "prl_" + "".join(self._secret.choice(alphabet) for _ in range(40))
