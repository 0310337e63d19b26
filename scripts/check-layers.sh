#!/bin/sh
# Enforces the include arrows of DESIGN.md: each folder may include only the
# folders listed for it. Prints every offending line and fails if any.
cd "$(dirname "$0")/.." || exit 1
status=0
check() { # folder allowed-folders...
    dir=$1; shift
    [ -d "$dir" ] || return 0
    allowed="$dir $*"
    for f in $(find "$dir" -name '*.[ch]'); do
        grep -n '^#include "[a-z_]*/' "$f" | while IFS= read -r line; do
            inc=$(echo "$line" | sed 's/.*#include "\([a-z_]*\)\/.*/\1/')
            ok=no
            for a in $allowed; do [ "$inc" = "$a" ] && ok=yes; done
            [ $ok = yes ] || echo "layering: $f:${line%%:*} includes $inc/ (allowed: $allowed)"
        done
    done
}
out=$( {
    check vm
    check devices vm
    check cpu vm
    check jit cpu vm
    check hwaccel cpu vm
    check firmware vm
    check board devices firmware vm
    check block
    check ui vm
} )
if [ -n "$out" ]; then
    echo "$out"
    exit 1
fi
echo "layering: ok"
