# Run one model over several prompts and save every output file.
alias pix='run rshell/pixels width=32 height=32 --save --output-directory out/batch'
pix prompt="a red fox" seed=1
pix prompt="a blue whale" seed=2
pix prompt="a green frog" seed=3 style=blocks
