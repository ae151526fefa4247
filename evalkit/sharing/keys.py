"""The secret key behind the pseudonyms: making one, loading one, hashing with one.

A pseudonym is ``HMAC-SHA256(key, kind + ":" + normalised value)`` (RFC 2104 with
SHA-256, FIPS 180-4), written as 64 hex digits. Without the key nobody can recompute a
pseudonym from a guessed NHS number, and pseudonyms made with two different keys share
nothing. The key itself is read from a file or an environment variable (never from a
parameter file or the command line, where it would end up in shell history and logs), must
be at least 32 bytes, and is never written anywhere by evalkit.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from ..errors import ParameterError

__all__ = ["Key", "KEY_ENV", "MIN_KEY_BYTES", "generate_key", "load_key", "hmac_sha256"]

KEY_ENV = "EVALKIT_SHARE_KEY"
MIN_KEY_BYTES = 32


def hmac_sha256(key: bytes, message: bytes) -> str:
    """HMAC-SHA256 of ``message`` under ``key``, as 64 lower-case hex digits (RFC 2104).

    No length rule is applied here (the RFC 4231 test keys are shorter than 32 bytes);
    :class:`Key` applies it.

    Examples
    --------
    RFC 4231, test case 2:

    >>> hmac_sha256(b"Jefe", b"what do ya want for nothing?")[:16]
    '5bdcc146bf60754e'
    """
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class Key:
    """A pseudonymisation key (at least 32 bytes). Its repr never shows the key.

    Examples
    --------
    >>> k = Key(b"x" * 32)
    >>> k
    Key(32 bytes, id f9dd0c66)
    >>> k.pseudonym("nhs_number", "9434765919") == Key(b"x" * 32).pseudonym("nhs_number", "9434765919")
    True
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes | str, *, source: str = "the key") -> None:
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if not isinstance(secret, bytes | bytearray):
            raise ParameterError(
                f"the key must be bytes, not {type(secret).__name__}",
                key="key",
                expected="evalkit.sharing.load_key(key_file) or at least 32 bytes",
            )
        secret = bytes(secret).strip()
        if len(secret) < MIN_KEY_BYTES:
            raise ParameterError(
                f"{source} is too short ({len(secret)} bytes)",
                key="key",
                expected=f"at least {MIN_KEY_BYTES} bytes; make one with 'evalkit keygen'",
            )
        self._secret = secret

    def __repr__(self) -> str:
        return f"Key({len(self._secret)} bytes, id {self.key_id})"

    __str__ = __repr__

    def __reduce__(self):  # a key is never pickled (so never shipped to a worker or a cache)
        raise TypeError("a pseudonymisation key cannot be pickled")

    @property
    def key_id(self) -> str:
        """A short one-way fingerprint, to tell keys apart in manifests (not secret)."""
        return hmac_sha256(self._secret, b"evalkit key id")[:8]

    def pseudonym(self, kind: str, value: str) -> str:
        """The pseudonym of one normalised value of a kind of identifier."""
        return hmac_sha256(self._secret, f"{kind}:{value}".encode())

    def pseudonyms(self, kind: str, values: Iterable[str]) -> list[str]:
        """Pseudonyms of many values (the keyed state is computed once)."""
        base = hmac.new(self._secret, f"{kind}:".encode(), hashlib.sha256)
        out = []
        for v in values:
            h = base.copy()
            h.update(v.encode())
            out.append(h.hexdigest())
        return out


def generate_key() -> str:
    """A new random key: 64 URL-safe characters from the operating system's CSPRNG.

    Examples
    --------
    >>> len(generate_key()), generate_key() != generate_key()
    (64, True)
    """
    return secrets.token_urlsafe(48)


def load_key(key_file: str | Path | None = None, *, env: str = KEY_ENV) -> Key:
    """Read the key from ``key_file``, or else from the environment variable ``env``.

    Parameters
    ----------
    key_file
        A file holding the key (surrounding whitespace is ignored), as ``evalkit keygen``
        writes it. Keep it outside the project folder, readable only by you.
    env
        The environment variable read when no file is given (default ``EVALKIT_SHARE_KEY``).

    Raises
    ------
    ParameterError
        No key, an unreadable file, or a key shorter than 32 bytes. The message names the
        file or variable, never the key.
    """
    if key_file is not None:
        p = Path(key_file)
        if not p.is_file():
            raise ParameterError(
                "no such key file", file=str(p), expected="a file made by 'evalkit keygen'"
            )
        try:
            secret = p.read_bytes()
        except OSError as exc:
            raise ParameterError(
                f"the key file cannot be read ({exc.strerror})", file=str(p)
            ) from None
        return Key(secret, source=f"the key in {p}")
    secret = os.environ.get(env)
    if not secret:
        raise ParameterError(
            f"no key: give a key file or set the environment variable {env}",
            key="key",
            expected="--key-file PATH (make one with 'evalkit keygen') or " + env,
        )
    return Key(secret, source=f"the key in ${env}")
