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
            time on the CPU reference. The wall column is the median time from the call until its \
            result is ready, as a caller sees it (ci/bench.sh compares peers on it).
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
    @Flag(help: "Convolution cases only: time the forward, the input's gradient and the weight's gradient (the backend's own choices), each with its ratio to the forward's GFLOP/s.")
    var backward = false

    struct Row: Codable {
        var `case`: String
        var algorithm: String
        /// Whether the backend's heuristic picks this algorithm for the case.
        var chosen: Bool
        var device: String
        /// Median device time per call (wall time on the CPU reference).
        var seconds: Double
        /// Median wall time per call, from the call until the result is ready.
        var wallSeconds: Double
        var gflops: Double?
        var gbps: Double?
    }

    func run() throws {
        // The specialised kernels are what is timed: the generic first-call ones would stand in for
        // them while they build (see KernelTier).
        var backend = try device.backend()
        if let device = backend as? OpenCLBackend {
            backend = try OpenCLBackend(device: .index(device.device.index), kernelTier: .specialized)
        }
        let cases = BenchCase.suite.filter { filter == nil || $0.name.contains(filter!) }
        guard !cases.isEmpty else { throw ValidationError("--filter \(filter!) matches no case") }
        if backward { return try runBackward(cases, backend) }
        // Convolutions run once per algorithm, each on a backend that forces it.
        var forced: [ConvolutionAlgorithm: OpenCLBackend] = [:]
        if let device = backend as? OpenCLBackend {
            for algorithm in ConvolutionAlgorithm.allCases {
                forced[algorithm] = try OpenCLBackend(
                    device: .index(device.device.index), convolution: .init(algorithm: algorithm), kernelTier: .specialized)
            }
        }
        var random = SeededGenerator(seed: 42)
        var rows: [Row] = []
        for (position, benchCase) in cases.enumerated() {
            FileHandle.standardError.write(Data("[\(position + 1)/\(cases.count)] \(benchCase.name)…\n".utf8))
            let values = benchCase.operandValues(&random)
            var runs: [(algorithm: String, chosen: Bool, backend: any Backend)] = [(algorithm(of: benchCase), true, backend)]
            if let plan = try convolutionPlan(benchCase, backend) {
                // Every algorithm that computes the case (Winograd only 3×3 stride 1) within the limit.
                runs = ConvolutionAlgorithm.allCases.compactMap { algorithm in
                    guard let backend = forced[algorithm], (try? convolutionPlan(benchCase, backend)) != nil else { return nil }
                    return (algorithm.rawValue, algorithm == plan.algorithm, backend)
                }
            }
            for run in runs {
                let operands = try zip(benchCase.operandShapes, values).map { try run.backend.tensor(shape: $0, values: $1) }
                let (output, _, _) = try time(run.backend) { try benchCase.run(run.backend, operands) }
                var samples: [Double] = [], wallSamples: [Double] = []
                var total = 0.0
                while samples.count < repetitions || total < minSeconds {
                    let (_, seconds, wall) = try time(run.backend) { try benchCase.run(run.backend, operands) }
                    samples.append(seconds)
                    wallSamples.append(wall)
                    total += wall
                }
                let median = samples.sorted()[samples.count / 2]
                let wallMedian = wallSamples.sorted()[wallSamples.count / 2]
                let (flops, bytes) = benchCase.measure(outputShape: output.shape)
                rows.append(Row(
                    case: benchCase.name, algorithm: run.algorithm, chosen: run.chosen, device: run.backend.name,
                    seconds: median, wallSeconds: wallMedian, gflops: flops.map { $0 / median / 1e9 }, gbps: bytes.map { $0 / median / 1e9 }))
            }
        }
        print("case                          algorithm      time (ms)   GFLOP/s    GB/s  wall (ms)   (* = the backend's choice)")
        for row in rows {
            let name = row.case.padding(toLength: 30, withPad: " ", startingAt: 0)
            let algorithm = (row.algorithm + (row.chosen ? "*" : "")).padding(toLength: 13, withPad: " ", startingAt: 0)
            print("\(name)\(algorithm) \(String(format: "%10.3f", row.seconds * 1e3)) \(row.gflops.map { String(format: "%9.2f", $0) } ?? "        -") \(row.gbps.map { String(format: "%7.2f", $0) } ?? "      -") \(String(format: "%10.3f", row.wallSeconds * 1e3))")
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

    /// The OpenCL backend's plan for a convolution case; nil for other cases or the reference.
    func convolutionPlan(_ benchCase: BenchCase, _ backend: any Backend) throws -> ConvolutionPlan? {
        guard let device = backend as? OpenCLBackend else { return nil }
        switch benchCase.work {
        case .conv2d(let input, let weight, let descriptor):
            return try device.plan(input: input, weight: weight, bias: nil, descriptor: descriptor)
        case .conv1d(let input, let weight, let descriptor):
            return try device.plan(input: input, weight: weight, bias: nil, descriptor: descriptor)
        default:
            return nil
        }
    }

    /// Runs `body` once: its device time on an OpenCL backend (its wall time elsewhere), and its
    /// wall time until the result is ready.
    func time(_ backend: any Backend, _ body: () throws -> Tensor) throws -> (output: Tensor, seconds: Double, wall: Double) {
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        let start = ContinuousClock.now
        if let device = backend as? OpenCLBackend {
            // measureDeviceTime waits for the kernels, so the wall time ends with the result ready.
            let (output, deviceSeconds) = try device.measureDeviceTime(body)
            return (output, deviceSeconds, seconds(ContinuousClock.now - start))
        }
        let output = try body()
        let wall = seconds(ContinuousClock.now - start)
        return (output, wall, wall)
    }

    /// The median device time of `body` over at least `repetitions` calls and `minSeconds`, after
    /// one call to warm up.
    func median(_ backend: any Backend, _ body: () throws -> Tensor) throws -> Double {
        _ = try time(backend, body)
        var samples: [Double] = []
        var total = 0.0
        while samples.count < repetitions || total < minSeconds {
            let (_, seconds, wall) = try time(backend, body)
            samples.append(seconds)
            total += wall
        }
        return samples.sorted()[samples.count / 2]
    }

    /// `--backward`: per convolution case, the forward and both gradients, at the forward's FLOP
    /// count each (the gradients do the same multiply-adds).
    func runBackward(_ cases: [BenchCase], _ backend: any Backend) throws {
        var random = SeededGenerator(seed: 42)
        var rows: [(String, String, Double, Double, Double)] = []
        for (position, benchCase) in cases.enumerated() {
            let work = benchCase.work
            let passes: [(String, ([Tensor], Tensor) throws -> Tensor)]
            switch work {
            case .conv2d(_, _, let d):
                passes = [
                    ("forward", { x, _ in try backend.conv2d(x[0], weight: x[1], bias: nil, descriptor: d) }),
                    ("backward-data", { x, dy in try backend.conv2dBackward(gradOutput: dy, input: x[0], weight: x[1], descriptor: d, computing: .input).input! }),
                    ("backward-weights", { x, dy in try backend.conv2dBackward(gradOutput: dy, input: x[0], weight: x[1], descriptor: d, computing: .weight).weight! }),
                ]
            case .conv1d(_, _, let d):
                passes = [
                    ("forward", { x, _ in try backend.conv1d(x[0], weight: x[1], bias: nil, descriptor: d) }),
                    ("backward-data", { x, dy in try backend.conv1dBackward(gradOutput: dy, input: x[0], weight: x[1], descriptor: d, computing: .input).input! }),
                    ("backward-weights", { x, dy in try backend.conv1dBackward(gradOutput: dy, input: x[0], weight: x[1], descriptor: d, computing: .weight).weight! }),
                ]
            default: continue
            }
            FileHandle.standardError.write(Data("[\(position + 1)/\(cases.count)] \(benchCase.name)…\n".utf8))
            let values = benchCase.operandValues(&random)
            let operands = try zip(benchCase.operandShapes, values).map { try backend.tensor(shape: $0, values: $1) }
            let y = try passes[0].1(operands, operands[0])
            let dy = try backend.tensor(shape: y.shape, values: random.floats(y.count))
            let flops = benchCase.measure(outputShape: y.shape).flops!
            var forward = 0.0
            for (name, body) in passes {
                let seconds = try median(backend) { try body(operands, dy) }
                if name == "forward" { forward = flops / seconds / 1e9 }
                rows.append((benchCase.name, name, seconds, flops / seconds / 1e9, flops / seconds / 1e9 / forward))
            }
        }
        print("case                          pass               time (ms)   GFLOP/s   × forward")
        for (name, pass, seconds, gflops, ratio) in rows {
            print("\(name.padding(toLength: 30, withPad: " ", startingAt: 0))\(pass.padding(toLength: 17, withPad: " ", startingAt: 0)) \(String(format: "%10.3f %9.2f %10.2f", seconds * 1e3, gflops, ratio))")
        }
    }

    /// The name of the kernel family that runs the case.
    func algorithm(of benchCase: BenchCase) -> String {
        switch benchCase.work {
        case .conv2d, .conv1d: "conv"
        case .maxPool: "pool2d"
        case .globalAveragePool, .sum: "reduce"
        case .matmul: "matmul"
        case .elementwise: "elementwise"
        case .transpose: "copy"
        case .batchNormalization: "composite"
        case .softmax: "softmax"
        }
    }
}
