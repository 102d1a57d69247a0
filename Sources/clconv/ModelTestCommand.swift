import ArgumentParser
import ConvCL
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `clconv model test`: ONNX's backend test cases (a folder holding `model.onnx` and
/// `test_data_set_*/input_*.pb`, `output_*.pb`), run and compared as ONNX's own runner does.
struct ModelTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test", abstract: "Runs ONNX backend test cases and compares each output with the expected one.",
        discussion: """
            Each FOLDER is a test case (it holds model.onnx) or a folder of them (onnx/backend/test/data/node). \
            A case whose model uses an operator ConvCL does not claim is counted, not run. Every other case must pass \
            unless the --exclude file names it: lines of a glob of case names, then the reason. An excluded case that \
            passes is an error too, so the list stays true. Floats pass when |actual - expected| <= atol + rtol * |expected| \
            (NaN matching NaN); other types must be equal. Exits with status 2 when any case fails.
            """)

    @Argument(help: "Test case folders, or folders of them.")
    var folders: [String]

    @OptionGroup var device: DeviceOption

    @Option(help: "A file of excluded cases: a glob of case names, whitespace, the reason, per line ('#' starts a comment).")
    var exclude: String?

    @Option(help: "The relative tolerance for float outputs (ONNX's runner uses 1e-3).")
    var rtol: Double = 1e-3

    @Option(help: "The absolute tolerance for float outputs (ONNX's runner uses 1e-7).")
    var atol: Double = 1e-7

    @Flag(help: "Print every case, not only failures.")
    var verbose = false

    func run() throws {
        let backend = try device.backend()
        let exclusions = try exclude.map(Exclusion.read) ?? []
        let cases = try folders.flatMap(testCases).sorted { $0.lastPathComponent < $1.lastPathComponent }
        var passed = 0, excluded = 0, failures: [String] = []
        var unclaimed: [String: Int] = [:]
        var usedExclusions = Set<String>()
        for folder in cases {
            let name = folder.lastPathComponent
            let model = folder.appendingPathComponent("model.onnx")
            let missing = try Model.unsupportedNodes(contentsOf: model).filter { $0.reason == "operator not supported" || $0.reason.hasPrefix("domain ") }
            if !missing.isEmpty {
                for node in Set(missing.map { ($0.domain.isEmpty ? "" : $0.domain + ".") + $0.opType }) { unclaimed[node, default: 0] += 1 }
                continue
            }
            let exclusion = exclusions.first { $0.matches(name) }
            let outcome = Result { try runCase(folder, backend: backend) }
            switch (outcome, exclusion) {
            case (.success, nil):
                passed += 1
                if verbose { print("ok \(name)") }
            case (.failure(let error), nil):
                failures.append("\(name): \(error)")
                print("FAIL \(name): \(error)")
            case (.success, let exclusion?):
                failures.append("\(name): passes, but \(exclude!) excludes it (\(exclusion.pattern): \(exclusion.reason))")
                print("FAIL \(name): passes, but is excluded by \(exclusion.pattern)")
            case (.failure(let error), let exclusion?):
                excluded += 1
                usedExclusions.insert(exclusion.pattern)
                if verbose { print("excluded \(name) (\(exclusion.reason)): \(error)") }
            }
        }
        for exclusion in exclusions where !usedExclusions.contains(exclusion.pattern) && !cases.contains(where: { exclusion.matches($0.lastPathComponent) }) {
            failures.append("\(exclusion.pattern) excludes no case")
            print("FAIL exclusion \(exclusion.pattern) matches no case")
        }
        let claimed = passed + excluded + failures.count
        print("\(cases.count) cases: \(claimed) claimed (\(passed) pass, \(excluded) excluded, \(failures.count) fail), \(cases.count - claimed) use operators ConvCL does not claim")
        if !unclaimed.isEmpty {
            print("unclaimed operators (cases): " + unclaimed.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !failures.isEmpty { throw RuntimeFailure("\(failures.count) of \(claimed) claimed cases fail (FAIL lines above)") }
    }

    /// The case folders under `path`: itself when it holds a model, else its subfolders that do.
    func testCases(_ path: String) throws -> [URL] {
        let url = URL(fileURLWithPath: path)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("model.onnx").path) { return [url] }
        let entries = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
        let cases = entries.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("model.onnx").path) }
        guard !cases.isEmpty else { throw ValidationError("\(path) holds no model.onnx and no test case folders") }
        return cases
    }

    /// Runs every test data set of one case; throws what differs first.
    func runCase(_ folder: URL, backend: any Backend) throws {
        let model = try Model(contentsOf: folder.appendingPathComponent("model.onnx"), backend: backend)
        let sets = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("test_data_set_") }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !sets.isEmpty else { throw RuntimeFailure("no test_data_set_* folder") }
        for set in sets {
            let inputs = try numbered("input", in: set), expected = try numbered("output", in: set)
            guard inputs.count <= model.inputs.count, expected.count == model.outputs.count else {
                throw RuntimeFailure("\(set.lastPathComponent) has \(inputs.count) inputs and \(expected.count) outputs; the model \(model.inputs.count) and \(model.outputs.count)")
            }
            var feeds: [String: Tensor] = [:]
            for (input, tensor) in zip(model.inputs, inputs) { feeds[input.name] = tensor }
            let outputs = try model.run(feeds)
            for (output, want) in zip(model.outputs, expected) {
                try compare(outputs[output.name]!, want, label: "\(set.lastPathComponent) output \(output.name)")
            }
        }
    }

    /// `prefix_0.pb`, `prefix_1.pb`, … in order.
    func numbered(_ prefix: String, in folder: URL) throws -> [Tensor] {
        var tensors: [Tensor] = []
        while true {
            let url = folder.appendingPathComponent("\(prefix)_\(tensors.count).pb")
            guard FileManager.default.fileExists(atPath: url.path) else { return tensors }
            tensors.append(try Tensor.readONNX(contentsOf: url).tensor)
        }
    }

    func compare(_ actual: Tensor, _ expected: Tensor, label: String) throws {
        guard actual.dataType == expected.dataType, actual.shape == expected.shape else {
            throw RuntimeFailure("\(label): got \(actual.dataType) \(actual.shape), expected \(expected.dataType) \(expected.shape)")
        }
        switch (try actual.data(), try expected.data()) {
        case (.float32(let got), .float32(let want)):
            for (index, (a, e)) in zip(got, want).enumerated() {
                let close = a.isNaN ? e.isNaN : (a == e || abs(Double(a) - Double(e)) <= atol + rtol * abs(Double(e)))
                if !close { throw RuntimeFailure("\(label): element \(index) is \(a), expected \(e) (rtol \(rtol), atol \(atol))") }
            }
        case (let got, let want):
            if got != want {
                let index = zip(got.doubles, want.doubles).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? 0
                throw RuntimeFailure("\(label): element \(index) is \(got.doubles[index]), expected \(want.doubles[index])")
            }
        }
    }
}

/// One line of an exclude file: a glob of case names and why they are excluded.
struct Exclusion {
    let pattern: String
    let reason: String

    func matches(_ name: String) -> Bool { fnmatch(pattern, name, 0) == 0 }

    static func read(_ path: String) throws -> [Exclusion] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch { throw ValidationError("--exclude \(path): \(error.localizedDescription)") }
        return try text.split(separator: "\n").enumerated().compactMap { number, line in
            let content = line.trimmingCharacters(in: .whitespaces)
            guard !content.isEmpty, !content.hasPrefix("#") else { return nil }
            let parts = content.split(maxSplits: 1, whereSeparator: \.isWhitespace)
            guard parts.count == 2 else { throw ValidationError("\(path):\(number + 1): a glob, then the reason for excluding it") }
            return Exclusion(pattern: String(parts[0]), reason: parts[1].trimmingCharacters(in: .whitespaces))
        }
    }
}
