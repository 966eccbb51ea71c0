"""rshell/tinylm: a bigram "language model" that streams words like an LLM streams tokens.

Its point is streaming: tokens arrive one at a time with a small delay so SSE, the
REPL's live printing and cancellation can be observed. Given a seed, the stream is
deterministic.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import cast

from rshell.sandbox.predictors.declare import ConcatenateIterator, Input
from rshell.sandbox.predictors.model import CogStyleModel, Job
from rshell.sandbox.predictors.pixels import seed_from

CORPUS = """
the shell reads a line and the shell runs the model . the model writes a token and
the token becomes a word on the screen . a small model runs on the local machine and
the local server streams every word as it arrives . the user waits for the answer
and the answer arrives one word at a time . a prediction starts , the prediction
runs , and the prediction succeeds or fails or is canceled . the server keeps the
logs and the files and the output of every run . a version of the model has a schema
and the schema names every input . the user types a prompt and the prompt seeds the
story . every story ends when the tokens run out or the user presses control c .
"""


def bigrams(text: str) -> dict[str, dict[str, int]]:
    """word -> following word -> count, in first-seen order (for stable greedy picks)."""
    table: dict[str, dict[str, int]] = defaultdict(dict)
    words = text.split()
    for a, b in itertools.pairwise(words):
        table[a][b] = table[a].get(b, 0) + 1
    return dict(table)


TABLE = bigrams(CORPUS)
STARTS = sorted(TABLE)


def next_word(rng: random.Random, word: str, temperature: float) -> str:
    """Sample the follower of `word`; temperature 0 picks the most frequent one."""
    followers = TABLE.get(word)
    if not followers:
        return rng.choice(STARTS)
    if temperature <= 0:
        return max(followers, key=lambda w: followers[w])
    top = max(followers.values())  # (count/top)^(1/T): never overflows, however small T
    weights = [math.exp(math.log(count / top) / temperature) for count in followers.values()]
    return rng.choices(list(followers), weights=weights)[0]


def first_word(rng: random.Random, prompt: str) -> str:
    """Continue from the prompt's last known word, else start anywhere (seeded)."""
    for word in reversed(prompt.lower().split()):
        if word in TABLE:
            return next_word(rng, word, 0.0)
    return rng.choice(STARTS)


class TinyLM(CogStyleModel):
    """Streams a few dozen words of bigram text."""

    name = "rshell/tinylm"
    description = "A tiny bigram language model that streams words, for trying out streaming."
    official = True
    token_delay = 0.02  # seconds between tokens, so streaming is observable

    def run(
        self,
        job: Job,
        prompt: str = Input(description="Text to continue"),
        max_tokens: int = Input(description="Maximum number of words to generate", default=32, ge=1, le=512),
        temperature: float = Input(
            description="Randomness: 0 always picks the likeliest next word", default=0.7, ge=0, le=2
        ),
        seed: int = Input(description="Random seed; leave blank to derive one from the prompt", default=None),
    ) -> ConcatenateIterator[str]:
        if seed is None:
            seed = seed_from(prompt)
        job.log(f"Using seed: {seed}")
        # ConcatenateIterator is Cog's annotation marker (the schema's "concatenate"); at run time
        # any iterator of str is one, as in Cog, so the generator is only re-typed, not wrapped
        return cast("ConcatenateIterator[str]", self._stream(job, prompt, max_tokens, temperature, seed))

    def _stream(self, job: Job, prompt: str, max_tokens: int, temperature: float, seed: int) -> Iterator[str]:
        rng = random.Random(seed)
        word = first_word(rng, prompt)
        for index in range(max_tokens):
            if index:
                self._pause(job)
                word = next_word(rng, word, temperature)
            job.check()
            yield word if index == 0 else " " + word
        job.log(f"Generated {max_tokens} tokens")

    def _pause(self, job: Job) -> None:
        """Sleep between tokens, waking early when the run is canceled."""
        end = time.monotonic() + self.token_delay
        while not job.cancelled() and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.01))
