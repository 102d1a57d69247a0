import Foundation
import Testing

@testable import ConvCL

@Suite("Reductions")
struct ReductionTests {
    @Test("every operation over chosen axes, with and without keepDims")
    func handComputed() throws {
        // x[i][j] = i * 3 + j + 1, shape [2, 3].
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        let expectations: [(ReductionOperation, [Int], [Float])] = [
            (.sum, [1], [6, 15]), (.mean, [0], [2.5, 3.5, 4.5]), (.max, [-1], [3, 6]), (.min, [-2], [1, 2, 3]),
            (.prod, [1], [6, 120]), (.l1, [0], [5, 7, 9]), (.sumSquare, [1], [14, 77]),
            (.l2, [0], [Float((17.0).squareRoot()), Float((29.0).squareRoot()), Float((45.0).squareRoot())]),
            (.logSum, [1], [Float(log(6.0)), Float(log(15.0))]),
            (.logSumExp, [0], [1, 2, 3].map { Float(log(exp(Double($0)) + exp(Double($0) + 3))) }),
        ]
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [2, 3], values: values)
            for (operation, axes, expected) in expectations {
                let kept = try backend.reduce(x, descriptor: .init(operation, axes: axes))
                let dropped = try backend.reduce(x, descriptor: .init(operation, axes: axes, keepDims: false))
                let axis = axes[0] < 0 ? axes[0] + 2 : axes[0]
                #expect(kept.shape == (axis == 0 ? [1, 3] : [2, 1]), "\(operation)")
                #expect(dropped.shape == [axis == 0 ? 3 : 2], "\(operation)")
                #expect(relativeL2Error(try dropped.values(), expected) <= 1e-6, "\(backend.name) \(operation)")
            }
            let all = try backend.reduce(x, descriptor: .init(.sum))
            #expect(all.shape == [1, 1])
            #expect(try all.values() == [21])
            let scalar = try backend.reduce(x, descriptor: .init(.sum, axes: [], keepDims: false))
            #expect(scalar.shape == [])
            #expect(try scalar.values() == [21])
        }
    }

    @Test("empty reductions give ONNX's values")
    func empty() throws {
        let expected: [ReductionOperation: Float] = [
            .sum: 0, .prod: 1, .max: -.infinity, .min: .infinity, .l1: 0, .l2: 0, .sumSquare: 0,
            .logSum: -.infinity, .logSumExp: -.infinity,
        ]
        for backend in try allBackends() {
            let x = try backend.tensor(shape: [2, 0, 3], values: [])
            for operation in ReductionOperation.allCases {
                let y = try backend.reduce(x, descriptor: .init(operation, axes: [1]))
                #expect(y.shape == [2, 1, 3])
                let values = try y.values()
                if operation == .mean {
                    #expect(values.allSatisfy { $0.isNaN }, "\(backend.name) mean: \(values)")
                } else {
                    #expect(values == [Float](repeating: expected[operation]!, count: 6), "\(backend.name) \(operation)")
                }
                // Reducing a non-empty axis of an empty tensor gives an empty result.
                #expect(try backend.reduce(x, descriptor: .init(operation, axes: [2])).shape == [2, 0, 1])
            }
        }
    }

    @Test("log-sum-exp of inputs near 1000 does not overflow; NaN and infinities propagate")
    func specialValues() throws {
        for backend in try allBackends() {
            let large = try backend.tensor(shape: [3], values: [1000, 1001, 999])
            let lse = try backend.reduce(large, descriptor: .init(.logSumExp)).values()[0]
            let expected = 1001 + log(1 + exp(-1.0) + exp(-2.0))
            #expect(abs(Double(lse) - expected) <= 1e-4, "\(backend.name): \(lse)")

            let withNaN = try backend.tensor(shape: [4], values: [1, .nan, 3, -.infinity])
            for operation in [ReductionOperation.sum, .max, .min, .mean, .logSumExp, .prod] {
                let value = try backend.reduce(withNaN, descriptor: .init(operation)).values()[0]
                #expect(value.isNaN, "\(backend.name) \(operation) with a NaN gave \(value)")
            }
            let infinities = try backend.tensor(shape: [3], values: [-.infinity, -.infinity, .infinity])
            #expect(try backend.reduce(infinities, descriptor: .init(.max)).values() == [.infinity])
            #expect(try backend.reduce(infinities, descriptor: .init(.logSumExp)).values() == [.infinity])
            let negative = try backend.tensor(shape: [2], values: [-.infinity, -.infinity])
            #expect(try backend.reduce(negative, descriptor: .init(.max)).values() == [-.infinity])
            #expect(try backend.reduce(negative, descriptor: .init(.logSumExp)).values() == [-.infinity])
        }
    }

    @Test("rows of 16 or more contiguous values (global pooling's planes): every operation, tails of rows and of 16-output groups", .needsOpenCL)
    func contiguousRows() throws {
        let device = try openCLBackend()
        let reference = ReferenceBackend()
        var random = TestRandom()
        // Output counts around the 16 outputs a work-item folds; row lengths around its 16 lanes
        // and 4-vector blocks (196: a 14×14 plane), up to the longest row one chunk takes (4096).
        for (outputs, length) in [(1, 16), (5, 17), (16, 31), (17, 64), (33, 196), (40, 83), (3, 4096), (19, 1000)] {
            for operation in ReductionOperation.allCases {
                var values = random.floats(outputs * length)
                switch operation {
                case .logSum: values = values.map { abs($0) + 1.5 }
                case .prod: values = values.map { 1 + $0 / Float(length) }
                default: break
                }
                // A NaN in one row must reach that row's result, and no other.
                let nanRow = random.int(0...outputs - 1)
                values[nanRow * length + random.int(0...length - 1)] = .nan
                let shape = [outputs, 1, length]
                let descriptor = ReduceDescriptor(operation, axes: [-1])
                let expected = try reference.reduce(try reference.tensor(shape: shape, values: values), descriptor: descriptor).values()
                let actual = try device.reduce(try device.tensor(shape: shape, values: values), descriptor: descriptor).values()
                let context = "\(operation) of [\(outputs), \(length)], NaN in row \(nanRow); seed \(random.seed)"
                #expect(actual.count == outputs, "\(context)")
                #expect(zip(actual, expected).allSatisfy { $0.isNaN == $1.isNaN }, "NaN rows differ: \(actual); \(context)")
                let finite = zip(actual, expected).filter { !$1.isNaN }
                // A product rounds once per factor, a random walk of √length roundings (ten times that).
                let tolerance = [.max, .min].contains(operation) ? 0 : operation == .prod ? Double(length).squareRoot() * 6e-7 : 1e-6
                #expect(relativeL2Error(finite.map(\.0), finite.map(\.1)) <= tolerance, "\(context)")
            }
        }
    }

    @Test("a float32 sum of 10^7 values (from [0, 1), and all 0.1) is within 1e-6 of the float64 sum", .needsOpenCL)
    func accurateLargeSum() throws {
        let backend = try openCLBackend()
        var random = TestRandom()
        let count = 10_000_000
        let constant = [Float](repeating: 0.1, count: count)
        // What this guards against: a plain serial float loop is far off. On the random values its
        // error is a random walk (1e-5 to 1e-4, but it came within 1e-6 by chance once in a CI run),
        // so the check is on the constant values, where every late addition rounds the same way.
        let exactConstant = Double(Float(0.1)) * Double(count)
        let naive = constant.reduce(Float(0), +)
        #expect(abs(Double(naive) - exactConstant) / exactConstant > 1e-3, "the naive loop was accurate: the test has no teeth")
        let uniform = (0..<count).map { _ in Float.random(in: 0..<1, using: &random) }
        for values in [uniform, constant] {
            let exact = values.reduce(0.0) { $0 + Double($1) }
            for operation in [ReductionOperation.sum, .mean] {
                let y = try backend.reduce(try backend.tensor(shape: [count], values: values), descriptor: .init(operation))
                let got = Double(try y.values()[0]) * (operation == .mean ? Double(count) : 1)
                #expect(abs(got - exact) / exact <= 1e-6, "\(operation) of \(values[0])…: \(got) vs \(exact); seed \(random.seed)")
            }
        }
    }
}
