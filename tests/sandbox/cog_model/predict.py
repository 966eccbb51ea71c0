"""A tiny real Cog predictor that tests/sandbox/test_cog_attach.py serves with Cog."""

import tempfile
import time

from cog import BasePredictor, Input, Path


class Predictor(BasePredictor):
    def predict(
        self,
        text: str = Input(description="Text to write into the output file"),
        times: int = Input(description="How many lines to write", default=1, ge=1, le=5),
        style: str = Input(description="Letter case", default="plain", choices=["plain", "shout"]),
        attachment: Path = Input(description="An optional file whose size is reported", default=None),
        sleep: float = Input(description="Seconds to wait first", default=0.0, ge=0, le=30),
    ) -> Path:
        print(f"writing {times} line(s)")
        end = time.time() + sleep
        while time.time() < end:
            time.sleep(0.02)
        line = text.upper() if style == "shout" else text
        body = "\n".join([line] * times)
        if attachment is not None:
            body += f"\nattachment: {len(Path(attachment).read_bytes())} bytes"
        out = Path(tempfile.mkdtemp()) / "result.txt"
        out.write_text(body + "\n")
        return out
