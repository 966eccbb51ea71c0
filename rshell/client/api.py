"""ReplicateClient: every API operation rshell uses, named after its operationId.

One `httpx.AsyncClient` per ReplicateClient, shared by every command, so
connections are reused across a session. Paths, methods, bodies and status codes
follow the official OpenAPI description. Return values are the tolerant msgspec
structs of `rshell.client.models`; failures are `rshell.errors` classes (ApiError
with problem+json's detail, AuthError for 401 or no token, NetworkError when the
API cannot be reached after retries). The client knows nothing about terminals.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

import rshell
from rshell.client import problems
from rshell.client.models import (
    Account,
    Collection,
    Deployment,
    File,
    Hardware,
    Model,
    Page,
    Prediction,
    SearchResponse,
    ServerEvent,
    Training,
    Version,
    parse,
)
from rshell.client.retry import RetryLater, RetryPolicy, format_wait, retryable_connection_error, retryable_status
from rshell.client.sse import iter_events, stream_headers
from rshell.client.transfer import (
    filename_from_disposition,
    filename_from_url,
    resolve_destination,
    upload_parts,
    write_atomically,
)
from rshell.client.transports import SchemeTransports
from rshell.client.urls import DEFAULT_BASE_URL, netloc_of, normalise_base_url
from rshell.errors import ApiError, UsageError

M = TypeVar("M")

API_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# Seconds without a byte (the sandbox sends a keep-alive every 15 s) before an event
# stream counts as dead and the run is polled instead. Long: a quiet run is caught by
# the status checks `running.follow_stream` makes, not by cutting its stream.
STREAM_IDLE = 300.0
DOWNLOAD_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MAX_WAIT = 60  # the Prefer header allows wait=1..60
MAX_JSON_BYTES = 64 * 1024 * 1024
# A read whose connection was never made (no network, a name that resolves nowhere,
# a refused port) is tried once more, soon: waiting longer rarely brings a network back.
NEVER_CONNECTED = (httpx.ConnectError, httpx.ConnectTimeout)
CONNECT_RETRY_DELAY = 0.3  # no API answer is near this; a bigger body is refused unparsed


class _BearerAuth(httpx.Auth):
    """Adds the token only to requests for the API's own host (never to output URLs)."""

    def __init__(self, token: str | None, api_netloc: str) -> None:
        self._token = token
        self._api_netloc = api_netloc

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token and netloc_of(str(request.url)) == self._api_netloc:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "<BearerAuth ***>"


def prefer_header(wait: bool | int | None) -> dict[str, str]:
    """`Prefer: wait` for True, `Prefer: wait=N` for an int N, nothing otherwise."""
    if wait is None or wait is False:
        return {}
    if wait is True:
        return {"Prefer": "wait"}
    if not 1 <= int(wait) <= MAX_WAIT:
        raise UsageError(f"wait must be between 1 and {MAX_WAIT} seconds, not {wait}")
    return {"Prefer": f"wait={int(wait)}"}


class Delivery:
    """How far a create's request got, from httpcore's trace: a request whose body
    was never completely written cannot have created anything; one written, or one
    sent through a transport that does not trace (a test's mock), may have."""

    def __init__(self) -> None:
        self.traced = False
        self.sent = False

    async def trace(self, event: str, info: dict[str, Any]) -> None:
        self.traced = True
        if event.endswith("send_request_body.complete"):
            self.sent = True

    @property
    def may_have_landed(self) -> bool:
        return self.sent or not self.traced

    def extensions(self) -> dict[str, Any]:
        return {"trace": self.trace}


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


class ReplicateClient:
    """The shared API client of a session; see the module docstring."""

    def __init__(
        self,
        token: str | None,
        base_url: str = DEFAULT_BASE_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 4,
        sleep: Any = None,  # async callable(seconds); asyncio.sleep by default (tests inject)
        require_token: bool = True,  # False lets --dry-run print requests without a token
        stream_idle: float | None = None,  # an event stream silent this long is dropped (STREAM_IDLE)
    ) -> None:
        self._require_token = require_token
        self.base_url = normalise_base_url(base_url)
        self._token = token or None
        self._api_netloc = netloc_of(self.base_url)
        self._retry = RetryPolicy(max_retries=max_retries)
        self._stream_timeout = httpx.Timeout(30.0, read=STREAM_IDLE if stream_idle is None else stream_idle)
        # Told about every wait before a retry (the executor shows it on stderr).
        # told of each wait before a retry; returning False means it did not show it (a
        # background lookup), so the next request's notice is not taken as already said
        self.on_retry: Callable[[str], bool | None] | None = None
        self._reconnecting: dict[str, int] = {}  # host -> requests waiting to connect again
        self._told: set[str] = set()  # hosts whose quick retry has been said to the user
        # A version never changes, so its schema is fetched once per client (the shell's
        # session, a -c line): a repeated `run owner/name:version` costs one round trip.
        self.version_schemas: dict[tuple[str, str, str], dict[str, Any] | None] = {}
        if sleep is not None:
            self._retry.sleep = sleep
        self._http = httpx.AsyncClient(
            auth=_BearerAuth(self._token, self._api_netloc),
            headers={"User-Agent": f"rshell/{rshell.__version__}"},
            timeout=API_TIMEOUT,
            transport=transport or SchemeTransports(),
        )

    def __repr__(self) -> str:
        return f"ReplicateClient(base_url={self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ReplicateClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ----------------------------------------------------------------- plumbing

    def url(self, *segments: str) -> str:
        """An API URL from path segments, each escaped so a name can't change the path."""
        return "/".join([self.base_url, *(quote(path_segment(s), safe="") for s in segments)])

    def is_api_url(self, url: str) -> bool:
        return netloc_of(url) == self._api_netloc

    async def _send(
        self,
        method: str,
        url: str,
        *,
        not_found: str | None = None,
        stream: bool = False,
        rewind: Callable[[], object] | None = None,
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One exchange with retries per SPEC 8; returns a 2xx response or raises."""
        if self._token is None and self._require_token and self.is_api_url(url):
            raise problems.missing_token()
        attempt, waited, connect_retried = 0, 0.0, False
        while True:
            if rewind is not None:
                rewind()
            request = self._http.build_request(method, url, **kwargs)
            try:
                response = await self._http.send(request, stream=stream, follow_redirects=follow_redirects)
            except httpx.TransportError as exc:
                lost = problems.network_error(url, exc, self._token, api=self.is_api_url(url))
                if (
                    isinstance(exc, NEVER_CONNECTED)
                    and retryable_connection_error(method)
                    and not connect_retried
                    and self._retry.max_retries > 0
                ):
                    connect_retried = True
                    await self._pause_connect(url, lost.message)
                    continue
                delay = self._retry.delay(attempt)
                if (
                    not isinstance(exc, NEVER_CONNECTED)
                    and retryable_connection_error(method)
                    and self._retry.can_retry(attempt)
                    and self._fits(waited, delay)
                ):
                    waited += await self._pause(delay, lost.message, attempt)
                    attempt += 1
                    continue
                raise lost from None
            if response.is_success:
                return response
            await self._read_error_body(response)
            error = problems.error_for_response(response, not_found=not_found, secret=self._token)
            if retryable_status(method, response.status_code) and self._retry.can_retry(attempt):
                detail = getattr(error, "detail", "")
                told = self._retry.told(response.headers.get("Retry-After"), detail)
                if told is None and response.status_code == 429:  # the API may say it in the body
                    told = self._retry.told(problems.retry_after_in(response.text))
                delay = told if told is not None else self._retry.backoff(attempt)
                if not self._fits(waited, delay):
                    if told is None:
                        raise error
                    raise RetryLater(response.status_code, detail, told, self._retry.budget)
                waited += await self._pause(delay, error.message, attempt)
                attempt += 1
                continue
            raise error

    def _fits(self, waited: float, delay: float) -> bool:
        """Whether one more wait keeps this request inside its retry budget."""
        return waited + delay <= self._retry.budget

    async def _pause_connect(self, url: str, why: str) -> None:
        """The one quick retry of a connection never made (offline, DNS, refused),
        said once per host however many requests wait on it together."""
        host = netloc_of(url)
        notice = f"{why}; retrying once in {format_wait(CONNECT_RETRY_DELAY)}"
        if host not in self._told and self.on_retry is not None and self.on_retry(notice) is not False:
            self._told.add(host)
        self._reconnecting[host] = self._reconnecting.get(host, 0) + 1
        try:
            await self._retry.sleep(CONNECT_RETRY_DELAY)
        finally:
            self._reconnecting[host] -= 1
            if not self._reconnecting[host]:
                del self._reconnecting[host]
                self._told.discard(host)

    async def _pause(self, delay: float, why: str, attempt: int) -> float:
        """Wait before a retry, saying so (on stderr, through `on_retry`)."""
        if self.on_retry is not None:
            self.on_retry(f"{why}; retrying in {format_wait(delay)} ({attempt + 1} of {self._retry.max_retries})")
        await self._retry.sleep(delay)
        return delay

    async def _read_error_body(self, response: httpx.Response) -> None:
        try:
            await response.aread()
        except httpx.TransportError:
            pass
        finally:
            await response.aclose()

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send, then decode a JSON body (None for 202/204 without one).

        The body is read as a stream and refused past MAX_JSON_BYTES, so a server
        cannot make the client hold more than that; JSON nested too deeply for the
        parser is an API error too, never an internal one.
        """
        response = await self._send(method, url, stream=True, **kwargs)
        try:
            body = await _read_capped(response, MAX_JSON_BYTES, self._token)
        finally:
            await response.aclose()
        if response.status_code == 204 or not body:
            return None
        try:
            return json.loads(body)
        except RecursionError:
            raise ApiError(response.status_code, "unexpected response (JSON nested too deeply)") from None
        except ValueError:
            detail = problems.one_line(body[:512].decode("utf-8", "replace"), 120)
            raise ApiError(response.status_code, f"unexpected response (not JSON): {detail}") from None

    @staticmethod
    def _parse(model: type[M], data: Any) -> M:
        try:
            parsed: M = parse(model, data)
        except msgspec.ValidationError as exc:
            name = getattr(model, "__name__", "object")
            raise ApiError(200, f"unexpected {name} in response ({problems.one_line(str(exc), 160)})") from None
        return parsed

    async def _object(self, model: type[M], method: str, url: str, **kwargs: Any) -> M:
        return self._parse(model, await self._json(method, url, **kwargs))

    def _page_url(self, url: str, cursor: str | None) -> tuple[str, dict[str, str] | None]:
        """A list URL: a full `next` URL as given, or a bare cursor as ?cursor=."""
        if cursor is None:
            return url, None
        if cursor.startswith(("http://", "https://")):
            return cursor, None
        return url, {"cursor": cursor}

    async def _list(self, item: type[Any], cursor: str | None, *segments: str, **params: Any) -> Page[Any]:
        """A list page; a whole `next` URL is fetched as given (it carries its own
        query, which httpx would replace if params were passed too)."""
        url, cursor_params = self._page_url(self.url(*segments), cursor)
        merged = None if url != self.url(*segments) else {**_drop_none(params), **(cursor_params or {})} or None
        return await self._object(Page[item], "GET", url, params=merged)  # type: ignore[valid-type]

    # ----------------------------------------------------- account, hardware, webhooks

    async def account_get(self) -> Account:
        return await self._object(Account, "GET", self.url("account"))

    async def hardware_list(self) -> list[Hardware]:
        data = await self._json("GET", self.url("hardware"))
        return [self._parse(Hardware, item) for item in (data or [])]

    async def webhooks_default_secret_get(self) -> dict[str, Any]:
        return dict(await self._json("GET", self.url("webhooks", "default", "secret")) or {})

    # ------------------------------------------------------------------- models

    async def models_list(
        self, cursor: str | None = None, *, sort_by: str | None = None, sort_direction: str | None = None
    ) -> Page[Model]:
        return await self._list(Model, cursor, "models", sort_by=sort_by, sort_direction=sort_direction)

    async def models_search(self, query: str, cursor: str | None = None) -> Page[Model]:
        url, params = self._page_url(self.url("models"), cursor)
        headers = {"Content-Type": "text/plain"}
        return await self._object(Page[Model], "QUERY", url, content=query.encode(), headers=headers, params=params)

    async def models_get(self, owner: str, name: str) -> Model:
        return await self._object(Model, "GET", self.url("models", owner, name), not_found=f"model {owner}/{name}")

    async def models_create(self, owner: str, name: str, *, visibility: str, hardware: str, **fields: Any) -> Model:
        body = {"owner": owner, "name": name, "visibility": visibility, "hardware": hardware, **_drop_none(fields)}
        return await self._object(Model, "POST", self.url("models"), json=body)

    async def models_update(self, owner: str, name: str, **fields: Any) -> Model:
        return await self._object(
            Model, "PATCH", self.url("models", owner, name), json=_drop_none(fields), not_found=f"model {owner}/{name}"
        )

    async def models_delete(self, owner: str, name: str) -> None:
        await self._send("DELETE", self.url("models", owner, name), not_found=f"model {owner}/{name}")

    async def models_readme_get(self, owner: str, name: str) -> str:
        url = self.url("models", owner, name, "readme")
        response = await self._send("GET", url, not_found=f"README of {owner}/{name}")
        return response.text

    async def models_examples_list(self, owner: str, name: str, cursor: str | None = None) -> Page[Prediction]:
        url, params = self._page_url(self.url("models", owner, name, "examples"), cursor)
        return await self._object(Page[Prediction], "GET", url, params=params, not_found=f"model {owner}/{name}")

    async def models_versions_list(self, owner: str, name: str, cursor: str | None = None) -> Page[Version]:
        url, params = self._page_url(self.url("models", owner, name, "versions"), cursor)
        return await self._object(Page[Version], "GET", url, params=params, not_found=f"model {owner}/{name}")

    async def models_versions_get(self, owner: str, name: str, version_id: str) -> Version:
        url = self.url("models", owner, name, "versions", version_id)
        return await self._object(Version, "GET", url, not_found=f"version {owner}/{name}:{version_id}")

    async def models_versions_delete(self, owner: str, name: str, version_id: str) -> None:
        url = self.url("models", owner, name, "versions", version_id)
        await self._send("DELETE", url, not_found=f"version {owner}/{name}:{version_id}")

    # -------------------------------------------------------------- predictions

    async def predictions_create(
        self,
        input: dict[str, Any],
        *,
        model: str | None = None,
        version: str | None = None,
        deployment: str | None = None,
        stream: bool = False,
        wait: bool | int | None = None,
        webhook: str | None = None,
        webhook_events_filter: list[str] | None = None,
        cancel_after: str | None = None,
        delivery: Delivery | None = None,
    ) -> Prediction:
        """Create on the model, version or deployment endpoint (exactly one is given);
        `delivery` learns whether the request was sent (Ctrl-C inside the wait)."""
        url, body, not_found = self._prediction_target(model, version, deployment)
        body.update(_drop_none({"input": input, "webhook": webhook, "webhook_events_filter": webhook_events_filter}))
        if stream:
            body["stream"] = True
        headers = {**prefer_header(wait), **({"Cancel-After": cancel_after} if cancel_after else {})}
        timeout = self._wait_timeout(wait)
        extensions = delivery.extensions() if delivery else None
        return await self._object(
            Prediction,
            "POST",
            url,
            json=body,
            headers=headers,
            timeout=timeout,
            not_found=not_found,
            extensions=extensions,
        )

    def _prediction_target(
        self, model: str | None, version: str | None, deployment: str | None
    ) -> tuple[str, dict[str, Any], str | None]:
        chosen = [x for x in (model, version, deployment) if x]
        if len(chosen) != 1:
            raise UsageError("give exactly one of a model, a version or a deployment")
        if version:
            version_id = version.rsplit(":", 1)[-1]
            return self.url("predictions"), {"version": version_id}, None
        kind, ref = ("model", model) if model else ("deployment", deployment)
        owner, _, name = (ref or "").partition("/")
        if not owner or not name or "/" in name:
            raise UsageError(f"{kind} must be owner/name, not {ref!r}")
        segment = "models" if kind == "model" else "deployments"
        return self.url(segment, owner, name, "predictions"), {}, f"{kind} {owner}/{name}"

    @staticmethod
    def _wait_timeout(wait: bool | int | None) -> httpx.Timeout:
        """A sync-mode request holds the connection open for up to the wait window."""
        if wait is None or wait is False:
            return API_TIMEOUT
        seconds = MAX_WAIT if wait is True else int(wait)
        return httpx.Timeout(seconds + 30.0, connect=10.0)

    async def predictions_get(self, prediction_id: str) -> Prediction:
        url = self.url("predictions", prediction_id)
        return await self._object(Prediction, "GET", url, not_found=f"prediction {prediction_id}")

    async def predictions_list(
        self,
        cursor: str | None = None,
        *,
        created_after: str | None = None,
        created_before: str | None = None,
        source: str | None = None,
    ) -> Page[Prediction]:
        return await self._list(
            Prediction, cursor, "predictions", created_after=created_after, created_before=created_before, source=source
        )

    async def predictions_cancel(self, prediction_id: str) -> Prediction:
        url = self.url("predictions", prediction_id, "cancel")
        return await self._object(Prediction, "POST", url, not_found=f"prediction {prediction_id}")

    # ---------------------------------------------------------------- trainings

    async def trainings_create(
        self,
        owner: str,
        name: str,
        version_id: str,
        *,
        destination: str,
        input: dict[str, Any],
        webhook: str | None = None,
        webhook_events_filter: list[str] | None = None,
        delivery: Delivery | None = None,
    ) -> Training:
        url = self.url("models", owner, name, "versions", version_id, "trainings")
        body = _drop_none(
            {
                "destination": destination,
                "input": input,
                "webhook": webhook,
                "webhook_events_filter": webhook_events_filter,
            }
        )
        extensions = delivery.extensions() if delivery else None
        not_found = f"version {owner}/{name}:{version_id}"
        return await self._object(Training, "POST", url, json=body, not_found=not_found, extensions=extensions)

    async def trainings_get(self, training_id: str) -> Training:
        url = self.url("trainings", training_id)
        return await self._object(Training, "GET", url, not_found=f"training {training_id}")

    async def trainings_list(self, cursor: str | None = None) -> Page[Training]:
        return await self._list(Training, cursor, "trainings")

    async def trainings_cancel(self, training_id: str) -> Training:
        url = self.url("trainings", training_id, "cancel")
        return await self._object(Training, "POST", url, not_found=f"training {training_id}")

    # -------------------------------------------------------------- deployments

    async def deployments_list(self, cursor: str | None = None) -> Page[Deployment]:
        return await self._list(Deployment, cursor, "deployments")

    async def deployments_create(
        self, *, name: str, model: str, version: str, hardware: str, min_instances: int, max_instances: int
    ) -> Deployment:
        body = {
            "name": name,
            "model": model,
            "version": version,
            "hardware": hardware,
            "min_instances": min_instances,
            "max_instances": max_instances,
        }
        return await self._object(Deployment, "POST", self.url("deployments"), json=body)

    async def deployments_get(self, owner: str, name: str) -> Deployment:
        url = self.url("deployments", owner, name)
        return await self._object(Deployment, "GET", url, not_found=f"deployment {owner}/{name}")

    async def deployments_update(self, owner: str, name: str, **fields: Any) -> Deployment:
        url = self.url("deployments", owner, name)
        return await self._object(
            Deployment, "PATCH", url, json=_drop_none(fields), not_found=f"deployment {owner}/{name}"
        )

    async def deployments_delete(self, owner: str, name: str) -> None:
        await self._send("DELETE", self.url("deployments", owner, name), not_found=f"deployment {owner}/{name}")

    # -------------------------------------------------------------------- files

    async def files_create(
        self,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        filename: str | None = None,
    ) -> File:
        """Upload `path` as multipart/form-data, streamed from disk in chunks."""
        path = Path(path).expanduser()
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        with handle:
            data, files = upload_parts(handle, path, content_type, metadata, filename)
            return await self._object(
                File, "POST", self.url("files"), data=data, files=files, rewind=lambda: handle.seek(0)
            )

    async def files_list(self, cursor: str | None = None) -> Page[File]:
        return await self._list(File, cursor, "files")

    async def files_get(self, file_id: str) -> File:
        return await self._object(File, "GET", self.url("files", file_id), not_found=f"file {file_id}")

    async def files_delete(self, file_id: str) -> None:
        await self._send("DELETE", self.url("files", file_id), not_found=f"file {file_id}")

    async def files_download(
        self,
        file_id: str,
        dest: Path,
        *,
        owner: str | None = None,
        expiry: int | None = None,
        signature: str | None = None,
    ) -> Path:
        """GET /files/{id}/download into dest (a file path, or a directory to put it in).

        The spec requires the signed URL's owner, expiry and signature (from the file
        record's `urls.download`, see `commands.files.signed_params`); the API and the
        sandbox refuse the request without them.
        """
        params = _drop_none({"owner": owner, "expiry": expiry, "signature": signature}) or None
        url = self.url("files", file_id, "download")
        return await self._download_to(url, Path(dest), fallback=file_id, params=params, not_found=f"file {file_id}")

    # --------------------------------------------------- collections and search

    async def collections_list(self, cursor: str | None = None) -> Page[Collection]:
        return await self._list(Collection, cursor, "collections")

    async def collections_get(self, slug: str) -> Collection:
        return await self._object(Collection, "GET", self.url("collections", slug), not_found=f"collection {slug}")

    async def search(self, query: str, limit: int | None = None) -> SearchResponse:
        params = _drop_none({"query": query, "limit": limit})
        return await self._object(SearchResponse, "GET", self.url("search"), params=params)

    # ---------------------------------------------------------- generic helpers

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """Any request to the API host (`api METHOD PATH`): the same `_send` as every
        operation (token, retries, problem+json errors), its JSON answer decoded.
        Another host is refused, so the token cannot be sent there by this path."""
        if not self.is_api_url(url):
            raise UsageError(
                f"not the API host: {problems.one_line(url, 80)}",
                f"give a path, e.g. /account, or a URL on {self.base_url}",
            )
        headers = {"Content-Type": content_type} if json_body is not None or content is not None else None
        if json_body is not None:
            content = json.dumps(json_body).encode("utf-8")
        return await self._json(method, url, params=params, content=content, headers=headers)

    async def get_page(self, url: str, model: Any) -> Page[Any]:
        """Follow a page's `next` (or `previous`) URL; `model` is the item or Page type."""
        is_page = getattr(model, "__origin__", model) is Page
        page_type = model if is_page else Page[model]
        return await self._object(page_type, "GET", url)

    async def paginate(
        self, first: Page[Any], fetch_next: Callable[[str], Awaitable[Page[Any]]] | None = None
    ) -> AsyncIterator[Any]:
        """Every result of `first` and the pages after it, fetched only as consumed.

        `fetch_next(url)` loads a following page; by default `get_page` with the first
        page's item type. (QUERY search pages need their own fetch_next.)
        """
        fetch = fetch_next or self._next_fetcher(first)
        page: Page[Any] | None = first
        seen: set[str] = set()
        while page is not None:
            for item in page.results:
                yield item
            if not page.next or page.next in seen:
                return
            seen.add(page.next)
            page = await fetch(page.next)

    def _next_fetcher(self, first: Page[Any]) -> Callable[[str], Awaitable[Page[Any]]]:
        page_type = first.parsed_as()

        async def fetch(url: str) -> Page[Any]:
            return await self.get_page(url, page_type)

        return fetch

    async def stream(self, url: str, last_event_id: str | None = None) -> AsyncIterator[ServerEvent]:
        """A prediction's SSE events up to `done`; StreamInterrupted if it stops short."""
        response = await self._send(
            "GET", url, stream=True, headers=stream_headers(last_event_id), timeout=self._stream_timeout
        )
        try:
            async for event in iter_events(response, netloc_of(url)):
                yield event
        finally:
            await response.aclose()

    async def download(self, url: str, dest: Path) -> Path:
        """Stream any output URL to dest atomically; the token goes only to the API host."""
        return await self._download_to(url, Path(dest), fallback=filename_from_url(url))

    async def fetch_bytes(self, url: str, limit: int) -> bytes:
        """A file URL's whole body in memory, refused past `limit` bytes (a preview)."""
        response = await self._send("GET", url, stream=True, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True)
        try:
            return await _read_capped(response, limit, self._token, api=self.is_api_url(url))
        finally:
            await response.aclose()

    async def _download_to(
        self, url: str, dest: Path, *, fallback: str, params: dict[str, Any] | None = None, not_found: str | None = None
    ) -> Path:
        response = await self._send(
            "GET", url, stream=True, params=params, timeout=DOWNLOAD_TIMEOUT, follow_redirects=True, not_found=not_found
        )
        try:
            suggested = filename_from_disposition(response.headers.get("Content-Disposition")) or fallback
            target = resolve_destination(dest.expanduser(), suggested)
            return await write_atomically(self._body_chunks(response, url), target)
        finally:
            await response.aclose()

    async def _body_chunks(self, response: httpx.Response, url: str) -> AsyncIterator[bytes]:
        try:
            async for chunk in response.aiter_bytes():
                yield chunk
        except httpx.TransportError as exc:
            raise problems.network_error(url, exc, self._token, api=self.is_api_url(url)) from None


def path_segment(value: object) -> str:
    """An id or name for a URL path; an empty one would name another resource
    (`predictions/` is the list), so it is a usage error before anything is sent."""
    text = str(value)
    if not text.strip():
        raise UsageError("an id or name is empty", "give the id, e.g. prediction show abc123")
    return text


async def _read_capped(response: httpx.Response, limit: int, secret: str | None = None, *, api: bool = True) -> bytes:
    """The whole body, or ApiError as soon as it grows past `limit` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(response.status_code, f"response too large ({int(declared)} bytes; the limit is {limit})")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise ApiError(response.status_code, f"response too large (over {limit} bytes)")
            chunks.append(chunk)
    except httpx.TransportError as exc:
        raise problems.network_error(str(response.request.url), exc, secret, api=api) from None
    return b"".join(chunks)
