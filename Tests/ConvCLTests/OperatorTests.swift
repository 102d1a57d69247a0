import Foundation
import Testing

@testable import ConvCL

@Suite("Operators of the registry: elementwise table, data movement, MatMul, softmax, normalisations", .needsOpenCL)
struct OperatorTests {
    @Test("every registered operator matches the reference on random cases")
    func registry() throws {
        let seed = TestRandom().seed
        let backend = try openCLBackend()
        let results = try OperatorChecks.run(on: backend, seed: seed)
        let catalogue = Set(backend.programCatalogue)
        for program in backend.builtPrograms where ["elementwise", "copy"].contains(program.source) {
            #expect(catalogue.contains(program), "\(program) is not in the catalogue that `clconv prepare` builds")
        }
        #expect(results.count > 200)
        for result in results where !result.passed {
            Issue.record("\(result.label): error \(result.error) > \(result.tolerance); seed \(seed)")
        }
        // The same cases on the generic first-call programs (the elementwise ones' scalar loops),
        // and with every output stored non-temporally where a kernel can (as from half the cache).
        let (device, info) = try Devices.find(.automatic)
        let variants = [
            ("generic", try OpenCLBackend(device: .automatic, kernelTier: .generic)),
            ("streaming", try OpenCLBackend(
                device: device, info: info, cache: .environment, convolution: .init(), kernelTier: .specialized, streamingBytes: 0)),
        ]
        for (name, variant) in variants {
            for result in try OperatorChecks.run(on: variant, seed: seed) where !result.passed {
                Issue.record("\(result.label) [\(name)]: error \(result.error) > \(result.tolerance); seed \(seed)")
            }
        }
    }
}

@Suite("Log and Exp at the edges of float32", .needsOpenCL)
struct TranscendentalEdgeTests {
    @Test("log within 1 ulp of the Double logarithm over random bit patterns, subnormals and values near 1; log ±0 = -inf, log +inf = +inf, NaN below 0; on the vectorised and the generic programs")
    func log() throws {
        var random = TestRandom()
        // Every positive finite float is as likely (subnormals among them), then values near 1,
        // where log loses most to cancellation, then the edges.
        var values = (0..<(1 << 16)).map { _ in Float(bitPattern: UInt32(random.int(1...0x7f7f_ffff))) }
        values += (0..<4096).map { _ in 1 + Float(random.int(-1 << 20...1 << 20)) * 0x1p-30 }
        values += [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 0x1.6a09e6p-1, 0x1.6a09e8p-1, 1, 2, 0.5]
        try check(
            .log, values, exact: Foundation.log, ulps: 1, seed: random.seed,
            specials: [(0, -.infinity), (-0.0, -.infinity), (.infinity, .infinity), (-1, .nan), (-.infinity, .nan), (.nan, .nan)])
    }

    @Test("exp within 1.5 ulp of the Double exponential over its whole range, subnormal results included; exp -inf = 0, exp +inf = +inf, overflow to +inf, underflow to 0, NaN stays NaN; on the vectorised and the generic programs")
    func exp() throws {
        var random = TestRandom()
        // Uniform over the inputs whose exp is a finite float (down to the subnormals' end), then
        // values near 0, then the edges: the largest finite result, the least normal and least
        // subnormal ones.
        var values = (0..<(1 << 16)).map { _ in Float(random.int(-1_037_000...887_228)) * 1e-4 }
        values += (0..<4096).map { _ in Float(random.int(-1 << 20...1 << 20)) * 0x1p-30 }
        values += [88.72283, 88.7, -87.33654, -87.34, -103.27893, -103.97, 0x1p-20, -0x1p-20, 1, -1]
        try check(
            .exp, values, exact: Foundation.exp, ulps: 1.5, seed: random.seed,
            specials: [(0, 1), (-0.0, 1), (-.infinity, 0), (.infinity, .infinity), (88.73, .infinity), (1000, .infinity),
                       (-104.5, 0), (-1000, 0), (.nan, .nan)])
    }

    /// `operation` of `values` on both tiers: within `ulps` of `exact` (in ulps of the exact
    /// value rounded to float, so at least the least subnormal), and `specials` exactly.
    private func check(
        _ operation: ElementwiseOperation, _ values: [Float], exact: (Double) -> Double, ulps: Double, seed: UInt64,
        specials: [(Float, Float)]
    ) throws {
        let all = values + specials.map(\.0)
        for tier in [KernelTier.specialized, .generic] {
            let backend = try OpenCLBackend(device: .automatic, kernelTier: tier)
            let y = try backend.elementwise(operation, try backend.tensor(shape: [all.count], values: all)).values()
            // The largest error in ulps of the exact value, and where.
            let (worst, x) = zip(values, y).map { x, value in
                let exact = exact(Double(x))
                return (abs(Double(value) - exact) / Double(Float(exact).ulp), x)
            }.max { $0.0 < $1.0 }!
            #expect(worst <= ulps, "\(operation)(\(x)) is \(worst) ulp off; \(backend.kernelTier); seed \(seed)")
            for ((x, expected), value) in zip(specials, y.suffix(specials.count)) {
                #expect(expected.isNaN ? value.isNaN : value == expected, "\(operation)(\(x)) = \(value); \(backend.kernelTier)")
            }
        }
    }
}

@Suite("int64 division and remainders at the edges")
struct IntegerEdgeTests {
    @Test("by zero gives 0, Int64.min by -1 wraps to Int64.min with remainder 0 (x86 traps on both), on both backends",
          arguments: try allBackends())
    func division(_ backend: any Backend) throws {
        let a: [Int64] = [.min, .min, 7, -7, 7, -7, .max, 0]
        let b: [Int64] = [-1, 0, 0, 2, -2, -1, -1, -1]
        let x = try backend.tensor(shape: [8], int64Values: a), y = try backend.tensor(shape: [8], int64Values: b)
        #expect(try backend.elementwise(.div, x, y).int64Values() == [.min, 0, 0, -3, -3, 7, -.max, 0])
        #expect(try backend.elementwise(.mod, x, y).int64Values() == [0, 0, 0, 1, -1, 0, 0, 0])
        #expect(try backend.elementwise(.fmod, x, y).int64Values() == [0, 0, 0, -1, 1, 0, 0, 0])
    }
}

@Suite("Shape, Size, ConstantOfShape, Range and the views follow ONNX")
struct ConstantAndViewTests {
    @Test("shapes, sizes and ranges on both backends", arguments: try allBackends())
    func constants(_ backend: any Backend) throws {
        let x = try backend.tensor(shape: [2, 3, 5], values: (0..<30).map(Float.init))
        #expect(try backend.shape(of: x).int64Values() == [2, 3, 5])
        #expect(try backend.shape(of: x, start: -2).int64Values() == [3, 5])
        #expect(try backend.shape(of: x, start: 2, end: 1).int64Values() == [])
        #expect(try backend.size(of: x).int64Values() == [30])
        #expect(try backend.constantOfShape([2, 2], value: .int64([7])).int64Values() == [7, 7, 7, 7])
        let step: Float = 0.3
        #expect(try backend.range(start: 1, limit: 2, delta: step).values() == [1, 1 + step, 1 + step + step, 1 + step + step + step])
        #expect(try backend.range(start: Int64(10), limit: 4, delta: -3).int64Values() == [10, 7])
        #expect(try backend.range(start: Int64(0), limit: 5, delta: -1).count == 0)
        #expect(throws: ConvCLError.self) { try backend.range(start: Float(0), limit: 1, delta: 0) }
    }

    @Test("views: ONNX reshape with 0 and -1, flatten, squeeze, unsqueeze")
    func views() throws {
        let backend = ReferenceBackend()
        let x = try backend.tensor(shape: [2, 3, 4], values: (0..<24).map(Float.init))
        #expect(try x.reshaped(onnx: [0, -1]).shape == [2, 12])
        #expect(try x.reshaped(onnx: [-1, 0, 2]).shape == [4, 3, 2])
        #expect(try x.flattened(axis: 0).shape == [1, 24])
        #expect(try x.flattened(axis: -1).shape == [6, 4])
        #expect(try x.flattened(axis: 3).shape == [24, 1])
        let y = try x.unsqueezed(axes: [0, -1])
        #expect(y.shape == [1, 2, 3, 4, 1])
        #expect(try y.squeezed().shape == [2, 3, 4])
        #expect(try y.squeezed(axes: [-1]).shape == [1, 2, 3, 4])
        #expect(try y.values() == x.values())
        #expect(throws: ConvCLError.self) { try x.reshaped(onnx: [5, -1]) }
        #expect(throws: ConvCLError.self) { try x.unsqueezed(axes: [1, 1]) }
    }
}

@Suite("Softmax and LogSoftmax at NaN and the infinities")
struct SoftmaxEdgeTests {
    /// The runs along the axis: one with a NaN, one with +inf, one of -inf only, one with a -inf
    /// among finite values, and finite ones; along the last axis (the rows kernel) and along the
    /// first (the columns kernel), with runs longer than a vector.
    @Test("a NaN or +inf makes its whole run NaN, a run of -inf only is NaN, a -inf among finite values gives 0 (log: -inf); on both backends, as the Double definition gives",
          arguments: try allBackends())
    func infinities(_ backend: any Backend) throws {
        var random = TestRandom()
        let seed = random.seed
        let n = 21
        var runs = (0..<6).map { _ in random.floats(n).map { $0 * 4 } }
        runs[0][5] = .nan
        runs[1][17] = .infinity
        runs[2] = Array(repeating: -.infinity, count: n)
        runs[3][0] = -.infinity
        let rows = runs.flatMap { $0 }
        let columns = (0..<n).flatMap { i in runs.map { $0[i] } }
        for (values, shape, axis) in [(rows, [runs.count, n], -1), (columns, [n, runs.count], 0)] {
            let x = try backend.tensor(shape: shape, values: values)
            for log in [false, true] {
                let y = try (log ? backend.logSoftmax(x, axis: axis) : backend.softmax(x, axis: axis)).values()
                for (r, run) in runs.enumerated() {
                    let m = run.map(Double.init).reduce(-Double.infinity) { $0.isNaN || $1.isNaN ? .nan : max($0, $1) }
                    let sum = run.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
                    for i in 0..<n {
                        let got = y[axis == 0 ? i * runs.count + r : r * n + i]
                        let expected = log ? Double(run[i]) - m - Foundation.log(sum) : Foundation.exp(Double(run[i]) - m) / sum
                        let label = "\(log ? "LogSoftmax" : "Softmax") axis \(axis), run \(r), element \(i): \(got) against \(expected); seed \(seed)"
                        if expected.isNaN || expected.isInfinite {
                            #expect(expected.isNaN ? got.isNaN : Double(got) == expected, "\(label)")
                        } else {
                            #expect(abs(Double(got) - expected) <= 1e-6 * max(1, abs(expected)), "\(label)")
                        }
                    }
                }
            }
        }
    }
}
