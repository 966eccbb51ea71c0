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
    ],
)
def test_a_later_error_the_schema_or_grammar_reveals_exits_2_with_nothing_written(
    counted, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    handle, seen = counted
    monkeypatch.chdir(tmp_path)
    from rshell.sandbox.predictors.png import encode

    (tmp_path / "pic.png").write_bytes(encode(2, 2, [b"\xff\x00\x00" * 2] * 2))
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
