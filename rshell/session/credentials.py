"""Where the API token and base URL come from, compatible with the official Go CLI.

The official CLI keeps tokens in `$XDG_CONFIG_HOME/replicate/hosts` (else
`~/.config/replicate/hosts`): YAML mapping the API's host name (no scheme, no
port) to `{token: ...}`. rshell reads and writes the same file, so logging in with
either tool works for both. REPLICATE_API_TOKEN always wins over the file.

The file is written atomically with mode 0600 from the moment it exists, and other
hosts' entries are kept. Nothing here prints or logs the token.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rshell.client.urls import normalise_base_url
from rshell.errors import UsageError

TOKEN_ENV = "REPLICATE_API_TOKEN"
BASE_URL_ENV = "REPLICATE_BASE_URL"
_FIX_HINT = "fix or delete the file, or set REPLICATE_API_TOKEN"


def config_path(env: Mapping[str, str] = os.environ) -> Path:
    """$XDG_CONFIG_HOME/replicate/hosts, else ~/.config/replicate/hosts."""
    xdg = env.get("XDG_CONFIG_HOME")
    if xdg:
        return Path(xdg) / "replicate" / "hosts"
    home = env.get("HOME")
    base = Path(home) if home else Path.home()
    return base / ".config" / "replicate" / "hosts"


def resolve_base_url(env: Mapping[str, str] = os.environ) -> str:
    """REPLICATE_BASE_URL normalised to end in /v1, or the hosted API."""
    return normalise_base_url(env.get(BASE_URL_ENV))


def host_of(base_url: str) -> str:
    """The hosts-file key: the URL's host name only, as the Go CLI's url.Hostname()."""
    text = base_url.strip()
    if "://" not in text:
        text = "https://" + text
    return (urlsplit(text).hostname or "").lower()


def _read_hosts(path: Path) -> dict[str, Any]:
    """The parsed hosts file ({} when absent).

    A damaged one (not UTF-8 or YAML, not a mapping of hosts to `{token: text}`) is
    set aside as `hosts.bad-<time>` with a one-line notice and counts as empty, so
    the shell still starts (SPEC 8) and a later login never overwrites it.
    """
    import yaml

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}", _FIX_HINT) from None
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return _damaged(path, "not UTF-8")
    except RecursionError:
        return _damaged(path, "nested too deeply")
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        return _damaged(path, "not valid YAML" + (f" at line {where.line + 1}" if where is not None else ""))
    if data is None:
        return {}
    if not isinstance(data, dict):
        return _damaged(path, "not a mapping of hosts")
    for host, entry in data.items():
        if entry is not None and not isinstance(entry, dict):
            return _damaged(path, f"the entry for {host} is not a mapping")
        token = (entry or {}).get("token")
        if token is not None and not isinstance(token, str):
            return _damaged(path, f"the token for {host} is not text")
    return data


def _damaged(path: Path, why: str) -> dict[str, Any]:
    from rshell.atomic import set_aside

    set_aside(path, why)
    return {}


def _token_in(data: Mapping[str, Any], host: str, path: Path) -> str | None:
    entry = data.get(host) or {}
    token = entry.get("token")
    return (token.strip() or None) if isinstance(token, str) else None


def _env_token(env: Mapping[str, str]) -> str | None:
    return (env.get(TOKEN_ENV) or "").strip() or None


def load_token(base_url: str, env: Mapping[str, str] = os.environ) -> str | None:
    """REPLICATE_API_TOKEN first, then the hosts file's entry for base_url's host."""
    token = _env_token(env)
    if token:
        return token
    path = config_path(env)
    return _token_in(_read_hosts(path), host_of(base_url), path)


def token_source(base_url: str, env: Mapping[str, str] = os.environ) -> str | None:
    """Where the token in use comes from, for `auth status` (never the token itself)."""
    if _env_token(env):
        return TOKEN_ENV
    path = config_path(env)
    return str(path) if _token_in(_read_hosts(path), host_of(base_url), path) else None


def _write_hosts(path: Path, data: Mapping[str, Any]) -> None:
    """Replace the file atomically; the temp file is created 0600, so never readable by others."""
    import yaml

    from rshell.atomic import failure, write_text

    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _tighten(path.parent)
    except OSError as error:
        raise failure(path, error) from None
    text = yaml.safe_dump(dict(data), default_flow_style=False, indent=4, sort_keys=False) if data else "{}\n"

    write_text(path, text, mode=0o600)


def _tighten(directory: Path) -> None:
    """Make the config directory owner-only, as the official CLI does; best effort."""
    with contextlib.suppress(OSError):
        os.chmod(directory, 0o700)


def save_token(token: str, base_url: str, env: Mapping[str, str] = os.environ) -> Path:
    """Store token for base_url's host, keeping every other host's entry."""
    path = config_path(env)
    data = _read_hosts(path)
    host = host_of(base_url)
    entry = data.get(host)
    data[host] = {**(entry if isinstance(entry, dict) else {}), "token": token}
    _write_hosts(path, data)
    return path


def delete_token(base_url: str, env: Mapping[str, str] = os.environ) -> bool:
    """Forget base_url's host; True when there was an entry to remove."""
    path = config_path(env)
    data = _read_hosts(path)
    host = host_of(base_url)
    if host not in data:
        return False
    del data[host]
    _write_hosts(path, data)
    return True
