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


def test_file_inputs_are_rebased_as_the_line_reads_them() -> None:
    """The words a line's reading splits into file inputs, with the separator in force,
    are rebased; `api`'s fields are text it sends (`@home` is no file), and a templated
    path is none to move."""
    from pathlib import Path

    said = [
        "run a/b image:@data/p.png --separator :",
        "api POST /models owner=me name=x description=@home",
        "run a/b image=@{{p}}",
    ]
    kept = replayable(said, {}, OPTIONS, (Path("/work"), Path("/work/scripts"))).kept
    assert kept == ["run a/b image:@../data/p.png --separator :", said[1], said[2]]
    colon = replayable(["run a/b image:@data/p.png"], {}, {**OPTIONS, "separator": ":"}, (Path("/w"), Path("/w/s")))
    assert colon.kept == ["run a/b image:@../data/p.png"]


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
        "up ../note.txt",  # (`save` writes aliases from the session's table)
        "files download abc ../copy.txt",
        "run rshell/echo text=note.txt",
    ]


# -- issue 22 item 13: every statement save drops is listed, with the reason its command declares --


def test_lines_that_change_nothing_are_left_out_with_their_reason() -> None:
    said = [
        "set pager off",
        "set",
        "set separator :",
        "train --help",
        "deployments update --help",
        "training logs abc --follow",
        "!ls -la",
        "vars",
        "run a/b x:1",
    ]
    replay = replayable(said, {}, OPTIONS)
    assert replay.kept == ["set separator :", "run a/b x:1"]
    assert dict(replay.left_out) == {
        "set pager off": "only changes the interactive display",
        "set": "only shows something",
        "train --help": "only shows something",
        "deployments update --help": "only shows something",
        "training logs abc --follow": "only reads",
        "!ls -la": "a system command: add it by hand if the script needs it",
        "vars": "only shows something",
    }


def test_a_pipeline_into_a_system_command_is_kept() -> None:
    assert replayable(["run a/b x=1 | !jq .output"], {}, OPTIONS).kept == ["run a/b x=1 | !jq .output"]


def test_a_line_holding_a_token_is_listed_without_it(sandbox, tmp_path, monkeypatch) -> None:
    from rsh import rsh

    from rshell.session.state import Session

    monkeypatch.chdir(tmp_path)
    session = Session()
    api = (sandbox.url, sandbox.token)
    assert rsh("run rshell/echo text=r8_abcdefghijkl123", session=session, api=api).code == 0
    assert rsh("set separator :", session=session).code == 0
    done = rsh("save s.rsh", session=session)
    assert done.code == 0, done.stderr
    left = done.json["left_out"]
    assert [item["why"] for item in left] == ["holds a token: credentials stay out of scripts"]
    assert "r8_abc" not in done.stdout + done.stderr + (tmp_path / "s.rsh").read_text()
    assert left[0]["statement"] == "run …"
    assert "set separator :" in (tmp_path / "s.rsh").read_text()
