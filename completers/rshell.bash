# bash completion for rshell (and its `replicate` alias).
#
# A thin shim: rshell's own engine answers (`rshell --complete "<line to the cursor>"`),
# so bash completes exactly what the rshell REPL completes. Each answer line is the
# whole current word after completing, then an optional TAB and a description.
#
# Install: source this file from ~/.bashrc, or copy it to
# ~/.local/share/bash-completion/completions/rshell (and a copy or symlink named
# `replicate` there too, since bash-completion loads scripts by command name).

_rshell_complete() {
    local line="${COMP_LINE:0:COMP_POINT}"
    local cur="${COMP_WORDS[COMP_CWORD]}"
    # bash splits words at COMP_WORDBREAKS (`=`, `:` …) but rshell answers with the
    # whole blank-separated word; drop the part before bash's own current word.
    local word="${line##*[[:space:]]}"
    local strip=""
    if [[ -n $cur && $word == *"$cur" ]]; then
        strip="${word%"$cur"}"
    elif [[ -z $cur || $cur == [[:space:]]* ]]; then
        strip="$word"
    fi
    local program="${COMP_WORDS[0]:-rshell}"
    local answer candidate
    COMPREPLY=()
    answer="$(command "$program" --complete "$line" 2>/dev/null)" || return 0
    while IFS= read -r candidate; do
        candidate="${candidate%%$'\t'*}"
        [[ -z $candidate || $candidate != "$strip"* ]] && continue
        COMPREPLY+=("${candidate#"$strip"}")
    done <<<"$answer"
    # A finished word gets a space; a key=, a directory/ or owner/name: does not.
    if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} != *[=/:@] ]]; then
        COMPREPLY[0]+=" "
    fi
    return 0
}

complete -o nospace -F _rshell_complete rshell replicate
