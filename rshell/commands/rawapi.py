"""`api METHOD PATH [key=value… | --input FILE]`: any request to the API host, as
`gh api` does; the escape hatch for an operation the API gains before rshell does.

It goes through the client's one request path (`ReplicateClient.request` → `_send`):
the token only to the API host, the same retries and error text as every command.
`--paginate` follows `next` links of a GET list, bounded like `--all`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Any

from rshell.commands.context import Result
from rshell.commands.paging import MAX_PAGES
from rshell.errors import UsageError

if TYPE_CHECKING:
    from rshell.client.api import ReplicateClient
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "QUERY")
# Methods whose key=value words are query parameters; the others' are a JSON body.
_QUERY_METHODS = frozenset({"GET", "DELETE"})
_FIELD = re.compile(r"(?P<key>[^=\s]+)=(?P<value>.*)\Z", re.DOTALL)
_LITERAL = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?\Z|true\Z|false\Z|null\Z|[\[{]")


def spec_paths(method: str = "") -> list[tuple[str, str]]:
    """The official spec's paths (templates such as /models/{model_owner}/{model_name})
    with what each does; those METHOD serves first."""
    from rshell import openapi

    ranked: list[tuple[int, str, str]] = []
    for template, item in openapi.spec()["paths"].items():
        verbs = [v.upper() for v, op in item.items() if isinstance(op, dict) and "operationId" in op]
        summary = ", ".join(verbs)
        ranked.append((0 if method in verbs else 1, template, summary))
    return [(template, summary) for _, template, summary in sorted(ranked)]


def method_of(word: str) -> str:
    method = (word or "").upper()
    if method not in METHODS:
        raise UsageError(f"unknown HTTP method '{word}'", f"one of: {', '.join(METHODS)} (e.g. api GET /account)")
    return method


def api_url(base_url: str, path: str) -> str:
    """The URL of PATH on the API: `/account`, `account` and `/v1/account` alike (the
    base URL ends in /v1); a whole URL is taken as given (the client refuses another host)."""
    if not path or any(c.isspace() or ord(c) < 32 for c in path):
        raise UsageError(f"not an API path: {path!r}", "e.g. api GET /models/rshell/echo")
    if path.startswith(("http://", "https://")):
        return path
    trimmed = "/" + path.lstrip("/")
    base = base_url.rstrip("/")
    version = "/" + base.rsplit("/", 1)[-1]
    if trimmed.startswith(version + "/") or trimmed == version:
        trimmed = trimmed[len(version) :]
    return base + trimmed


def field_value(text: str) -> Any:
    """A key=value word's value: a JSON number, true/false/null, object or list as
    JSON (as `gh api -F` types them), anything else the text itself."""
    if _LITERAL.match(text):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def fields_of(words: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for word in words:
        found = _FIELD.match(word)
        if found is None:
            raise UsageError(f"expected key=value, got '{word}'", "e.g. api POST /models owner=me name=x")
        fields[found["key"]] = field_value(found["value"])
    return fields


def read_body(ctx: Context, given: str) -> tuple[bytes, str]:
    """`--input FILE` (or - for stdin): the body as given; JSON is sent as JSON,
    other text as text/plain (a QUERY search)."""
    from rshell.grammar.inputs import readable_file

    if given == "-":
        text = (ctx.env.stdin or sys.stdin).read()
    else:
        path = readable_file(given.removeprefix("@"))
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path} as UTF-8 text: {exc}") from None
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return text.encode("utf-8"), "text/plain"
    return text.encode("utf-8"), "application/json"


async def api(ctx: Context, args: ParsedArgs) -> Result:
    """Send the request, print the JSON answer (a write is a write: --dry-run prints it)."""
    method = method_of(args.method)
    fields = fields_of(list(args.inputs))
    given = args.values.get("input")
    paginate = bool(args.values.get("paginate"))
    if given is not None and fields and method not in _QUERY_METHODS:
        raise UsageError("give key=value fields or --input, not both", "put every field in the --input file")
    if paginate and method != "GET":
        raise UsageError("--paginate follows the pages of a GET list", f"drop --paginate for {method}")
    body = read_body(ctx, given) if given is not None else None
    client = await ctx.client()
    url = api_url(client.base_url, args.path)
    params = (
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()} if method in _QUERY_METHODS else None
    )
    if body is not None:
        data = await client.request(method, url, params=params or None, content=body[0], content_type=body[1])
    else:
        json_body = fields if method not in _QUERY_METHODS and fields else None
        data = await client.request(method, url, params=params or None, json_body=json_body)
    if paginate:
        data = await _all_pages(client, data)
    return Result(data)


async def _all_pages(client: ReplicateClient, first: Any) -> Any:
    """Every page's results as one page (its `next` set when MAX_PAGES stopped it)."""
    if not isinstance(first, dict) or not isinstance(first.get("results"), list):
        return first
    results = list(first["results"])
    following, seen = first.get("next"), set()
    pages = 1
    while isinstance(following, str) and client.is_api_url(following) and following not in seen and pages < MAX_PAGES:
        seen.add(following)
        page = await client.request("GET", following)
        pages += 1
        if not isinstance(page, dict) or not isinstance(page.get("results"), list):
            break
        results += page["results"]
        following = page.get("next")
    return {**first, "results": results, "next": following if pages >= MAX_PAGES else None, "previous": None}
