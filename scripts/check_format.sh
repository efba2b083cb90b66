#!/usr/bin/env bash
# The formatter as a check: every Swift source of the package (Sources, Tests, Examples,
# Package.swift; not the generated onnx.pb.swift) must be unchanged by `swift format` with the
# repository's .swift-format. Prints the files that would change and a diff of the first few;
# exits non-zero if any would.
#
#   scripts/check_format.sh          # check (CI)
#   scripts/check_format.sh --fix    # format in place
set -euo pipefail
cd "$(dirname "$0")/.."
files=()
while IFS= read -r f; do files+=("$f"); done < <(
    { git ls-files -- 'Sources/*.swift' 'Tests/*.swift' 'Examples/*.swift' 'examples/*.swift' Package.swift 2>/dev/null \
        || find Sources Tests -name '*.swift'; } | grep -v -e '\.pb\.swift$' -e '\.generated\.swift$' | sort -u |
    while IFS= read -r f; do [ -L "$f" ] || [ ! -f "$f" ] || echo "$f"; done)
if [ "${1:-}" = --fix ]; then
    swift format format --in-place --configuration .swift-format "${files[@]}"
    echo "check_format: formatted ${#files[@]} files"
    exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
changed=0
for f in "${files[@]}"; do
    mkdir -p "$tmp/$(dirname "$f")"
    swift format format --configuration .swift-format "$f" > "$tmp/$f"
    if ! cmp -s "$f" "$tmp/$f"; then
        changed=$((changed + 1))
        echo "FAIL $f is not formatted"
        if [ $changed -le 3 ]; then diff -u "$f" "$tmp/$f" | head -20 | sed "s/^/    /" || true; fi
    fi
done
if [ $changed -gt 0 ]; then
    echo "check_format: $changed of ${#files[@]} files differ from swift format (run scripts/check_format.sh --fix)"
    exit 1
fi
echo "PASS swift format: ${#files[@]} files unchanged"
