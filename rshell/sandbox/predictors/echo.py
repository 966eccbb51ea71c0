"""rshell/echo: returns its text, for tests, demos and chaining one output into the next."""

from __future__ import annotations

from rshell.sandbox.predictors.declare import Input
from rshell.sandbox.predictors.model import CogStyleModel, Job


class Echo(CogStyleModel):
    """Repeats its text; `data` comes back verbatim on a line of its own."""

    name = "rshell/echo"
    description = "Echoes its text (repeated, optionally upper-cased); handy for tests and chaining."
    official = True

    def run(
        self,
        job: Job,
        text: str = Input(description="The text to echo"),
        times: int = Input(description="How many times to repeat it", default=1, ge=1, le=10),
        upper: bool = Input(description="Upper-case the text", default=False),
        data: str = Input(
            description="Any extra string (e.g. JSON), returned unchanged on a line after the text", default=None
        ),
    ) -> str:
        job.check()
        word = text.upper() if upper else text
        job.log(f"echoing {len(text)} characters {times} time(s)")
        output = " ".join([word] * times)
        return output if data is None else f"{output}\n{data}"
