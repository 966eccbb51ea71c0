"""Every rshell command, declared once.

Parsing (`arguments`), help (`help`), completion and `references/commands.md` are all
derived from the table below; adding a command means adding one `Command(...)` here
and its handler in the group's module.
"""

from __future__ import annotations

from rshell.commands.registry import Arg, Command, Flag, unknown
from rshell.errors import UsageError

H = "rshell.commands."

# Flags shared by several commands -------------------------------------------------
WAIT = Flag("--wait", "wait", "Wait for a terminal status (default for predictions).", const=True)
NO_WAIT = Flag("--no-wait", "wait", "Return as soon as the API accepts the request.", const=False)
WEB = Flag("--web", "web", "Open the result's web page (prints it when no browser).", const=True)
SEPARATOR = Flag("--separator", "separator", "Separator between input key and value.", metavar="SEP")
FILE_ENCODING = Flag(
    "--file-encoding",
    "file_encoding",
    "How @file inputs are sent: uploaded (url) or inlined as data URLs (data).",
    choices=("url", "data"),
)
HARDWARE = Flag("--hardware", "hardware", "Hardware SKU (see `hardware list`).", metavar="SKU", complete="hardware")
MODEL_FIELDS = (
    Flag("--description", "description", "Description of the model.", metavar="TEXT"),
    Flag("--github-url", "github_url", "URL of the model's source code.", metavar="URL"),
    Flag("--paper-url", "paper_url", "URL of the model's paper.", metavar="URL"),
    Flag("--license-url", "license_url", "URL of the model's license.", metavar="URL"),
    Flag("--cover-image-url", "cover_image_url", "URL of the model's cover image.", metavar="URL"),
)
DEPLOYMENT_FIELDS = (
    HARDWARE,
    Flag("--min-instances", "min_instances", "Minimum number of instances.", type="int", metavar="N"),
    Flag("--max-instances", "max_instances", "Maximum number of instances.", type="int", metavar="N"),
    Flag("--version", "version", "Model version id to deploy.", metavar="ID"),
)
INPUTS = Arg("inputs", "Inputs as key=value; key=@path uploads a file.", required=False, inputs=True)
MODEL_REF = Arg("model", "owner/name, owner/name:version, or a version id.", complete="model")
MODEL_NAME = Arg("model", "owner/name of a model.", complete="model")

COMMANDS: tuple[Command, ...] = (
    # predictions -----------------------------------------------------------------
    Command(
        ("prediction", "create"),
        "Run a model and print its output.",
        H + "predictions:create",
        args=(
            Arg("model", "owner/name, owner/name:version, or a version id.", required=False, complete="model"),
            INPUTS,
        ),
        flags=(
            Flag("--stream", "stream", "Print output tokens as they arrive.", const=True),
            WAIT,
            NO_WAIT,
            WEB,
            Flag("--save", "save", "Download every output file.", const=True),
            Flag(
                "--output-directory",
                "output_directory",
                "Where --save writes (default ./<prediction-id>).",
                metavar="DIR",
                complete="path",
            ),
            SEPARATOR,
            FILE_ENCODING,
            Flag(
                "--deployment",
                "deployment",
                "Run through a deployment (owner/name).",
                metavar="OWNER/NAME",
                complete="deployment",
            ),
            Flag("--webhook", "webhook", "URL to notify when the prediction changes.", metavar="URL"),
        ),
        defaults={"wait": True, "separator": "=", "file_encoding": "url"},
        examples=("run stability-ai/sdxl prompt='a red fox' --save", "stream meta/llama prompt=hi"),
    ),
    Command(("prediction", "list"), "List recent predictions.", H + "predictions:list_"),
    Command(
        ("prediction", "show"),
        "Show a prediction.",
        H + "predictions:show",
        args=(Arg("id", "Prediction id.", complete="prediction"),),
        flags=(WEB,),
    ),
    Command(
        ("prediction", "cancel"),
        "Cancel a running prediction.",
        H + "predictions:cancel",
        args=(Arg("id", "Prediction id.", complete="prediction"),),
    ),
    Command(
        ("batch",),
        "Run one model over many inputs, concurrently and resumably.",
        H + "batch:batch",
        args=(MODEL_REF, Arg("defaults", "Inputs every row shares, as key=value.", required=False, inputs=True)),
        flags=(
            Flag(
                "--inputs",
                "inputs",
                "Rows: JSON Lines, CSV (header = keys) or a JSON list; - reads stdin.",
                metavar="FILE",
                complete="path",
                required=True,
            ),
            Flag("--concurrency", "concurrency", "Predictions running at once (default 8).", type="int", metavar="N"),
            Flag(
                "--output",
                "output",
                "Append each row's result as a JSON line; rerun with it to resume.",
                metavar="FILE",
                complete="path",
            ),
            Flag("--save", "save", "Download every row's output files into DIR/<row>/.", const=True),
            Flag(
                "--output-directory",
                "output_directory",
                "Where --save writes (default ./batch-output).",
                metavar="DIR",
                complete="path",
            ),
        ),
        examples=("batch owner/model:VERSION steps=20 --inputs prompts.jsonl --output results.jsonl",),
    ),
    # models ----------------------------------------------------------------------
    Command(("model", "list"), "List public models.", H + "models:list_"),
    Command(("model", "show"), "Show a model.", H + "models:show", args=(MODEL_NAME,), flags=(WEB,)),
    Command(
        ("model", "schema"),
        "Show a model version's inputs and output.",
        H + "models:schema",
        args=(MODEL_REF,),
    ),
    Command(
        ("model", "create"),
        "Create a model.",
        H + "models:create",
        args=(MODEL_NAME,),
        flags=(
            HARDWARE,
            Flag("--private", "visibility", "Only you can see the model (default).", const="private"),
            Flag("--public", "visibility", "Anyone can see and run the model.", const="public"),
            *MODEL_FIELDS,
        ),
        defaults={"visibility": "private"},
    ),
    Command(
        ("model", "update"),
        "Update a model's metadata.",
        H + "models:update",
        args=(MODEL_NAME,),
        flags=MODEL_FIELDS,
    ),
    Command(("model", "delete"), "Delete a model (it must have no versions).", H + "models:delete", args=(MODEL_NAME,)),
    Command(
        ("model", "search"),
        "Search public models.",
        H + "models:search",
        args=(Arg("query", "Words to search for."),),
    ),
    Command(("model", "versions"), "List a model's versions.", H + "models:versions", args=(MODEL_NAME,)),
    # trainings -------------------------------------------------------------------
    Command(
        ("training", "create"),
        "Fine-tune a model version into a destination model.",
        H + "trainings:create",
        args=(MODEL_REF, INPUTS),
        flags=(
            Flag(
                "--destination",
                "destination",
                "Model that receives the new version (owner/name).",
                metavar="OWNER/NAME",
                complete="model",
                required=True,
            ),
            WAIT,
            NO_WAIT,
            WEB,
            SEPARATOR,
            FILE_ENCODING,
            Flag("--webhook", "webhook", "URL to notify when the training changes.", metavar="URL"),
        ),
        defaults={"wait": False, "separator": "=", "file_encoding": "url"},
        examples=("train owner/trainer:VERSION --destination me/my-model input_images=@data.zip",),
    ),
    Command(("training", "list"), "List recent trainings.", H + "trainings:list_"),
    Command(
        ("training", "show"),
        "Show a training.",
        H + "trainings:show",
        args=(Arg("id", "Training id.", complete="training"),),
        flags=(WEB,),
    ),
    Command(
        ("training", "cancel"),
        "Cancel a running training.",
        H + "trainings:cancel",
        args=(Arg("id", "Training id.", complete="training"),),
    ),
    # deployments -----------------------------------------------------------------
    Command(
        ("deployments", "create"),
        "Create a deployment of a model version.",
        H + "deployments:create",
        args=(Arg("name", "Name of the new deployment."),),
        flags=(
            Flag(
                "--model",
                "model",
                "Model to deploy (owner/name).",
                metavar="OWNER/NAME",
                complete="model",
                required=True,
            ),
            *DEPLOYMENT_FIELDS,
        ),
        defaults={"min_instances": 0, "max_instances": 1},
    ),
    Command(("deployments", "list"), "List your deployments.", H + "deployments:list_"),
    Command(
        ("deployments", "show"),
        "Show a deployment.",
        H + "deployments:show",
        args=(Arg("name", "owner/name of the deployment.", complete="deployment"),),
    ),
    Command(
        ("deployments", "update"),
        "Change a deployment's version, hardware or scaling.",
        H + "deployments:update",
        args=(Arg("name", "owner/name of the deployment.", complete="deployment"),),
        flags=DEPLOYMENT_FIELDS,
    ),
    Command(
        ("deployments", "schema"),
        "Show the inputs and output of a deployment's current version.",
        H + "deployments:schema",
        args=(Arg("name", "owner/name of the deployment.", complete="deployment"),),
    ),
    Command(
        ("deployments", "delete"),
        "Delete a deployment.",
        H + "deployments:delete",
        args=(Arg("name", "owner/name of the deployment.", complete="deployment"),),
    ),
    # hardware, account, auth -------------------------------------------------------
    Command(("hardware", "list"), "List hardware SKUs for models and deployments.", H + "account:hardware_list"),
    Command(("account", "current"), "Show the account the token belongs to.", H + "account:current"),
    Command(
        ("auth", "login"),
        "Save an API token (checked against the API first).",
        H + "auth:login",
        flags=(Flag("--token-stdin", "token_stdin", "Read the token from standard input.", const=True),),
    ),
    Command(("auth", "logout"), "Forget the saved API token.", H + "auth:logout", network=False),
    Command(("auth", "status"), "Say whether a token is set and whose it is.", H + "auth:status"),
    # scaffold ---------------------------------------------------------------------
    Command(
        ("scaffold",),
        "Write a starter project that runs a prediction (works offline).",
        H + "scaffold:scaffold",
        args=(
            Arg("prediction", "Prediction id or URL to base the project on.", complete="prediction"),
            Arg("dir", "Directory to create (default: the model's name).", required=False, complete="path"),
        ),
        flags=(Flag("--template", "template", "Project template.", choices=("node", "python"), complete="template"),),
        defaults={"template": "node"},
    ),
    # files, collections, search, webhooks -------------------------------------------
    Command(
        ("files", "upload"), "Upload a file.", H + "files:upload", args=(Arg("path", "Local file.", complete="path"),)
    ),
    Command(("files", "list"), "List your uploaded files.", H + "files:list_"),
    Command(
        ("files", "show"), "Show a file's metadata.", H + "files:show", args=(Arg("id", "File id.", complete="file"),)
    ),
    Command(
        ("files", "delete"),
        "Delete an uploaded file.",
        H + "files:delete",
        args=(Arg("id", "File id.", complete="file"),),
    ),
    Command(
        ("files", "download"),
        "Download a file's content.",
        H + "files:download",
        args=(
            Arg("id", "File id.", complete="file"),
            Arg("dest", "Where to write it (default: its name).", required=False, complete="path"),
        ),
    ),
    Command(("collections", "list"), "List model collections.", H + "collections:list_"),
    Command(
        ("collections", "show"),
        "Show a collection and its models.",
        H + "collections:show",
        args=(Arg("slug", "Collection slug.", complete="collection"),),
    ),
    Command(
        ("search",),
        "Search models, collections and docs.",
        H + "collections:search",
        args=(Arg("query", "Words to search for."),),
        flags=(Flag("--limit", "limit", "Most models to return (1-50).", type="int", metavar="N"),),
    ),
    Command(("webhooks", "secret"), "Show the signing secret for webhooks.", H + "account:webhook_secret"),
    # shell builtins -----------------------------------------------------------------
    Command(
        ("help",),
        "Show commands, or help for one.",
        H + "builtins:help_",
        args=(
            Arg("command", "A command.", required=False, complete="command"),
            Arg("sub", "Its subcommand.", required=False, complete="command"),
        ),
        network=False,
    ),
    Command(("vars",), "List named results.", H + "builtins:vars_", network=False),
    Command(
        ("show",),
        "Show a value: a variable and path, e.g. `show img.output[0]`.",
        H + "builtins:show",
        args=(Arg("expr", "name, name.path or _.", complete="variable"),),
        network=False,
    ),
    Command(
        ("unset",),
        "Forget a named result.",
        H + "builtins:unset",
        args=(Arg("name", "Variable name.", complete="variable"),),
        network=False,
    ),
    Command(
        ("history",),
        "List lines from this and earlier sessions (the last COUNT with a number).",
        H + "builtins:history",
        args=(Arg("count", "How many of the newest lines to list.", required=False),),
        network=False,
    ),
    Command(
        ("source",),
        "Run a session script in this session.",
        H + "builtins:source",
        args=(Arg("file", "Script path.", complete="path"),),
        network=False,
    ),
    Command(
        ("save",),
        "Write this session's successful statements as a script.",
        H + "builtins:save",
        args=(Arg("file", "Script path.", complete="path"),),
        network=False,
    ),
    Command(
        ("alias",),
        "Define an alias (`alias sdxl='run stability-ai/sdxl'`) or list them.",
        H + "builtins:alias",
        args=(Arg("definition", "NAME=WORDS", required=False),),
        network=False,
    ),
    Command(
        ("unalias",), "Remove an alias.", H + "builtins:unalias", args=(Arg("name", "Alias name."),), network=False
    ),
    Command(
        ("set",),
        "Set a shell option (`set` alone lists them).",
        H + "builtins:set_",
        args=(
            Arg("option", "Option name.", required=False, complete="option"),
            Arg("value", "New value.", required=False),
        ),
        network=False,
    ),
    Command(
        ("status",), "Show the host, account, session and predictions in flight.", H + "builtins:status", network=False
    ),
    Command(("exit",), "Leave the shell.", H + "builtins:exit_", network=False),
)

# Aliases --------------------------------------------------------------------------
# Group spellings: short forms and singular/plural both name the group.
GROUP_ALIASES: dict[str, str] = {
    "prediction": "prediction",
    "predictions": "prediction",
    "p": "prediction",
    "model": "model",
    "models": "model",
    "m": "model",
    "training": "training",
    "trainings": "training",
    "t": "training",
    "deployments": "deployments",
    "deployment": "deployments",
    "d": "deployments",
    "hardware": "hardware",
    "hw": "hardware",
    "account": "account",
    "accounts": "account",
    "a": "account",
    "auth": "auth",
    "files": "files",
    "file": "files",
    "collections": "collections",
    "collection": "collections",
    "webhooks": "webhooks",
    "webhook": "webhooks",
}
# Command aliases expand to words (the official CLI's `run`, `stream`, `train`).
COMMAND_ALIASES: dict[str, tuple[str, ...]] = {
    "run": ("prediction", "create"),
    "stream": ("prediction", "create", "--stream"),
    "train": ("training", "create"),
    "quit": ("exit",),
}

BY_PATH: dict[tuple[str, ...], Command] = {c.path: c for c in COMMANDS}
GROUPS: dict[str, list[Command]] = {}
for _c in COMMANDS:
    if len(_c.path) == 2:
        GROUPS.setdefault(_c.path[0], []).append(_c)
TOP_LEVEL: dict[str, Command] = {c.path[0]: c for c in COMMANDS if len(c.path) == 1}


def command_words() -> list[str]:
    """Every word that may start a command (for completion and did-you-mean)."""
    return sorted(set(GROUPS) | set(TOP_LEVEL) | set(GROUP_ALIASES) | set(COMMAND_ALIASES))


def expand_command_alias(words: list[str]) -> list[str]:
    """`run x` → `prediction create x`; a leading `replicate` is dropped."""
    if words and words[0] == "replicate":
        words = words[1:]
    if words and words[0] in COMMAND_ALIASES:
        return list(COMMAND_ALIASES[words[0]]) + words[1:]
    return words


def resolve(words: list[str]) -> tuple[Command, list[str]]:
    """Find the command named by the leading words; return it and the rest.

    `words` must already have user and command aliases expanded.
    """
    if not words:
        raise UsageError("empty command", "type `help` for the list of commands")
    head = words[0]
    if head in TOP_LEVEL:
        return TOP_LEVEL[head], words[1:]
    group = GROUP_ALIASES.get(head)
    if group is None:
        raise unknown("command", head, command_words())
    subs = {c.path[1]: c for c in GROUPS[group]}
    if len(words) < 2 or words[1].startswith("-"):
        raise UsageError(
            f"'{head}' needs a subcommand",
            f"one of: {', '.join(subs)} (e.g. `{group} {next(iter(subs))}`)",
        )
    if words[1] not in subs:
        raise unknown(f"{group} subcommand", words[1], list(subs))
    return subs[words[1]], words[2:]
