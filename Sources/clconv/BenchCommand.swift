import ArgumentParser
import ConvCL
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Times the benchmark suite: one row per case and algorithm with time and GFLOP/s (GB/s for pooling and reductions).",
        discussion: """
            Each case runs once to warm up (program builds, first allocations), then repeatedly; the time \
            is the median per call of the device work only (the kernels' profiling counters), or the wall \
            time on the CPU reference.
            """
    )

    @OptionGroup var device: DeviceOption
    @Option(help: "Also write the results as JSON to this file. Default: not written.")
    var json: String?
    @Option(help: "Only the cases whose name contains this text. Default: all.")
    var filter: String?
    @Option(help: "The least number of timed calls per case.")
    var repetitions = 5
    @Option(help: "Keep timing a case until this many seconds of calls have run.")
    var minSeconds = 0.5

    struct Row: Codable {
        var `case`: String
        var algorithm: String
        var device: String
        var seconds: Double
        var gflops: Double?
        var gbps: Double?
    }

    func run() throws {
        let backend = try device.backend()
        let cases = BenchCase.suite.filter { filter == nil || $0.name.contains(filter!) }
        guard !cases.isEmpty else { throw ValidationError("--filter \(filter!) matches no case") }
        var random = SeededGenerator(seed: 42)
        var rows: [Row] = []
        for (position, benchCase) in cases.enumerated() {
            FileHandle.standardError.write(Data("[\(position + 1)/\(cases.count)] \(benchCase.name)…\n".utf8))
            let operands = try benchCase.operandShapes.map { shape in
                try backend.tensor(shape: shape, values: random.floats(shape.reduce(1, *)))
            }
            let (output, _) = try time(backend) { try benchCase.run(backend, operands) }
            var samples: [Double] = []
            var total = 0.0
            while samples.count < repetitions || total < minSeconds {
                let seconds = try time(backend) { try benchCase.run(backend, operands) }.seconds
                samples.append(seconds)
                total += seconds
            }
            let median = samples.sorted()[samples.count / 2]
            let (flops, bytes) = benchCase.measure(outputShape: output.shape)
            rows.append(Row(
                case: benchCase.name, algorithm: algorithm(of: benchCase), device: backend.name, seconds: median,
                gflops: flops.map { $0 / median / 1e9 }, gbps: bytes.map { $0 / median / 1e9 }))
        }
        print("case                          algorithm  time (ms)   GFLOP/s    GB/s")
        for row in rows {
            let name = row.case.padding(toLength: 30, withPad: " ", startingAt: 0)
            let algorithm = row.algorithm.padding(toLength: 9, withPad: " ", startingAt: 0)
            print("\(name)\(algorithm) \(String(format: "%10.3f", row.seconds * 1e3)) \(row.gflops.map { String(format: "%9.2f", $0) } ?? "        -") \(row.gbps.map { String(format: "%7.2f", $0) } ?? "      -")")
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            do {
                try encoder.encode(rows).write(to: URL(fileURLWithPath: json), options: .atomic)
            } catch {
                throw InputError("\(json): cannot be written: \(error.localizedDescription)")
            }
        }
    }

    /// Runs `body` once: its device time on an OpenCL backend, its wall time elsewhere.
    func time(_ backend: any Backend, _ body: () throws -> Tensor) throws -> (output: Tensor, seconds: Double) {
        if let device = backend as? OpenCLBackend {
            let (output, seconds) = try device.measureDeviceTime(body)
            return (output, seconds)
        }
        let start = ContinuousClock.now
        let output = try body()
        let elapsed = ContinuousClock.now - start
        return (output, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }

    /// The name of the kernel family that runs the case.
    func algorithm(of benchCase: BenchCase) -> String {
        switch benchCase.work {
        case .conv2d, .conv1d: "direct"
        case .maxPool: "pool2d"
        case .globalAveragePool, .sum: "reduce"
        }
    }
}
