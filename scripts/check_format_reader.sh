#!/usr/bin/env bash
# docs/FORMAT.md is complete: the independent reader written from it alone
# (Tests/Format/acnb_reader.py) parses each model given and agrees with `acnet inspect` on the
# input and output shapes, the channel order, the label count, and every op's name,
# attributes, input and output shapes and stored parameter count.
#
#   scripts/check_format_reader.sh ACNET_CLI MODEL.acnb...
set -uo pipefail
cli=$1; shift
root=$(cd "$(dirname "$0")/.." && pwd)
pass=0; fail=0
for m in "$@"; do
    ours=$(python3 "$root/Tests/Format/acnb_reader.py" "$m" 2>&1)
    # inspect's table: columns separated by two or more spaces; drop "kernel" (3rd) and "MACs"
    # (last) — runtime choices, not format facts — and the mean/std floats of the input line.
    theirs=$("$cli" inspect "$m" 2>&1 | awk '
        /^input:/ { sub(/  mean:.*/, ""); print; next }
        /^output:/ { print; next }
        /^total:/ { split($0, a, ", "); print a[1] ", " a[2]; next }
        /^[0-9]+  / { n = split($0, f, /  +/); printf "%s\t%s\t%s\t%s\t%s\n", f[1], f[2], f[4], f[5], f[6] }')
    if [ "$ours" = "$theirs" ]; then
        pass=$((pass + 1)); echo "PASS $(basename "$m"): $(echo "$ours" | tail -1)"
    else
        fail=$((fail + 1)); echo "FAIL $(basename "$m"): FORMAT.md's reader disagrees with acnet inspect"
        diff <(echo "$theirs") <(echo "$ours") | head -20 | sed 's/^/    /'
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
