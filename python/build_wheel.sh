#!/usr/bin/env bash
# Builds the acnet wheel from an installed C library:
#
#     make install PREFIX=/tmp/acnet            # in the repository root
#     python/build_wheel.sh /tmp/acnet dist/    # -> dist/acnet-<version>-py3-none-<platform>.whl
#
# The wheel carries PREFIX/lib/libacnet.so (self-contained: no Swift runtime needed) and the
# Python package python/acnet; its version is ACNET_VERSION_MAJOR.MINOR.PATCH of
# PREFIX/include/acnet.h (the header installed with that library).  The build runs in a
# temporary copy of python/, never in the source tree.
#
# Needs a Python with setuptools (>= 70.1) and wheel: $PYTHON (default python3), e.g.
#     python3 -m venv /tmp/v && /tmp/v/bin/pip install setuptools==84.2.1 wheel==0.48.0
#     PYTHON=/tmp/v/bin/python python/build_wheel.sh /tmp/acnet dist/
#
# Platform tag: manylinux_2_<N>_<arch>, N the newest glibc symbol version libacnet.so uses,
# when it links only the libraries every manylinux policy allows (libc, libm, libpthread, libdl,
# libstdc++, libgcc_s); otherwise linux_<arch> (installable here, not uploadable to PyPI).
# For an upload, check the wheel with `auditwheel show`.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: python/build_wheel.sh PREFIX OUTDIR" >&2
    exit 2
fi
prefix=$1
mkdir -p "$2"
outdir=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}

header=$prefix/include/acnet.h
lib=$(readlink -f "$prefix/lib/libacnet.so" || true)
[ -f "$header" ] && [ -f "$lib" ] || {
    echo "build_wheel.sh: $prefix has no include/acnet.h and lib/libacnet.so (run 'make install PREFIX=$prefix')" >&2
    exit 1
}
macro() { sed -n "s/^#define ACNET_VERSION_$1 \([0-9][0-9]*\)\$/\1/p" "$header"; }
version="$(macro MAJOR).$(macro MINOR).$(macro PATCH)"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "build_wheel.sh: no ACNET_VERSION_* macros in $header" >&2; exit 1; }

"$PYTHON" -c 'import setuptools.command.bdist_wheel, wheel' 2>/dev/null || {
    echo "build_wheel.sh: $PYTHON lacks setuptools >= 70.1 or wheel (pip install setuptools wheel)" >&2
    exit 1
}

# Platform tag (see the header comment).
arch=$(uname -m)
allowed='^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$'
needed=$(objdump -p "$lib" | awk '/NEEDED/ {print $2}')
glibc_minor=$(objdump -T "$lib" | grep -o 'GLIBC_2\.[0-9]*' | sed 's/GLIBC_2\.//' | sort -n | tail -1)
if [ -n "$glibc_minor" ] && ! echo "$needed" | grep -Evq "$allowed"; then
    plat=manylinux_2_${glibc_minor}_$arch
else
    plat=linux_$arch
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$here/pyproject.toml" "$here/setup.py" "$here/README.md" "$stage/"
mkdir -p "$stage/acnet/_lib"
cp "$here"/acnet/*.py "$here/acnet/py.typed" "$stage/acnet/"
# Debug sections are not needed at run time (the exported symbols stay).
strip --strip-debug -o "$stage/acnet/_lib/libacnet.so" "$lib"
chmod 755 "$stage/acnet/_lib/libacnet.so"
printf '"""Written by build_wheel.sh from include/acnet.h."""\n__version__ = "%s"\n' "$version" > "$stage/acnet/_version.py"

ACNET_WHEEL_PLAT=$plat "$PYTHON" -m pip wheel --quiet --no-deps --no-build-isolation --no-index \
    --wheel-dir "$outdir" "$stage"
wheel="$outdir/acnet-$version-py3-none-$plat.whl"
[ -f "$wheel" ] || { echo "build_wheel.sh: expected $wheel was not built" >&2; exit 1; }
echo "$wheel"
