/// The data movement operators as `Backend` methods (ONNX's semantics; any data type).
extension Backend {
    /// ONNX Transpose: output axis d is input axis `permutation[d]`; nil reverses the axes.
    public func transpose(_ x: Tensor, permutation: [Int]? = nil) throws -> Tensor {
        try runSingle(Transpose(permutation: permutation), [x])
    }

    /// ONNX Slice: along each of `axes` (default: the first `starts.count`), the elements from
    /// `starts` to before `ends` by `steps` (default 1; negative steps go backwards). Negative
    /// starts and ends count from the end, and out-of-range ones are clamped.
    public func slice(_ x: Tensor, starts: [Int], ends: [Int], axes: [Int]? = nil, steps: [Int]? = nil) throws -> Tensor {
        try runSingle(Slice(starts: starts, ends: ends, axes: axes, steps: steps), [x])
    }

    /// `x` with each of `axes` reversed (a kernel's taps flipped): a slice backwards over them.
    func reversed(_ x: Tensor, axes: [Int]) throws -> Tensor {
        try slice(x, starts: axes.map { _ in -1 }, ends: axes.map { _ in Int.min }, axes: axes, steps: axes.map { _ in -1 })
    }

    /// ONNX Concat: `tensors` joined along `axis`.
    public func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        try runSingle(Concat(axis: axis), tensors)
    }

    /// ONNX Split into pieces of `sizes` along `axis`.
    public func split(_ x: Tensor, axis: Int = 0, sizes: [Int]) throws -> [Tensor] {
        try run(Split(axis: axis, sizes: sizes, parts: nil), [x])
    }

    /// ONNX Split into `parts` pieces along `axis`, of ⌈size / parts⌉ each but the last.
    public func split(_ x: Tensor, axis: Int = 0, parts: Int) throws -> [Tensor] {
        try run(Split(axis: axis, sizes: nil, parts: parts), [x])
    }

    /// ONNX Expand: `x` broadcast with `shape` (NumPy's rule, both ways).
    public func expand(_ x: Tensor, to shape: [Int]) throws -> Tensor {
        try runSingle(Expand(shape: shape), [x])
    }

    /// ONNX Tile: `x` repeated `repeats[d]` times along each axis d.
    public func tile(_ x: Tensor, repeats: [Int]) throws -> Tensor {
        try runSingle(Tile(repeats: repeats), [x])
    }

    /// ONNX Pad: `pads` = [begin of each axis…, end of each axis…] (negative pads crop), filled
    /// with `value` (constant), the mirror image (reflect) or the edge element (edge).
    public func pad(_ x: Tensor, pads: [Int], mode: PadMode = .constant, value: Double = 0) throws -> Tensor {
        try runSingle(Pad(pads: pads, mode: mode, value: value), [x])
    }

    /// ONNX Gather: the slices of `data` along `axis` named by the int64 `indices`.
    public func gather(_ data: Tensor, indices: Tensor, axis: Int = 0) throws -> Tensor {
        try runSingle(Gather(axis: axis), [data, indices])
    }
}

/// Random cases of the data movement operators for the checks (see `OperatorRegistry`).
enum DataMovement {
    static let registryEntries: [OperatorRegistry.Entry] = [
        entry("Transpose") { random in
            let shape = randomShape(&random)
            // And the inner axes of a larger one swapped (transpose_tiles): whole 8 × 8 blocks and
            // cut ones, tiles of 32 cut short by the axis's end, a second axis of 2 to 15, and two
            // outer axes that do not merge; and pairs of an inner axis of even length moved
            // together (as 8-byte elements where elements are 4 bytes). `aligned` has output rows
            // of a multiple of 8 elements, which a large output stores non-temporally.
            let large = [2, Int.random(in: 16...40, using: &random), Int.random(in: 16...40, using: &random)]
            let aligned = [3, 8 * Int.random(in: 2...5, using: &random), Int.random(in: 16...40, using: &random)]
            let narrow = [2, Int.random(in: 16...40, using: &random), Int.random(in: 2...15, using: &random)]
            let outer = [2, 3, Int.random(in: 16...40, using: &random), Int.random(in: 8...20, using: &random)]
            let pairs = [2, Int.random(in: 1...9, using: &random), Int.random(in: 1...9, using: &random), 2 * Int.random(in: 1...3, using: &random)]
            return [(Transpose(permutation: shape.indices.shuffled(using: &random)), [shape]), (Transpose(permutation: nil), [shape]),
                    (Transpose(permutation: [0, 2, 1]), [large]), (Transpose(permutation: [0, 2, 1]), [narrow]),
                    (Transpose(permutation: [0, 2, 1]), [aligned]),
                    (Transpose(permutation: [1, 0, 3, 2]), [outer]), (Transpose(permutation: [0, 2, 1, 3]), [pairs])]
        },
        entry("Slice") { random in
            let shape = randomShape(&random, minRank: 1)
            let axes = Array(shape.indices.shuffled(using: &random).prefix(Int.random(in: 1...shape.count, using: &random)))
            let steps = axes.map { _ in [1, 2, 3, -1, -2].randomElement(using: &random)! }
            let starts = axes.map { shape[$0] == 0 ? 0 : Int.random(in: -shape[$0] - 2...shape[$0] + 2, using: &random) }
            let ends = axes.map { _ in [Int.max, Int.min, -1, 0, 2, 5].randomElement(using: &random)! }
            return [(Slice(starts: starts, ends: ends, axes: axes.map { Bool.random(using: &random) ? $0 - shape.count : $0 }, steps: steps), [shape])]
        },
        entry("Concat") { random in
            var shape = randomShape(&random, minRank: 1)
            let axis = Int.random(in: 0..<shape.count, using: &random)
            let shapes = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                shape[axis] = Int.random(in: 0...5, using: &random)
                return shape
            }
            return [(Concat(axis: Bool.random(using: &random) ? axis : axis - shape.count), shapes)]
        },
        entry("Split") { random in
            var shape = randomShape(&random, minRank: 1)
            let axis = Int.random(in: 0..<shape.count, using: &random)
            shape[axis] = Int.random(in: 1...9, using: &random)
            let first = Int.random(in: 0...shape[axis], using: &random)
            return [(Split(axis: axis, sizes: [first, shape[axis] - first], parts: nil), [shape]),
                    (Split(axis: axis, sizes: nil, parts: Int.random(in: 1...shape[axis], using: &random)), [shape])]
        },
        entry("Expand") { random in
            let shapes = OperatorRegistry.broadcastShapes(2, &random)
            return [(Expand(shape: shapes[1]), [shapes[0]])]
        },
        entry("Tile") { random in
            let shape = randomShape(&random, maxRank: 3)
            return [(Tile(repeats: shape.map { _ in Int.random(in: 0...3, using: &random) }), [shape])]
        },
        entry("Pad") { random in
            let shape = randomShape(&random, minRank: 1).map { max($0, 3) }
            let mode = PadMode.allCases.randomElement(using: &random)!
            let pads = (0..<2 * shape.count).map { d in Int.random(in: (mode == .constant ? -1 : 0)...min(2, shape[d % shape.count] - 1), using: &random) }
            return [(Pad(pads: pads, mode: mode, value: Double(Int.random(in: -3...3, using: &random))), [shape])]
        },
        OperatorRegistry.Entry(name: "Gather") { random in
            let shape = randomShape(&random, minRank: 1).map { max($0, 1) }
            let axis = Int.random(in: 0..<shape.count, using: &random)
            let indexShape = randomShape(&random, maxRank: 2)
            let indices = TensorType(indexShape, .int64)
            return DataType.allCases.map { type in
                let data = TensorType(shape, type)
                let positions = (0..<indices.count).map { _ in Int64.random(in: -Int64(shape[axis])..<Int64(shape[axis]), using: &random) }
                return OperatorSample(
                    label: "Gather(axis: \(axis)) \(data) \(indices)", primitive: Gather(axis: axis),
                    inputs: [(data, OperatorRegistry.values(data, &random)), (indices, .int64(positions))])
            }
        },
    ]

    /// A sample of each data type for a primitive of float32 shapes `shapes`.
    static func entry(_ name: String, _ make: @escaping @Sendable (inout SeededGenerator) -> [(any Primitive, [[Int]])])
        -> OperatorRegistry.Entry
    {
        OperatorRegistry.Entry(name: name) { random in
            make(&random).flatMap { primitive, shapes in
                DataType.allCases.map { type in
                    let inputs = shapes.map { shape in
                        (TensorType(shape, type), OperatorRegistry.values(TensorType(shape, type), &random))
                    }
                    return OperatorSample(label: "\(primitive) " + inputs.map { "\($0.0)" }.joined(separator: " "), primitive: primitive, inputs: inputs)
                }
            }
        }
    }

    /// A random shape of rank minRank…maxRank, sizes 0–7 (mostly above 0).
    static func randomShape(_ random: inout SeededGenerator, minRank: Int = 0, maxRank: Int = 4) -> [Int] {
        (0..<Int.random(in: minRank...maxRank, using: &random)).map { _ in
            Int.random(in: 0..<12, using: &random) == 0 ? 0 : Int.random(in: 1...7, using: &random)
        }
    }
}
