# rshell session script: replay with `rshell FILE` or `source FILE`
# Written by `save` (tests/test_daily_scripts.py writes it again and compares), from the session:
#   img = run rshell/pixels … ; model schema rshell/upscale ; big = run rshell/upscale … ; show big.output ; save
# The read-only `model schema` and `show` were left out; the runs replay.
img = run rshell/pixels prompt="a fox saved for later" width=32 height=32 seed=5
big = run rshell/upscale image={{img.output[0]}} scale=2 --save --output-directory out/saved
