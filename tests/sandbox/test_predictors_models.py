"""The built-in models produce real outputs, survive unvalidated inputs, and stop when canceled."""

from __future__ import annotations

import io
import itertools
import struct
import zipfile
import zlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rshell.sandbox.predictors import BUILTIN, Cancelled, MemoryRun, PredictionError, tinylm
from rshell.sandbox.predictors.png import decode, encode
from rshell.sandbox.predictors.tinylm import TinyLM


class CancelAfterLogs(MemoryRun):
    """A run that asks to stop once it has seen `n` log lines."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def log(self, text: str) -> None:
        super().log(text)
        if len(self.logs) >= self.n:
            self.cancel()


class FakeClock:
    """Virtual time for tinylm's pauses: a sleep advances it at once, and `on_sleep`
    lets a test act in the middle of a pause (a cancel arriving)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.on_sleep: Any = None

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """tinylm's clock, under the test's control."""
    fake = FakeClock()
    monkeypatch.setattr(tinylm, "time", fake)
    return fake


def png_header(data: bytes) -> tuple[int, int, int]:
    """(width, height, colour type) read straight from the bytes, checking they are a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert depth == 8
    return width, height, colour


def idat_size(data: bytes) -> int:
    """Bytes of decompressed image data, found by walking the chunks independently."""
    pos, compressed = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] == b"IDAT":
            compressed += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return len(zlib.decompress(compressed))


def solid_png(colour: tuple[int, int, int], width: int = 8, height: int = 8) -> bytes:
    return encode(width, height, [bytes(colour) * width] * height)


def pixels_of(data: bytes) -> set[tuple[int, ...]]:
    return set(decode(data).pixels())


def predict(
    name: str, inputs: dict[str, Any], run: MemoryRun | None = None, weights: dict[str, Any] | None = None
) -> Any:
    return BUILTIN[name].predict(inputs, run or MemoryRun(), weights)


# rshell/pixels -------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["gradient", "blocks", "noise"])
def test_pixels_writes_real_pngs_of_the_asked_size(style: str) -> None:
    run = MemoryRun()
    urls = predict(
        "rshell/pixels", {"prompt": "a red fox", "width": 40, "height": 24, "num_outputs": 2, "style": style}, run
    )
    assert len(urls) == 2 and len(set(urls)) == 2
    for url in urls:
        data, filename, content_type = run.files[url]
        assert content_type == "image/png" and filename.endswith(".png")
        assert png_header(data) == (40, 24, 2)
        assert idat_size(data) == 24 * (1 + 3 * 40)


def test_pixels_are_a_function_of_prompt_and_seed() -> None:
    def image(**inputs: Any) -> bytes:
        run = MemoryRun()
        (url,) = predict("rshell/pixels", {"width": 16, "height": 16, "style": "noise", **inputs}, run)
        return run.files[url][0]

    assert image(prompt="fox", seed=1) == image(prompt="fox", seed=1)
    assert image(prompt="fox", seed=1) != image(prompt="fox", seed=2)
    assert image(prompt="fox", seed=1) != image(prompt="owl", seed=1)
    assert image(prompt="fox") == image(prompt="fox")  # no seed: derived from the prompt


def test_pixels_logs_tqdm_style_progress() -> None:
    run = MemoryRun()
    predict("rshell/pixels", {"prompt": "x", "num_outputs": 2, "seed": 7}, run)
    assert run.logs == ["Using seed: 7", " 50%|█████     | 1/2", "100%|██████████| 2/2"]


@pytest.mark.parametrize("style", ["gradient", "blocks", "noise"])
def test_pixels_with_trained_weights_draw_only_in_the_palette(style: str) -> None:
    palette = [[200, 30, 30], [20, 20, 220], [250, 250, 250]]
    run = MemoryRun()
    urls = predict(
        "rshell/pixels", {"prompt": "x", "style": style, "width": 32, "height": 32}, run, weights={"palette": palette}
    )
    colours = pixels_of(run.files[urls[0]][0])
    if style == "gradient":  # blends between palette stops: every channel stays in range
        for c in range(3):
            low, high = min(p[c] for p in palette), max(p[c] for p in palette)
            assert all(low <= pixel[c] <= high for pixel in colours)
    else:
        assert colours <= {tuple(p) for p in palette} and len(colours) > 1


# rshell/upscale ------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 4])
def test_upscale_multiplies_the_size_by_nearest_neighbour(scale: int) -> None:
    run = MemoryRun()
    (source,) = predict("rshell/pixels", {"prompt": "tile", "width": 17, "height": 16, "style": "noise"}, run)
    url = predict("rshell/upscale", {"image": source, "scale": scale}, run)
    small, big = decode(run.files[source][0]), decode(run.files[url][0])
    assert png_header(run.files[url][0])[:2] == (17 * scale, 16 * scale)
    for y in range(big.height):
        for x in range(0, big.width, 5):
            assert big.rows[y][3 * x : 3 * x + 3] == small.rows[y // scale][3 * (x // scale) : 3 * (x // scale) + 3]


def test_upscale_keeps_an_alpha_channel_and_reads_data_urls() -> None:
    import base64

    rgba = encode(3, 2, [bytes([1, 2, 3, 4]) * 3, bytes([5, 6, 7, 8]) * 3], channels=4)
    run = MemoryRun()
    url = predict("rshell/upscale", {"image": "data:image/png;base64," + base64.b64encode(rgba).decode()}, run)
    image = decode(run.files[url][0])
    assert (image.width, image.height, image.channels) == (6, 4, 4)
    assert image.rows[3] == bytes([5, 6, 7, 8]) * 6


def test_upscale_refuses_a_non_png_with_one_line() -> None:
    run = MemoryRun()
    jpeg = run.save_file(b"\xff\xd8\xff\xe0 not really a jpeg", "photo.jpg", "image/jpeg")
    with pytest.raises(PredictionError) as caught:
        predict("rshell/upscale", {"image": jpeg}, run)
    assert "not a PNG" in str(caught.value) and "\n" not in str(caught.value)


# rshell/tinylm -------------------------------------------------------------------------


def fast_tinylm() -> TinyLM:
    model = TinyLM()
    model.token_delay = 0.0
    return model


def test_tinylm_streams_deterministic_tokens_given_a_seed() -> None:
    model = fast_tinylm()
    first = list(model.predict({"prompt": "tell me", "seed": 42, "max_tokens": 20}, MemoryRun()))
    again = list(model.predict({"prompt": "tell me", "seed": 42, "max_tokens": 20}, MemoryRun()))
    other = list(model.predict({"prompt": "tell me", "seed": 43, "max_tokens": 20}, MemoryRun()))
    assert first == again and first != other
    assert len(first) == 20 and all(t.startswith(" ") for t in first[1:]) and not first[0].startswith(" ")


def test_tinylm_at_temperature_zero_continues_the_prompt_greedily() -> None:
    model = fast_tinylm()
    a = list(model.predict({"prompt": "the", "temperature": 0, "seed": 1, "max_tokens": 6}, MemoryRun()))
    b = list(model.predict({"prompt": "the", "temperature": 0, "seed": 99, "max_tokens": 6}, MemoryRun()))
    assert a == b


def test_tinylm_near_zero_temperature_picks_only_the_likeliest_words() -> None:
    from rshell.sandbox.predictors.tinylm import TABLE

    words = [
        t.strip()
        for t in fast_tinylm().predict(
            {"prompt": "the", "seed": 5, "max_tokens": 40, "temperature": 0.001}, MemoryRun()
        )
    ]
    assert len(words) == 40
    for before, after in itertools.pairwise(words):
        followers = TABLE.get(before)
        if followers:  # a dead end restarts anywhere
            assert followers[after] == max(followers.values())


def test_tinylm_tokens_arrive_one_at_a_time(clock: FakeClock) -> None:
    stream = BUILTIN["rshell/tinylm"].predict({"prompt": "go", "max_tokens": 6, "seed": 3}, MemoryRun())
    arrivals = [clock.now for _ in stream]  # the virtual time at which each token is handed over
    # the first at once, then one per pause: streamed as made, not all made and then handed over
    assert arrivals == pytest.approx([i * TinyLM.token_delay for i in range(6)])


# rshell/echo ---------------------------------------------------------------------------


def test_echo_repeats_and_returns_data_verbatim() -> None:
    assert predict("rshell/echo", {"text": "hi"}) == "hi"
    assert predict("rshell/echo", {"text": "hi", "times": 3, "upper": True}) == "HI HI HI"
    assert predict("rshell/echo", {"text": "a", "data": '{"k": [1, "two"]}'}) == 'a\n{"k": [1, "two"]}'


def test_echo_coerces_and_clamps_what_the_server_might_let_through() -> None:
    assert predict("rshell/echo", {"text": "x", "times": "2", "upper": "false", "extra": 1}) == "x x"
    assert predict("rshell/echo", {"text": "x", "times": 99}) == " ".join(["x"] * 10)
    assert predict("rshell/echo", {"text": 5, "times": 2.0}) == "5 5"
    assert predict("rshell/echo", {"text": "x", "data": {"a": 1}}) == 'x\n{"a": 1}'


@pytest.mark.parametrize(
    "inputs,words",
    [
        ({}, "input text is required"),
        ({"text": None}, "input text is required"),
        ({"text": "x", "times": "lots"}, "input times must be an integer"),
        ({"text": "x", "upper": "maybe"}, "input upper must be true or false"),
    ],
)
def test_echo_fails_cleanly_on_unusable_inputs(inputs: dict[str, Any], words: str) -> None:
    with pytest.raises(PredictionError, match=words):
        predict("rshell/echo", inputs)


def test_choices_outside_the_list_fail_with_the_allowed_values() -> None:
    with pytest.raises(PredictionError, match="style must be one of gradient, blocks, noise"):
        predict("rshell/pixels", {"prompt": "x", "style": "sketch"})


# rshell/palette-trainer ----------------------------------------------------------------


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_trainer_learns_the_colours_of_the_zipped_images() -> None:
    red, blue = (230, 10, 10), (10, 10, 230)
    half = encode(8, 8, [bytes(red) * 8] * 2 + [bytes(blue) * 8] * 6)  # 16 red, 48 blue pixels
    clear = encode(4, 4, [bytes([0, 255, 0, 0]) * 4] * 4, channels=4)  # fully transparent green
    run = MemoryRun()
    archive = run.save_file(
        zip_of({"a.png": half, "more/b.png": solid_png(blue), "c.png": clear, "notes.txt": b"ignored"}),
        "images.zip",
        "application/zip",
    )
    result = predict("rshell/palette-trainer", {"input_images": archive, "steps": 3}, run)
    assert result == {"weights": {"palette": [list(blue), list(red)]}, "predictor": "pixels"}
    assert sum(1 for line in run.logs if line.startswith("step ")) == 3


def test_a_trained_palette_drives_pixels() -> None:
    run = MemoryRun()
    colours = [(250, 200, 0), (0, 120, 60), (90, 0, 90)]
    images = {f"{i}.png": solid_png(c, 6, 6) for i, c in enumerate(colours)}
    archive = run.save_file(zip_of(images), "set.zip", "application/zip")
    trained = predict("rshell/palette-trainer", {"input_images": archive, "steps": 5}, run)
    assert sorted(map(tuple, trained["weights"]["palette"])) == sorted(colours)
    (url,) = predict("rshell/pixels", {"prompt": "p", "style": "blocks"}, run, weights=trained["weights"])
    assert pixels_of(run.files[url][0]) <= set(colours)


@pytest.mark.parametrize(
    "content,words",
    [
        (b"not a zip", "not a zip archive"),
        (zip_of({"readme.txt": b"hi"}), "no PNG images"),
        (zip_of({"broken.png": b"\x89PNG\r\n\x1a\nrubbish"}), "no PNG images"),
    ],
)
def test_trainer_refuses_archives_without_readable_pngs(content: bytes, words: str) -> None:
    run = MemoryRun()
    url = run.save_file(content, "in.zip", "application/zip")
    with pytest.raises(PredictionError, match=words):
        predict("rshell/palette-trainer", {"input_images": url}, run)


# cancellation --------------------------------------------------------------------------


def test_pixels_stops_early_and_keeps_the_images_it_made() -> None:
    run = CancelAfterLogs(2)  # the seed line, then the first image's progress
    with pytest.raises(Cancelled) as caught:
        predict("rshell/pixels", {"prompt": "x", "num_outputs": 4, "seed": 1}, run)
    assert len(caught.value.output) == 1 and caught.value.output[0] in run.files
    assert len(run.files) == 1


def test_trainer_stops_between_steps() -> None:
    run = CancelAfterLogs(3)
    archive = run.save_file(zip_of({"a.png": solid_png((1, 2, 3))}), "a.zip", "application/zip")
    with pytest.raises(Cancelled):
        predict("rshell/palette-trainer", {"input_images": archive, "steps": 50}, run)
    assert sum(1 for line in run.logs if line.startswith("step ")) < 3


def test_tinylm_stops_streaming_when_canceled(clock: FakeClock) -> None:
    run = MemoryRun()
    stream = BUILTIN["rshell/tinylm"].predict({"prompt": "go", "max_tokens": 200}, run)
    tokens = [next(stream), next(stream)]
    clock.on_sleep = run.cancel  # the cancel arrives in the middle of the next pause
    paused_at = clock.now
    with pytest.raises(Cancelled):
        tokens.extend(stream)
    assert len(tokens) == 2
    assert clock.now - paused_at < TinyLM.token_delay  # woke early rather than sitting the pause out


@pytest.mark.parametrize(
    "name,inputs",
    [
        ("rshell/echo", {"text": "x"}),
        ("rshell/upscale", {"image": "data:image/png;base64,"}),
    ],
)
def test_a_run_canceled_before_it_starts_does_no_work(name: str, inputs: dict[str, Any]) -> None:
    run = MemoryRun()
    if name == "rshell/upscale":
        inputs = {"image": run.save_file(solid_png((1, 1, 1), 16, 16), "a.png", "image/png")}
    run.cancel()
    with pytest.raises(Cancelled):
        predict(name, inputs, run)
    assert len(run.files) == (1 if name == "rshell/upscale" else 0)


# unvalidated inputs --------------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["gradient", "4", "2", "true", "data:,x", "memory://nope"]),
    st.lists(st.integers(-3, 600), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.mark.parametrize("name", sorted(BUILTIN))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_models_never_crash_on_unvalidated_inputs(name: str, data: st.DataObject) -> None:
    model = fast_tinylm() if name == "rshell/tinylm" else BUILTIN[name]
    fields = [f.name for f in model.fields()]  # type: ignore[attr-defined]
    inputs = data.draw(st.dictionaries(st.sampled_from(fields + ["unknown"]), junk, max_size=len(fields) + 1))
    if "prompt" in fields and data.draw(st.booleans()):
        inputs["prompt"] = "ok"
    weights = data.draw(st.one_of(st.none(), st.fixed_dictionaries({"palette": junk})))
    try:
        result = model.predict(inputs, MemoryRun(), weights)
        if name == "rshell/tinylm":
            result = list(result)
    except PredictionError as exc:
        assert str(exc) and "\n" not in str(exc)
