#!/usr/bin/env bash
# Tests of the C classifier (examples/classify) and the JPEG shim (Sources/CJPEG).
#
#     scripts/test_classify.sh BUILD_PREFIX MODEL.acnb
#
# BUILD_PREFIX is where `make install PREFIX=...` put libacnet and acnet.pc; MODEL is a
# Fashion-MNIST classifier (models/fashion-mnist-acnet.acnb).  Needs cc, libjpeg-dev,
# libjpeg-turbo-progs (cjpeg, jpegtran), python3 and the Fashion-MNIST test set
# (FASHION_MNIST_DIR, default /usr/share/datasets/fashion-mnist).
#
# What it checks:
#   1. The shim's C self-test under ASan+UBSan (formulas, colour spaces, every truncation,
#      bit flips, limits, and that acj.c and the example's copy agree bit for bit).
#   2. Hostile and unusual inputs, through a normal build (memory capped with ulimit -v) and an
#      ASan+UBSan build: zero bytes, truncations, PNG renamed .jpg, random bytes, a 65500x65500
#      header, a progressive 8000x8000 header with almost no data, 12-bit and lossless (SOF3)
#      JPEGs, 1100 progressive scans, a directory, a missing file
#      → a message naming the file on stderr, exit status 1, no crash; 1x1, CMYK, YCCK, RGB,
#      progressive and large images → classified, exit status 0.
#   3. Mixed good/bad images, the `# PATH` block format, --top, usage errors, a bad model.
#   4. Every sample image in examples/images gets its own class as the top label.
#   5. Accuracy on the first 1000 test images written as JPEG (quality 90) is within 1 point
#      of the accuracy on the raw pixels, and the classify binary agrees with it.
#   6. If `acnet` is found (ACNET_CLI or BUILD_PREFIX/bin/acnet): `acnet classify` and the C
#      classifier print the same labels, probabilities within 1e-4, on every sample image.
# The last line is `N passed, N failed`; the exit status is non-zero if anything failed.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 BUILD_PREFIX MODEL.acnb" >&2
    exit 2
fi
PREFIX=$(cd "$1" && pwd) || exit 2
MODEL=$2
case $MODEL in /*) ;; *) MODEL=$PWD/$MODEL ;; esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test_classify.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig:$PREFIX/lib64/pkgconfig:$PREFIX/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
    exit
}

# --- build ----------------------------------------------------------------------------------
BUILD=$WORK/build
if make -s -C "$ROOT/examples/classify" BUILD="$BUILD" all asan >"$WORK/build.log" 2>&1; then
    ok "build examples/classify (normal and ASan) via pkg-config"
else
    bad "build examples/classify:"; sed 's/^/    /' "$WORK/build.log"; finish
fi
if make -s -C "$ROOT/Tests/JPEGHarness" BUILD="$BUILD" selftest jpegtool accuracy >"$WORK/build.log" 2>&1; then
    ok "build Tests/JPEGHarness tools"
else
    bad "build Tests/JPEGHarness:"; sed 's/^/    /' "$WORK/build.log"; finish
fi
CLASSIFY=$BUILD/classify
CLASSIFY_ASAN=$BUILD/classify-asan

# --- 1. shim self-test ------------------------------------------------------------------------
mkdir -p "$WORK/fixtures"
if "$BUILD/acj_selftest" "$WORK/fixtures" "$ROOT"/examples/images/*.jpg >"$WORK/selftest.log" 2>&1; then
    ok "acj_selftest under ASan+UBSan: $(tail -1 "$WORK/selftest.log")"
else
    bad "acj_selftest:"; grep -v '^ok' "$WORK/selftest.log" | tail -30 | sed 's/^/    /'
fi

# --- 2. hostile and unusual inputs ------------------------------------------------------------
IN=$WORK/in
mkdir -p "$IN"
SAMPLE=$ROOT/examples/images/sneaker-1.jpg
: >"$IN/empty.jpg"
jpegtran -progressive -outfile "$IN/progressive.jpg" "$SAMPLE"
python3 - "$SAMPLE" "$IN" <<'EOF'
import random, struct, sys, zlib
sample, out = sys.argv[1], sys.argv[2]
data = open(sample, "rb").read()
for cut in (1, 2, 100, 300, len(data) // 2, len(data) - 2):
    open(f"{out}/truncated-{cut}.jpg", "wb").write(data[:cut])
prog = open(f"{out}/progressive.jpg", "rb").read()
open(f"{out}/progressive-truncated.jpg", "wb").write(prog[:len(prog) // 2])
def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
       + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))
open(f"{out}/png-renamed.jpg", "wb").write(png)
rng = random.Random(4)
open(f"{out}/random.jpg", "wb").write(bytes(rng.randrange(256) for _ in range(4096)))
def patch_sof(blob, marker, w, h):
    i = blob.index(b"\xff" + bytes([marker]))   # SOF: FF Cn, length(2), precision(1), Y(2), X(2)
    return blob[:i + 5] + struct.pack(">HH", h, w) + blob[i + 9:]
open(f"{out}/huge-65500x65500.jpg", "wb").write(patch_sof(data, 0xC0, 65500, 65500))
open(f"{out}/huge-progressive-65500x65500.jpg", "wb").write(patch_sof(prog, 0xC2, 65500, 65500))
open(f"{out}/progressive-8000x8000-header.jpg", "wb").write(patch_sof(prog, 0xC2, 8000, 8000))
first = prog.index(b"\xff\xda")                 # repeat the stateless DC-first scan
second = prog.index(b"\xff\xda", first + 2)
for name, copies in (("too-many-scans", 1100), ("fifty-extra-scans", 50)):
    open(f"{out}/{name}.jpg", "wb").write(prog[:second] + prog[first:second] * copies + prog[second:])
i = data.index(b"\xff\xc0")
open(f"{out}/precision-12.jpg", "wb").write(data[:i + 4] + bytes([12]) + data[i + 5:])
open(f"{out}/lossless-sof3.jpg", "wb").write(data[:i + 1] + b"\xc3" + data[i + 2:])
EOF
"$BUILD/jpegtool" gray 1 1 "$IN/one-pixel-gray.jpg"
"$BUILD/jpegtool" rgb 1 1 "$IN/one-pixel-rgb.jpg"
"$BUILD/jpegtool" cmyk-adobe 64 48 "$IN/cmyk-adobe.jpg"
"$BUILD/jpegtool" cmyk-plain 64 48 "$IN/cmyk-plain.jpg"
"$BUILD/jpegtool" ycck 64 48 "$IN/ycck.jpg"
"$BUILD/jpegtool" cmyk-adobe 64 48 "$IN/cmyk-progressive.jpg" --progressive
"$BUILD/jpegtool" rgb-plain 30 20 "$IN/rgb-colour-space.jpg"
"$BUILD/jpegtool" rgb 1500 1000 "$IN/large-rgb.jpg"
"$BUILD/jpegtool" gray 5 300 "$IN/tall-gray.jpg" --progressive
mkdir -p "$IN/directory.jpg"

UNUSABLE="empty truncated-1 truncated-2 truncated-100 truncated-300 truncated-HALF truncated-END
  progressive-truncated png-renamed random huge-65500x65500 huge-progressive-65500x65500
  progressive-8000x8000-header precision-12 lossless-sof3 too-many-scans directory missing"
USABLE="one-pixel-gray one-pixel-rgb cmyk-adobe cmyk-plain ycck cmyk-progressive progressive
  rgb-colour-space large-rgb tall-gray fifty-extra-scans"
SIZE=$(wc -c <"$SAMPLE")

# run_one BINARY FILE → $WORK/out, $WORK/err, $RC
run_one() {
    if [ "$1" = "$CLASSIFY" ]; then
        # Bounded memory: the normal build must manage with 1 GiB of address space.
        (ulimit -v 1048576; timeout 60 "$1" "$MODEL" "$2" --top 3) >"$WORK/out" 2>"$WORK/err"
    else
        timeout 120 "$1" "$MODEL" "$2" --top 3 >"$WORK/out" 2>"$WORK/err"
    fi
    RC=$?
}

# Checks the --top K block in $WORK/out: K lines LABEL<TAB>0.dddd, best first, sum <= 1.
check_block() {
    awk -F'\t' -v k="$1" '
        NF != 2 || $2 !~ /^[01]\.[0-9][0-9][0-9][0-9]$/ { bad = 1 }
        NR > 1 && $2 + 0 > prev + 0 { bad = 1 }
        { prev = $2; sum += $2 }
        END { exit (bad || NR != k || sum > 1.0005) }' "$WORK/out"
}

for binary in "$CLASSIFY" "$CLASSIFY_ASAN"; do
    tag=$(basename "$binary")
    for name in $UNUSABLE; do
        case $name in
        truncated-HALF) file=$IN/truncated-$((SIZE / 2)).jpg ;;
        truncated-END) file=$IN/truncated-$((SIZE - 2)).jpg ;;
        missing) file=$IN/does-not-exist.jpg ;;
        *) file=$IN/$name.jpg ;;
        esac
        run_one "$binary" "$file"
        if [ "$RC" -eq 1 ] && [ ! -s "$WORK/out" ] && grep -qF "$file: " "$WORK/err" &&
            ! grep -qE 'Sanitizer|runtime error' "$WORK/err"; then
            ok "$tag rejects $name: $(head -1 "$WORK/err" | sed "s|$IN/||")"
        else
            bad "$tag on $name: exit $RC (want 1, message on stderr)"; sed 's/^/    /' "$WORK/err" | head -20
        fi
    done
    for name in $USABLE; do
        run_one "$binary" "$IN/$name.jpg"
        if [ "$RC" -eq 0 ] && check_block 3 && [ ! -s "$WORK/err" ]; then
            ok "$tag classifies $name: $(head -1 "$WORK/out" | tr '\t' ' ')"
        else
            bad "$tag on $name: exit $RC (want 0 and 3 lines)"; sed 's/^/    /' "$WORK/out" "$WORK/err" | head -20
        fi
    done
done

# --- 3. several images, options, usage errors -------------------------------------------------
A=$ROOT/examples/images/bag-1.jpg
B=$ROOT/examples/images/trouser-2.jpg
"$CLASSIFY_ASAN" "$MODEL" "$A" "$IN/empty.jpg" "$B" --top 2 >"$WORK/out" 2>"$WORK/err"
RC=$?
if [ "$RC" -eq 1 ] && [ "$(sed -n 1p "$WORK/out")" = "# $A" ] && [ "$(sed -n 4p "$WORK/out")" = "# $B" ] &&
    [ "$(wc -l <"$WORK/out")" -eq 6 ] && grep -qF "$IN/empty.jpg: " "$WORK/err"; then
    ok "mixed good/bad images: '# PATH' blocks for the good ones, message for the bad one, exit 1"
else
    bad "mixed images: exit $RC"; sed 's/^/    /' "$WORK/out" "$WORK/err"
fi
"$CLASSIFY" "$MODEL" "$A" >"$WORK/out" 2>"$WORK/err"
RC=$?
if [ "$RC" -eq 0 ] && ! grep -q '^#' "$WORK/out" && check_block 5; then
    ok "one image: 5 lines by default, no '# PATH' line"
else
    bad "one image: exit $RC"; sed 's/^/    /' "$WORK/out" "$WORK/err"
fi
"$CLASSIFY" "$MODEL" "$A" --top 1000 >"$WORK/out" 2>"$WORK/err"
if [ $? -eq 0 ] && awk '{ s += $NF } END { exit !(s > 0.999 && s < 1.001) }' "$WORK/out"; then
    ok "--top larger than the class count prints every class ($(wc -l <"$WORK/out")), summing to 1"
else
    bad "--top 1000"; sed 's/^/    /' "$WORK/out" "$WORK/err"
fi
for args in "--top 0 $A" "--top x $A" "--top" "--bogus $A" ""; do
    # shellcheck disable=SC2086
    "$CLASSIFY" "$MODEL" $args >"$WORK/out" 2>"$WORK/err"
    RC=$?
    if [ "$RC" -eq 2 ] && [ -s "$WORK/err" ]; then ok "usage error '$args' → exit 2"
    else bad "usage error '$args': exit $RC"; fi
done
"$CLASSIFY_ASAN" "$IN/empty.jpg" "$A" >"$WORK/out" 2>"$WORK/err"
RC=$?
if [ "$RC" -eq 2 ] && grep -q "cannot load model" "$WORK/err" && ! grep -qE 'Sanitizer|runtime error' "$WORK/err"; then
    ok "an unusable model file: $(head -1 "$WORK/err" | sed "s|$IN/||")"
else
    bad "bad model: exit $RC"; sed 's/^/    /' "$WORK/err"
fi

# --- 4. sample images -------------------------------------------------------------------------
slug() { tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9]+/-/g; s/^-//; s/-$//'; }
wrong=0
for image in "$ROOT"/examples/images/*.jpg; do
    want=$(basename "$image" .jpg | sed -E 's/-[0-9]+$//')
    got=$("$CLASSIFY" "$MODEL" "$image" --top 1 | cut -f1 | slug)
    if [ "$got" != "$want" ]; then
        wrong=$((wrong + 1))
        echo "    $(basename "$image"): top label '$got'"
    fi
done
if [ "$wrong" -eq 0 ]; then ok "all 20 sample images get their own class first"
else bad "$wrong of 20 sample images get another class first"; fi

# --- 5. accuracy: JPEG q90 vs raw pixels ------------------------------------------------------
ACC=$WORK/accuracy
if python3 "$ROOT/scripts/make_sample_images.py" --data "$DATA" --first 1000 --quality 90 --out "$ACC" >/dev/null &&
    "$BUILD/accuracy" "$MODEL" "$ACC" "$WORK/predictions.tsv" >"$WORK/acc.txt"; then
    raw=$(awk '/^raw/ { print $3 }' "$WORK/acc.txt")
    jpeg=$(awk '/^jpeg/ { print $3 }' "$WORK/acc.txt")
    if awk -v r="$raw" -v j="$jpeg" 'BEGIN { d = r - j; if (d < 0) d = -d; exit !(d <= 0.01 + 1e-9) }'; then
        ok "accuracy on 1000 test images: raw $raw, JPEG q90 $jpeg (within 1 point)"
    else
        bad "accuracy: raw $raw vs JPEG $jpeg differ by more than 1 point"
    fi
    # The classify program itself over the same 1000 JPEGs must reach the same accuracy.
    (cd "$ACC" && "$CLASSIFY" "$MODEL" ?????.jpg --top 1) >"$WORK/classify1000.txt" 2>"$WORK/err"
    correct=$(awk -F'\t' 'NR == FNR { want[$1] = $3; next }
                 /^# / { file = substr($0, 3); next }
                 { label = tolower($1); gsub(/[^a-z0-9]+/, "-", label); gsub(/^-|-$/, "", label)
                   if (label == want[file]) c++ }
                 END { print c + 0 }' "$ACC/labels.tsv" "$WORK/classify1000.txt")
    expected=$(awk '/^jpeg/ { sub(/\(/, "", $4); split($4, a, "/"); print a[1] }' "$WORK/acc.txt")
    if [ "$correct" = "$expected" ]; then
        ok "classify over the 1000 JPEGs: $correct correct, as the accuracy tool"
    else
        bad "classify over the 1000 JPEGs: $correct correct, accuracy tool: $expected"
    fi
else
    bad "accuracy run failed"; sed 's/^/    /' "$WORK/acc.txt" 2>/dev/null
fi

# --- 6. agreement with `acnet classify` (when the CLI is available) -----------------------------
# ACNET_CLI=path/to/acnet, or BUILD_PREFIX/bin/acnet.  Both print the docs/DESIGN.md §8 format; the
# probabilities must be within 1e-4 (one unit of the last decimal) and the labels identical,
# except between lines whose printed probabilities tie (e.g. several 0.0000), whose order the
# output cannot show.
CLI=${ACNET_CLI:-$PREFIX/bin/acnet}
if [ -x "$CLI" ]; then
    "$CLI" classify "$MODEL" "$ROOT"/examples/images/*.jpg --top 5 >"$WORK/cli.txt" 2>"$WORK/err"
    RC=$?
    "$CLASSIFY" "$MODEL" "$ROOT"/examples/images/*.jpg --top 5 >"$WORK/c.txt" 2>>"$WORK/err"
    if [ "$RC" -eq 0 ] && [ "$(wc -l <"$WORK/cli.txt")" -eq "$(wc -l <"$WORK/c.txt")" ] &&
        paste "$WORK/cli.txt" "$WORK/c.txt" | awk -F'\t' '
            { n++; hdr[n] = /^# /; l1[n] = $1; p1[n] = $2; l2[n] = hdr[n] ? $2 : $3; p2[n] = $4 }
            END {
                for (i = 1; i <= n; i++) {
                    if (hdr[i]) { if (l1[i] != l2[i]) bad = 1; continue }
                    d = p1[i] - p2[i]; if (d < 0) d = -d
                    if (d > 0.0001 + 1e-9) bad = 1
                    tied = (!hdr[i - 1] && i > 1 && (p1[i - 1] == p1[i] || p2[i - 1] == p2[i])) ||
                           (i < n && !hdr[i + 1] && (p1[i + 1] == p1[i] || p2[i + 1] == p2[i]))
                    if (l1[i] != l2[i] && !tied) bad = 1
                }
                exit bad
            }'; then
        ok "acnet classify and the C classifier agree on every sample image"
    else
        bad "acnet classify (exit $RC) and the C classifier disagree:"
        diff "$WORK/cli.txt" "$WORK/c.txt" | head -20 | sed 's/^/    /'
    fi
else
    echo "skip agreement with acnet classify: no $CLI (set ACNET_CLI)"
fi

finish
