"""Runs that already exist, against a live sandbox: `prediction wait|logs|save`,
`rerun NAME|ID`, `wait NAME` (rebinding), and vars/show marking snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rsh import rsh
from sleeper_model import Sleeper

from rshell.sandbox.predictors.base import RunContext
from rshell.session.state import Session

MODEL = "bench/sleeper"


class Logger(Sleeper):
    """A Sleeper that writes three log lines before it sleeps."""

    def predict(self, inputs: dict[str, Any], run: RunContext, weights: dict[str, Any] | None = None) -> str:
        for n in range(3):
            run.log(f"step {n}")
        return super().predict(inputs, run, weights)


@pytest.fixture
def live():
    from rshell.sandbox.server import start

    seen: list[str] = []
    handle = start(
        predictors={MODEL: Logger(0.3, MODEL)}, workers=4, observe=lambda method, path, *_: seen.append(path)
    )
    handle.seen = seen  # every request it answered, for "nothing was sent"
    try:
        yield handle
    finally:
        handle.stop()


class Shell:
    """One session against the sandbox; `run(line)` → (exit code, stdout, stderr)."""

    def __init__(self, handle: Any, *, json_mode: bool = False) -> None:
        self.handle = handle
        self.session = Session()
        self.json_mode = json_mode

    def run(self, text: str) -> tuple[int, str, str]:
        ran = rsh(text, session=self.session, api=(self.handle.url, self.handle.token), json_mode=self.json_mode)
        return ran.code, ran.stdout, ran.stderr

    @property
    def ref(self) -> str:
        return f"{MODEL}:{self.handle.sandbox.latest_version(MODEL)['id']}"

    def created(self) -> list[dict[str, Any]]:
        return self.handle.sandbox.store.values("predictions")


def test_prediction_wait_follows_an_existing_prediction_and_prints_like_run(live) -> None:
    shell = Shell(live)
    assert shell.run(f"bg = run {shell.ref} x=1 --no-wait")[0] == 0
    assert shell.session.variables["bg"]["status"] in ("starting", "processing")
    code, out, err = shell.run(f"prediction wait {shell.session.variables['bg']['id']}")
    assert code == 0, err
    assert out.strip() == "slept x=1"
    assert "succeeded" in err  # run's finished line
    assert shell.session.last["status"] == "succeeded"


def test_prediction_wait_takes_several_ids_and_binds_the_list(live) -> None:
    shell = Shell(live, json_mode=True)
    shell.run(f"a = run {shell.ref} x=1 --no-wait; b = run {shell.ref} x=2 --no-wait")
    ids = [shell.session.variables[n]["id"] for n in ("a", "b")]
    code, out, err = shell.run(f"both = prediction wait {ids[0]} {ids[1]}")
    assert code == 0, err
    both = shell.session.variables["both"]
    assert [p["id"] for p in both] == ids
    assert [p["output"] for p in both] == ["slept x=1", "slept x=2"]
    assert json.loads(out)[1]["status"] == "succeeded"


def test_prediction_wait_needs_an_id() -> None:
    from rshell.commands import catalog
    from rshell.commands.arguments import parse_args
    from rshell.errors import UsageError

    command, rest = catalog.resolve(["prediction", "wait"])
    with pytest.raises(UsageError, match="needs <ids>"):
        parse_args(command, rest)
    assert parse_args(command, ["a", "b", "c"]).values["ids"] == ["a", "b", "c"]


def test_wait_name_rebinds_a_no_wait_run_and_vars_stops_calling_it_a_snapshot(live) -> None:
    shell = Shell(live)
    shell.run(f"bg = run {shell.ref} x=7 --no-wait")
    code, listing, _ = shell.run("vars")
    assert code == 0
    assert "(snapshot, status starting — `wait bg`)" in listing or "(snapshot, status processing" in listing
    code, _, err = shell.run("show bg.status")
    assert "snapshot" in err and "`wait bg`" in err
    code, out, err = shell.run("wait bg")
    assert code == 0, err
    assert out.strip() == "slept x=7"
    assert shell.session.variables["bg"]["status"] == "succeeded"
    assert shell.session.variables["bg"]["output"] == "slept x=7"
    assert shell.session.in_flight == {}
    assert "snapshot" not in shell.run("vars")[1]
    assert "snapshot" not in shell.run("show bg.status")[2]


def test_wait_checks_every_name_before_any_request(live) -> None:
    shell = Shell(live)
    shell.run(f"bg = run {shell.ref} x=1 --no-wait")
    shell.session.variables["plain"] = {"a": 1}
    before = len(live.sandbox.store.values("predictions"))
    requests = _count_requests(live)
    code, _, err = shell.run("wait bg plain")
    assert code == 2
    assert "'plain' holds no prediction or training" in err
    code, _, err = shell.run("wait bg nosuch")
    assert code == 2 and "undefined variable 'nosuch'" in err
    assert len(live.sandbox.store.values("predictions")) == before
    assert _count_requests(live) == requests
    assert shell.session.variables["bg"]["status"] != "succeeded"  # nothing rebound


def _count_requests(handle: Any) -> int:
    """Requests the sandbox has answered so far."""
    return len(handle.seen)


def test_prediction_logs_prints_them_and_follow_streams_until_the_end(live) -> None:
    shell = Shell(live, json_mode=False)
    shell.run(f"bg = run {shell.ref} x=1 seconds=0.5 --no-wait")
    pid = shell.session.variables["bg"]["id"]
    code, out, err = shell.run(f"prediction logs {pid} --follow")
    assert code == 0, err
    assert out.splitlines() == ["step 0", "step 1", "step 2"]
    code, out, err = shell.run(f"prediction logs {pid}")  # finished now: all of them, once
    assert code == 0, err
    assert out.splitlines() == ["step 0", "step 1", "step 2"]


def test_prediction_save_downloads_a_finished_predictions_files(sandbox, tmp_path: Path) -> None:
    shell = Shell(sandbox, json_mode=True)
    assert shell.run("img = run rshell/pixels prompt=fox width=16 height=16")[0] == 0
    pid = shell.session.variables["img"]["id"]
    target = tmp_path / "saved"
    code, out, err = shell.run(f"prediction save {pid} --output-directory {target}")
    assert code == 0, err
    saved = sorted(p.name for p in target.iterdir())
    assert saved and all(name.endswith(".png") for name in saved), saved
    assert (target / saved[0]).read_bytes().startswith(b"\x89PNG")


def test_prediction_save_of_an_unfinished_prediction_says_what_to_do(live, tmp_path: Path) -> None:
    shell = Shell(live)
    shell.run(f"bg = run {shell.ref} x=1 seconds=5 --no-wait")
    pid = shell.session.variables["bg"]["id"]
    code, _, err = shell.run(f"prediction save {pid} --output-directory {tmp_path / 'x'}")
    assert code == 1
    assert "no output to save yet" in err and f"prediction wait {pid}" in err
    assert not (tmp_path / "x").exists()
    shell.run(f"prediction cancel {pid}")


def test_rerun_a_variable_changes_only_the_inputs_given(live) -> None:
    shell = Shell(live, json_mode=True)
    assert shell.run(f"a = run {shell.ref} x=1 seconds=0")[0] == 0
    code, out, err = shell.run("b = rerun a x=2")
    assert code == 0, err
    a, b = shell.session.variables["a"], shell.session.variables["b"]
    assert b["id"] != a["id"]
    assert b["input"] == {"x": 2, "seconds": 0}
    assert b["version"] == a["version"]
    assert b["output"] == "slept x=2"


def test_rerun_an_id_and_a_bad_input_creates_nothing(live) -> None:
    shell = Shell(live, json_mode=True)
    shell.run(f"a = run {shell.ref} x=1 seconds=0")
    pid = shell.session.variables["a"]["id"]
    code, _, err = shell.run(f"rerun {pid} x=three")
    assert code == 2, err
    assert len(shell.created()) == 1
    code, out, err = shell.run(f"rerun {pid}")
    assert code == 0, err
    assert json.loads(out)["input"] == {"x": 1, "seconds": 0}
    assert len(shell.created()) == 2


def test_rerun_of_something_that_is_no_prediction(live) -> None:
    shell = Shell(live)
    shell.session.variables["m"] = {"owner": "a", "name": "b", "visibility": "public"}
    code, _, err = shell.run("rerun m")
    assert code == 2 and "'m' holds no prediction" in err
    code, _, err = shell.run("rerun nosuchthing")
    assert code == 1 and "neither a variable nor a prediction id" in err


def test_ctrl_c_in_prediction_wait_stops_waiting_and_leaves_the_prediction_running(api, sleeps) -> None:
    """Unlike `run`, the run was not started here: Ctrl-C must not cancel it."""
    import api_fixtures as fx
    from rsh import BASE, mocked
    from test_cmd_predictions import unstreamed

    from rshell.errors import Interrupted

    pid = fx.PREDICTION_ID
    api.get(f"{BASE}/models/stability-ai/sdxl/versions/{fx.VERSION_ID}").respond(200, json=fx.version())
    get = api.get(f"{BASE}/predictions/{pid}").respond(200, json=unstreamed("processing"))
    session = Session()
    ran = mocked(f"prediction wait {pid}", session=session, interrupt_when=lambda: get.call_count >= 3)
    assert ran.code == 130 and isinstance(ran.error, Interrupted), ran.errors
    error = ran.error
    assert not any(c.request.url.path.endswith("/cancel") for c in api.calls)  # never canceled
    assert "stopped waiting" in error.message and "processing" in error.message
    assert f"prediction cancel {pid}" in (error.hint or "")
    # through the executor the still-running prediction is bound to `_`, so the session
    # keeps it in flight (`exit` asks about it); the handler alone had dropped it
    assert session.in_flight == {pid: "prediction"} and ran.data["status"] == "processing"


def test_rerun_of_an_official_models_prediction_runs_it_by_name(sandbox) -> None:
    """An official model's prediction says version "hidden": rerun goes by name."""
    shell = Shell(sandbox, json_mode=True)
    assert shell.run("a = run rshell/echo text=hi")[0] == 0
    code, out, err = shell.run("b = rerun a upper=true")
    assert code == 0, err
    a, b = shell.session.variables["a"], shell.session.variables["b"]
    assert b["model"] == a["model"] == "rshell/echo"
    assert b["input"] == {**a["input"], "upper": True}
    assert b["output"] == "HI"
    code, out, err = shell.run(f"prediction wait {a['id']} {b['id']}")
    assert code == 0, err
    assert [p["output"] for p in json.loads(out)] == ["hi", "HI"]


def test_wait_follows_a_bound_training_too_and_rebinds_it(api, sleeps) -> None:
    import api_fixtures as fx
    from rsh import BASE, mocked

    tid = fx.TRAINING_ID
    get = api.get(f"{BASE}/trainings/{tid}")
    get.side_effect = [
        httpx_json(fx.training("processing")),
        httpx_json(fx.training("processing")),
        httpx_json(fx.training("succeeded")),
    ]
    session = Session()
    session.variables["t"] = fx.training("starting")
    ran = mocked("wait t", session=session)
    assert ran.code == 0, ran.stderr
    assert get.call_count == 3  # polled to the end
    assert session.variables["t"]["status"] == "succeeded"
    assert f"training {tid} succeeded" in ran.stderr


def httpx_json(body: dict[str, Any]) -> Any:
    import httpx

    return httpx.Response(200, json=body)


def test_prediction_wait_streams_a_text_streams_tokens_on_a_terminal(api, sleeps) -> None:
    """`prediction wait` on a language model's prediction prints tokens as they
    arrive on a terminal (as `run` does), and off a terminal the joined output at the end."""
    import api_fixtures as fx
    from rsh import BASE, mocked

    pid, llm = fx.PREDICTION_ID, "meta/llama"
    stream_url = f"https://stream.replicate.com/v1/files/{pid}-stream"
    running = fx.prediction("processing", model=llm, version=fx.LLM_VERSION_ID)
    done = fx.prediction("succeeded", model=llm, version=fx.LLM_VERSION_ID, output=["Hel", "lo"])
    sse = {"Content-Type": "text/event-stream"}
    api.get(url__regex=rf"{BASE}/models/meta/llama/versions/.*").respond(
        200, json=fx.model("meta", "llama", llm=True)["latest_version"]
    )
    stream = api.get(stream_url).respond(
        200, content=fx.sse_body([("output", "Hel"), ("output", "lo"), ("done", "{}")]), headers=sse
    )
    api.get(f"{BASE}/predictions/{pid}").mock(
        side_effect=[httpx_json(running), httpx_json(done), httpx_json(running), httpx_json(done)]
    )
    tty = mocked(f"prediction wait {pid}", stdout_tty=True)
    assert tty.code == 0, tty.errors
    assert stream.call_count == 1
    assert tty.stdout == "Hello\n"  # printed as it came (then the line ends), not again at the end
    piped = mocked(f"prediction wait {pid}")
    assert piped.code == 0, piped.errors
    assert piped.stdout.strip() == "Hello"  # off a terminal: the result's joined text, once


def test_training_logs_prints_them_and_follow_polls_to_the_end(api, sleeps) -> None:
    """`training logs ID [--follow]` is `prediction logs` for a training."""
    import api_fixtures as fx
    from rsh import BASE, mocked

    tid = fx.TRAINING_ID
    get = api.get(f"{BASE}/trainings/{tid}")
    get.side_effect = [
        httpx_json(fx.training("processing", logs="step 1\n")),
        httpx_json(fx.training("processing", logs="step 1\nstep 2\n")),
        httpx_json(fx.training("succeeded", logs="step 1\nstep 2\nstep 3\n")),
        httpx_json(fx.training("succeeded", logs="step 1\nstep 2\nstep 3\n")),
    ]
    followed = mocked(f"training logs {tid} --follow")
    assert followed.code == 0, followed.errors
    assert followed.stdout.splitlines() == ["step 1", "step 2", "step 3"]
    again = mocked(f"training logs {tid}")
    assert get.call_count == 4
    assert again.code == 0 and again.stdout == "step 1\nstep 2\nstep 3\n"


def test_wait_on_a_bound_batch_follows_every_unfinished_row_and_rebinds_the_list(live) -> None:
    shell = Shell(live)
    shell.run("; ".join(f"r{n} = run {shell.ref} x={n} --no-wait" for n in range(3)))
    ids = [shell.session.variables[f"r{n}"]["id"] for n in range(3)]
    done = {"row": 4, "id": "alreadyfinished", "status": "failed", "output": None, "error": "boom"}
    shell.session.variables["b"] = [
        {"row": n + 1, "id": pid, "status": "starting", "output": None, "error": None} for n, pid in enumerate(ids)
    ] + [done]
    before = len(live.seen)
    code, out, err = shell.run("wait b")
    assert code == 1  # one row had failed before: the list is not all succeeded
    assert "1 of 4 rows of b did not succeed" in err
    rows = shell.session.variables["b"]
    assert [r["status"] for r in rows] == ["succeeded", "succeeded", "succeeded", "failed"]
    assert [r["output"] for r in rows[:3]] == ["slept x=0", "slept x=1", "slept x=2"]
    assert [r["row"] for r in rows] == [1, 2, 3, 4]  # a batch row stays a batch row
    assert rows[3] == done
    assert not any("alreadyfinished" in path for path in live.seen[before:])  # a finished row costs no request
    assert "b: 4 predictions: 3 succeeded, 1 failed" in out


def test_wait_on_a_batch_follows_its_rows_at_once(api, sleeps) -> None:
    """Row A's second poll answers only once row B has been asked about: followed one
    after the other, A would never finish (the wait_for bounds that hang)."""
    import asyncio

    import api_fixtures as fx
    from rsh import BASE, mocked

    asked_b = asyncio.Event()

    def body(pid: str, status: str) -> dict[str, Any]:
        urls = {"get": f"{BASE}/predictions/{pid}", "cancel": f"{BASE}/predictions/{pid}/cancel"}
        return fx.prediction(status, prediction_id=pid, urls=urls)

    calls = {"a": 0}

    async def get_a(request: Any) -> Any:
        calls["a"] += 1
        if calls["a"] == 1:
            return httpx_json(body("a", "processing"))
        await asyncio.wait_for(asked_b.wait(), 5)
        return httpx_json(body("a", "succeeded"))

    def get_b(request: Any) -> Any:
        asked_b.set()
        return httpx_json(body("b", "succeeded"))

    api.get(f"{BASE}/predictions/a").mock(side_effect=get_a)
    api.get(f"{BASE}/predictions/b").mock(side_effect=get_b)
    session = Session()
    session.variables["b"] = [
        {"row": 1, "id": "a", "status": "processing", "output": None, "error": None},
        {"row": 2, "id": "b", "status": "starting", "output": None, "error": None},
    ]
    result = mocked("wait b", session=session)
    assert result.code == 0, result.errors
    assert [r["status"] for r in session.variables["b"]] == ["succeeded", "succeeded"]


def test_ctrl_c_in_wait_on_a_batch_stops_waiting_and_cancels_nothing(api, sleeps) -> None:
    import api_fixtures as fx
    from rsh import BASE, mocked
    from test_cmd_predictions import unstreamed

    from rshell.errors import Interrupted

    pid = fx.PREDICTION_ID
    rows = [{"row": 1, "id": pid, "status": "processing", "output": None, "error": None}]
    get = api.get(f"{BASE}/predictions/{pid}").respond(200, json=unstreamed("processing"))
    session = Session()
    session.variables["b"] = rows
    ran = mocked("wait b", session=session, interrupt_when=lambda: get.call_count >= 3)
    assert ran.code == 130 and isinstance(ran.error, Interrupted), ran.errors
    assert not any(c.request.url.path.endswith("/cancel") for c in api.calls)  # canceled nothing
    assert "stopped waiting for b" in ran.error.message and "`wait b`" in (ran.error.hint or "")
    assert session.variables["b"] is rows  # nothing rebound
