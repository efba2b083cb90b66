#!/usr/bin/env bash
# Fuzzes the model loader through the C ABI (Tests/Fuzz/FuzzLoader.swift: load_memory →
# queries → session → one run) with libFuzzer + AddressSanitizer, seeded with the valid models
# in Tests/Fuzz/seeds. The harness re-seals every mutated input (file size + CRC-32C) so
# mutations reach the validator and the kernels; ACNET_FUZZ_KEEP_CHECKSUM=1 turns that off.
#
#   scripts/fuzz.sh SECONDS [libFuzzer options...]     e.g. scripts/fuzz.sh 60 -jobs=2
#   scripts/fuzz.sh --build                            only build .build-fuzz/acnet-fuzz-loader
#   scripts/fuzz.sh --coverage                         line coverage of the loader/validator
#                                                      over the corpus gathered so far
#   scripts/fuzz.sh --jpeg SECONDS [options...]        the JPEG shim instead (Tests/Fuzz/fuzz_jpeg.c:
#                                                      acj_decode_memory → acj_preprocess)
#   scripts/fuzz.sh --shipped SECONDS [options...]     the same loader checks on the shipped C
#                                                      library: the Embedded-Swift build of `make
#                                                      lib` (scripts/build_embedded_lib.sh, same
#                                                      flags) instrumented with fuzzer+address,
#                                                      driven by Tests/Fuzz/fuzz_shipped.c
#   scripts/fuzz.sh --training SECONDS [options...]    the training side's readers instead
#                                                      (Tests/Fuzz/FuzzTrainingReaders.swift: safetensors,
#                                                      IDX with bounded gzip inflation)
#   scripts/fuzz.sh --import SECONDS [options...]      the ONNX importer instead (Tests/Fuzz/FuzzImport.swift:
#                                                      protobuf bytes → ACImport → .acnb → load → run),
#                                                      seeded with Tests/ACImportTests/Fixtures/onnx
# The corpus grows in .build-fuzz/corpus; crashes land in .build-fuzz/artifacts/ (minimise one
# with `SWIFT_BACKTRACE=enable=no .build-fuzz/acnet-fuzz-loader -minimize_crash=1 -runs=10000 FILE`,
# then commit it under
# Tests/ACRuntimeTests/Fixtures/fuzz/, where FuzzRegressionTests seals and loads every file).
# Exits non-zero if libFuzzer found a crash, a leak or a timeout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${ACNET_FUZZ_DIR:-$root/.build-fuzz}
bin=$(dirname "$(readlink -f "$(command -v swiftc)")")
mkdir -p "$out/obj" "$out/corpus" "$out/artifacts"

# The package's module layout (Package.swift): ACKernelTypes, the kernels once per ISA
# (ACKernelsAVX512/AVX2/Baseline, each with its -target-cpu and defines), ACRuntime, CInterface.
common=(-O -g -parse-as-library -wmo -enable-upcoming-feature ExistentialAny -enforce-exclusivity=unchecked
        -Xcc -fmodule-map-file="$out/obj/module.modulemap")
# The flags each module ships with in release builds (Package.swift): the kernel modules
# -Ounchecked with their ISA's -target-cpu, the runtime and the C ABI -O (checks on).
kernel_isas=("ACKernelsAVX512|-Ounchecked -Xcc -march=skylake-avx512 -target-cpu skylake-avx512 -D ACNET_ISA_AVX512 -D ACNET_ISA_FMA"
             "ACKernelsAVX2|-Ounchecked -Xcc -march=haswell -target-cpu haswell -D ACNET_ISA_AVX2 -D ACNET_ISA_FMA"
             "ACKernelsBaseline|-Ounchecked -D ACNET_ISA_BASELINE")

build() { # variant (fuzz | cov), sanitizer flags for swiftc, flags for clang
    local v=$1 swiftsan=$2 csan=$3 o="$out/obj/$1"
    mkdir -p "$o"
    local target=$out/acnet-fuzz-loader; [ "$v" = cov ] && target=$out/acnet-fuzz-loader-cov
    local newest
    newest=$(find Sources/ACKernelTypes Sources/ACKernels Sources/ACRuntime Sources/CInterface Sources/CACNet \
        Tests/Fuzz/FuzzLoader.swift scripts/fuzz.sh -newer "$target" 2>/dev/null | head -1 || true)
    if [ -x "$target" ] && [ -z "$newest" ]; then return 0; fi
    printf 'module CACNet {\n    umbrella "%s"\n    export *\n}\n' "$root/Sources/CACNet/include" > "$out/obj/module.modulemap"
    echo "== building $target"
    local objs=()
    for c in Sources/CACNet/*.c; do  # support.c, team.c (the session thread team)
        # shellcheck disable=SC2086
        "$bin/clang" -c -O1 -g $csan -I Sources/CACNet/include "$c" -o "$o/$(basename "$c" .c).o"
        objs+=("$o/$(basename "$c" .c).o")
    done
    module() { # name, extra flags, sources...
        local name=$1 flags=$2; shift 2
        # shellcheck disable=SC2086
        swiftc -module-name "$name" -emit-module -emit-module-path "$o/$name.swiftmodule" -I "$o" \
            "${common[@]}" $flags $swiftsan -c -o "$o/$name.o" "$@"
        objs+=("$o/$name.o")
    }
    module ACKernelTypes "" $(find Sources/ACKernelTypes -name '*.swift' | sort)
    for k in "${kernel_isas[@]}"; do
        module "${k%%|*}" "${k#*|}" $(find -L "Sources/${k%%|*}" -name '*.swift' | sort)
    done
    module ACRuntime "" $(find Sources/ACRuntime -name '*.swift' | sort)
    module CInterface "" Sources/CInterface/CInterface.swift
    # shellcheck disable=SC2086
    swiftc -module-name AcnetFuzz -use-ld=lld -I "$o" "${common[@]}" $swiftsan \
        Tests/Fuzz/FuzzLoader.swift "${objs[@]}" -o "$target"
}

case "${1:-}" in
--jpeg)
    # The JPEG shim: a C harness, seeded with examples/images.
    shift
    seconds=${1:?usage: scripts/fuzz.sh --jpeg SECONDS [libFuzzer options...]}
    shift
    mkdir -p "$out/jpeg-corpus"
    if [ ! -x "$out/acnet-fuzz-jpeg" ] || [ -n "$(find Sources/CJPEG Tests/Fuzz/fuzz_jpeg.c -newer "$out/acnet-fuzz-jpeg" | head -1)" ]; then
        echo "== building $out/acnet-fuzz-jpeg"
        "$bin/clang" -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I Sources/CJPEG/include \
            Tests/Fuzz/fuzz_jpeg.c Sources/CJPEG/acj.c -ljpeg -lm -o "$out/acnet-fuzz-jpeg"
    fi
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
    "$out/acnet-fuzz-jpeg" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/jpeg-" "$@" "$out/jpeg-corpus" examples/images
    exit ;;
--shipped)
    shift
    seconds=${1:?usage: scripts/fuzz.sh --shipped SECONDS [libFuzzer options...]}
    shift
    target=$out/acnet-fuzz-shipped
    ACNET_EMBEDDED_SANITIZE=fuzzer,address CC="$bin/clang" scripts/build_embedded_lib.sh x86_64-linux-gnu "$out/shipped"
    if [ ! -x "$target" ] || [ -n "$(find "$out/shipped/acnet_all.o" Tests/Fuzz/fuzz_shipped.c -newer "$target" | head -1)" ]; then
        echo "== building $target"
        # support.o again beside the library (whose copy of it is local): the harness re-seals
        # inputs with the library's own acnet_support_crc32c.
        "$bin/clang" -O1 -g -fsanitize=fuzzer,address -I include -I Sources/CACNet/include Tests/Fuzz/fuzz_shipped.c \
            "$out/shipped/acnet_all.o" "$out/shipped/obj/support.o" -lm -lpthread -o "$target"
    fi
    mkdir -p "$out/shipped-corpus"
    max_len=$(find Tests/Fuzz/seeds -type f -printf '%s\n' | sort -n | tail -1)
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
    "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len="$max_len" \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/shipped-" "$@" "$out/shipped-corpus" Tests/Fuzz/seeds
    exit ;;
--training)
    # SafeTensors, IDXFile and FileBytes compiled from their sources into one module with the
    # harness (Foundation and zlib only), seeded with a checkpoint and generated IDX files.
    shift
    seconds=${1:?usage: scripts/fuzz.sh --training SECONDS [libFuzzer options...]}
    shift
    target=$out/acnet-fuzz-training
    readers=(Sources/ACTraining/Checkpoint/SafeTensors.swift Sources/ACTraining/Data/IDXFile.swift
             Sources/ACTraining/Data/FileBytes.swift Sources/ACTraining/Data/ImageFolderDataset.swift
             Sources/ACTraining/Data/ImageSet.swift Sources/ACTraining/Data/PipelineRandom.swift)
    if [ ! -x "$target" ] || [ -n "$(find "${readers[@]}" Sources/CJPEG Tests/Fuzz/FuzzTrainingReaders.swift -newer "$target" | head -1)" ]; then
        echo "== building $target"
        mkdir -p "$out/obj/cjpeg"
        printf 'module CJPEG {\n    header "%s"\n    export *\n}\n' "$root/Sources/CJPEG/include/acj.h" > "$out/obj/cjpeg/module.modulemap"
        "$bin/clang" -c -O1 -g -fsanitize=fuzzer-no-link,address -I Sources/CJPEG/include Sources/CJPEG/acj.c -o "$out/obj/cjpeg/acj.o"
        swiftc -module-name AcnetFuzzTraining -parse-as-library -O -g -sanitize=fuzzer,address -use-ld=lld \
            -I Sources/CZlib -Xcc -fmodule-map-file="$out/obj/cjpeg/module.modulemap" \
            Tests/Fuzz/FuzzTrainingReaders.swift "${readers[@]}" "$out/obj/cjpeg/acj.o" -ljpeg -o "$target"
    fi
    seeds=$out/training-seeds
    mkdir -p "$seeds" "$out/training-corpus"
    # Selector byte 0: safetensors, 1: IDX (plain and gzipped), 2: a bare gzip stream.
    python3 - "$seeds" <<'PY'
import gzip, json, struct, sys
d = sys.argv[1]
data = struct.pack("<6f", 1, 2, 3, 4, 5, 6) + struct.pack("<2q", 7, -8)
head = {"a.weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
        "n": {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]},
        "__metadata__": {"format": "acnet-trainer-checkpoint-1", "input_shape": "[1,28,28]"}}
h = json.dumps(head).encode()
h += b" " * (-len(h) % 8)
open(f"{d}/safetensors", "wb").write(b"\x00" + struct.pack("<Q", len(h)) + h + data)
img = bytes([0, 0, 8, 3]) + struct.pack(">III", 3, 4, 5) + bytes(range(60))
lab = bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + bytes([1, 2, 3])
for name, b in (("idx3", img), ("idx1", lab)):
    open(f"{d}/{name}", "wb").write(b"\x01" + b)
    open(f"{d}/{name}.gz", "wb").write(b"\x01" + gzip.compress(b))
    open(f"{d}/{name}.gzraw", "wb").write(b"\x02" + gzip.compress(b))
PY
    # Selector 3 (7: three channels): the image-folder loader, seeded with two sample JPEGs.
    jpegs=(examples/images/*.jpg)
    { printf '\x03'; cat "${jpegs[0]}" "${jpegs[1]}"; } > "$seeds/images"
    { printf '\x07'; cat "${jpegs[2]}" "${jpegs[3]}" "${jpegs[4]}"; } > "$seeds/images-rgb"
    export SWIFT_BACKTRACE=enable=no
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
    "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/training-" "$@" "$out/training-corpus" "$seeds"
    exit ;;
--import)
    # The ONNX importer: SwiftProtobuf, ACNetWriter and ACImport compiled as the release build
    # compiles them (-O -wmo, ExistentialAny; checks kept), on top of the runtime objects of the
    # loader fuzzer (built first), all with -sanitize=fuzzer,address. SwiftProtobuf's sources
    # come from SwiftPM's checkout (.build/checkouts, resolved on demand).
    shift
    seconds=${1:?usage: scripts/fuzz.sh --import SECONDS [libFuzzer options...]}
    shift
    build fuzz "-sanitize=fuzzer,address" "-fsanitize=fuzzer-no-link,address"
    o=$out/obj/fuzz
    target=$out/acnet-fuzz-import
    protobuf=.build/checkouts/swift-protobuf/Sources/SwiftProtobuf
    [ -d "$protobuf" ] || swift package resolve >/dev/null
    if [ ! -x "$target" ] || [ -n "$(find Sources/ACImport Sources/ACNetWriter Tests/Fuzz/FuzzImport.swift scripts/fuzz.sh \
            "$o/ACRuntime.o" -newer "$target" | head -1)" ]; then
        echo "== building $target"
        shipped=(-O -g -parse-as-library -wmo -enable-upcoming-feature ExistentialAny -sanitize=fuzzer,address
                 -Xcc -fmodule-map-file="$out/obj/module.modulemap")
        # module|package name (SwiftPM's -package-name, for `package` access)|sources
        for m in "SwiftProtobuf|swift_protobuf|$protobuf" "ACNetWriter|acnet|Sources/ACNetWriter" "ACImport|acnet|Sources/ACImport"; do
            local_name=${m%%|*}; rest=${m#*|}
            # shellcheck disable=SC2046
            swiftc -module-name "$local_name" -package-name "${rest%%|*}" -emit-module -emit-module-path "$o/$local_name.swiftmodule" \
                -I "$o" "${shipped[@]}" -c -o "$o/$local_name.o" $(find "${rest#*|}" -name '*.swift' | sort)
        done
        objs=()
        for f in "$o"/*.o; do [ "${f##*/}" = CInterface.o ] || objs+=("$f"); done
        swiftc -module-name AcnetFuzzImport -use-ld=lld -I "$o" "${shipped[@]}" \
            Tests/Fuzz/FuzzImport.swift "${objs[@]}" -o "$target"
    fi
    mkdir -p "$out/import-corpus"
    max_len=$(find Tests/ACImportTests/Fixtures/onnx -maxdepth 1 -name '*.onnx' -printf '%s\n' | sort -n | tail -1)
    export SWIFT_BACKTRACE=enable=no
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
    "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/import-" "$@" "$out/import-corpus" \
        Tests/ACImportTests/Fixtures/onnx
    exit ;;
--build)
    build fuzz "-sanitize=fuzzer,address" "-fsanitize=fuzzer-no-link,address"
    exit 0 ;;
--coverage)
    # Same harness without libFuzzer's main: a tiny driver feeds every corpus file once.
    build cov "-profile-generate -profile-coverage-mapping -sanitize=fuzzer" "-fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping"
    rm -f "$out"/cov-*.profraw
    LLVM_PROFILE_FILE="$out/cov-%p.profraw" "$out/acnet-fuzz-loader-cov" -runs=0 "$out/corpus" Tests/Fuzz/seeds >/dev/null 2>&1
    "$bin/llvm-profdata" merge -o "$out/cov.profdata" "$out"/cov-*.profraw
    "$bin/llvm-cov" report "$out/acnet-fuzz-loader-cov" -instr-profile="$out/cov.profdata" \
        Sources/ACRuntime/Format/ModelParser.swift Sources/ACRuntime/Format/GraphBuilder.swift \
        Sources/ACRuntime/Format/ByteReader.swift Sources/ACRuntime/Plan/Planner.swift \
        Sources/ACRuntime/Engine/Model.swift Sources/ACRuntime/Engine/Session.swift Sources/CInterface/CInterface.swift
    exit 0 ;;
esac

seconds=${1:?usage: scripts/fuzz.sh SECONDS [libFuzzer options...]}
shift
build fuzz "-sanitize=fuzzer,address" "-fsanitize=fuzzer-no-link,address"
max_len=$(find Tests/Fuzz/seeds -type f -printf '%s\n' | sort -n | tail -1)
echo "== fuzzing for $seconds s (seeds: $(ls Tests/Fuzz/seeds | wc -l), corpus: $(ls "$out/corpus" | wc -l) inputs)"
export SWIFT_BACKTRACE=enable=no  # Swift's crash handler would trip ASan; libFuzzer prints the trace
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
"$out/acnet-fuzz-loader" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len="$max_len" \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/" "$@" "$out/corpus" Tests/Fuzz/seeds
