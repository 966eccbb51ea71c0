# Stream a language model's tokens as they arrive, then reuse the text.
story = stream rshell/tinylm prompt="once upon a time" max_tokens=24 seed=3
run rshell/echo text={{story.output}} upper=true
