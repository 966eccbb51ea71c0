"""`batch`: rows from JSON Lines, CSV or a JSON list, validated before the first create,
run concurrently against a live sandbox, recorded in --output as they go, resumed
without creating any row twice (also after `kill -9`), and slowed, not failed, by 429s."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from needs import unavailable
from rsh import rshell_main
from sleeper_model import Sleeper

from rshell.client.api import ReplicateClient
from rshell.executor import Executor
from rshell.rendering.output import Output
from rshell.session.state import Session

MODEL = "bench/sleeper"


class DefaultedSleeper(Sleeper):
    """A Sleeper whose `seconds` has a default in its schema: the server fills it in and
    echoes it in every prediction's `input`, as the real API does with defaults."""

    def openapi_schema(self) -> dict[str, Any]:
        schema = super().openapi_schema()
        schema["components"]["schemas"]["Input"]["properties"]["seconds"]["default"] = self.seconds
        return schema


def start_sandbox(seconds: float, model_type: type[Sleeper] = Sleeper, **kwargs: Any) -> tuple[Any, Sleeper]:
    from rshell.sandbox.server import start

    model = model_type(seconds, MODEL)
    return start(predictors={MODEL: model}, **kwargs), model


@pytest.fixture
def quick():
    handle, model = start_sandbox(0.0, workers=8)
    try:
        yield handle, model
    finally:
        handle.stop()


def creates(handle: Any) -> list[dict[str, Any]]:
    return handle.sandbox.store.values("predictions")


def run_line(handle: Any, line: str, session: Session | None = None) -> tuple[int, str, str, Session]:
    session = session or Session()
    out = Output(io.StringIO(), io.StringIO(), json_mode=True)

    async def main() -> int:
        executor = Executor(session, out, lambda: ReplicateClient(handle.token, handle.url))
        try:
            return await executor.run_text(line)
        finally:
            await executor.aclose()

    code = asyncio.run(main())
    return code, out.stdout.getvalue(), out.stderr.getvalue(), session


def version(handle: Any) -> str:
    return f"{MODEL}:{handle.sandbox.latest_version(MODEL)['id']}"


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_a_bad_row_fails_before_anything_is_created_naming_the_row(quick, tmp_path):
    handle, _ = quick
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n{"x": "three"}\n')
    code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows}")
    assert code == 2
    assert f"{rows} row 3:" in err and "x" in err
    assert creates(handle) == []


def test_csv_rows_share_the_defaults_and_every_row_is_recorded(quick, tmp_path):
    handle, _ = quick
    rows = tmp_path / "rows.csv"
    rows.write_text("x\n1\n2\n3\n")
    out = tmp_path / "results.jsonl"
    code, stdout, err, session = run_line(
        handle, f"r = batch {version(handle)} seconds=0 --inputs {rows} --output {out} --concurrency 2"
    )
    assert code == 0, err
    final = [r for r in lines(out) if r["status"] not in ("sending", "created")]
    assert sorted(r["row"] for r in final) == [1, 2, 3]
    assert {r["row"]: r["input"] for r in final} == {n: {"seconds": 0, "x": n} for n in (1, 2, 3)}
    assert all(r["status"] == "succeeded" and r["output"] == f"slept x={r['row']}" and r["id"] for r in final)
    created = [r for r in lines(out) if r["status"] == "created"]
    assert {r["id"] for r in created} == {r["id"] for r in final}  # each id recorded before waiting
    assert [p["status"] for p in session.variables["r"]] == ["succeeded"] * 3
    from rshell.commands.builtins import describe

    assert describe(session.variables["r"]) == ("batch", "", "3 predictions: 3 succeeded")  # what `vars` shows
    assert json.loads(err.strip().splitlines()[-1])["succeeded"] == 3  # the JSON summary off a TTY


def test_a_json_list_on_stdin(quick, tmp_path, monkeypatch):
    handle, _ = quick
    monkeypatch.setattr(sys, "stdin", io.StringIO('[{"x": 5}, {"x": 6}]'))
    code, stdout, err, _ = run_line(handle, f"batch {version(handle)} --inputs -")
    assert code == 0, err
    assert sorted(p["output"] for p in json.loads(stdout)) == ["slept x=5", "slept x=6"]


def test_running_again_skips_finished_rows_and_follows_created_ones(quick, tmp_path):
    handle, _ = quick
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(1, 6)))
    out = tmp_path / "results.jsonl"
    assert run_line(handle, f"batch {version(handle)} --inputs {rows} --output {out}")[0] == 0
    assert len(creates(handle)) == 5
    # an earlier run that was stopped after creating row 6 but before it finished:
    rows.write_text(rows.read_text() + '{"x": 6}\n{"x": 7}\n')
    code, _, err, _ = run_line(handle, f"run {version(handle)} x=6 --no-wait")
    pid = next(p["id"] for p in creates(handle) if p["input"]["x"] == 6)
    with out.open("a") as handle_out:
        handle_out.write(json.dumps({"row": 6, "input": {"x": 6}, "id": pid, "status": "created"}) + "\n")
    code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows} --output {out}")
    assert code == 0, err
    assert sorted(p["input"]["x"] for p in creates(handle)) == [1, 2, 3, 4, 5, 6, 7]  # only row 7 is new
    last = {r["row"]: r for r in lines(out)}
    assert last[6]["id"] == pid and last[6]["status"] == "succeeded"
    assert json.loads(err.strip().splitlines()[-1])["skipped"] == 5


def test_a_row_killed_while_its_create_went_out_is_found_not_sent_again(quick, tmp_path):
    """The window `kill -9` can hit: the create reached the server, its answer never
    reached the output file. The rerun finds that prediction instead of creating a twin."""
    handle, _ = quick
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n{"x": 3}\n')
    out = tmp_path / "results.jsonl"
    same_input_before = run_line(handle, f"run {version(handle)} x=2 --no-wait")  # older than the batch
    assert same_input_before[0] == 0
    sent = datetime.now(UTC).isoformat()
    code, _, err, _ = run_line(handle, f"run {version(handle)} x=2 --no-wait")  # what the killed run sent
    assert code == 0, err
    pid = max((p for p in creates(handle) if p["input"]["x"] == 2), key=lambda p: p["created_at"])["id"]
    out.write_text(json.dumps({"row": 2, "input": {"x": 2}, "status": "sending", "at": sent}) + "\n")
    code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows} --output {out}")
    assert code == 0, err
    assert sorted(p["input"]["x"] for p in creates(handle)) == [1, 2, 2, 3]  # rows 1 and 3 only are new
    last = {r["row"]: r for r in lines(out)}
    assert last[2]["id"] == pid and last[2]["status"] == "succeeded"


def test_a_row_whose_create_never_arrived_is_created_on_the_rerun(quick, tmp_path):
    handle, _ = quick
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n')
    out = tmp_path / "results.jsonl"
    sent = datetime.now(UTC).isoformat()
    out.write_text(json.dumps({"row": 2, "input": {"x": 2}, "status": "sending", "at": sent}) + "\n")
    code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows} --output {out}")
    assert code == 0, err
    assert sorted(p["input"]["x"] for p in creates(handle)) == [1, 2]
    assert [r["status"] for r in lines(out) if r["row"] == 2] == ["sending", "sending", "created", "succeeded"]


def test_rate_limits_slow_the_batch_down_but_never_fail_it(tmp_path):
    handle, _ = start_sandbox(0.0, workers=8, rate_limit=4.0)
    try:
        rows = tmp_path / "rows.jsonl"
        rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(12)))
        code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows} --concurrency 8")
        assert code == 0, err
        assert json.loads(err.strip().splitlines()[-1])["retries"] > 0  # it did hit the limit, and counted it
        assert "429" not in err  # no notice per request: the summary says it
        assert len(creates(handle)) == 12
    finally:
        handle.stop()


@pytest.mark.parametrize("model_type", [Sleeper, DefaultedSleeper], ids=["inputs-spelled", "inputs-defaulted"])
def test_a_batch_killed_with_kill_9_and_run_again_runs_every_row_exactly_once(tmp_path, model_type):
    handle, model = start_sandbox(0.6, model_type, workers=4)
    try:
        rows = tmp_path / "rows.jsonl"
        rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(12)))
        out = tmp_path / "results.jsonl"
        env = {**os.environ, "REPLICATE_BASE_URL": handle.url, "REPLICATE_API_TOKEN": handle.token}
        command = [sys.executable, "-m", "rshell", "batch", version(handle), "--inputs", str(rows)]
        command += ["--output", str(out), "--concurrency", "4"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and first.poll() is None:
            recorded = lines(out) if out.exists() else []
            if sum(r["status"] not in ("sending", "created") for r in recorded) >= 2 and len(recorded) >= 6:
                break
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert len(creates(handle)) < 12  # it really was stopped part-way
        second = rshell_main(*command[3:], env=env)  # the rerun: `rshell batch …` again, in this process
        assert second.code == 0, second.stderr
        made = sorted(p["input"]["x"] for p in creates(handle))
        assert made == list(range(12))  # every row created exactly once, counted at the server
        last = {r["row"]: r for r in lines(out)}
        assert sorted(last) == list(range(1, 13)) and all(r["status"] == "succeeded" for r in last.values())
    finally:
        handle.stop()


def test_ctrl_c_cancels_every_prediction_in_flight_and_records_them(tmp_path):
    handle, _ = start_sandbox(30.0, workers=4)
    try:
        rows = tmp_path / "rows.jsonl"
        rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(6)))
        out_file = tmp_path / "results.jsonl"
        out = Output(io.StringIO(), io.StringIO(), json_mode=True)

        async def main() -> int:
            executor = Executor(Session(), out, lambda: ReplicateClient(handle.token, handle.url))
            task = asyncio.create_task(
                executor.run_text(f"batch {version(handle)} --inputs {rows} --output {out_file} --concurrency 3")
            )
            # the creates wait for their answer (Prefer: wait): the server holds all three
            while len(creates(handle)) < 3:
                await asyncio.sleep(0.02)
            task.cancel()  # what Ctrl-C does to the running statement
            try:
                return await task
            finally:
                await executor.aclose()

        assert asyncio.run(main()) == 130
        made = creates(handle)
        assert len(made) == 3 and all(p["status"] == "canceled" for p in made)  # canceled on the server
        last = {r["row"]: r for r in lines(out_file)}
        assert sorted(last) == [1, 2, 3] and all(r["status"] == "canceled" for r in last.values())
        assert "canceled 3 prediction(s) in flight" in out.stderr.getvalue()
    finally:
        handle.stop()


def test_a_lost_create_answer_is_not_sent_again_and_the_row_is_unknown(hostile, tmp_path):
    """Row 2's create reaches the server, which closes the connection unanswered: the
    create may have happened, so rshell neither re-sends it now nor on a rerun, and
    reports the row as unknown with the way to find out (`prediction list`)."""
    from hostile_server import hang_up, prediction, reply_json, run_rshell

    version = "a" * 64  # a bare version id: no model lookup, only creates

    def create(request):
        x = json.loads(request.body)["input"]["x"]
        if x == 2:
            return hang_up()
        return reply_json(prediction(f"row{x}", "succeeded", output=f"done {x}"), 201)

    hostile.route("POST /v1/predictions", create)
    for x in (1, 3):
        hostile.route(f"GET /v1/predictions/row{x}", reply_json(prediction(f"row{x}", "succeeded", output=f"done {x}")))
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n{"x": 3}\n')
    out = tmp_path / "results.jsonl"
    done = run_rshell(hostile, "-c", f"batch {version} --inputs {rows} --output {out} --concurrency 1", cwd=tmp_path)
    assert done.code == 1, done.stderr
    assert "prediction list" in done.stderr
    sent = [json.loads(r.body)["input"]["x"] for r in hostile.requests if r.method == "POST"]
    assert sorted(sent) == [1, 2, 3]  # row 2 sent once, never again
    final = {r["row"]: r for r in lines(out) if r["status"] not in ("sending", "created")}
    assert final[2]["status"] == "unknown" and final[2]["id"] is None
    assert "prediction list" in final[2]["error"]
    assert [final[1]["status"], final[3]["status"]] == ["succeeded", "succeeded"]

    again = run_rshell(hostile, "-c", f"batch {version} --inputs {rows} --output {out}", cwd=tmp_path)
    assert again.code == 1, again.stderr  # still unknown, still said
    assert "prediction list" in again.stderr
    assert sorted(json.loads(r.body)["input"]["x"] for r in hostile.requests if r.method == "POST") == [1, 2, 3]


def test_with_output_the_result_keeps_the_first_rows_and_the_file_every_row(quick, tmp_path, monkeypatch):
    """Memory stays flat: past KEPT rows only the file holds them, and the summary says so."""
    from rshell.commands import batch

    monkeypatch.setattr(batch, "KEPT", 2)
    handle, _ = quick
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(5)))
    out = tmp_path / "results.jsonl"
    code, stdout, err, session = run_line(
        handle, f"b = batch {version(handle)} seconds=0 --inputs {rows} --output {out}"
    )
    assert code == 0, err
    assert len(session.variables["b"]) == 2
    assert len({r["row"] for r in lines(out) if r["status"] == "succeeded"}) == 5
    code, _, err, session = run_line(handle, f"b = batch {version(handle)} seconds=0 --inputs {rows}")
    assert code == 0, err
    assert len(session.variables["b"]) == 5  # no file to hold them: the result keeps every row


def test_a_killed_rows_create_is_adopted_although_the_server_filled_in_defaults(sandbox, tmp_path):
    """The API echoes the model's defaults in a prediction's `input` (tinylm's
    `temperature`, `seed`): a row that left them out still finds its create after a kill,
    by the inputs it sent, and is not created a second time."""
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"prompt": "the cat", "max_tokens": 1}\n{"prompt": "a dog", "max_tokens": 1}\n')
    out = tmp_path / "results.jsonl"
    sent = datetime.now(UTC).isoformat()
    code, _, err, _ = run_line(sandbox, "run rshell/tinylm prompt='a dog' max_tokens=1 --no-wait")  # the killed send
    assert code == 0, err
    (made,) = creates(sandbox)
    assert made["input"]["temperature"] == 0.7  # the default, echoed by the server
    out.write_text(
        json.dumps({"row": 2, "input": {"prompt": "a dog", "max_tokens": 1}, "status": "sending", "at": sent}) + "\n"
    )
    code, _, err, _ = run_line(sandbox, f"batch rshell/tinylm --inputs {rows} --output {out}")
    assert code == 0, err
    assert sorted(p["input"]["prompt"] for p in creates(sandbox)) == ["a dog", "the cat"]  # row 2 not sent again
    last = {r["row"]: r for r in lines(out)}
    assert last[2]["id"] == made["id"] and last[2]["status"] == "succeeded"


def test_a_prediction_made_before_the_sending_mark_is_not_adopted(sandbox, tmp_path):
    """Same inputs, but created before the row's `sending` line (beyond the clock-skew
    margin): some other run's prediction, so the row is created."""
    from rshell.commands import batch

    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"prompt": "a dog", "max_tokens": 1}\n')
    out = tmp_path / "results.jsonl"
    code, _, err, _ = run_line(sandbox, "run rshell/tinylm prompt='a dog' max_tokens=1 --no-wait")
    assert code == 0, err
    later = (datetime.now(UTC) + timedelta(seconds=batch.SKEW + 60)).isoformat()
    out.write_text(
        json.dumps({"row": 1, "input": {"prompt": "a dog", "max_tokens": 1}, "status": "sending", "at": later}) + "\n"
    )
    code, _, err, _ = run_line(sandbox, f"batch rshell/tinylm --inputs {rows} --output {out}")
    assert code == 0, err
    assert len(creates(sandbox)) == 2


@pytest.fixture
def small_disk(tmp_path):
    """A real tmpfs of two pages (each saved `output.txt` takes one), mounted for the
    test and unmounted after; `grow()` gives it room again."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        unavailable("mounting a tmpfs needs root")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k,mode=0755", "tmpfs", str(mount)], check=True)
    try:
        yield mount, lambda: subprocess.run(["mount", "-o", "remount,size=1m", str(mount)], check=True)
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def saved_text(folder: Path) -> list[str]:
    """The non-empty files a row's --save left, by content."""
    return (
        sorted(p.read_text() for p in folder.iterdir() if p.is_file() and p.stat().st_size) if folder.is_dir() else []
    )


def test_rows_whose_files_were_not_saved_fail_the_batch_and_a_rerun_saves_them(quick, small_disk, tmp_path):
    handle, _ = quick
    disk, grow = small_disk
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n{"x": 3}\n')
    out = tmp_path / "results.jsonl"
    line = f"batch {version(handle)} --inputs {rows} --output {out} --save --output-directory {disk / 'files'}"
    code, _, err, _ = run_line(handle, line)
    assert code == 1, err
    assert "2 saved, 1 not saved: disk full" in err
    summary = json.loads(next(e for e in err.splitlines() if e.startswith("{")))
    assert summary["succeeded"] == 2 and summary["unsaved"] == 1
    unsaved = [n for n in (1, 2, 3) if not saved_text(disk / "files" / str(n))]
    assert len(unsaved) == 1
    assert len(creates(handle)) == 3

    grow()
    code, _, err, _ = run_line(handle, line)
    assert code == 0, err
    assert len(creates(handle)) == 3  # nothing created: the missing files come from the finished prediction
    assert all(saved_text(disk / "files" / str(n)) == [f"slept x={n}"] for n in (1, 2, 3))
    summary = json.loads(err.strip().splitlines()[-1])
    assert (summary["saved"], summary["skipped"], summary["unsaved"]) == (1, 2, 0)


def test_a_save_folder_that_is_a_file_fails_every_row_without_a_traceback(quick, tmp_path):
    handle, _ = quick
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n')
    blocker = tmp_path / "files"
    blocker.write_text("not a folder")
    code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows} --save --output-directory {blocker}")
    assert code == 1, err
    assert "0 saved, 2 not saved: " in err and "Traceback" not in err
    assert str(blocker) in err


def test_running_a_finished_batch_again_binds_its_rows(quick, tmp_path):
    handle, _ = quick
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"x": 1}\n{"x": 2}\n{"x": 3}\n')
    out = tmp_path / "results.jsonl"
    code, _, err, first = run_line(handle, f"b = batch {version(handle)} --inputs {rows} --output {out}")
    assert code == 0, err
    code, _, err, again = run_line(handle, f"b = batch {version(handle)} --inputs {rows} --output {out}")
    assert code == 0, err
    assert json.loads(err.strip().splitlines()[-1])["skipped"] == 3
    assert len(creates(handle)) == 3
    bound = again.variables["b"]
    assert [(p["id"], p["status"], p["output"]) for p in bound] == [
        (p["id"], p["status"], p["output"]) for p in sorted(first.variables["b"], key=lambda p: p["row"])
    ]
    assert [p["output"] for p in bound] == ["slept x=1", "slept x=2", "slept x=3"]


def test_a_killed_rows_look_back_never_takes_a_twin_row_created_by_the_rerun(tmp_path):
    """Two rows with the same input (the same prompt sampled twice); row 2 was killed
    before its create arrived. The rerun looks for row 2's create before it sends any
    new one, so row 1's fresh prediction (still running in its `Prefer: wait`) is
    never mistaken for it: both rows are created, each its own prediction."""
    handle, _ = start_sandbox(0.5, workers=4)
    try:
        rows = tmp_path / "rows.jsonl"
        rows.write_text('{"x": 1}\n{"x": 1}\n')
        out = tmp_path / "results.jsonl"
        sent = datetime.now(UTC).isoformat()
        out.write_text(json.dumps({"row": 2, "input": {"x": 1}, "status": "sending", "at": sent}) + "\n")
        code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows} --output {out}")
        assert code == 0, err
        assert len(creates(handle)) == 2
        last = {r["row"]: r for r in lines(out)}
        assert last[1]["id"] != last[2]["id"] and {last[1]["status"], last[2]["status"]} == {"succeeded"}
    finally:
        handle.stop()


def test_an_output_file_on_a_full_disk_stops_the_batch_in_one_line_naming_what_was_created(quick, small_disk, tmp_path):
    """The --output journal fills the disk mid-batch: no traceback per row, no row is
    started after that, and the predictions already made are named."""
    handle, _ = quick
    disk, _ = small_disk
    (disk / "filler").write_bytes(b"\0" * 4096)  # one of the two pages: the journal gets the other
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"x": n}) + "\n" for n in range(60)))
    out = disk / "results.jsonl"
    code, _, err, _ = run_line(handle, f"batch {version(handle)} --inputs {rows} --output {out}")
    assert code == 1, err
    assert f"cannot write {out}: disk full" in err
    assert "Traceback" not in err and "Task exception" not in err
    made = len(creates(handle))
    assert 0 < made < 60  # it stopped starting rows
    assert f"{made} prediction(s) this run created are on the server" in err
