"""`account current`, `hardware list` and `webhooks secret`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rshell.commands.context import Result
from rshell.commands.running import open_web, site_url
from rshell.rendering.account import account_fields, hardware_table
from rshell.rendering.output import as_json

if TYPE_CHECKING:
    from rshell.commands.arguments import ParsedArgs
    from rshell.commands.context import Context


async def current(ctx: Context, args: ParsedArgs) -> Result:
    """The account the token belongs to."""
    client = await ctx.client()
    account = as_json(await client.account_get())
    if args.get("web"):
        open_web(ctx, site_url(ctx, str(account.get("username") or "")))
    return Result(account, account_fields(account))


async def hardware_list(ctx: Context, args: ParsedArgs) -> Result:
    """Hardware SKUs, the values --hardware takes; --web also opens the pricing page."""
    if args.get("web"):
        open_web(ctx, site_url(ctx, "pricing") + "#hardware")
    client = await ctx.client()
    hardware = as_json(await client.hardware_list())
    return Result(hardware, hardware_table(hardware))


async def webhook_secret(ctx: Context, args: ParsedArgs) -> Result:
    """The signing secret for verifying webhooks: the user's own key, not the API token."""
    client = await ctx.client()
    secret = as_json(await client.webhooks_default_secret_get())
    return Result(secret, str(secret.get("key") or ""))
