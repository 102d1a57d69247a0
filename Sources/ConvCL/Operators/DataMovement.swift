/// The operators that move data without arithmetic. Each gives, per output, a strided map from
/// the input (sizes, strides, offset), which one kernel copies (`Kernels/copy.cl`); the reference
/// of each is written from the operator's own definition, index by index, so that it checks the
/// map. Pad and Gather have kernels of their own in the same program.

extension TensorData {
    /// The elements at `positions`, in order (nil: `fill`, the element count of a pad).
    func picking(_ positions: [Int?], fill: Double = 0) -> TensorData {
        switch self {
        case .float32(let v): .float32(positions.map { $0.map { v[$0] } ?? Float(fill) })
        case .int64(let v): .int64(positions.map { $0.map { v[$0] } ?? Int64(fill) })
        case .bool(let v): .bool(positions.map { $0.map { v[$0] } ?? (fill != 0) })
        }
    }

    /// Element `sources[i].1` of tensor `sources[i].0` of `tensors`, for each i (all of `type`).
    static func gathering(_ tensors: [TensorData], _ sources: [(Int, Int)], type: DataType) -> TensorData {
        switch type {
        case .float32:
            let values = tensors.map { data -> [Float] in if case .float32(let v) = data { return v }; return [] }
            return .float32(sources.map { values[$0.0][$0.1] })
        case .int64:
            let values = tensors.map { data -> [Int64] in if case .int64(let v) = data { return v }; return [] }
            return .int64(sources.map { values[$0.0][$0.1] })
        case .bool:
            let values = tensors.map { data -> [Bool] in if case .bool(let v) = data { return v }; return [] }
            return .bool(sources.map { values[$0.0][$0.1] })
        }
    }
}

extension Layout {
    /// Every multi-index of `shape` in row-major order.
    static func multiIndices(_ shape: [Int]) -> [[Int]] {
        var result: [[Int]] = []
        let count = shape.reduce(1, *)
        guard count > 0 else { return [] }
        result.reserveCapacity(count)
        var index = [Int](repeating: 0, count: shape.count)
        for _ in 0..<count {
            result.append(index)
            var axis = shape.count - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        return result
    }

    /// The row-major position of `index` in `shape`.
    static func position(_ index: [Int], in shape: [Int]) -> Int {
        zip(index, contiguousStrides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
    }
}

/// A strided map from one input: output multi-index i reads input element offset + Σ i[d]·strides[d].
struct StridedMap {
    var outputShape: [Int]
    var strides: [Int]
    var offset: Int
}

/// The program that moves elements of `type`.
func copyProgram(_ type: DataType) -> ProgramSpec { ProgramSpec("copy", ["BYTES": type.byteSize]) }

extension OpenCLBackend {
    /// Copies `map` of `x` into `y` at `yOffset` with `yStrides` over the map's output shape.
    func stridedCopy(
        _ x: CLBuffer, to y: CLBuffer, type: DataType, map: StridedMap, yStrides: [Int], yOffset: Int = 0, operation: String
    ) throws {
        let count = map.outputShape.reduce(1, *)
        guard count > 0 else { return }
        let merged = Layout.merge(sizes: map.outputShape, strides: [map.strides, yStrides])
        guard merged.sizes.count <= 8 else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "shape",
                reason: "the copy of \(map.outputShape) runs over \(merged.sizes.count) separate axes; the kernel takes at most 8")
        }
        // A single element has no axes left: one of size 1 stands for it.
        let sizes = merged.sizes.isEmpty ? [1] : merged.sizes
        let xs = merged.sizes.isEmpty ? [0] : merged.strides[0], ys = merged.sizes.isEmpty ? [0] : merged.strides[1]
        func ints(_ values: [Int]) throws -> KernelArgument { .int32x8(try values.map { try int32($0, operation) }) }
        let r = sizes.count
        if type.byteSize == 4, xs[r - 1] == 1, ys[r - 1] == 1, sizes[r - 1] % 2 == 0,
            (xs.dropLast() + ys.dropLast() + [map.offset, yOffset]).allSatisfy({ $0 % 2 == 0 })
        {
            // Pairs that stay together (an inner axis contiguous on both sides, of even length, at
            // even offsets) move as 8-byte elements: a transpose of [.., 2] pairs (Basic Pitch's
            // real and imaginary parts) becomes one of whole elements, and each step moves twice
            // the bytes (its [4, 172, 309, 2] transpose took 1.4 ms, 8 bytes at a time).
            let halved = { (values: [Int]) in values.enumerated().map { $0.offset == r - 1 ? $0.element : $0.element / 2 } }
            var pairSizes = sizes
            pairSizes[r - 1] /= 2
            return try stridedCopy(
                x, to: y, type: .int64, map: StridedMap(outputShape: pairSizes, strides: halved(xs), offset: map.offset / 2),
                yStrides: halved(ys), yOffset: yOffset / 2, operation: operation)
        }
        if r >= 2, ys[r - 1] == 1, xs[r - 1] != 1, xs[r - 2] == 1, sizes[r - 1] >= 16, sizes[r - 2] >= 2 {
            // A transpose of the two inner axes: tiles of 32 along the output's inner axis × 8
            // along the next (cut where an axis ends), read and written as vectors.
            let outer = Array(sizes.prefix(r - 2))
            let tiles = outer.reduce(1, *) * ((sizes[r - 1] + 31) / 32) * ((sizes[r - 2] + 7) / 8)
            try launch(
                copyProgram(type), kernel: "transpose_tiles",
                arguments: [.buffer(y), .buffer(x), .int32(try int32(tiles, operation)), .int32(Int32(r - 2)),
                            try ints(outer), try ints(Array(xs.prefix(r - 2))), try ints(Array(ys.prefix(r - 2))),
                            .int32(try int32(map.offset, operation)), .int32(try int32(yOffset, operation)),
                            .int32(try int32(sizes[r - 2], operation)), .int32(try int32(sizes[r - 1], operation)),
                            .int32(try int32(ys[r - 2], operation)), .int32(try int32(xs[r - 1], operation)),
                            .int32(streams(bytes: count * type.byteSize) ? 1 : 0)],
                globalSize: [GEMMTile.roundUp(tiles, 64)], localSize: [64])
            return
        }
        try launch(
            copyProgram(type), kernel: "strided_copy",
            arguments: [.buffer(y), .buffer(x), .int32(try int32(count, operation)), .int32(Int32(sizes.count)),
                        try ints(sizes), try ints(xs), try ints(ys), .int32(try int32(map.offset, operation)),
                        .int32(try int32(yOffset, operation))],
            globalSize: [GEMMTile.roundUp((count + 15) / 16, 64)], localSize: [64])
    }
}

/// A data movement operator of one input and one output that is a strided map of it.
protocol StridedMapPrimitive: Primitive {
    func map(_ input: TensorType) throws -> StridedMap
    /// The input position each output element reads, from the operator's definition.
    func source(of index: [Int], input: [Int]) -> Int
}

extension StridedMapPrimitive {
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 1 else {
            throw ConvCLError.invalidArgument(operation: name, argument: "inputs", reason: "takes 1 tensor, got \(inputs.count)")
        }
        return [TensorType(try map(inputs[0]).outputShape, inputs[0].dataType)]
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        [inputs[0].picking(Layout.multiIndices(outputs[0].shape).map { source(of: $0, input: types[0].shape) })]
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let (result, y) = try backend.output(shape: outputs[0].shape, dataType: outputs[0].dataType, operation: name)
        // The output in row-major order over the map's shape (for Tile, [r0, s0, r1, s1, …],
        // which lies in memory as [r0·s0, r1·s1, …]).
        let map = try map(inputs[0].type)
        try backend.stridedCopy(
            try backend.anyBuffer(of: inputs[0], name, "input"), to: y, type: inputs[0].dataType, map: map,
            yStrides: Layout.contiguousStrides(map.outputShape), operation: name)
        return [result]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { inputs.map { copyProgram($0.dataType) } }
}

/// ONNX Transpose: output axis d is input axis permutation[d] (reversed axes by default).
struct Transpose: StridedMapPrimitive {
    let permutation: [Int]?
    var name: String { "Transpose" }

    func axes(_ rank: Int) throws -> [Int] {
        let permutation = self.permutation ?? Array((0..<rank).reversed())
        guard permutation.count == rank, Set(permutation) == Set(0..<rank) else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "perm", reason: "\(permutation) is not a permutation of the \(rank) axes 0..<\(rank)")
        }
        return permutation
    }

    func map(_ input: TensorType) throws -> StridedMap {
        let axes = try axes(input.shape.count)
        let strides = Layout.contiguousStrides(input.shape)
        return StridedMap(outputShape: axes.map { input.shape[$0] }, strides: axes.map { strides[$0] }, offset: 0)
    }

    func source(of index: [Int], input: [Int]) -> Int {
        let axes = (try? axes(input.count)) ?? []
        var inputIndex = [Int](repeating: 0, count: input.count)
        for (d, axis) in axes.enumerated() { inputIndex[axis] = index[d] }
        return Layout.position(inputIndex, in: input)
    }
}

/// ONNX Slice: along each of `axes` (all, in order, by default), elements start, start + step, …
/// before end; negative starts and ends count from the end, and both are clamped as ONNX says
/// (to [0, size] for a positive step, [-1, size - 1] for a negative one).
struct Slice: StridedMapPrimitive {
    let starts: [Int], ends: [Int]
    let axes: [Int]?
    let steps: [Int]?
    var name: String { "Slice" }

    /// Per input axis: (first index, step, count).
    func ranges(_ shape: [Int]) throws -> [(start: Int, step: Int, count: Int)] {
        func fail(_ argument: String, _ reason: String) -> ConvCLError { .invalidArgument(operation: name, argument: argument, reason: reason) }
        let axes = self.axes ?? Array(0..<starts.count)
        let steps = self.steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw fail("starts", "starts \(starts), ends \(ends), axes \(axes) and steps \(steps) must have one value per sliced axis")
        }
        var ranges = shape.map { (start: 0, step: 1, count: $0) }
        var seen = Set<Int>()
        for (i, axis) in axes.enumerated() {
            let a = try Layout.axis(axis, rank: shape.count, operation: name, argument: "axes")
            guard seen.insert(a).inserted else { throw fail("axes", "axis \(axis) is repeated in \(axes)") }
            let step = steps[i], size = shape[a]
            guard step != 0 else { throw fail("steps", "step 0 on axis \(axis); steps \(steps)") }
            var start = starts[i] < 0 ? starts[i] + size : starts[i]
            var end = ends[i] < 0 ? ends[i] + size : ends[i]
            if step > 0 {
                start = min(max(start, 0), size)
                end = min(max(end, 0), size)
            } else {
                // ONNX clamps a negative step's start to [0, size − 1] (onnxruntime too; NumPy and
                // onnx's reference evaluator to [−1, size − 1], which slices nothing from a start
                // before the first element).
                start = min(max(start, 0), size - 1)
                end = min(max(end, -1), size - 1)
            }
            // Written not to overflow for any int64 step (Int64.min included), and a step that
            // takes one element becomes ±1, so that it cannot overflow a stride product either.
            let count = step > 0 ? (end > start ? (end - start - 1) / step + 1 : 0) : (start > end ? 1 - (start - end - 1) / step : 0)
            ranges[a] = (start, count > 1 ? step : step.signum(), count)
        }
        return ranges
    }

    func map(_ input: TensorType) throws -> StridedMap {
        let ranges = try ranges(input.shape)
        let strides = Layout.contiguousStrides(input.shape)
        let empty = ranges.contains { $0.count == 0 }
        return StridedMap(
            outputShape: ranges.map(\.count), strides: zip(ranges, strides).map { $0.step * $1 },
            offset: empty ? 0 : zip(ranges, strides).reduce(0) { $0 + $1.0.start * $1.1 })
    }

    func source(of index: [Int], input: [Int]) -> Int {
        let ranges = (try? ranges(input)) ?? []
        return Layout.position(zip(index, ranges).map { $1.start + $0 * $1.step }, in: input)
    }
}

/// ONNX Expand: the input broadcast with `shape` (both ways: the result has the larger of each
/// axis, as NumPy's broadcast of the two shapes).
struct Expand: StridedMapPrimitive {
    let shape: [Int]
    var name: String { "Expand" }

    func map(_ input: TensorType) throws -> StridedMap {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw ConvCLError.invalidArgument(operation: name, argument: "shape", reason: "\(shape) has a negative size")
        }
        let output = try Layout.broadcast([input.shape, shape], operation: name)
        return StridedMap(outputShape: output, strides: Layout.broadcastStrides(input.shape, to: output), offset: 0)
    }

    func source(of index: [Int], input: [Int]) -> Int {
        let missing = index.count - input.count
        return Layout.position(input.indices.map { input[$0] == 1 ? 0 : index[$0 + missing] }, in: input)
    }
}

/// ONNX Tile: the input repeated `repeats[d]` times along each axis d.
struct Tile: StridedMapPrimitive {
    let repeats: [Int]
    var name: String { "Tile" }

    func map(_ input: TensorType) throws -> StridedMap {
        guard repeats.count == input.shape.count, repeats.allSatisfy({ $0 >= 0 }) else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "repeats",
                reason: "expected \(input.shape.count) non-negative repeats for shape \(input.shape), got \(repeats)")
        }
        // Each axis as (repeat, size): the repeat steps by 0.
        let strides = Layout.contiguousStrides(input.shape)
        var sizes: [Int] = [], mapStrides: [Int] = []
        for (d, size) in input.shape.enumerated() {
            sizes += [repeats[d], size]
            mapStrides += [0, strides[d]]
        }
        return StridedMap(outputShape: sizes, strides: mapStrides, offset: 0)
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 1 else {
            throw ConvCLError.invalidArgument(operation: name, argument: "inputs", reason: "takes 1 tensor, got \(inputs.count)")
        }
        _ = try map(inputs[0])
        return [TensorType(zip(inputs[0].shape, repeats).map { $0 * $1 }, inputs[0].dataType)]
    }

    func source(of index: [Int], input: [Int]) -> Int {
        Layout.position(zip(index, input).map { $0 % $1 }, in: input)
    }
}
