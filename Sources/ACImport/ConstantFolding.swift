/// Constant folding of the shape and index arithmetic that exporters write around real ops.
///
/// PyTorch's TorchScript exporter writes every `nn.ZeroPad2d` / `F.pad` as a small integer
/// computation (ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast) that builds the Pad
/// node's `pads` input, and with a dynamic batch axis also Shape, Gather, Unsqueeze and integer
/// Add/Sub/Mul/Div on the input's dims. None of it depends on pixel values: the importer
/// evaluates it here, in graph order, and the results replace the nodes as constants, so the
/// lowering sees a plain `Pad(x, pads)`.
///
/// The folded set (`ConstantFolding.ops`) and its semantics are those of the ONNX operator
/// specification (opsets 1–21), on int64 (int32 inputs are widened) and float32 tensors:
///
/// - `Shape` (start/end attributes) of any value whose shape the importer knows statically;
///   the batch dimension is 1 (the .acnb stores the per-image graph; the runtime's batch is a
///   set of independent images).
/// - `Gather` (axis; negative indices count from the end), `Concat` (axis), `Reshape` (0 copies
///   a dimension unless allowzero = 1, one −1 is inferred), `Slice` (starts/ends/axes/steps as
///   inputs, or attributes before opset 10; negative values count from the end, starts and ends
///   are clamped as the specification says, so INT64_MAX means "to the end"), `Transpose`
///   (perm, default reversed), `Cast` (to float32, int32 or int64), `ConstantOfShape` (value,
///   default float 0), `Unsqueeze` / `Squeeze` (axes as input from opset 13, else attribute),
///   `Range`, and the integer `Add`, `Sub`, `Mul`, `Div` (multidirectional broadcasting; Div
///   truncates toward zero as ONNX Runtime does).
///
/// Every index is checked, every result is at most `maxElements` elements, and integer
/// overflow, division by zero, and float-to-integer casts of non-finite or out-of-range values
/// are refused with `ImportError` naming the node: a hostile graph gets an error, never a trap
/// or an unbounded allocation. A node outside the set, or with an input that is not constant,
/// is left to the lowering (which refuses what it cannot run, by name).
enum ConstantFolding {
    /// The largest tensor folding produces (elements).
    static let maxElements = 1 << 20

    /// Operators folded when every input is constant (`Shape` when its input's shape is known).
    static let ops: Set<String> = [
        "Shape", "Gather", "Concat", "Reshape", "Slice", "Transpose", "Cast", "ConstantOfShape",
        "Unsqueeze", "Squeeze", "Add", "Sub", "Mul", "Div", "Range",
    ]

    /// Operators that only ever mean shape arithmetic to this importer (no activation form).
    static let constantOnly: Set<String> = [
        "Shape", "Gather", "Transpose", "Cast", "ConstantOfShape", "Unsqueeze", "Squeeze", "Sub", "Mul", "Div", "Range",
    ]

    // MARK: Entry points

    /// `Shape` of a value with static dims `dims`: the int64 vector dims[start..<end].
    static func shape(_ n: ONNXNode, dims: [Int]) throws(ImportError) -> ONNXConstant {
        let r = dims.count
        var start = try n.int("start", default: 0)
        var end = try n.int("end", default: r)
        if start < 0 { start += r }
        if end < 0 { end += r }
        start = min(max(start, 0), r)
        end = min(max(end, 0), r)
        let v = start < end ? Array(dims[start..<end]) : []
        return ONNXConstant(dims: [v.count], ints: v.map(Int64.init))
    }

    /// Evaluates `n` on constant inputs (nil for an omitted optional input). Returns nil when the
    /// node is one this folder does not evaluate on these inputs (for example float arithmetic),
    /// so the lowering decides; throws when the inputs are invalid for the operator.
    static func evaluate(_ n: ONNXNode, _ inputs: [ONNXConstant?]) throws(ImportError) -> ONNXConstant? {
        func required(_ i: Int) throws(ImportError) -> ONNXConstant {
            guard i < inputs.count, let c = inputs[i] else { throw ImportError.node(n, "input \(i) is missing") }
            return c
        }
        switch n.opType {
        case "Gather": return try gather(n, try required(0), try required(1))
        case "Concat": return try concat(n, inputs.compactMap { $0 })
        case "Reshape": return try reshape(n, try required(0), try required(1))
        case "Slice": return try slice(n, inputs)
        case "Transpose": return try transpose(n, try required(0))
        case "Cast": return try cast(n, try required(0))
        case "ConstantOfShape": return try constantOfShape(n, try required(0))
        case "Unsqueeze": return try unsqueeze(n, try required(0), inputs.count > 1 ? inputs[1] : nil)
        case "Squeeze": return try squeeze(n, try required(0), inputs.count > 1 ? inputs[1] : nil)
        case "Add", "Sub", "Mul", "Div":
            let a = try required(0)
            let b = try required(1)
            guard let x = a.ints, let y = b.ints else { return nil }
            return try arithmetic(n, a.dims, x, b.dims, y)
        case "Range": return try range(n, try required(0), try required(1), try required(2))
        default: return nil
        }
    }

    // MARK: Helpers

    /// Element count of `dims`, overflow-checked and bounded by `maxElements`.
    static func count(_ n: ONNXNode, _ dims: [Int]) throws(ImportError) -> Int {
        var c = 1
        for d in dims {
            guard d >= 0 else { throw ImportError.node(n, "negative dimension \(d) in \(dims)") }
            let (p, o) = c.multipliedReportingOverflow(by: d)
            guard !o, p <= maxElements else {
                throw ImportError.node(n, "folded tensor \(dims) has more than \(maxElements) elements")
            }
            c = p
        }
        return c
    }

    /// Row-major strides of `dims`.
    static func strides(_ dims: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        var acc = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= dims[i]
        }
        return s
    }

    /// An axis in -rank..<rank, made non-negative.
    static func axis(_ n: ONNXNode, _ a: Int, rank: Int) throws(ImportError) -> Int {
        guard a >= -rank, a < rank else { throw ImportError.node(n, "axis \(a) is out of range for rank \(rank)") }
        return a < 0 ? a + rank : a
    }

    /// The values of a 1-D (or scalar) integer constant.
    static func intVector(_ n: ONNXNode, _ c: ONNXConstant, _ what: String) throws(ImportError) -> [Int] {
        guard let v = c.ints else { throw ImportError.node(n, "\(what) must be an integer tensor") }
        guard c.dims.count <= 1 else { throw ImportError.node(n, "\(what) must be 1-D, got dims \(c.dims)") }
        return v.map { Int(clamping: $0) }
    }

    /// Applies `pick` (a source element index per output index) to either element type.
    static func gatherElements(_ c: ONNXConstant, dims: [Int], _ index: [Int]) -> ONNXConstant {
        if let f = c.floats { return ONNXConstant(dims: dims, floats: index.map { f[$0] }) }
        return ONNXConstant(dims: dims, ints: index.map { c.ints![$0] })
    }

    /// Visits every multi-index of `dims` in row-major order.
    static func forEachIndex(_ dims: [Int], _ body: ([Int]) -> Void) {
        let total = dims.reduce(1, *)
        guard total > 0 else { return }
        var idx = [Int](repeating: 0, count: dims.count)
        for _ in 0..<total {
            body(idx)
            var a = dims.count - 1
            while a >= 0 {
                idx[a] += 1
                if idx[a] < dims[a] { break }
                idx[a] = 0
                a -= 1
            }
        }
    }

    // MARK: Operators

    static func gather(_ n: ONNXNode, _ data: ONNXConstant, _ indices: ONNXConstant) throws(ImportError) -> ONNXConstant
    {
        let r = data.dims.count
        guard r >= 1 else { throw ImportError.node(n, "data must have rank ≥ 1") }
        let ax = try axis(n, try n.int("axis", default: 0), rank: r)
        guard let iv = indices.ints else { throw ImportError.node(n, "indices must be an integer tensor") }
        let extent = data.dims[ax]
        var idx = [Int]()
        idx.reserveCapacity(iv.count)
        for v in iv {
            guard v >= -Int64(extent), v < Int64(extent) else {
                throw ImportError.node(n, "index \(v) is out of range for axis \(ax) of extent \(extent)")
            }
            idx.append(v < 0 ? Int(v) + extent : Int(v))
        }
        let outDims = Array(data.dims[..<ax]) + indices.dims + Array(data.dims[(ax + 1)...])
        _ = try count(n, outDims)
        let outer = data.dims[..<ax].reduce(1, *)
        let inner = data.dims[(ax + 1)...].reduce(1, *)
        var src = [Int]()
        src.reserveCapacity(outer * idx.count * inner)
        for o in 0..<outer { for i in idx { for k in 0..<inner { src.append((o * extent + i) * inner + k) } } }
        return gatherElements(data, dims: outDims, src)
    }

    static func concat(_ n: ONNXNode, _ xs: [ONNXConstant]) throws(ImportError) -> ONNXConstant {
        guard let first = xs.first else { throw ImportError.node(n, "needs at least one input") }
        let r = first.dims.count
        guard r >= 1 else { throw ImportError.node(n, "inputs must have rank ≥ 1") }
        guard let a = n.attributes["axis"], a.type == .int || a.hasI else {
            throw ImportError.node(n, "the axis attribute is required")
        }
        let ax = try axis(n, try n.int("axis", default: 0), rank: r)
        let isFloat = first.floats != nil
        var total = 0
        for x in xs {
            guard x.dims.count == r, (x.floats != nil) == isFloat else {
                throw ImportError.node(n, "inputs differ in rank or element type (\(first.dims) and \(x.dims))")
            }
            for d in 0..<r where d != ax && x.dims[d] != first.dims[d] {
                throw ImportError.node(n, "input dims \(x.dims) do not match \(first.dims) outside axis \(ax)")
            }
            total += x.dims[ax]
        }
        var outDims = first.dims
        outDims[ax] = total
        _ = try count(n, outDims)
        let outer = first.dims[..<ax].reduce(1, *)
        var floats = [Float]()
        var ints = [Int64]()
        for o in 0..<outer {
            for x in xs {
                let chunk = x.dims[ax...].reduce(1, *)
                if isFloat {
                    floats += x.floats![(o * chunk)..<((o + 1) * chunk)]
                } else {
                    ints += x.ints![(o * chunk)..<((o + 1) * chunk)]
                }
            }
        }
        return isFloat ? ONNXConstant(dims: outDims, floats: floats) : ONNXConstant(dims: outDims, ints: ints)
    }

    static func reshape(_ n: ONNXNode, _ data: ONNXConstant, _ shape: ONNXConstant) throws(ImportError) -> ONNXConstant
    {
        let target = try intVector(n, shape, "shape")
        let allowZero = try n.int("allowzero", default: 0) != 0
        var dims = [Int]()
        var infer: Int? = nil
        var known = 1
        for (i, t) in target.enumerated() {
            var d = t
            if t == 0 && !allowZero {
                guard i < data.dims.count else {
                    throw ImportError.node(n, "shape \(target): 0 at \(i) has no input dimension to copy")
                }
                d = data.dims[i]
            }
            if d == -1 {
                guard infer == nil else { throw ImportError.node(n, "shape \(target) has more than one -1") }
                infer = i
                dims.append(1)
                continue
            }
            guard d >= 0, d <= maxElements else {
                throw ImportError.node(n, "shape \(target): dimension \(d) is out of range")
            }
            dims.append(d)
            let (p, o) = known.multipliedReportingOverflow(by: d)
            guard !o else { throw ImportError.node(n, "shape \(target) overflows") }
            known = p
        }
        if let infer {
            guard known > 0, data.count % known == 0 else {
                throw ImportError.node(n, "cannot reshape \(data.dims) to \(target)")
            }
            dims[infer] = data.count / known
        }
        guard try count(n, dims) == data.count else {
            throw ImportError.node(n, "cannot reshape \(data.dims) (\(data.count) elements) to \(dims)")
        }
        var r = data
        r.dims = dims
        return r
    }

    static func slice(_ n: ONNXNode, _ inputs: [ONNXConstant?]) throws(ImportError) -> ONNXConstant {
        guard let data = inputs.first ?? nil else { throw ImportError.node(n, "data is missing") }
        let r = data.dims.count
        var starts: [Int]
        var ends: [Int]
        var axes: [Int]?
        var steps: [Int]?
        if inputs.count >= 3 {
            guard let s = inputs[1], let e = inputs[2] else {
                throw ImportError.node(n, "starts and ends are required")
            }
            starts = try intVector(n, s, "starts")
            ends = try intVector(n, e, "ends")
            axes = inputs.count > 3 ? try inputs[3].map { c throws(ImportError) in try intVector(n, c, "axes") } : nil
            steps = inputs.count > 4 ? try inputs[4].map { c throws(ImportError) in try intVector(n, c, "steps") } : nil
        } else {
            guard let s = try n.ints("starts"), let e = try n.ints("ends") else {
                throw ImportError.node(n, "starts and ends are required")
            }
            starts = s
            ends = e
            axes = try n.ints("axes")
            steps = nil
        }
        let k = starts.count
        let ax = axes ?? Array(0..<k)
        let st = steps ?? [Int](repeating: 1, count: k)
        guard ends.count == k, ax.count == k, st.count == k else {
            throw ImportError.node(
                n, "starts, ends, axes and steps differ in length (\(k), \(ends.count), \(ax.count), \(st.count))")
        }
        var begin = [Int](repeating: 0, count: r)
        var step = [Int](repeating: 1, count: r)
        var outDims = data.dims
        var seen = Set<Int>()
        for i in 0..<k {
            let a = try axis(n, ax[i], rank: r)
            guard seen.insert(a).inserted else { throw ImportError.node(n, "axis \(a) appears twice") }
            let dim = data.dims[a]
            let s = st[i]
            guard s != 0 else { throw ImportError.node(n, "step 0 on axis \(a)") }
            var b = starts[i]
            var e = ends[i]
            if b < 0 { b = b &+ dim }
            if e < 0 { e = e &+ dim }
            if s > 0 {
                b = min(max(b, 0), dim)
                e = min(max(e, 0), dim)
                outDims[a] = e > b ? (e - b - 1) / s + 1 : 0
            } else {
                b = min(max(b, 0), dim - 1)
                e = min(max(e, -1), dim - 1)
                let m = s == .min ? Int.max : -s
                outDims[a] = b > e ? (b - e - 1) / m + 1 : 0
            }
            begin[a] = b
            step[a] = s
        }
        _ = try count(n, outDims)
        let srcStrides = strides(data.dims)
        var src = [Int]()
        forEachIndex(outDims) { idx in
            var off = 0
            for a in 0..<r { off += (begin[a] + idx[a] * step[a]) * srcStrides[a] }
            src.append(off)
        }
        return gatherElements(data, dims: outDims, src)
    }

    static func transpose(_ n: ONNXNode, _ data: ONNXConstant) throws(ImportError) -> ONNXConstant {
        let r = data.dims.count
        let perm = try n.ints("perm") ?? Array((0..<r).reversed())
        guard perm.count == r, Set(perm) == Set(0..<r) else {
            throw ImportError.node(n, "perm \(perm) is not a permutation of 0..<\(r)")
        }
        let outDims = perm.map { data.dims[$0] }
        _ = try count(n, outDims)
        let srcStrides = strides(data.dims)
        var src = [Int]()
        src.reserveCapacity(data.count)
        forEachIndex(outDims) { idx in
            var off = 0
            for a in 0..<r { off += idx[a] * srcStrides[perm[a]] }
            src.append(off)
        }
        return gatherElements(data, dims: outDims, src)
    }

    static func cast(_ n: ONNXNode, _ x: ONNXConstant) throws(ImportError) -> ONNXConstant {
        let to = try n.int("to", default: -1)
        _ = try count(n, x.dims)
        switch Onnx_TensorProto.DataType(rawValue: to) {
        case .float?:
            if let f = x.floats { return ONNXConstant(dims: x.dims, floats: f) }
            return ONNXConstant(dims: x.dims, floats: x.ints!.map { Float($0) })
        case .int64?, .int32?:
            let lo: Int64 = to == Onnx_TensorProto.DataType.int32.rawValue ? Int64(Int32.min) : .min
            let hi: Int64 = to == Onnx_TensorProto.DataType.int32.rawValue ? Int64(Int32.max) : .max
            var v = [Int64]()
            if let f = x.floats {
                for e in f {
                    // ONNX Runtime truncates toward zero; values outside the type are undefined there.
                    guard e.isFinite, e > -9.2e18, e < 9.2e18, Int64(e) >= lo, Int64(e) <= hi else {
                        throw ImportError.node(n, "cannot cast \(e) to an integer exactly")
                    }
                    v.append(Int64(e))
                }
            } else {
                v = x.ints!
                for e in v where e < lo || e > hi {
                    throw ImportError.node(n, "value \(e) does not fit int32 (ONNX would wrap it)")
                }
            }
            return ONNXConstant(dims: x.dims, ints: v)
        default:
            throw ImportError.node(n, "cast to element type \(to) is not supported (float32, int32, int64)")
        }
    }

    static func constantOfShape(_ n: ONNXNode, _ shape: ONNXConstant) throws(ImportError) -> ONNXConstant {
        let dims = try intVector(n, shape, "the shape input")
        let c = try count(n, dims)
        guard let a = n.attributes["value"] else {
            return ONNXConstant(dims: dims, floats: [Float](repeating: 0, count: c))
        }
        guard a.hasT else { throw ImportError.node(n, "the value attribute must be a one-element tensor") }
        let v = try ONNXGraph.constant(a.t, what: "node '\(n.name)' (ConstantOfShape) value")
        guard v.count == 1 else {
            throw ImportError.node(n, "the value attribute must hold one element, got dims \(v.dims)")
        }
        if let f = v.floats { return ONNXConstant(dims: dims, floats: [Float](repeating: f[0], count: c)) }
        return ONNXConstant(dims: dims, ints: [Int64](repeating: v.ints![0], count: c))
    }

    /// Axes from the second input (opset ≥ 13) or the `axes` attribute.
    static func axesArgument(_ n: ONNXNode, _ input: ONNXConstant?) throws(ImportError) -> [Int]? {
        if let input { return try intVector(n, input, "axes") }
        return try n.ints("axes")
    }

    static func unsqueeze(
        _ n: ONNXNode, _ data: ONNXConstant, _ axesInput: ONNXConstant?
    ) throws(ImportError) -> ONNXConstant {
        guard let axes = try axesArgument(n, axesInput) else { throw ImportError.node(n, "axes are required") }
        let outRank = data.dims.count + axes.count
        var inserted = Set<Int>()
        for a in axes {
            guard inserted.insert(try axis(n, a, rank: outRank)).inserted else {
                throw ImportError.node(n, "axes \(axes) repeat an axis")
            }
        }
        var dims = [Int]()
        var src = data.dims.makeIterator()
        for i in 0..<outRank { dims.append(inserted.contains(i) ? 1 : src.next()!) }
        var r = data
        r.dims = dims
        return r
    }

    static func squeeze(
        _ n: ONNXNode, _ data: ONNXConstant, _ axesInput: ONNXConstant?
    ) throws(ImportError) -> ONNXConstant {
        let r = data.dims.count
        var removed = Set<Int>()
        if let axes = try axesArgument(n, axesInput) {
            for a in axes {
                let x = try axis(n, a, rank: r)
                guard data.dims[x] == 1 else {
                    throw ImportError.node(n, "axis \(a) has extent \(data.dims[x]), not 1")
                }
                removed.insert(x)
            }
        } else {
            removed = Set((0..<r).filter { data.dims[$0] == 1 })
        }
        var out = data
        out.dims = (0..<r).filter { !removed.contains($0) }.map { data.dims[$0] }
        return out
    }

    static func arithmetic(
        _ n: ONNXNode, _ ad: [Int], _ a: [Int64], _ bd: [Int], _ b: [Int64]
    ) throws(ImportError) -> ONNXConstant {
        // Multidirectional (numpy) broadcasting.
        let r = max(ad.count, bd.count)
        let pa = [Int](repeating: 1, count: r - ad.count) + ad
        let pb = [Int](repeating: 1, count: r - bd.count) + bd
        var outDims = [Int]()
        for i in 0..<r {
            guard pa[i] == pb[i] || pa[i] == 1 || pb[i] == 1 else {
                throw ImportError.node(n, "shapes \(ad) and \(bd) do not broadcast")
            }
            outDims.append(pa[i] == 1 ? pb[i] : pa[i])
        }
        _ = try count(n, outDims)
        let sa = strides(pa)
        let sb = strides(pb)
        var out = [Int64]()
        var failure: String? = nil
        forEachIndex(outDims) { idx in
            guard failure == nil else { return }
            var ia = 0
            var ib = 0
            for k in 0..<r {
                if pa[k] != 1 { ia += idx[k] * sa[k] }
                if pb[k] != 1 { ib += idx[k] * sb[k] }
            }
            let x = a[ia]
            let y = b[ib]
            let (v, overflow): (Int64, Bool)
            switch n.opType {
            case "Add": (v, overflow) = x.addingReportingOverflow(y)
            case "Sub": (v, overflow) = x.subtractingReportingOverflow(y)
            case "Mul": (v, overflow) = x.multipliedReportingOverflow(by: y)
            default:
                guard y != 0 else {
                    failure = "division by zero"
                    return
                }
                (v, overflow) = x.dividedReportingOverflow(by: y)  // truncates toward zero
            }
            if overflow {
                failure = "\(x) \(n.opType) \(y) overflows int64"
                return
            }
            out.append(v)
        }
        if let failure { throw ImportError.node(n, failure) }
        return ONNXConstant(dims: outDims, ints: out)
    }

    static func range(
        _ n: ONNXNode, _ start: ONNXConstant, _ limit: ONNXConstant, _ delta: ONNXConstant
    ) throws(ImportError) -> ONNXConstant {
        guard start.count == 1, limit.count == 1, delta.count == 1, start.dims.count == 0 || start.dims == [1],
            let s = start.ints?.first, let l = limit.ints?.first, let d = delta.ints?.first
        else { throw ImportError.node(n, "start, limit and delta must be integer scalars (float Range is not folded)") }
        guard d != 0 else { throw ImportError.node(n, "delta is 0") }
        // count = max(ceil((limit - start) / delta), 0), in exact integer arithmetic.
        let (span, o) = l.subtractingReportingOverflow(s)
        guard !o else { throw ImportError.node(n, "limit - start overflows") }
        let q = span / d
        let rem = span % d
        let c = max(0, q + (rem != 0 && (rem > 0) == (d > 0) ? 1 : 0))
        guard c <= Int64(maxElements) else {
            throw ImportError.node(n, "\(c) elements exceed the folding limit \(maxElements)")
        }
        return ONNXConstant(dims: [Int(c)], ints: (0..<c).map { s + $0 * d })
    }
}
