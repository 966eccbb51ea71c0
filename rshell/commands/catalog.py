"""Every rshell command, declared once.

Parsing (`arguments`), help (`help`), completion and `references/commands.md` are all
derived from the table below; adding a command means adding one `Command(...)` here
and its handler in the group's module.
"""

from __future__ import annotations

import msgspec

from rshell import writes
from rshell.commands.paging import MAX_PAGES
from rshell.commands.registry import HELP_WORDS, READS, SHOWS, Arg, Command, Flag, Save, never, unknown
from rshell.errors import UsageError
from rshell.session.state import OPTIONS

H = "rshell.commands."
_FLAG_TYPES = {"string": "str", "integer": "int", "array": "list", "object": "json"}


def body_flags(operation: str, *only: str) -> tuple[Flag, ...]:
    """The flags of an operation's body fields, generated from `rshell/writes.py`
    (in its order; `only` picks some by field name)."""
    return tuple(
        Flag(
            f.flag or "",
            f.name,
            f.help,
            type=_FLAG_TYPES[f.type],
            metavar=f.metavar,
            choices=f.items_enum or f.enum,
            complete=f.complete,
            required=f.flag_required,
        )
        for f in writes.flagged(operation)
        if not only or f.name in only
    )


IMAGE_EXPR = Arg("expr", "URL, file path, or name / name.path / _ (its first image); _ by default.", False, "variable")

# Flags shared by several commands -------------------------------------------------
WAIT = Flag(
    "--wait",
    "wait",
    "Wait for a terminal status (default for predictions); =SECONDS also holds the create request "
    "open that long (Prefer: wait=N, 1-60).",
    const=True,
    short="-w",
    optional=True,
    metavar="SECONDS",
    bounds=(1, 60),
)
NO_WAIT = Flag("--no-wait", "wait", "Return as soon as the API accepts the request.", const=False)
# A training is followed to its end or not at all: it has no sync mode, so no SECONDS.
WAIT_TO_END = msgspec.structs.replace(
    WAIT, help="Follow it to its end (trainings have no sync mode: no SECONDS).", optional=False
)
WEB = Flag("--web", "web", "Open the result's web page (prints it when no browser).", const=True)
EXIST_OK = Flag(
    "--exist-ok",
    "exist_ok",
    "Already there and the same (the flags given match it): not an error, so a script replays.",
    const=True,
)
# webhooks verify/listen: nothing on the server to make again when a script replays.
WEBHOOK_TOOL = never("reads, checks or receives webhooks: nothing to make again")
# A create that a replayed script meets again: `save` writes it with --exist-ok.
REPLAYS_EXISTING = Save(adds=EXIST_OK.name)


def option_flag(name: str, metavar: str = "") -> Flag:
    """The flag of a session option (`--file-encoding` of `file_encoding`): its help and
    choices are the option's, and left unset it takes the session's value."""
    option = OPTIONS[name]
    return Flag("--" + name.replace("_", "-"), name, option.help, choices=option.choices, metavar=metavar)


SEPARATOR = option_flag("separator", "SEP")
FILE_ENCODING = option_flag("file_encoding")
CANCEL_AFTER = Flag(
    "--cancel-after",
    "cancel_after",
    "Cancel it on the server after this long (30s, 5m, 1h30m; at least 5s).",
    type="duration",
    metavar="DURATION",
)
INPUTS = Arg("inputs", "Inputs as key=value; key=@path uploads a file.", required=False, inputs=True)
MODEL_REF = Arg("model", "owner/name, owner/name:version, or a version id.", complete="model")
# Every list takes these (rshell/commands/paging.py follows them).
PAGING = (
    Flag("--limit", "limit", "Show at most N results, fetching pages as needed.", type="int", metavar="N"),
    Flag("--all", "all", f"Every result (follows at most {MAX_PAGES} pages).", const=True),
    Flag("--cursor", "cursor", "Start at this page: a cursor, or the whole `next` URL.", metavar="CURSOR"),
)
INPUT_JSON = Flag(
    "--input-json",
    "input_json",
    "The whole input as a JSON object: @FILE, - (stdin) or inline; key=value words change it.",
    metavar="JSON",
    complete="path",
)
WEBHOOK_SECRET = Flag(
    "--secret", "secret", "The signing secret (whsec_…; default: the account's, `webhooks secret`).", metavar="SECRET"
)
WEBHOOK_TOLERANCE = Flag(
    "--tolerance",
    "tolerance",
    "Seconds a delivery's timestamp may be from now (default 300).",
    type="int",
    metavar="SECONDS",
)
SAVE = Flag("--save", "save", "Download every output file.", const=True)
OUTPUT_DIRECTORY = Flag(
    "--output-directory",
    "output_directory",
    "Where --save writes (default ./<prediction-id>).",
    metavar="DIR",
    complete="path",
)
# How a prediction is created and followed: `prediction create` and `rerun`.
RUN_FLAGS = (
    Flag("--stream", "stream", "Print output tokens as they arrive.", const=True),
    Flag("--no-stream", "stream", "Never stream, even a text model on a terminal.", const=False),
    WAIT,
    NO_WAIT,
    WEB,
    SAVE,
    OUTPUT_DIRECTORY,
    SEPARATOR,
    FILE_ENCODING,
)
RUN_DEFAULTS = {"wait": True, "separator": "=", "file_encoding": "url"}
RUN_EXCLUSIVE = (("--wait", "--no-wait"), ("--stream", "--no-stream"))
PREDICTION_ID = Arg(
    "id", "Prediction id, or a name bound to one (img, _); an id wins over a name.", complete="prediction"
)
TRAINING_ID = Arg("id", "Training id, or a name bound to one (job, _); an id wins over a name.", complete="training")
MODEL_NAME = Arg("model", "owner/name of a model.", complete="model")
DEPLOYMENT_NAME = Arg("name", "[owner/]name of the deployment (no owner: your account's).", complete="deployment")

COMMANDS: tuple[Command, ...] = (
    # predictions -----------------------------------------------------------------
    Command(
        ("prediction", "create"),
        "Run a model and print its output.",
        H + "predictions:create",
        args=(
            Arg("model", "owner/name, owner/name:version, or a version id.", required=False, complete="model"),
            msgspec.structs.replace(INPUTS, sweeps=True),
        ),
        flags=(
            *RUN_FLAGS,
            Flag(
                "--deployment",
                "deployment",
                "Run through a deployment (owner/name).",
                metavar="OWNER/NAME",
                complete="deployment",
            ),
            *body_flags("predictions.create"),
            CANCEL_AFTER,
            INPUT_JSON,
            Flag("--yes", "yes", "Run a sweep of more than 16 predictions (seed=1..20) without asking.", const=True),
        ),
        defaults=RUN_DEFAULTS,
        examples=(
            "run stability-ai/sdxl prompt='a red fox' --save",
            "stream meta/llama prompt=hi",
            "run owner/model --input-json @inputs.json seed=2",
            "run rshell/pixels prompt=fox seed=1..4 style=noise,blocks   # a sweep: 8 runs",
        ),
        aliases=("run", "stream --stream", "prediction new", "prediction run", "model run"),
        exclusive=RUN_EXCLUSIVE,
        kind="prediction",
    ),
    Command(
        ("prediction", "list"),
        "List recent predictions.",
        H + "runs:list_",
        flags=(
            Flag("--since", "since", "Only those created at or after this time (ISO 8601).", metavar="TIME"),
            Flag("--until", "until", "Only those created before this time (ISO 8601).", metavar="TIME"),
            Flag("--source", "source", "Only those created this way (the API knows `web`).", choices=("web",)),
            *PAGING,
        ),
        save=READS,
        kind="prediction",
    ),
    Command(
        ("prediction", "show"),
        "Show a prediction.",
        H + "runs:show",
        args=(PREDICTION_ID,),
        flags=(WEB,),
        aliases=("prediction view",),
        save=READS,
        kind="prediction",
    ),
    Command(
        ("prediction", "cancel"),
        "Cancel a running prediction.",
        H + "runs:cancel",
        args=(PREDICTION_ID,),
        kind="prediction",
    ),
    Command(
        ("prediction", "wait"),
        "Follow predictions that already exist to their end and print them as `run` does.",
        H + "existing:wait",
        args=(
            Arg(
                "ids",
                "Prediction ids, or names bound to them; an id wins over a name.",
                complete="prediction",
                many=True,
            ),
        ),
        examples=("prediction wait ufawqhfynnddngldkgtslldrkq",),
        save=READS,
    ),
    Command(
        ("prediction", "logs"),
        "Print a prediction's logs; --follow prints new lines until it ends.",
        H + "existing:logs",
        args=(PREDICTION_ID,),
        flags=(Flag("--follow", "follow", "Keep printing new log lines until the prediction ends.", const=True),),
        save=READS,
    ),
    Command(
        ("prediction", "save"),
        "Download a finished prediction's output files (what --save does for a run).",
        H + "existing:save",
        args=(PREDICTION_ID,),
        flags=(OUTPUT_DIRECTORY,),
    ),
    Command(
        ("rerun",),
        "Run a prediction again: the same model and inputs, with the key=value given changed.",
        H + "existing:rerun",
        args=(
            Arg("source", "A variable holding a prediction (or _), or a prediction id.", complete="variable"),
            INPUTS,
        ),
        flags=RUN_FLAGS,
        defaults=RUN_DEFAULTS,
        examples=("rerun img seed=43", "rerun ufawqhfynnddngldkgtslldrkq prompt='a blue fox' --save"),
        exclusive=RUN_EXCLUSIVE,
        kind="prediction",
    ),
    Command(
        ("wait",),
        "Follow bound runs (`bg = run … --no-wait`, a batch's rows) to their end and bind each name to the result.",
        H + "existing:wait_names",
        args=(
            Arg(
                "names",
                "Variables holding a prediction or training.",
                complete="variable",
                many=True,
                names_variable=True,
            ),
        ),
        examples=("bg = run owner/model prompt=hi --no-wait", "wait bg"),
    ),
    Command(
        ("batch",),
        "Run one model over many inputs, concurrently and resumably.",
        H + "batch:batch",
        args=(
            MODEL_REF,
            Arg(
                "defaults",
                "Inputs every row shares, as key=value.",
                required=False,
                inputs=True,
                partial_inputs=True,
                files=False,
            ),
        ),
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
        kind="prediction",
    ),
    # models ----------------------------------------------------------------------
    Command(
        ("model", "list"),
        "List public models.",
        H + "models:list_",
        flags=(
            Flag("--sort-by", "sort_by", "Sort field.", choices=("model_created_at", "latest_version_created_at")),
            Flag("--sort-direction", "sort_direction", "desc (newest first, default) or asc.", choices=("asc", "desc")),
            *PAGING,
        ),
        save=READS,
    ),
    Command(
        ("model", "show"),
        "Show a model (a :version is accepted and ignored, as the official CLI does).",
        H + "models:show",
        args=(MODEL_NAME,),
        flags=(WEB,),
        aliases=("model view",),
        save=READS,
    ),
    Command(
        ("model", "schema"),
        "Show a model version's inputs and output.",
        H + "models:schema",
        args=(MODEL_REF,),
        save=READS,
    ),
    Command(
        ("model", "create"),
        "Create a model.",
        H + "models:create",
        args=(MODEL_NAME,),
        flags=(
            Flag("--private", "visibility", "Only you can see the model (default).", const="private"),
            Flag("--public", "visibility", "Anyone can see and run the model.", const="public"),
            *body_flags("models.create"),
            EXIST_OK,
            WEB,
        ),
        defaults={"visibility": "private", "hardware": "cpu"},
        save=REPLAYS_EXISTING,
    ),
    Command(
        ("model", "update"),
        "Update a model's metadata.",
        H + "models:update",
        args=(MODEL_NAME,),
        flags=body_flags("models.update"),
    ),
    Command(("model", "delete"), "Delete a model (it must have no versions).", H + "models:delete", args=(MODEL_NAME,)),
    Command(
        ("model", "search"),
        "Search public models.",
        H + "models:search",
        args=(Arg("query", "Words to search for."),),
        flags=PAGING,
        save=READS,
    ),
    Command(
        ("model", "versions"),
        "List a model's versions.",
        H + "models:versions",
        args=(MODEL_NAME,),
        flags=PAGING,
        save=READS,
    ),
    Command(
        ("model", "versions", "show"),
        "Show one version of a model: its id, dates, Cog version and schema.",
        H + "models:versions_show",
        args=(Arg("version", "owner/name:version of the version to show.", complete="model"),),
        examples=("model versions show stability-ai/sdxl:39ed52f2",),
        save=READS,
    ),
    Command(
        ("model", "versions", "delete"),
        "Delete a version of a model you own.",
        H + "models:versions_delete",
        args=(Arg("version", "owner/name:version of the version to delete.", complete="model"),),
    ),
    Command(
        ("model", "readme"),
        "Show a model's README (rendered on a terminal; raw Markdown with --json or off one).",
        H + "models:readme",
        args=(MODEL_NAME,),
        save=READS,
    ),
    Command(
        ("model", "examples"),
        "List a model's example predictions.",
        H + "models:examples",
        args=(MODEL_NAME,),
        flags=PAGING,
        save=READS,
    ),
    # trainings -------------------------------------------------------------------
    Command(
        ("training", "create"),
        "Fine-tune a model version into a destination model.",
        H + "trainings:create",
        args=(MODEL_REF, INPUTS),
        flags=(
            *(msgspec.structs.replace(f, short="-d") for f in body_flags("trainings.create", "destination")),
            WAIT_TO_END,
            NO_WAIT,
            WEB,
            SEPARATOR,
            FILE_ENCODING,
            *body_flags("trainings.create", "webhook", "webhook_events_filter"),
        ),
        defaults={"wait": False, "separator": "=", "file_encoding": "url"},
        examples=("train owner/trainer:VERSION --destination me/my-model input_images=@data.zip",),
        aliases=("train", "training new", "training train"),
        exclusive=(("--wait", "--no-wait"),),
        kind="training",
    ),
    Command(
        ("training", "list"), "List recent trainings.", H + "runs:list_", flags=PAGING, save=READS, kind="training"
    ),
    Command(
        ("training", "show"),
        "Show a training.",
        H + "runs:show",
        args=(TRAINING_ID,),
        flags=(WEB,),
        aliases=("training view",),
        save=READS,
        kind="training",
    ),
    Command(
        ("training", "cancel"),
        "Cancel a running training.",
        H + "runs:cancel",
        args=(TRAINING_ID,),
        kind="training",
    ),
    Command(
        ("training", "logs"),
        "Print a training's logs; --follow prints new lines until it ends.",
        H + "existing:training_logs",
        args=(TRAINING_ID,),
        flags=(Flag("--follow", "follow", "Keep printing new log lines until the training ends.", const=True),),
        save=READS,
    ),
    # deployments -----------------------------------------------------------------
    Command(
        ("deployments", "create"),
        "Create a deployment of a model version.",
        H + "deployments:create",
        args=(Arg("name", "Name of the new deployment ([owner/]name; your account's)."),),
        flags=(*body_flags("deployments.create"), EXIST_OK, WEB),
        defaults={"hardware": "cpu", "min_instances": 0, "max_instances": 1},
        save=REPLAYS_EXISTING,
    ),
    Command(("deployments", "list"), "List your deployments.", H + "deployments:list_", flags=PAGING, save=READS),
    Command(
        ("deployments", "show"),
        "Show a deployment.",
        H + "deployments:show",
        args=(DEPLOYMENT_NAME,),
        flags=(WEB,),
        aliases=("deployments view",),
        save=READS,
    ),
    Command(
        ("deployments", "update"),
        "Change a deployment's version, hardware or scaling.",
        H + "deployments:update",
        args=(DEPLOYMENT_NAME,),
        flags=(*body_flags("deployments.update"), WEB),
    ),
    Command(
        ("deployments", "schema"),
        "Show the inputs and output of a deployment's current version.",
        H + "deployments:schema",
        args=(DEPLOYMENT_NAME,),
        save=READS,
    ),
    Command(
        ("deployments", "delete"),
        "Delete a deployment.",
        H + "deployments:delete",
        args=(DEPLOYMENT_NAME,),
    ),
    # hardware, account, auth -------------------------------------------------------
    Command(
        ("hardware", "list"),
        "List hardware SKUs for models and deployments.",
        H + "account:hardware_list",
        flags=(WEB,),
        save=READS,
    ),
    Command(
        ("account", "current"),
        "Show the account the token belongs to.",
        H + "account:current",
        flags=(WEB,),
        aliases=("account", "whoami", "profile"),
        save=READS,
    ),
    Command(
        ("auth", "login"),
        "Save an API token (checked against the API first).",
        H + "auth:login",
        flags=(Flag("--token-stdin", "token_stdin", "Read the token from standard input.", const=True),),
        save=never("signs in or out: credentials stay out of scripts"),
    ),
    Command(
        ("auth", "logout"),
        "Forget the saved API token.",
        H + "auth:logout",
        network=False,
        save=never("signs in or out: credentials stay out of scripts"),
    ),
    Command(("auth", "status"), "Say whether a token is set and whose it is.", H + "auth:status", save=READS),
    # scaffold ---------------------------------------------------------------------
    Command(
        ("scaffold",),
        "Write a starter project that runs a prediction (works offline).",
        H + "scaffold:scaffold",
        args=(
            Arg(
                "prediction",
                "Prediction id or URL to base the project on, or a name bound to one; an id wins over a name.",
                complete="prediction",
            ),
            Arg("dir", "Directory to create (default: the model's name).", required=False, complete="path"),
        ),
        flags=(
            Flag(
                "--template",
                "template",
                "Project template (nodejs and js also mean node).",
                choices=("node", "python"),
                synonyms=(("nodejs", "node"), ("js", "node")),
                short="-t",
            ),
        ),
        defaults={"template": "node"},
        save=never("writes a project folder once (it exists now)"),
    ),
    Command(
        ("completion",),
        "Print the tab-completion script for bash, zsh or fish (`source <(rshell completion bash)`).",
        H + "builtins:completion",
        args=(Arg("shell", "bash, zsh or fish."),),
        network=False,
        save=never("prints a completion script"),
    ),
    # files, collections, search, webhooks -------------------------------------------
    Command(
        ("files", "upload"),
        "Upload a file.",
        H + "files:upload",
        args=(Arg("path", "Local file.", complete="path", reads=True),),
        flags=body_flags("files.create"),
    ),
    Command(("files", "list"), "List your uploaded files.", H + "files:list_", flags=PAGING, save=READS),
    Command(
        ("files", "show"),
        "Show a file's metadata.",
        H + "files:show",
        args=(Arg("id", "File id.", complete="file"),),
        save=READS,
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
    Command(("collections", "list"), "List model collections.", H + "collections:list_", flags=PAGING, save=READS),
    Command(
        ("collections", "show"),
        "Show a collection and its models.",
        H + "collections:show",
        args=(Arg("slug", "Collection slug.", complete="collection"),),
        save=READS,
    ),
    Command(
        ("search",),
        "Search models, collections and docs.",
        H + "collections:search",
        args=(Arg("query", "Words to search for."),),
        flags=(Flag("--limit", "limit", "Most models to return (1-50).", type="int", metavar="N"),),
        save=READS,
    ),
    Command(("webhooks", "secret"), "Show the signing secret for webhooks.", H + "account:webhook_secret", save=READS),
    Command(
        ("webhooks", "verify"),
        "Check a saved delivery's signature (Standard Webhooks, as the official clients' validate_webhook).",
        H + "webhooks:verify",
        args=(
            Arg(
                "request",
                'A saved delivery, {"headers": {...}, "body": "..."} (webhooks listen --save); - or none reads stdin.',
                required=False,
                complete="path",
            ),
        ),
        flags=(WEBHOOK_SECRET, WEBHOOK_TOLERANCE),
        examples=("webhooks verify deliveries/0001-msg_abc.json", "webhooks verify --secret whsec_… < delivery.json"),
        save=WEBHOOK_TOOL,
    ),
    Command(
        ("webhooks", "listen"),
        "Receive webhooks on 127.0.0.1: verify and print each delivery (save it, forward it) until Ctrl-C.",
        H + "webhooks:listen",
        flags=(
            Flag("--port", "port", "Port to listen on (default: any free one, printed).", type="int", metavar="N"),
            Flag(
                "--forward",
                "forward",
                "POST each delivery on to this URL, headers and body unchanged.",
                metavar="URL",
            ),
            Flag(
                "--save",
                "save",
                "Write each delivery to DIR as JSON (what verify reads).",
                metavar="DIR",
                complete="path",
            ),
            Flag("--count", "count", "Stop after N deliveries.", type="int", metavar="N"),
            WEBHOOK_SECRET,
            WEBHOOK_TOLERANCE,
        ),
        examples=(
            "webhooks listen --port 8765 --forward http://localhost:3000/hooks",
            "run rshell/echo text=hi --webhook http://127.0.0.1:8765",
        ),
        save=WEBHOOK_TOOL,
    ),
    Command(
        ("api",),
        "Send any request to the API (as `gh api`): the token, retries and errors of every command; prints the JSON.",
        H + "rawapi:api",
        args=(
            Arg("method", "GET, POST, PUT, PATCH, DELETE or QUERY.", complete="api_method"),
            Arg("path", "A path of the API (/models/OWNER/NAME; /v1 may be left out).", complete="api_path"),
            Arg(
                "fields",
                "key=value fields: GET/DELETE query parameters, else a JSON body (numbers, true, [..] typed as JSON).",
                required=False,
                inputs=True,
            ),
        ),
        flags=(
            Flag(
                "--input",
                "input",
                "The request body from FILE (- reads stdin), sent as given.",
                metavar="FILE",
                complete="path",
                reads=True,
            ),
            Flag(
                "--paginate",
                "paginate",
                f"A GET list: follow `next` (at most {MAX_PAGES} pages), one list of results.",
                const=True,
            ),
        ),
        examples=(
            "api GET /account",
            "api GET /predictions --paginate",
            "api POST /models/rshell/echo/predictions --input body.json",
        ),
    ),
    # shell builtins -----------------------------------------------------------------
    Command(
        ("help",),
        "Show commands, or help for one.",
        H + "builtins:help_",
        args=(
            Arg("command", "A command.", required=False, complete="command"),
            Arg("sub", "Its subcommand.", required=False, complete="command"),
            Arg("subsub", "A subcommand of that (`help model versions delete`).", required=False),
        ),
        network=False,
        builtin=True,
        save=SHOWS,
    ),
    Command(("vars",), "List named results.", H + "builtins:vars_", network=False, builtin=True, save=SHOWS),
    Command(
        ("show",),
        "Show a value: a variable and path, e.g. `show img.output[0]`.",
        H + "builtins:show",
        args=(Arg("expr", "name, name.path or _.", complete="variable", names_variable=True),),
        network=False,
        builtin=True,
        save=SHOWS,
    ),
    Command(
        ("preview",),
        "Draw an image in the terminal (kitty, sixel, else half-blocks): an output URL, a file, or a result.",
        H + "preview:preview",
        args=(IMAGE_EXPR,),
        save=SHOWS,
    ),
    Command(
        ("open",),
        "Open an output URL, a file or a result's first image in the system viewer (prints the path without one).",
        H + "preview:open_",
        args=(IMAGE_EXPR,),
        save=SHOWS,
    ),
    Command(
        ("unset",),
        "Forget a named result.",
        H + "builtins:unset",
        args=(Arg("name", "Variable name.", complete="variable"),),
        network=False,
        builtin=True,
        scope="unset",
    ),
    Command(
        ("history",),
        "List lines from this and earlier sessions (the last COUNT with a number; → _3: the result it made).",
        H + "builtins:history",
        args=(Arg("count", "How many of the newest lines to list.", required=False),),
        network=False,
        builtin=True,
        save=SHOWS,
    ),
    Command(
        ("rerun-line",),
        "Run a line of `history` again; no N (or `!!`) runs the last line.",
        H + "builtins:rerun_line",
        args=(Arg("number", "The line's number in `history`.", required=False),),
        network=False,
        builtin=True,
        examples=("history 5", "rerun-line 42", "!!"),
        save=SHOWS,  # what it ran is kept as that line
    ),
    Command(
        ("source",),
        "Run a session script in this session.",
        H + "builtins:source",
        args=(Arg("file", "Script path.", complete="path", reads=True),),
        network=False,
        builtin=True,
        save=never("runs a script: its statements are saved one by one as they ran"),
        scope="source",
    ),
    Command(
        ("save",),
        "Write this session's successful statements as a script.",
        H + "builtins:save",
        args=(Arg("file", "Script path.", complete="path"),),
        network=False,
        builtin=True,
        save=never("writes this script"),
    ),
    Command(
        ("alias",),
        "Define an alias (`alias sdxl='run stability-ai/sdxl'`) or list them.",
        H + "builtins:alias",
        args=(Arg("definition", "NAME=WORDS", required=False),),
        network=False,
        builtin=True,
        save=never("aliases are written from the session's table"),
        scope="alias",
    ),
    Command(
        ("unalias",),
        "Remove an alias.",
        H + "builtins:unalias",
        args=(Arg("name", "Alias name.", complete="alias"),),
        network=False,
        builtin=True,
        save=never("aliases are written from the session's table"),
        scope="unalias",
    ),
    Command(
        ("set",),
        "Set a shell option (`set` alone lists them).",
        H + "builtins:set_",
        args=(
            Arg("option", "One of: " + ", ".join(OPTIONS) + ".", required=False, complete="option"),
            Arg(
                "value",
                "New value: " + "; ".join(f"{o.name} {'|'.join(o.values) or 'TEXT'}" for o in OPTIONS.values()) + ".",
                required=False,
            ),
        ),
        network=False,
        builtin=True,
        scope="set",
    ),
    Command(
        ("status",),
        "Show the host, account, session and predictions in flight.",
        H + "builtins:status",
        network=False,
        builtin=True,
        save=SHOWS,
    ),
    Command(
        ("exit",),
        "Leave the shell.",
        H + "builtins:exit_",
        network=False,
        builtin=True,
        aliases=("quit",),
        save=never("leaves the shell"),
    ),
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

BY_PATH: dict[tuple[str, ...], Command] = {c.path: c for c in COMMANDS}
GROUPS: dict[str, list[Command]] = {}
for _c in COMMANDS:
    if len(_c.path) == 2:
        GROUPS.setdefault(_c.path[0], []).append(_c)
# Three-word commands (`model versions delete`) hang under their two-word parent.
NESTED: dict[tuple[str, str], dict[str, Command]] = {}
for _c in COMMANDS:
    if len(_c.path) == 3:
        NESTED.setdefault((_c.path[0], _c.path[1]), {})[_c.path[2]] = _c
TOP_LEVEL: dict[str, Command] = {c.path[0]: c for c in COMMANDS if len(c.path) == 1}
PREFIX = "replicate"  # the official CLI's name, accepted before any command


def _alias_tables() -> tuple[dict[str, tuple[str, ...]], dict[tuple[str, str], tuple[str, ...]], dict[str, Command]]:
    """The commands' declared aliases, by shape: one word (`run`, `whoami`), a group
    and a word (`prediction new`, `model run`), a bare group (`account`)."""
    words: dict[str, tuple[str, ...]] = {}
    subwords: dict[tuple[str, str], tuple[str, ...]] = {}
    defaults: dict[str, Command] = {}
    for command in COMMANDS:
        for alias in command.aliases:
            names = [w for w in alias.split() if not w.startswith("-")]
            target = command.path + tuple(w for w in alias.split() if w.startswith("-"))
            if len(names) == 2:
                subwords[(GROUP_ALIASES[names[0]], names[1])] = target
            elif names[0] in GROUPS:
                defaults[names[0]] = command
            else:
                words[names[0]] = target
    return words, subwords, defaults


# Command aliases expand to words: the official CLI's `run`, `stream`, `train`, `whoami`…
COMMAND_ALIASES, SUBCOMMAND_ALIASES, GROUP_DEFAULTS = _alias_tables()


def command_words() -> list[str]:
    """Every word that may start a command (for completion and did-you-mean)."""
    return sorted(set(GROUPS) | set(TOP_LEVEL) | set(GROUP_ALIASES) | set(COMMAND_ALIASES))


def command_alias(words: list[str]) -> tuple[tuple[str, ...], int] | None:
    """The words a command alias at the start of `words` stands for, and how many
    words it takes: `run x` → (prediction create, 1), `p new x` → (prediction create, 2)."""
    if words and words[0] in COMMAND_ALIASES:
        return COMMAND_ALIASES[words[0]], 1
    if len(words) >= 2:
        target = SUBCOMMAND_ALIASES.get((GROUP_ALIASES.get(words[0], ""), words[1]))
        if target is not None:
            return target, 2
    return None


def expand_command_alias(words: list[str]) -> list[str]:
    """`run x` → `prediction create x`, `p new x` → `prediction create x`; a leading
    `replicate` is dropped."""
    if words and words[0] == PREFIX:
        words = words[1:]
    found = command_alias(words)
    return words if found is None else list(found[0]) + words[found[1] :]


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
        if HELP_WORDS & set(words[1:]):
            return TOP_LEVEL["help"], [group]  # `model --help` is `help model`
        if group in GROUP_DEFAULTS:
            return GROUP_DEFAULTS[group], words[1:]  # bare `account` is `account current`
        raise UsageError(
            f"'{head}' needs a subcommand",
            f"one of: {', '.join(subs)} (e.g. `{group} {next(iter(subs))}`)",
        )
    if words[1] not in subs:
        raise unknown(f"{group} subcommand", words[1], list(subs))
    nested = NESTED.get((group, words[1]), {})
    if len(words) > 2 and words[2] in nested:
        return nested[words[2]], words[3:]
    return subs[words[1]], words[2:]
