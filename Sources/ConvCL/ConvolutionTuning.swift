import Foundation

/// The algorithms that find mode chose by timing, per device: kept in memory and in
/// `tuning-<device>.json` in the cache directory, so that later processes reuse them.
///
/// The file maps a convolution's shape key to an algorithm's name. A file that cannot be read or
/// parsed is ignored (its shapes are timed again); writes merge with what another process may have
/// stored meanwhile and replace the file atomically.
final class TuningTable: Sendable {
    /// The tuning file, or nil when caching is off (the table then lives in memory only).
    let file: URL?
    private let entries: Locked<[String: String]>

    init(directory: URL?, device: DeviceInfo) {
        let identity = "\(device.name)|\(device.vendor)|\(device.driverVersion)|\(device.platformName)"
        file = directory?.appendingPathComponent("tuning-\(SHA256.hex(Array(identity.utf8)).prefix(16)).json")
        entries = Locked(Self.read(file))
    }

    /// The algorithm stored for `key`, if any.
    func algorithm(for key: String) -> ConvolutionAlgorithm? {
        entries.withLock { $0[key] }.flatMap(ConvolutionAlgorithm.init(rawValue:))
    }

    /// Stores `algorithm` for `key`, in memory and (best effort) in the file.
    func record(_ algorithm: ConvolutionAlgorithm, for key: String) {
        let merged = entries.withLock { entries in
            entries.merge(Self.read(file)) { mine, _ in mine }
            entries[key] = algorithm.rawValue
            return entries
        }
        guard let file, let data = try? JSONSerialization.data(withJSONObject: merged, options: [.sortedKeys, .prettyPrinted])
        else { return }
        let temporary = file.deletingLastPathComponent().appendingPathComponent(
            ".\(file.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).\(UInt64.random(in: 0...UInt64.max)).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: data) else { return }
        if rename(temporary.path, file.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
    }

    private static func read(_ file: URL?) -> [String: String] {
        guard let file, let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int, size > 0,
            let data = FileManager.default.contents(atPath: file.path),
            let entries = (try? JSONSerialization.jsonObject(with: data)) as? [String: String]
        else { return [:] }
        return entries
    }
}

extension ConvolutionGeometry {
    /// What an algorithm's speed depends on: the sizes, stride, padding, dilation and groups (not
    /// the values, the bias, the activation or flipping).
    var tuningKey: String {
        "n\(batch) c\(inputChannels) \(inputHeight)x\(inputWidth) k\(outputChannels) \(kernelHeight)x\(kernelWidth) "
            + "s\(strideHeight)x\(strideWidth) p\(padTop),\(padLeft) o\(outputHeight)x\(outputWidth) "
            + "d\(dilationHeight)x\(dilationWidth) g\(groups)"
    }
}

extension OpenCLBackend {
    /// Find mode's plan: the algorithm stored for this shape, else the fastest of those that
    /// compute it within the workspace limit, timed on random operands of its shape.
    func findPlan(_ g: ConvolutionGeometry) throws -> ConvolutionPlan {
        let limit = convolution.workspaceLimit
        let key = g.tuningKey
        func fits(_ algorithm: ConvolutionAlgorithm) -> Bool {
            g.computes(with: algorithm) && workspaceBytes(algorithm, g) <= limit
        }
        if let stored = tuning.algorithm(for: key), fits(stored) {
            return ConvolutionPlan(
                algorithm: stored, workspaceBytes: workspaceBytes(stored, g),
                reason: "found earlier by timing (tuning table \(tuning.file?.path ?? "in memory"))")
        }
        let candidates = ConvolutionAlgorithm.allCases.filter(fits)
        var random = SeededGenerator(seed: 1)
        let x = try tensor(shape: [g.batch, g.inputChannels, g.inputHeight, g.inputWidth], values: random.floats(
            g.batch * g.inputChannels * g.inputHeight * g.inputWidth))
        let w = try tensor(shape: [g.outputChannels, g.inputChannelsPerGroup, g.kernelHeight, g.kernelWidth], values: random.floats(
            g.outputChannels * g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth))
        let b = try tensor(shape: [g.outputChannels], values: random.floats(g.outputChannels))
        let (_, y) = try output(shape: g.outputShape, operation: "conv2d")
        let input = try buffer(of: x, "conv2d", "input"), weight = w
        let bias = g.hasBias ? try buffer(of: b, "conv2d", "bias") : nil
        var timings: [(algorithm: ConvolutionAlgorithm, seconds: Double)] = []
        for algorithm in candidates {
            try run(algorithm, g, input, weight, bias, y)  // builds its programs
            var best = Double.infinity
            for _ in 0..<3 {
                let (_, seconds) = try measureDeviceTime { try run(algorithm, g, input, weight, bias, y) }
                best = min(best, seconds)
            }
            counters.withLock { $0.convolutionTimings += 1 }
            timings.append((algorithm, best))
        }
        // Direct is the fallback when nothing fits (its workspace is the packed filters alone).
        let fastest = timings.min(by: { $0.seconds < $1.seconds }) ?? (.direct, 0)
        tuning.record(fastest.algorithm, for: key)
        let report = timings.map { "\($0.algorithm.rawValue) \(String(format: "%.3f", $0.seconds * 1e3)) ms" }
        return ConvolutionPlan(
            algorithm: fastest.algorithm, workspaceBytes: workspaceBytes(fastest.algorithm, g),
            reason: "fastest by timing: " + report.joined(separator: ", "))
    }
}
