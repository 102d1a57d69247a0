import ArgumentParser
import ConvCL
import Foundation

/// `clconv model`: ONNX models.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Loads, runs and checks ONNX models.",
        subcommands: [ModelInfoCommand.self, ModelRunCommand.self, ModelCheckCommand.self, ModelTestCommand.self]
    )
}

/// The options every model subcommand shares.
struct ModelOptions: ParsableArguments {
    @Argument(help: "The ONNX model file.")
    var model: String

    @OptionGroup var device: DeviceOption

    @Flag(help: "Run the graph node for node: no Pad, BatchNormalization, Add or activation merged into a Conv.")
    var noRewrites = false

    func load(on backend: (any Backend)? = nil) throws -> Model {
        try Model(contentsOf: URL(fileURLWithPath: model), backend: backend ?? device.backend(), rewrites: !noRewrites)
    }
}

/// `--input NAME=PATH.npy`, or a lone `--input PATH.npy` for a model of one input.
struct ModelInputs: ParsableArguments {
    @Option(name: .customLong("input"), help: ArgumentHelp("An input: NAME=PATH.npy, or PATH.npy for the model's only input.", valueName: "input"))
    var inputs: [String] = []

    func feeds(for model: Model, backend: any Backend) throws -> [String: Tensor] {
        var feeds: [String: Tensor] = [:]
        for text in inputs {
            let (name, path): (String, String)
            if let equals = text.firstIndex(of: "=") {
                (name, path) = (String(text[..<equals]), String(text[text.index(after: equals)...]))
            } else {
                guard model.inputs.count == 1 else {
                    throw ValidationError("--input \(text): the model has \(model.inputs.count) inputs; name it as NAME=PATH.npy")
                }
                (name, path) = (model.inputs[0].name, text)
            }
            let array = try NPY.read(path: path)
            feeds[name] = switch array.elementType {
            case .float32: try backend.tensor(shape: array.shape, values: array.float32Values(path: path))
            case .int64: try backend.tensor(shape: array.shape, int64Values: array.int64Values(path: path))
            }
        }
        return feeds
    }
}

struct ModelInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Prints a model's inputs, outputs, operator counts, rewrites and the plan after them, or every node ConvCL cannot run.")

    @OptionGroup var options: ModelOptions

    func run() throws {
        let model = try options.load(on: ReferenceBackend())
        print("opset \(model.opset)")
        print("inputs:")
        for input in model.inputs { print("  \(input)") }
        print("outputs:")
        for output in model.outputs { print("  \(output)") }
        print("operators (\(model.operatorCounts.values.reduce(0, +)) nodes):")
        for (op, count) in model.operatorCounts.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) { print("  \(op) \(count)") }
        print("rewrites (\(model.rewrites.count)):")
        for rewrite in model.rewrites { print("  \(rewrite)") }
        let planned = model.plannedOperatorCounts
        print("plan after rewrites (\(planned.values.reduce(0, +)) nodes):")
        for (op, count) in planned.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) { print("  \(op) \(count)") }
    }
}

struct ModelRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Runs a model on .npy inputs and writes each output as DIR/<name>.npy.",
        discussion: """
            An output's file name is its name with every character outside [A-Za-z0-9._-] replaced by _; a name longer \
            than 200 characters keeps its first 183 and ends in - and 16 hex digits of its FNV-1a hash. A model with two \
            outputs that would share a file is refused before it runs.
            """)

    @OptionGroup var options: ModelOptions
    @OptionGroup var inputs: ModelInputs
    @Option(help: "The folder the outputs go to (created if needed).")
    var outputDir: String

    @Option(help: ArgumentHelp(
        "Write a per-node profile of the last run to this JSON file (and print its costliest nodes): placement, time, device time, kernels, convolution algorithm and reason.",
        valueName: "file.json"))
    var profile: String?

    @Option(help: "Run the model this many times and print each run's time (the outputs are the last run's).")
    var runs = 1

    func run() throws {
        guard runs >= 1 else { throw ValidationError("--runs \(runs): must be at least 1") }
        let backend = try options.device.backend()
        let model = try options.load(on: backend)
        let files = try outputFileNames(model.outputs.map(\.name))
        let feeds = try inputs.feeds(for: model, backend: backend)
        var outputs: [String: Tensor] = [:]
        for index in 1...runs {
            let start = DispatchTime.now().uptimeNanoseconds
            if index == runs, let profile {
                let (results, nodes) = try model.profiledRun(feeds)
                outputs = results
                try writeProfile(nodes, to: profile)
            } else {
                outputs = try model.run(feeds)
                for tensor in outputs.values { _ = try tensor.data() }
            }
            if runs > 1 || profile != nil {
                print(String(format: "run %d: %.1f ms%@", index, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6, index == runs && profile != nil ? " (profiled)" : ""))
            }
        }
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        for output in model.outputs {
            let tensor = outputs[output.name]!
            let path = URL(fileURLWithPath: outputDir).appendingPathComponent(files[output.name]!).path
            switch tensor.dataType {
            case .float32: try NPY.write(NPYArray(shape: tensor.shape, float32: tensor.values()), path: path)
            case .int64: try NPY.write(NPYArray(shape: tensor.shape, int64: tensor.int64Values()), path: path)
            case .bool: try NPY.write(NPYArray(shape: tensor.shape, int64: tensor.boolValues().map { $0 ? 1 : 0 }), path: path)
            }
            print("\(output.name) \(tensor.shape) -> \(path)")
        }
    }
}

/// Writes `nodes` as JSON and prints the ten costliest with their share of the run.
func writeProfile(_ nodes: [NodeProfile], to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(nodes).write(to: URL(fileURLWithPath: path))
    let total = nodes.reduce(0) { $0 + $1.seconds }
    print(String(format: "profile: %d nodes, %.1f ms (%d on the device, %d folded on the host, %d cached) -> %@", nodes.count, total * 1e3,
                 nodes.filter { $0.placement == "device" }.count, nodes.filter { $0.placement == "host" }.count,
                 nodes.filter { $0.placement == "cached" }.count, path))
    for node in nodes.sorted(by: { $0.seconds > $1.seconds }).prefix(10) {
        print(String(format: "%5.1f%% ", total > 0 ? 100 * node.seconds / total : 0) + node.description)
    }
}

/// Each output name's `.npy` file name: every character outside [A-Za-z0-9._-] becomes _, and a name over 200
/// characters is cut to 183 and suffixed with its FNV-1a hash, so that every name fits a file system's 255 bytes.
/// Throws when two names would share a file.
func outputFileNames(_ names: [String]) throws -> [String: String] {
    var files: [String: String] = [:], owners: [String: String] = [:]
    for name in names {
        var file = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        if file.count > 200 {
            let hash = name.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
            file = file.prefix(183) + String(format: "-%016llx", hash)
        }
        file += ".npy"
        if let other = owners[file] {
            throw ValidationError("outputs \"\(other)\" and \"\(name)\" would both be written to \(file); rename one in the model")
        }
        owners[file] = name
        files[name] = file
    }
    return files
}

struct ModelCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Runs a model on the device and on the CPU reference node by node, and names the first node whose output diverges.",
        discussion: "A node diverges when an output's relative L2 error exceeds --tolerance (integer and bool outputs: any difference). Exits with status 2 then.")

    @OptionGroup var options: ModelOptions
    @OptionGroup var inputs: ModelInputs
    @Option(help: "The largest relative L2 error a float output may have.")
    var tolerance: Double = 1e-4

    func run() throws {
        let device = try options.device.backend()
        let reference = ReferenceBackend()
        let onDevice = try options.load(on: device), onReference = try options.load(on: reference)
        var expected: [String: [Float]] = [:]
        _ = try onReference.run(try inputs.feeds(for: onReference, backend: reference)) { _, _, outputs in
            for (name, tensor) in outputs { expected[name] = try values(tensor) }
        }
        var worst = (node: "", error: 0.0)
        _ = try onDevice.run(try inputs.feeds(for: onDevice, backend: device)) { node, opType, outputs in
            for (name, tensor) in outputs {
                let discrepancy = Discrepancy(actual: try values(tensor), expected: expected[name] ?? [])
                let error = tensor.dataType == .float32 ? discrepancy.relativeL2 : discrepancy.maxAbsolute
                if error > worst.error { worst = ("\(node) (\(opType)) output \(name)", error) }
                if error > (tensor.dataType == .float32 ? tolerance : 0) {
                    throw RuntimeFailure("\(node) (\(opType)) output \(name) diverges first: relative L2 \(discrepancy.relativeL2), max |error| \(discrepancy.maxAbsolute)")
                }
            }
        }
        print("every node matches the reference within \(tolerance); the largest error: \(worst.error) at \(worst.node)")
    }

    func values(_ tensor: Tensor) throws -> [Float] {
        switch tensor.dataType {
        case .float32: try tensor.values()
        case .int64: try tensor.int64Values().map(Float.init)
        case .bool: try tensor.boolValues().map { $0 ? 1 : 0 }
        }
    }
}
