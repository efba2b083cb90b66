import ArgumentParser

/// `acnet`: train, fuse, export, inspect, benchmark, analyse and run ACNet models (docs/DESIGN.md §8).
@main
struct ACNetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acnet",
        abstract: "Train Asymmetric Convolution Networks, fuse them, and run the fused models.",
        subcommands: [
            ClassifyCommand.self, EvalCommand.self, TrainCommand.self, ExportCommand.self, ImportCommand.self,
            InspectCommand.self, BenchCommand.self, AnalyzeCommand.self, TrainBenchCommand.self,
        ])
}
