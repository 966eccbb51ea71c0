# Chaining: a pipe hands one result to the next command as {{.…}}; names keep them.
run rshell/echo text=hello | run rshell/echo text="{{.output}}, again" times=2
first = run rshell/echo text=one
run rshell/echo text="$first.output and two"
vars
