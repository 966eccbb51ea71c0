# Generate an image, then upscale it; both are saved to disk.
# Against the local sandbox: rshell --local examples/image-pipeline.rsh
img = run rshell/pixels prompt="a lighthouse at dusk" width=64 height=48 seed=7 --save --output-directory out/generated
big = run rshell/upscale image={{img.output[0]}} scale=4 --save --output-directory out/upscaled
show big.output
