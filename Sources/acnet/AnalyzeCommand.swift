import ACRuntime
import ACTraining
import ArgumentParser
import Foundation

/// `acnet analyze`: the ACNet paper's kernel analyses (Ding et al., ICCV 2019: Figs. 5 and 6).
struct AnalyzeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyze",
        abstract: "Kernel analyses of the ACNet paper: skeleton magnitudes (Fig. 6) and random pruning (Fig. 5).",
        subcommands: [SkeletonCommand.self, PruneCommand.self])
}

/// A model for the analyses: an .acnb as stored, or a training checkpoint fused first (every
/// ACB and BatchNorm, exactly as `acnet export` does) so the analyses see the deployed kernels.
enum AnalysisModel {
    static func fusedBytes(_ path: String) throws -> (bytes: [UInt8], note: String) {
        if path.hasSuffix(".safetensors") {
            let file = try SafeTensors(contentsOfFile: path)
            let info = try TrainerCheckpointInfo(file, path: path)
            try ModelState.checkFinite(file, path: path)
            let model = try info.recipe.makeModel()
            try ModelState.load(model, from: file)
            let variant = info.recipe.acb ? ", ACB variant \((info.recipe.acbVariant ?? .full).rawValue)" : ""
            return (
                try ModelExport.fusedModelBytes(model: model, info: info),
                "checkpoint of \(info.recipe.model)\(info.recipe.acb ? " with ACBs" : " (plain)")\(variant), "
                    + "epoch \(info.epoch), fused"
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        return ([UInt8](data), "fused .acnb")
    }

    static func write(_ text: String, to path: String) throws {
        try AtomicFile.write(Array(text.utf8), to: path)
    }
}

/// `acnet analyze skeleton MODEL`: average relative importance of the K×K kernel positions.
struct SkeletonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skeleton",
        abstract: "Average relative importance of each K×K kernel position (the paper's Fig. 6).",
        discussion: """
            For every conv layer with a square K×K kernel, K > 1 (after fusion: an ACB counts as \
            its fused KxK conv), sums |W| over output and input channels at each of the K×K \
            positions and divides by the largest of the K² sums; prints the mean of these \
            matrices over the layers (one grid per K) and a summary: the centre, the rest of the \
            skeleton (centre row and column), and the corners (every other position).
            """)

    @Argument(help: "An .acnb model or a training checkpoint (.safetensors; fused first).")
    var model: String

    @Option(name: .long, help: "Write an SVG heatmap of the grid(s) to this file (must not be the model).")
    var svg: String?

    func validate() throws {
        try OptionCheck.inputFile("model", model)
        if let svg { try OptionCheck.outputFile("--svg", svg, inputs: [model]) }
    }

    @Flag(name: .long, help: "Also print every layer's normalised matrix.")
    var perLayer = false

    @Option(name: .long, help: "Title of the SVG (default: the model path).")
    var title: String?

    func run() throws {
        let (bytes, note) = try AnalysisModel.fusedBytes(model)
        let weights = try ACNBWeights(bytes: bytes)
        let kernels = weights.kernels
        let grids = KernelSkeleton.grids(kernels)
        print("model: \(model) (\(note))")
        guard !grids.isEmpty else { throw CLIError("\(model) has no square KxK convolution with K > 1") }
        if perLayer {
            for k in kernels where k.kernelHeight == k.kernelWidth && k.kernelHeight > 1 {
                let g = KernelSkeleton.Grid(
                    kernelSize: k.kernelHeight, values: KernelSkeleton.relativeImportance(k),
                    layerCount: 1)
                print(
                    "\(k.name) [\(k.outputChannels), \(k.inputChannelsPerGroup), \(k.kernelHeight), \(k.kernelWidth)]:")
                print(KernelSkeleton.text(g))
            }
        }
        for g in grids {
            let K = g.kernelSize
            print("\(K)x\(K): average relative importance over \(g.layerCount) layer\(g.layerCount == 1 ? "" : "s")")
            print(KernelSkeleton.text(g))
            var skel = [Double]()
            var corners = [Double]()
            for h in 0..<K {
                for w in 0..<K where !(h == K / 2 && w == K / 2) {
                    if PruneRegion.skeleton.contains(kh: h, kw: w, kernelSize: K) {
                        skel.append(g[h, w])
                    } else {
                        corners.append(g[h, w])
                    }
                }
            }
            func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(max(v.count, 1)) }
            print(
                String(
                    format: "centre %.3f, rest of skeleton mean %.3f, corners mean %.3f (corners/centre %.3f)",
                    g[K / 2, K / 2], mean(skel), mean(corners), mean(corners) / max(g[K / 2, K / 2], 1e-12)))
        }
        if let svg {
            try AnalysisModel.write(KernelSkeleton.svg(grids, title: title ?? "kernel skeleton: \(model)"), to: svg)
            print("wrote \(svg)")
        }
    }
}

/// `acnet analyze prune MODEL --data DIR`: accuracy after zeroing random kernel weights.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Accuracy after randomly zeroing corner, skeleton or any kernel weights (the paper's Fig. 5).",
        discussion: """
            At each global sparsity s, round(s·N) individual weights are set to zero, N being the \
            number of weights of all square K×K convs (K > 1) of the fused model; they are drawn \
            uniformly without replacement from the corners (positions off the centre row and \
            column), the skeleton (centre row and column) or all positions ("global") of all those \
            layers together, once per seed. Each pruned model is evaluated through ACRuntime on \
            the test split, preprocessed as by `acnet eval`. Sparsities a region cannot reach \
            (corners of 3x3: above 4/9) are skipped. Prints accuracy mean ± sample std over \
            seeds per sparsity and region.
            """)

    @Argument(help: "An .acnb model or a training checkpoint (.safetensors; fused first).")
    var model: String

    @Option(name: .long, help: "Dataset directory: IDX files or an image folder (as for `acnet eval`).")
    var data: String

    @Option(name: .long, help: "Comma-separated global sparsity ratios.")
    var ratios = "0,0.05,0.1,0.2,0.3,0.4"

    @Option(name: .long, help: "Random seeds per (region, sparsity): 1…N, N in 1...1000.")
    var seeds = 3

    @Option(name: .long, help: "Comma-separated regions: corners, skeleton, global.")
    var regions = "corners,skeleton,global"

    @Option(
        name: .long,
        help:
            "Evaluate only N test images (the seeded class-covering subset of `acnet eval --limit`; default: all), 1...100000000."
    )
    var limit: Int?

    @Option(name: .long, help: "Images per runtime call, 1...4096.")
    var batchSize = 256

    @Option(name: .long, help: "Write an SVG plot of accuracy against sparsity to this file (must not be an input).")
    var svg: String?

    @Option(
        name: .long,
        help:
            "Write every evaluation as CSV (region,sparsity,seed,pruned,accuracy) to this file (must not be an input).")
    var csv: String?

    @Option(name: .long, help: "Title of the SVG (default: the model path).")
    var title: String?

    func parsedRatios() throws -> [Double] {
        let r = ratios.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !r.isEmpty, r.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= 1 }) else {
            throw ValidationError("--ratios must be comma-separated numbers in [0, 1]")
        }
        return r.map { $0! }
    }

    func parsedRegions() throws -> [PruneRegion] {
        let r = regions.split(separator: ",").map { PruneRegion(rawValue: String($0)) }
        guard !r.isEmpty, r.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--regions must list corners, skeleton, global")
        }
        return r.map { $0! }
    }

    func validate() throws {
        _ = try parsedRatios()
        _ = try parsedRegions()
        try OptionCheck.range("--seeds", seeds, 1...1000)
        try OptionCheck.range("--batch-size", batchSize, 1...OptionCheck.maxRuntimeBatch)
        if let limit { try OptionCheck.range("--limit", limit, 1...OptionCheck.maxImages) }
        try OptionCheck.inputFile("model", model)
        try OptionCheck.inputDirectory("--data", data)
        if let svg { try OptionCheck.outputFile("--svg", svg, inputs: [model]) }
        if let csv { try OptionCheck.outputFile("--csv", csv, inputs: [model] + [svg].compactMap { $0 }) }
    }

    func run() throws {
        let ratios = try parsedRatios()
        let regions = try parsedRegions()
        let (bytes, note) = try AnalysisModel.fusedBytes(model)
        let runtimeModel = try Model(bytes: bytes)
        let test = try EvaluationData(directory: data, model: runtimeModel, limit: limit)
        let pruner = try KernelPruner(bytes: bytes)
        print("model: \(model) (\(note)); \(pruner.totalWeights) weights in square KxK convs (K > 1)")
        print("data: \(test.source); seeds 1…\(seeds)")
        let stderr = FileHandle.standardError
        let started = Date()
        let base = try RuntimeAccuracy.accuracy(
            bytes: bytes, inputs: test.inputs, labels: test.labels, batch: batchSize)
        var points = [PrunePoint]()
        var rows = ["region,sparsity,seed,pruned,accuracy"]
        for region in regions {
            for s in ratios {
                let n = pruner.prunedCount(sparsity: s)
                var accs = [Double]()
                if n <= pruner.candidateCount(region) {
                    for seed in 1...seeds {
                        let acc: Double
                        if n == 0 {
                            acc = base  // nothing pruned: the unpruned model's accuracy, evaluated once
                        } else {
                            let pruned = pruner.pruned(region: region, sparsity: s, seed: UInt64(seed))!
                            acc = try RuntimeAccuracy.accuracy(
                                bytes: pruned, inputs: test.inputs, labels: test.labels,
                                batch: batchSize)
                        }
                        accs.append(acc)
                        rows.append("\(region.rawValue),\(s),\(seed),\(n),\(String(format: "%.4f", acc))")
                    }
                    stderr.write(
                        Data(
                            String(
                                format: "%@ s=%.3f: %@ (%.0f s)\n", region.rawValue, s,
                                accs.map { String(format: "%.4f", $0) }.joined(separator: " "),
                                Date().timeIntervalSince(started)
                            ).utf8))
                }
                points.append(PrunePoint(region: region, sparsity: s, accuracies: accs))
            }
        }
        let header = ["sparsity", "pruned"] + regions.map(\.rawValue)
        var table = [header]
        for s in ratios {
            var row = [String(format: "%.3f", s), String(pruner.prunedCount(sparsity: s))]
            for r in regions {
                let p = points.first { $0.region == r && $0.sparsity == s }!
                row.append(p.accuracies.isEmpty ? "n/a" : String(format: "%.4f ± %.4f", p.mean, p.std))
            }
            table.append(row)
        }
        let widths = header.indices.map { c in table.map { $0[c].count }.max()! }
        for r in table {
            print(
                r.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                    separator: "  "))
        }
        print(
            String(
                format: "(accuracy mean ± sample std over %d seeds on %d images; %.0f s)", seeds, test.count,
                Date().timeIntervalSince(started)))
        if let csv {
            try AnalysisModel.write(rows.joined(separator: "\n") + "\n", to: csv)
            print("wrote \(csv)")
        }
        if let svg {
            try AnalysisModel.write(PrunePoint.svg(points, title: title ?? "random kernel pruning: \(model)"), to: svg)
            print("wrote \(svg)")
        }
    }
}
