"""What `save` keeps of a session (rshell/commands/replay.py), statement by statement."""

from __future__ import annotations

from rshell.commands.replay import replayable

OPTIONS = {"separator": "="}


def test_reads_and_run_once_commands_are_left_out_with_their_reason() -> None:
    said = ["model list", "model schema a/b", "hardware list", "run a/b x=1", "auth logout", "prediction show abc"]
    replay = replayable(said, {}, OPTIONS)
    assert replay.kept == ["run a/b x=1"]
    assert dict(replay.left_out) == {
        "model list": "only reads",
        "model schema a/b": "only reads",
        "hardware list": "only reads",
        "auth logout": "signs in or out: credentials stay out of scripts",
        "prediction show abc": "only reads",
    }


def test_a_read_whose_result_a_later_line_uses_is_kept() -> None:
    said = ["m = model show a/b", "model show c/d", "run a/b:{{m.latest_version.id}} x=1"]
    assert replayable(said, {}, OPTIONS).kept == ["m = model show a/b", "run a/b:{{m.latest_version.id}} x=1"]


def test_a_training_followed_by_more_lines_waits_before_a_trailing_comment() -> None:
    said = ["train t/r --destination me/x steps=2  # first", "run me/x p=1", "train t/r --destination me/x"]
    kept = replayable(said, {}, OPTIONS).kept
    assert kept == [
        "train t/r --destination me/x steps=2 --wait  # first",
        "run me/x p=1",
        "train t/r --destination me/x",
    ]


def test_a_training_that_already_waits_is_unchanged() -> None:
    said = ["train t/r --destination me/x --wait", "run me/x"]
    assert replayable(said, {}, OPTIONS).kept == said


def test_a_run_a_later_line_needs_drops_no_wait() -> None:
    said = ["bg = run a/b --no-wait k=1", "run e/f --no-wait", "run c/d x={{bg.output}}"]
    assert replayable(said, {}, OPTIONS).kept == ["bg = run a/b k=1", "run e/f --no-wait", "run c/d x={{bg.output}}"]


def test_aliases_resolve_before_deciding() -> None:
    replay = replayable(["ls", "gen p=1"], {"ls": "model list", "gen": "run a/b"}, OPTIONS)
    assert replay.kept == ["gen p=1"] and replay.left_out == [("ls", "only reads")]


def test_relative_file_inputs_are_rewritten_for_the_scripts_folder() -> None:
    from pathlib import Path

    said = ["run a/b image=@data/p.png mask=@/abs/m.png face=@~/f.png tag=@@lit", 'run a/b image="@quoted name.png"']
    kept = replayable(said, {}, OPTIONS, (Path("/work"), Path("/work/scripts"))).kept
    assert kept == ["run a/b image=@../data/p.png mask=@/abs/m.png face=@~/f.png tag=@@lit", said[1]]
    assert replayable(said, {}, OPTIONS, (Path("/work"), Path("/work"))).kept == said


def test_path_arguments_are_rebased_for_the_scripts_folder_like_at_paths() -> None:
    from pathlib import Path

    lines = [
        "f = files upload data/note.txt",
        "files upload /abs/x.txt",  # absolute: as it is
        "files upload {{f.id}}",  # a template is no path to move
        "alias up='files upload'",
        "up note.txt",  # through a user alias
        "files download abc copy.txt",
        "run rshell/echo text=note.txt",  # an input that is not a path
    ]
    kept = replayable(lines, {"up": "files upload"}, {}, (Path("/w"), Path("/w/sub"))).kept
    assert kept == [
        "f = files upload ../data/note.txt",
        "files upload /abs/x.txt",
        "files upload {{f.id}}",
        "alias up='files upload'",
        "up ../note.txt",
        "files download abc ../copy.txt",
        "run rshell/echo text=note.txt",
    ]
