// A Swift app using ACRuntime: load a model, classify one input, print the top-5 labels.
//
//     swift run acnet-swift-example models/fashion-mnist-acnet.acnb
//
// Without an image decoder in this example, the input is a constant mid-gray image
// normalised with the model's own input spec (docs/DESIGN.md §4).
import ACRuntime
import Foundation

let args = CommandLine.arguments
guard args.count == 2 else {
    print("usage: acnet-swift-example MODEL.acnb")
    exit(2)
}
do {
    let model = try Model(contentsOfFile: args[1])
    let session = try Session(model: model)
    let (c, h, w) = (model.inputShape[0], model.inputShape[1], model.inputShape[2])
    var input = [Float](repeating: 0, count: c * h * w)
    for ch in 0..<c {
        let mean = model.inputSpec.mean[ch]
        let std = model.inputSpec.std[ch]
        for i in 0..<(h * w) { input[ch * h * w + i] = (128 / 255 - mean) / std }
    }
    let logits = try session.run(input)
    let m = logits.max() ?? 0
    let e = logits.map { expf($0 - m) }
    let sum = e.reduce(0, +)
    for i in e.indices.sorted(by: { e[$0] > e[$1] }).prefix(5) {
        let label = i < model.labels.count ? model.labels[i] : "class \(i)"
        print("\(label)\t\(String(format: "%.4f", e[i] / sum))")
    }
} catch {
    print("error: \(error)")
    exit(1)
}
