#!/usr/bin/env bash
# The repository as a Swift package dependency, as another project would use it: a bare clone of
# HEAD tagged with the C header's version (ACNET_VERSION_*), a fresh consumer package that names
# it by `file://` URL and `from:` that version and uses the library product ACRuntime, built in
# its own folder; it runs examples/swift/main.swift on the shipped model and must print exactly
# what the in-tree `acnet-swift-example` prints. Then DocC builds ACRuntime's documentation
# (swift-docc-plugin) with warnings as errors: every public symbol documented, every parameter
# named.
#
#   scripts/ci_swift_package.sh [IN_TREE_EXAMPLE_BINARY]   (default .build/debug/acnet-swift-example)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
example=${1:-$root/.build/debug/acnet-swift-example}
model=$root/models/fashion-mnist-acnet.acnb
version=$(for p in MAJOR MINOR PATCH; do sed -n "s/^#define ACNET_VERSION_$p \([0-9]*\)/\1/p" "$root/include/acnet.h"; done | paste -sd.)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# What is committed, not the work tree: the consumer sees what a tag would publish.
git clone -q --bare "$root" "$work/acnet.git"
git -C "$work/acnet.git" tag "$version" HEAD
mkdir -p "$work/consumer/Sources/Consumer"
cat > "$work/consumer/Package.swift" <<MANIFEST
// swift-tools-version: 6.0
import PackageDescription
let package = Package(
    name: "Consumer",
    dependencies: [.package(url: "file://$work/acnet.git", from: "$version")],
    targets: [.executableTarget(name: "Consumer", dependencies: [.product(name: "ACRuntime", package: "acnet")])]
)
MANIFEST
cp "$root/examples/swift/main.swift" "$work/consumer/Sources/Consumer/main.swift"
echo "consumer: ACRuntime from file://…/acnet.git, from: \"$version\" (tag on $(git -C "$root" rev-parse --short HEAD))"
(cd "$work/consumer" && swift build 2>&1 | grep -E "error|warning: |Build complete" || true)
[ -x "$work/consumer/.build/debug/Consumer" ] || { echo "FAIL consumer package did not build"; exit 1; }
"$work/consumer/.build/debug/Consumer" "$model" > "$work/consumer.txt"
"$example" "$model" > "$work/in-tree.txt"
if diff "$work/in-tree.txt" "$work/consumer.txt"; then
    echo "PASS consumer package output == in-tree example ($(head -1 "$work/consumer.txt" | tr '\t' ' '))"
else
    echo "FAIL consumer package output differs from the in-tree example"; exit 1
fi

# DocC: reuses the package's debug build (.build) that test.sh made.
if (cd "$root" && swift package generate-documentation --target ACRuntime --warnings-as-errors 2>&1 | grep -E "warning|error|Generated" ); then
    echo "PASS DocC documentation of ACRuntime, no warnings (.build/plugins/Swift-DocC/outputs/ACRuntime.doccarchive)"
else
    echo "FAIL DocC documentation of ACRuntime"; exit 1
fi
