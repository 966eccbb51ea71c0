"""`prediction|training list|show|cancel`, one handler each for both kinds
(`commands/runs.py`): what still differs between the kinds, through the real path."""

from __future__ import annotations

import api_fixtures as fx
import pytest
from rsh import rsh

from rshell.commands import running

API = (fx.BASE, "r8_test_token_123456")


@pytest.fixture
def no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(running, "_has_browser", lambda: False)


def test_web_without_a_page_from_the_api_is_the_sites_page_for_a_training_only(api, no_browser) -> None:
    training = fx.training()
    training["urls"].pop("web", None)
    prediction = fx.prediction()
    prediction["urls"].pop("web")
    api.get(f"{fx.BASE}/trainings/{fx.TRAINING_ID}").respond(200, json=training)
    api.get(f"{fx.BASE}/predictions/{fx.PREDICTION_ID}").respond(200, json=prediction)

    shown = rsh(f"training show {fx.TRAINING_ID} --web", api=API)
    assert shown.code == 0 and f"https://replicate.com/p/{fx.TRAINING_ID}" in shown.stderr
    shown = rsh(f"prediction show {fx.PREDICTION_ID} --web", api=API)
    assert shown.code == 0 and "no web page for this object" in shown.stderr


def test_the_apis_own_page_wins_for_both_kinds(api, no_browser) -> None:
    training = fx.training(urls={"web": "https://replicate.com/t/own"})
    api.get(f"{fx.BASE}/trainings/{fx.TRAINING_ID}").respond(200, json=training)
    api.get(f"{fx.BASE}/predictions/{fx.PREDICTION_ID}").respond(200, json=fx.prediction())

    assert "https://replicate.com/t/own" in rsh(f"training show {fx.TRAINING_ID} --web", api=API).stderr
    shown = rsh(f"prediction show {fx.PREDICTION_ID} --web", api=API)
    assert f"https://replicate.com/p/{fx.PREDICTION_ID}" in shown.stderr


def test_only_prediction_list_sends_its_filters_and_each_empty_list_names_its_kind(api) -> None:
    predictions = api.get(f"{fx.BASE}/predictions").respond(200, json=fx.page([]))
    trainings = api.get(f"{fx.BASE}/trainings").respond(200, json=fx.page([]))

    listed = rsh("prediction list --since 2026-01-02T03:04:05Z --source web", api=API, json_mode=False)
    assert listed.code == 0 and listed.stdout.strip() == "no predictions"
    query = predictions.calls.last.request.url.params
    assert query["created_after"].startswith("2026-01-02T03:04:05") and query["source"] == "web"

    listed = rsh("training list", api=API, json_mode=False)
    assert listed.code == 0 and listed.stdout.strip() == "no trainings"
    assert not trainings.calls.last.request.url.params


def test_cancel_says_which_kind_it_canceled(api) -> None:
    api.post(f"{fx.BASE}/trainings/{fx.TRAINING_ID}/cancel").respond(200, json=fx.training("canceled"))
    api.post(f"{fx.BASE}/predictions/{fx.PREDICTION_ID}/cancel").respond(200, json=fx.prediction("canceled"))

    done = rsh(f"training cancel {fx.TRAINING_ID}", api=API, json_mode=False)
    assert done.stdout.strip() == f"training {fx.TRAINING_ID} canceled"
    done = rsh(f"prediction cancel {fx.PREDICTION_ID}", api=API, json_mode=False)
    assert done.stdout.strip() == f"prediction {fx.PREDICTION_ID} canceled"
