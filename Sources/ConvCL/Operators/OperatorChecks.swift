/// A random case of an operator for the checks: a primitive and its operands.
struct OperatorSample: Sendable {
    let label: String
    let primitive: any Primitive
    let inputs: [(TensorType, TensorData)]
    /// The most `OperatorCheck.error` may be (sums of many terms round more than one operation).
    var tolerance = OperatorChecks.tolerance
    /// Each output is a sum of products of the operands (MatMul, the convolutions and their
    /// gradients): its error is measured against the same sum over the operands' magnitudes, the
    /// sum's condition, rather than against the output, which cancellation can make small.
    var sumOfProducts = false
}

/// The operators the checks walk: each entry makes random cases of one operator (or one family,
/// such as the elementwise table), so that adding an operator here adds it to `clconv verify`,
/// the oclgrind check (`ci/kernel-check.sh`, which runs verify) and the property tests.
enum OperatorRegistry {
    struct Entry: Sendable {
        let name: String
        let samples: @Sendable (inout SeededGenerator) -> [OperatorSample]
    }

    static let entries: [Entry] = [
        Entry(name: "elementwise") { random in ElementwiseOperation.all.flatMap { elementwiseSamples($0, &random) } },
        Entry(name: "MatMul") { random in
            // Shapes [N, K] × [K, M] with batches: none, on one side, on both, broadcast, and 1-D.
            let (n, k, m) = (Int.random(in: 1...9, using: &random), Int.random(in: 1...40, using: &random), Int.random(in: 1...19, using: &random))
            let pairs: [([Int], [Int])] = [
                ([n, k], [k, m]), ([3, n, k], [k, m]), ([n, k], [2, k, m]), ([2, 1, n, k], [3, k, m]), ([k], [k, m]), ([2, n, k], [k]),
            ]
            // And a depth over 2048 with over 32 rows (fewer run the direct kernel): gemm_deep on
            // every tile (column panels over 128 KiB), its last block cut short.
            let (deep, rows) = (2048 + Int.random(in: 1...300, using: &random), Int.random(in: 33...40, using: &random))
            return (pairs + [([rows, deep], [deep, m])]).map { a, b in finiteSample(MatMul(), [a, b], &random, sumOfProducts: true) }
        },
        Entry(name: "Softmax") { random in
            let shape = OperatorRegistry.broadcastShapes(1, &random)[0] + [Int.random(in: 1...9, using: &random)]
            let axis = Int.random(in: -shape.count..<shape.count, using: &random)
            // And the kernels' edges: runs along the last axis longer than a vector with a tail;
            // columns fewer than a vector; and more than one work-item's 32 vectors with a partial
            // last one (also split into smaller blocks where the outer axes are short); runs of
            // which a CPU's tile holds fewer vectors than a work-item takes (chunks, the last one
            // partial), and runs longer than the tile holds (read from x and y again).
            let edges: [([Int], Int)] = [
                ([3, 37], -1), ([2, 7, 3], 1), ([2, 5, 300 + Int.random(in: 1...7, using: &random)], 1), ([1, 4, 530], 1),
                ([2, 300 + Int.random(in: 1...7, using: &random), 260], 1), ([1, 2049 + Int.random(in: 1...7, using: &random), 9], 1),
            ]
            return ([(shape, axis)] + edges).flatMap { shape, axis in
                [Softmax(axis: axis, log: false), Softmax(axis: axis, log: true)].map { finiteSample($0, [shape], &random) }
            }
        },
        Entry(name: "Normalization") { random in
            let x = [Int.random(in: 1...3, using: &random), Int.random(in: 1...5, using: &random), Int.random(in: 1...9, using: &random), Int.random(in: 2...17, using: &random)]
            let axis = Int.random(in: 1...3, using: &random)
            let channel = [x[1]], layer = Array(x[axis...])
            return [
                finiteSample(Normalization(kind: .batch, epsilon: 1e-5), [x, channel, channel, channel, channel], &random, positiveLast: true),
                finiteSample(Normalization(kind: .instance, epsilon: 1e-5), [x, channel, channel], &random, tolerance: 1e-4),
                finiteSample(Normalization(kind: .layer(axis: axis - 4), epsilon: 1e-5), [x, layer, layer], &random, tolerance: 1e-4),
            ]
        },
    ] + [ConvTranspose.registryEntry, Resize.registryEntry] + DataMovement.registryEntries + gradientEntries

    /// A float32 case of finite values (with `positiveLast`, the last operand, a variance, above 0).
    static func finiteSample(
        _ primitive: any Primitive, _ shapes: [[Int]], _ random: inout SeededGenerator, tolerance: Double = OperatorChecks.tolerance,
        positiveLast: Bool = false, sumOfProducts: Bool = false
    ) -> OperatorSample {
        let inputs = shapes.enumerated().map { index, shape -> (TensorType, TensorData) in
            let type = TensorType(shape)
            guard positiveLast, index == shapes.count - 1 else { return (type, values(type, &random, finite: true)) }
            return (type, .float32((0..<type.count).map { _ in Float.random(in: 0.1..<2, using: &random) }))
        }
        return OperatorSample(
            label: "\(primitive) " + inputs.map { "\($0.0)" }.joined(separator: " "), primitive: primitive, inputs: inputs,
            tolerance: tolerance, sumOfProducts: sumOfProducts)
    }

    /// Random shapes that broadcast to a common one: ranks 0–4, odd sizes (so no run of outputs is a
    /// multiple of the kernels' 16), size-1 and missing axes; with `empty`, one axis of size 0.
    static func broadcastShapes(_ count: Int, _ random: inout SeededGenerator, empty: Bool = false) -> [[Int]] {
        let rank = Int.random(in: 0...4, using: &random)
        var output = (0..<rank).map { _ in [1, 2, 3, 5, 7, 17, 33].randomElement(using: &random)! }
        if empty, rank > 0 { output[Int.random(in: 0..<rank, using: &random)] = 0 }
        return (0..<count).map { _ in
            let dropped = Int.random(in: 0...rank, using: &random) / 2
            return output.dropFirst(dropped).map { Bool.random(using: &random) && Int.random(in: 0..<3, using: &random) == 0 ? 1 : $0 }
        }
    }

    /// Random values of `type`: floats in [-3, 3) with a few NaNs, infinities and signed zeros
    /// unless `finite`; integers in -9…9 (zeros included); bools.
    static func values(_ type: TensorType, _ random: inout SeededGenerator, finite: Bool = false) -> TensorData {
        switch type.dataType {
        case .float32:
            let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0]
            return .float32((0..<type.count).map { _ in
                !finite && Int.random(in: 0..<20, using: &random) == 0
                    ? specials.randomElement(using: &random)! : Float.random(in: -3..<3, using: &random)
            })
        case .int64: return .int64((0..<type.count).map { _ in Int64.random(in: -9...9, using: &random) })
        case .bool: return .bool((0..<type.count).map { _ in Bool.random(using: &random) })
        }
    }

    /// Cases of one elementwise operation: for each data type it takes, a broadcast case, one with
    /// a single-element operand and, for the first type, one with an empty axis.
    static func elementwiseSamples(_ operation: ElementwiseOperation, _ random: inout SeededGenerator) -> [OperatorSample] {
        let typeSets: [[DataType]]
        switch operation.row.types {
        case .float: typeSets = [Array(repeating: .float32, count: operation.arity)]
        case .numeric, .comparison: typeSets = [.float32, .int64].map { Array(repeating: $0, count: operation.arity) }
        case .logical: typeSets = [Array(repeating: .bool, count: operation.arity)]
        case .select: typeSets = [[.bool, .float32, .float32], [.bool, .int64, .int64]]
        case .cast: typeSets = DataType.allCases.map { [$0] }
        }
        var samples: [OperatorSample] = []
        for (index, types) in typeSets.enumerated() {
            var shapeSets = [broadcastShapes(types.count, &random), broadcastShapes(types.count, &random)]
            if types.count > 1 { shapeSets[1][Int.random(in: 0..<types.count, using: &random)] = [] }
            if index == 0 { shapeSets.append(broadcastShapes(types.count, &random, empty: true)) }
            for shapes in shapeSets {
                // Casts to int64 are undefined for NaN, infinities and values out of range.
                var finite = false
                if case .cast(.int64) = operation.row.types { finite = true }
                let inputs = zip(shapes, types).map { shape, type in
                    let tensorType = TensorType(shape, type)
                    return (tensorType, values(tensorType, &random, finite: finite))
                }
                let label = "\(operation) " + inputs.map { "\($0.0)" }.joined(separator: " ")
                samples.append(OperatorSample(label: label, primitive: Elementwise(operation: operation), inputs: inputs))
            }
        }
        return samples
    }
}

/// The result of checking one operator case on a backend against the reference.
public struct OperatorCheck: Sendable {
    /// The operator, its parameters and its operands' shapes and types.
    public let label: String
    /// The largest difference from the reference over the outputs: |actual − expected| divided by
    /// max(|expected|, 1), or for a sum of products by the same sum over the operands' magnitudes;
    /// NaN matches NaN and an infinity its equal; infinite for a mismatch of shape, type or a
    /// non-finite value. Exact (0) is required for int64 and bool outputs.
    public let error: Double
    /// The most `error` may be.
    public let tolerance: Double
    public var passed: Bool { error <= tolerance }
}

/// Runs every operator of the registry on random cases.
public enum OperatorChecks {
    /// The float32 tolerance of the checks: a few float32 roundings of operands near 1.
    public static let tolerance = 1e-5

    /// Checks every registered operator on `backend` against `reference`, with cases drawn from
    /// `seed`; one result per case.
    public static func run(on backend: any Backend, reference: ReferenceBackend = ReferenceBackend(), seed: UInt64) throws
        -> [OperatorCheck]
    {
        try run(reference: reference, seed: seed) { backend }
    }

    /// Checks every registered operator against `reference`, each case on the backend that
    /// `backend` returns for it (a new one per case keeps one case's buffers from serving the next,
    /// which oclgrind needs: see `clconv verify`), with cases drawn from `seed`; one result per case.
    public static func run(reference: ReferenceBackend = ReferenceBackend(), seed: UInt64, backend makeBackend: () throws -> any Backend)
        throws -> [OperatorCheck]
    {
        var random = SeededGenerator(seed: seed)
        var results: [OperatorCheck] = []
        for entry in OperatorRegistry.entries {
            for sample in entry.samples(&random) {
                let backend = try makeBackend()
                let on = try sample.inputs.map { try backend.tensor(shape: $0.0.shape, data: $0.1) }
                let expectedInputs = try sample.inputs.map { try reference.tensor(shape: $0.0.shape, data: $0.1) }
                let actual = try backend.run(sample.primitive, on)
                let expected = try reference.run(sample.primitive, expectedInputs)
                let scales = try sample.sumOfProducts ? reference.run(sample.primitive, sample.inputs.map { try reference.tensor(shape: $0.0.shape, data: magnitudes($0.1)) }) : nil
                var error = 0.0
                for (index, (a, e)) in zip(actual, expected).enumerated() {
                    guard a.shape == e.shape, a.dataType == e.dataType else { error = .infinity; continue }
                    if let scales, case .float32(let x) = try a.data(), case .float32(let y) = try e.data() {
                        error = max(error, Discrepancy.largestScaledError(actual: x, expected: y, scale: try scales[index].values()))
                    } else {
                        error = max(error, difference(try a.data(), try e.data()))
                    }
                }
                if actual.count != expected.count { error = .infinity }
                results.append(OperatorCheck(label: sample.label, error: error, tolerance: sample.tolerance))
            }
        }
        return results
    }

    /// |x| of float32 operands; others as they are.
    static func magnitudes(_ data: TensorData) -> TensorData {
        if case .float32(let values) = data { return .float32(values.map(abs)) }
        return data
    }

    /// The largest scaled difference (see `OperatorCheck.error`).
    static func difference(_ actual: TensorData, _ expected: TensorData) -> Double {
        switch (actual, expected) {
        case (.float32(let a), .float32(let e)):
            return zip(a, e).reduce(0.0) { worst, pair in
                let (x, y) = (Double(pair.0), Double(pair.1))
                if x.isNaN && y.isNaN || x == y { return worst }
                guard x.isFinite && y.isFinite else { return .infinity }
                return max(worst, abs(x - y) / max(abs(y), 1))
            }
        default:
            return actual == expected ? 0 : .infinity
        }
    }
}
