"""What counts as a secret, and its removal from what rshell keeps.

A line carrying a token is never written to history or a saved script (SPEC 6), and
no stored value holds one: an alias that does is refused, and bound results are
written with the token replaced by REDACTED. Its own module, without the session
store's imports, because every statement a one-shot runs is checked here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# A Replicate token (r8_ + letters), an assignment of the token variable, an HTTP
# credential header: any of these makes a line secret.
_SECRET_RES = (
    re.compile(r"(?<![A-Za-z0-9])r8_[A-Za-z0-9_-]{6,}"),
    re.compile(r"REPLICATE_API_TOKEN\s*=\s*\S"),
    re.compile(r"\b(?:Bearer|Token)\s+[A-Za-z0-9_.~+/=-]{8,}", re.IGNORECASE),
)
_TOKEN_RE = _SECRET_RES[0]
REDACTED = "[redacted]"
_AUTH_LOGIN_RE = re.compile(r"(?:^|[\s;|])auth\s+login\b([^;|#\n]*)")
_HARMLESS_LOGIN_WORDS = frozenset({"--token-stdin", "--help", "--json"})


def is_secret(line: str) -> bool:
    """Whether a line carries a token, so it must stay out of history and scripts."""
    if any(pattern.search(line) for pattern in _SECRET_RES):
        return True
    for match in _AUTH_LOGIN_RE.finditer(line):
        words = match.group(1).split()
        if any(word not in _HARMLESS_LOGIN_WORDS for word in words):
            return True
    return False


def holds_secret(text: str, secrets: Iterable[str] = ()) -> bool:
    """Whether `text` looks like a secret line or contains one of the tokens in use."""
    return is_secret(text) or _secret_pattern(secrets).search(text) is not None


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """`value` (JSON data) with every token in its strings, and keys, made REDACTED."""
    pattern = _secret_pattern(secrets)

    def clean(item: Any) -> Any:
        if isinstance(item, str):
            return pattern.sub(REDACTED, item)
        if isinstance(item, dict):
            return {clean(k) if isinstance(k, str) else k: clean(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [clean(v) for v in item]
        return item

    return clean(value)


def _secret_pattern(secrets: Iterable[str]) -> re.Pattern[str]:
    """Replicate-shaped tokens, and the given ones long enough to be real (any case)."""
    from rshell.client.problems import real_secrets

    known = sorted(real_secrets(secrets), key=len, reverse=True)
    alternatives = [re.escape(s) for s in known] + [_TOKEN_RE.pattern]
    return re.compile("|".join(alternatives), re.IGNORECASE)
