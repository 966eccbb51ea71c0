# bash completion for rshell (and its `replicate` alias).
#
# A thin shim: rshell's own engine answers (`rshell --complete-shell bash --complete
# "<line to the cursor>"`), so bash completes what the rshell REPL completes. rshell
# prints COMPREPLY itself: only candidates that extend the word as typed, each cut
# where readline's word begins (after the last COMP_WORDBREAKS character, so
# `style=`, `owner/name:` and `key=@` keep what precedes them), a space after a
# single finished word.
#
# Install: source this file from ~/.bashrc, or copy it to
# ~/.local/share/bash-completion/completions/rshell (and a copy or symlink named
# `replicate` there too, since bash-completion loads scripts by command name).

_rshell_complete() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local program="${COMP_WORDS[0]:-rshell}"
    local reply
    COMPREPLY=()
    while IFS= read -r reply; do
        [[ -n $reply ]] && COMPREPLY+=("$reply")
    done < <(RSHELL_COMP_WORDBREAKS="$COMP_WORDBREAKS" command "$program" --complete-shell bash --complete "$line" 2>/dev/null)
    return 0
}

complete -o nospace -F _rshell_complete rshell replicate
