#!/usr/bin/env python3
"""An independent reader of the .acnb format, written from docs/FORMAT.md alone (no code of
the runtime or the writer was consulted): it parses and validates a file and prints the op
table in the layout of `acnet inspect` (without the runtime-specific "kernel" column and
the MACs, which the format does not define). scripts/check_format_reader.sh compares its
output with `acnet inspect` on every shipped and benchmark model, so FORMAT.md stays complete.

    python3 Tests/Format/acnb_reader.py MODEL.acnb

Exit status 0 with the table, or 1 with `error: ...` for a file FORMAT.md says is invalid.
Standard library only.
"""
import struct
import sys

MAGIC = bytes([0x41, 0x43, 0x4E, 0x42, 0x00, 0x0D, 0x0A, 0x1A])
NONE = 0xFFFFFFFF
OPS = {1: "conv2d", 2: "max_pool", 3: "avg_pool", 4: "global_avg_pool", 5: "linear", 6: "add",
       7: "concat", 8: "scale_shift", 9: "flatten", 10: "softmax", 11: "activation"}
ACTS = {0: None, 1: "relu", 2: "relu6"}
ORDERS = {0: "gray", 1: "rgb", 2: "bgr", 3: "none"}
PLAIN, OC16, DEPTHWISE16, WINOGRAD43, WINOGRAD25 = 0, 1, 2, 3, 4


class FormatError(Exception):
    pass


def crc32c(data):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def ceil_div(a, b):
    return -(-a // b)


def string_at(strings, offset):
    if offset >= len(strings):
        raise FormatError(f"string offset {offset} outside the string table")
    end = strings.find(b"\0", offset)
    if end < 0:
        raise FormatError(f"string at {offset} is not NUL-terminated")
    return strings[offset:end].decode("utf-8")


def read(path):
    data = open(path, "rb").read()
    if len(data) < 192 or data[:8] != MAGIC:
        raise FormatError("not an .acnb file (size or magic)")
    version, layout, size, crc, header_size = struct.unpack_from("<IIQII", data, 8)
    if version not in (1, 2) or layout != 1:
        raise FormatError(f"unsupported version {version} / kernel layout {layout}")
    if size != len(data) or header_size != 192:
        raise FormatError("declared file or header size is wrong")
    if crc32c(data[:24] + b"\0\0\0\0" + data[28:]) != crc:
        raise FormatError("CRC-32C mismatch")
    (tensor_count, op_count, tensor_off, op_off, str_off, str_size, label_count) = struct.unpack_from("<IIQQQQI", data, 32)
    label_off, input_index, output_index, order = struct.unpack_from("<QIII", data, 80)
    mean = struct.unpack_from("<4f", data, 104)
    std = struct.unpack_from("<4f", data, 120)
    for off, n in ((tensor_off, tensor_count * 64), (op_off, op_count * 128), (str_off, str_size), (label_off, label_count * 4)):
        if n and (off < 192 or off + n > len(data)):
            raise FormatError("a table lies outside the file")
    strings = data[str_off:str_off + str_size]

    tensors = []
    for t in range(tensor_count):
        kind, dtype, rank, name = struct.unpack_from("<IIII", data, tensor_off + 64 * t)
        dims = list(struct.unpack_from("<4I", data, tensor_off + 64 * t + 16))
        offset, nbytes, packing = struct.unpack_from("<QQI", data, tensor_off + 64 * t + 32)
        if dtype != 1:
            raise FormatError(f"tensor {t}: dtype {dtype}")
        if kind == 2:
            if rank != 1 or offset % 64 or offset < 192 or offset + nbytes > len(data) or nbytes != 4 * dims[0]:
                raise FormatError(f"tensor {t}: bad constant")
        elif kind == 1:
            if rank not in (2, 4) or dims[0] != 1:
                raise FormatError(f"tensor {t}: bad activation")
        else:
            raise FormatError(f"tensor {t}: kind {kind}")
        tensors.append({"kind": kind, "rank": rank, "dims": dims[:rank], "packing": packing, "count": dims[0]})
    labels = [string_at(strings, struct.unpack_from("<I", data, label_off + 4 * i)[0]) for i in range(label_count)]

    shapes = {input_index: tensors[input_index]["dims"][1:]}
    rows = []
    total_params = 0
    for i in range(op_count):
        e = op_off + 128 * i
        code, n_in = struct.unpack_from("<II", data, e)
        inputs = list(struct.unpack_from("<4I", data, e + 8))[:n_in]
        out, weight, bias, winograd = struct.unpack_from("<IIII", data, e + 24)
        p = list(struct.unpack_from("<16i", data, e + 40))
        if code not in OPS:
            raise FormatError(f"op {i}: unknown op code {code}")
        if version == 1:  # field 36 is reserved in version 1
            if winograd != 0:
                raise FormatError(f"op {i}: reserved field is not 0")
            winograd = NONE
        for x in inputs:
            if x not in shapes:
                raise FormatError(f"op {i}: input {x} is not written before")
        ins = [shapes[x] for x in inputs]
        name = OPS[code]
        params = 0
        desc = ""

        def constant(index, count, packing, role):
            if index == NONE:
                raise FormatError(f"op {i}: missing {role}")
            t = tensors[index]
            if t["kind"] != 2 or t["count"] != count or t["packing"] != packing:
                raise FormatError(f"op {i}: {role} has {t['count']} elements / packing {t['packing']}, expected {count} / {packing}")
            return count

        if code == 1:
            c, h, w = ins[0]
            kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g, act, o = p[:13]
            oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
            ow = (w + pl + pr - dw * (kw - 1) - 1) // sw + 1
            if g == c == o and g > 1:
                params += constant(weight, ceil_div(c, 16) * kh * kw * 16, DEPTHWISE16, "weight")
            else:
                per_group_out, cg = o // g, c // g
                n = 0
                for b in range(ceil_div(o, 16)):
                    g0 = (16 * b) // per_group_out
                    g1 = min(16 * b + 15, o - 1) // per_group_out
                    n += (g1 - g0 + 1) * cg * kh * kw * 16
                params += constant(weight, n, OC16, "weight")
            params += constant(bias, ceil_div(o, 16) * 16, PLAIN, "bias")
            if winograd != NONE:
                if version < 2 or kh != kw or kh not in (3, 5) or (sh, sw, dh, dw, g) != (1, 1, 1, 1, 1):
                    raise FormatError(f"op {i}: Winograd weights on a conv that cannot have them")
                params += constant(winograd, ceil_div(o, 16) * 36 * c * 16, WINOGRAD43 if kh == 3 else WINOGRAD25, "winograd weight")
            shape = [o, oh, ow]
            desc = f" {kh}x{kw} s{sh},{sw} p{pt},{pl},{pb},{pr} d{dh},{dw} g{g}"
            desc += f" +{ACTS[act]}" if act else ""
            desc += " +residual" if n_in == 2 else ""
        elif code in (2, 3):
            c, h, w = ins[0]
            kh, kw, sh, sw, pt, pl, pb, pr, ceil = p[:9]

            def pooled(size, k, s, lo, hi):
                span = size + lo + hi - k
                n = (ceil_div(span, s) if ceil else span // s) + 1
                if ceil and (n - 1) * s >= size + lo:  # a last window starting in the end padding
                    n -= 1
                return n
            shape = [c, pooled(h, kh, sh, pt, pb), pooled(w, kw, sw, pl, pr)]
            desc = f" {kh}x{kw} s{sh},{sw} p{pt},{pl},{pb},{pr}" + (" ceil" if ceil else "")
        elif code == 4:
            shape = [ins[0][0]]
        elif code == 5:
            f, o, act = ins[0][0], p[0], p[1]
            params += constant(weight, ceil_div(o, 16) * f * 16, OC16, "weight")
            params += constant(bias, ceil_div(o, 16) * 16, PLAIN, "bias")
            shape = [o]
            desc = f" +{ACTS[act]}" if act else ""
        elif code == 6:
            if ins[0] != ins[1]:
                raise FormatError(f"op {i}: add of different shapes")
            shape = ins[0]
            desc = f" {ACTS[p[0]]}" if p[0] else ""
        elif code == 7:
            shape = [sum(s[0] for s in ins)] + ins[0][1:]
        elif code == 8:
            c = ins[0][0]
            params += constant(weight, ceil_div(c, 16) * 16, PLAIN, "scale")
            params += constant(bias, ceil_div(c, 16) * 16, PLAIN, "shift")
            shape = ins[0]
            desc = f" {ACTS[p[0]]}" if p[0] else ""
        elif code == 9:
            n = 1
            for d in ins[0]:
                n *= d
            shape = [n]
        elif code == 10:
            shape = ins[0]
        else:
            shape = ins[0]
            desc = f" {ACTS[p[0]]}" if p[0] else ""
        declared = tensors[out]["dims"][1:]
        if out in shapes or declared != shape:
            raise FormatError(f"op {i}: output tensor {out} is {declared}, inferred {shape}")
        shapes[out] = shape
        total_params += params
        rows.append([str(i), name + desc, " ".join(fmt([1] + s) for s in ins), fmt([1] + shape), str(params)])
    return {"size": len(data), "input": tensors[input_index]["dims"][1:], "order": ORDERS.get(order, str(order)),
            "output": shapes.get(output_index), "labels": labels, "rows": rows, "params": total_params,
            "mean": mean, "std": std}


def fmt(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-3].strip(), file=sys.stderr)
        return 2
    try:
        m = read(sys.argv[1])
    except (FormatError, struct.error, KeyError, IndexError, UnicodeDecodeError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"input: [N, {', '.join(map(str, m['input']))}]  channel order: {m['order']}")
    print(f"output: [N, {', '.join(map(str, m['output']))}]  labels: {len(m['labels'])}")
    for r in m["rows"]:
        print("\t".join(r))
    print(f"total: {len(m['rows'])} ops, {m['params']} stored parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
