"""`files …` handlers: upload, list, show, delete, download (the Files API)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rshell import writes
from rshell.commands.context import Result
from rshell.errors import UsageError
from rshell.grammar.inputs import local_path, readable_file
from rshell.rendering.files import file_fields, file_table
from rshell.rendering.output import as_json
from rshell.rendering.tables import human_size
from rshell.safepaths import inside, plain_name

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context


def file_name(file: dict[str, Any]) -> str:
    """What to call a file locally: its name, else its id with an extension, made plain
    either way (the server chose both), else `download`."""
    name = plain_name(file.get("name"))
    if name:
        return name
    extension = mimetypes.guess_extension(str(file.get("content_type") or "")) or ""
    stem = plain_name(file.get("id"), "download")
    return plain_name(stem + extension, "download")


async def upload(ctx: Context, args: ParsedArgs) -> Result:
    """Upload a local file (streamed from disk by the client), with --metadata,
    --filename and --content-type as the Files API takes them."""
    path = readable_file(args.path)
    client = await ctx.client()
    given = writes.given("files.create", args.values)
    file = as_json(
        await client.files_create(
            path, content_type=given.get("type"), metadata=given.get("metadata"), filename=given.get("filename")
        )
    )
    return Result(file, f"uploaded {path.name}\n" + file_fields(file))


async def list_(ctx: Context, args: ParsedArgs) -> Result:
    from rshell.commands.paging import fetch_list

    client = await ctx.client()
    listing = await fetch_list(client, args, client.files_list, "files")
    return Result(listing.data, file_table(listing.results) + listing.hint(args))


async def show(ctx: Context, args: ParsedArgs) -> Result:
    client = await ctx.client()
    file = as_json(await client.files_get(args.id))
    return Result(file, file_fields(file))


async def delete(ctx: Context, args: ParsedArgs) -> Result:
    client = await ctx.client()
    await client.files_delete(args.id)
    return Result(None, f"deleted file {args.id}", bind=False)


def signed_params(client: Any, file: dict[str, Any], file_id: str) -> dict[str, Any]:
    """owner, expiry and signature from the record's signed `urls.download`, which the
    download endpoint requires. Not trusted: it must be this file's download on the API
    host; otherwise (or when absent) the download goes without them."""
    from urllib.parse import parse_qs, urlsplit

    url = (file.get("urls") or {}).get("download")
    if not isinstance(url, str) or not client.is_api_url(url):
        return {}
    parts = urlsplit(url)
    if not parts.path.endswith(f"/files/{file_id}/download"):
        return {}
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if v}
    if not all(query.get(k) for k in ("owner", "expiry", "signature")) or not query["expiry"].isdigit():
        return {}
    return {"owner": query["owner"], "expiry": int(query["expiry"]), "signature": query["signature"]}


def _refuse_existing(dest: Path) -> None:
    if dest.exists() or dest.is_symlink():
        raise UsageError(
            f"{dest} already exists; not overwriting it", "name another destination, or remove the file first"
        )


def _in_directory(directory: Path, name: str) -> Path:
    """`directory/name` as the user would write it, once checked to stay inside."""
    inside(directory, name, follow=False)
    return directory / name


async def download(ctx: Context, args: ParsedArgs) -> Result:
    """Download a file's content to DEST (default: its name here), never over an existing file.

    A DEST that is a directory receives the file under its own name; a relative one in
    a script starts at its folder (as every path a script names). The client
    streams to a temporary file and renames it, so DEST is never half written.
    """
    given = local_path(args.dest) if args.get("dest") else None
    if given is not None and not given.is_dir():
        _refuse_existing(given)
    client = await ctx.client()
    file = as_json(await client.files_get(args.id))
    dest = given if given is not None and not given.is_dir() else _in_directory(given or Path("."), file_name(file))
    _refuse_existing(dest)
    written = await client.files_download(args.id, dest, **signed_params(client, file, args.id))
    return Result(file, f"downloaded {args.id} to {written or dest} ({human_size(file.get('size'))})")
