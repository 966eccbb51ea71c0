# fish completion for rshell (and its `replicate` alias).
#
# A thin shim: rshell's own engine answers (`rshell --complete-shell fish --complete
# "<line to the cursor>"`), so fish completes what the rshell REPL completes. Each
# answer line is the current token after completing, then an optional TAB and a
# description, which is fish's own candidate format; rshell sends only candidates
# that extend the token as typed.
#
# Install: copy to ~/.config/fish/completions/rshell.fish (and a copy named
# replicate.fish there, since fish loads completions by command name).

function __rshell_complete
    set -l tokens (commandline -opc)
    set -l program rshell
    test (count $tokens) -gt 0; and set program $tokens[1]
    command $program --complete-shell fish --complete (commandline -cp) 2>/dev/null
end

complete -c rshell -f -a '(__rshell_complete)'
complete -c replicate -f -a '(__rshell_complete)'
