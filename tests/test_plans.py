"""Issue 17: a `-c` line or a script is read into plans and checked whole before its
first create. Exit 2 means nothing was written: a later statement's error that the
grammar or a model's schema reveals stops the text before any create, upload or other
write (reads of schemas before it are fine). An error only the run can reveal (a
template path into a result that does not exist yet) exits 1.

Against the live sandbox (`counted` records every request it answers).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rsh import rsh, rshell_main

ROOT = Path(__file__).resolve().parents[1]
WRITES = ("POST ", "PATCH ", "PUT ", "DELETE ")


def writes(seen: list[str]) -> list[str]:
    return [line for line in seen if line.startswith(WRITES)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # a typo'd input key, found in the model's schema
        ("run rshell/echo text=a; run rshell/echo textt=b", "unknown input 'textt'"),
        # an out-of-range value
        ("run rshell/echo text=a; run rshell/echo text=b times=99", "times"),
        # a bad enum value
        ("run rshell/echo text=a; run rshell/upscale image=@pic.png scale=3", "scale"),
        # a missing required key
        ("run rshell/echo text=a; run rshell/echo times=2", "missing required input 'text'"),
        # a wrong type
        ("run rshell/echo text=a; run rshell/echo text=b times=many", "times"),
        # an undefined name in an expression argument
        ("run rshell/echo text=a; show nosuchname.output", "undefined variable 'nosuchname'"),
        ("run rshell/echo text=a; wait nosuchname", "undefined variable 'nosuchname'"),
        # an unknown flag
        ("run rshell/echo text=a; run rshell/echo text=b --bogus", "--bogus"),
        # a later stage of a pipeline
        ("run rshell/echo text=a | run rshell/echo textt={{.output}}", "unknown input 'textt'"),
        # a trainer's inputs (its TrainingInput schema)
        (
            "run rshell/echo text=a; "
            "train rshell/palette-trainer --destination sandbox/x input_images=@pic.png stepz=2",
            "unknown input 'stepz'",
        ),
        # a templated value still has a literal key
        ("a = run rshell/echo text=a; run rshell/echo texxt={{a.output}}", "unknown input 'texxt'"),
        # a bad option value
        ("run rshell/echo text=a; set stream sometimes", "option 'stream'"),
        # an alias defined earlier in the same text
        ("alias e='run rshell/echo'; e text=a; e text=b times=0", "times"),
        # a malformed model reference (read once, with the line: the run does not read it again)
        ("run rshell/echo text=a; run rshell/echo:: text=b", "expected owner/name[:version]"),
        ("run rshell/echo text=a; run text=b", "needs a model"),
        ("run rshell/echo text=a; run rshell/echo text=b --deployment sandbox/d", "not both"),
        ("run rshell/echo text=a; run text=b --deployment nodeployment", "expected owner/name for the deployment"),
        (f"run rshell/echo text=a; train {'a' * 64} --destination sandbox/x", "bare version id"),
        (
            "run rshell/echo text=a; train rshell/palette-trainer --destination nowhere input_images=@pic.png",
            "expected owner/name for the destination",
        ),
        # a sweep's value out of range (every value of an axis is checked)
        ("run rshell/echo text=a; run rshell/echo text=b times=9..11", "times"),
        # the whole input given as JSON: its keys against the schema, and JSON that is not an object
        ("""run rshell/echo text=a; run rshell/echo --input-json '{"textt": "b"}'""", "unknown input 'textt'"),
        ("run rshell/echo text=a; run rshell/echo --input-json '[1]'", "must be a JSON object"),
        ("run rshell/echo text=a; run rshell/echo --input-json @nosuch.json", "no such file"),
        # a file too large to inline as a data URL
        ("run rshell/echo text=a; run rshell/upscale image=@big.png --file-encoding data", "too large to inline"),
        # batch's shared inputs take no files
        ("run rshell/echo text=a; batch rshell/upscale image=@pic.png --inputs rows.jsonl", "takes no @file inputs"),
        # a local file a later line reads (declared `Arg`/`Flag(reads=True)`)
        ("run rshell/echo text=a; files upload nosuch.txt", "no such file"),
        ("run rshell/echo text=a; api POST /predictions --input @nosuch.json", "no such file"),
        ("run rshell/echo text=a; source nosuch.rsh", "no such file"),
        # a training's --wait takes no seconds (trainings have no sync mode)
        (
            "run rshell/echo text=a; "
            "train rshell/palette-trainer --destination sandbox/x input_images=@pic.png --wait=30",
            "--wait takes no value",
        ),
        # a sweep of more than 16 runs without --yes, where no one can be asked
        ("run rshell/echo text=a; run rshell/echo text=b times=1..10 upper=true,false", "this sweep runs 20"),
    ],
)
def test_a_later_error_the_schema_or_grammar_reveals_exits_2_with_nothing_written(
    counted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    handle, seen = counted
    monkeypatch.chdir(tmp_path)
    from rshell.sandbox.predictors.png import encode

    (tmp_path / "pic.png").write_bytes(encode(2, 2, [b"\xff\x00\x00" * 2] * 2))
    (tmp_path / "big.png").write_bytes(b"\0" * (1024 * 1024 + 1))
    (tmp_path / "rows.jsonl").write_text('{"scale": 2}\n')
    done = rsh(text, api=(handle.url, handle.token))
    assert done.code == 2, done.stderr
    assert message in done.stderr
    assert writes(seen) == []


def test_a_script_whose_line_two_has_a_bad_key_creates_nothing(counted, tmp_path: Path) -> None:
    handle, seen = counted
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "PYTHONPATH": str(ROOT),
        "REPLICATE_BASE_URL": handle.url,
        "REPLICATE_API_TOKEN": handle.token,
    }
    script = tmp_path / "s.rsh"
    script.write_text("run rshell/echo text=1\nrun rshell/pixels prompt=fox widht=32\n")
    done = rshell_main(str(script), env=env, cwd=tmp_path)  # `rshell s.rsh`, through cli.main here
    assert done.code == 2, done.stderr
    assert "s.rsh:2: unknown input 'widht'" in done.stderr
    assert writes(seen) == []


def test_the_schemas_are_read_before_the_first_create(counted) -> None:
    handle, seen = counted
    done = rsh("run rshell/echo text=a; run rshell/pixels prompt=b width=32", api=(handle.url, handle.token))
    assert done.code == 0, done.stderr
    first_write = next(i for i, line in enumerate(seen) if line.startswith(WRITES))
    assert any("/models/rshell/pixels" in line for line in seen[:first_write])


def test_a_path_into_a_result_that_does_not_exist_yet_is_a_runtime_error(counted) -> None:
    handle, seen = counted
    done = rsh("a = run rshell/echo text=x; run rshell/echo text={{a.nosuch}}", api=(handle.url, handle.token))
    assert done.code == 1, done.stderr
    assert len(writes(seen)) == 1  # the first ran; the second could not be known wrong before it


def test_a_model_an_earlier_line_changes_is_checked_when_it_runs(counted, tmp_path: Path) -> None:
    """A training writes a new version into its destination: what that model takes is
    known only then, so its line is not refused against today's schema."""
    handle, seen = counted
    palette = ROOT / "examples" / "data" / "palette.zip"
    text = (
        "model create sandbox/mine --hardware cpu --private; "
        f"train rshell/palette-trainer --destination sandbox/mine input_images=@{palette} --wait; "
        "run sandbox/mine prompt=x"
    )
    done = rsh(text, api=(handle.url, handle.token))
    assert "unknown input" not in done.stderr
    assert any(line.startswith("POST ") and "trainings" in line for line in seen)


@pytest.mark.parametrize(
    ("text", "creates"),
    [
        # a sweep after a first write: its axis is many values, not one text the schema refuses
        ("run rshell/echo text=a; run rshell/echo text=b times=1..2", 3),
        # a templated --input-json is read when it runs
        ("""j = run rshell/echo text='{"text": "b"}'; run rshell/echo --input-json={{j.output}}""", 2),
        # the whole input as JSON gives a required key the words leave out
        ("""run rshell/echo text=a; run rshell/echo --input-json '{"text": "b"}' times=2""", 2),
        # `set separator :` does not reach batch, which has no --separator: its words stay key=value
        ("set separator :; batch rshell/echo times=2 --inputs rows.jsonl", 1),
        # `api`'s fields are not model inputs: `@x` is text it sends, not a file to read
        ("api POST /models owner=sandbox name=at-text hardware=cpu visibility=private description=@home", 1),
    ],
)
def test_what_precheck_accepts_is_what_the_run_accepts(
    counted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, creates: int
) -> None:
    """Precheck reads the plan's inputs as the run does: one split, never a second
    reading of the words that disagrees with it."""
    handle, seen = counted
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.jsonl").write_text('{"text": "row"}\n')
    done = rsh(text, api=(handle.url, handle.token))
    assert done.code == 0, done.stderr
    assert len(writes(seen)) == creates


def test_a_templated_value_is_text_even_when_it_starts_with_an_at(counted) -> None:
    """Whether an input names a file is read from the word as typed: `text={{a.output}}`
    sends a's output as it is, `@` and all, instead of reading a file of that name
    after earlier lines already created their runs."""
    handle, seen = counted
    done = rsh("a = run rshell/echo text=@@hi; b = run rshell/echo text={{a.output}}", api=(handle.url, handle.token))
    assert done.code == 0, done.stderr
    assert done.data["input"]["text"] == "@hi"
    assert done.data["output"] == "@hi"
