# Fine-tune: train the palette trainer on a zip of images into your own model,
# then run the new version it produced.
model create sandbox/my-pixels --hardware cpu --private --description "pixels in my palette" --exist-ok
job = train rshell/palette-trainer --destination sandbox/my-pixels input_images=@data/palette.zip steps=5 --wait
run sandbox/my-pixels prompt="a sunset in my palette" seed=4 --save --output-directory out/fine-tuned
