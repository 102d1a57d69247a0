/// Shapes, strides and NumPy broadcasting, shared by the operators and their kernels.
enum Layout {
    /// Row-major strides (in elements) of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        return strides
    }

    /// The NumPy broadcast of `shapes` (ONNX's multidirectional broadcasting): shapes are aligned
    /// at their last axes; each axis is the operands' common size, where those of size 1 (or
    /// missing) stretch.
    /// - Throws: `ConvCLError.invalidArgument` naming the operation and the shapes when two sizes
    ///   of an axis differ and neither is 1.
    static func broadcast(_ shapes: [[Int]], operation: String) throws -> [Int] {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            for (offset, size) in shape.reversed().enumerated() {
                let axis = rank - 1 - offset
                if result[axis] == 1 {
                    result[axis] = size
                } else if size != 1 && size != result[axis] {
                    throw ConvCLError.invalidArgument(
                        operation: operation, argument: "shapes",
                        reason: "\(shapes.map(\.description).joined(separator: " and ")) do not broadcast: axis \(axis - rank) "
                            + "has sizes \(result[axis]) and \(size) (each must be equal or 1)")
                }
            }
        }
        return result
    }

    /// The strides with which an operand of `shape` is read at each index of the broadcast
    /// `output` shape: its own row-major strides, and 0 on the axes it is stretched along.
    static func broadcastStrides(_ shape: [Int], to output: [Int]) -> [Int] {
        let own = contiguousStrides(shape)
        let missing = output.count - shape.count
        return output.indices.map { axis in
            axis < missing || shape[axis - missing] == 1 ? 0 : own[axis - missing]
        }
    }

    /// `sizes` with the strides of several operands, with size-1 axes dropped and neighbouring
    /// axes merged wherever every operand steps through them as through one axis (its stride on
    /// the outer axis is the inner one's times the inner size), so that kernels loop over as few
    /// axes as possible. An empty result is a single element.
    static func merge(sizes: [Int], strides: [[Int]]) -> (sizes: [Int], strides: [[Int]]) {
        var mergedSizes: [Int] = []
        var mergedStrides = [[Int]](repeating: [], count: strides.count)
        for axis in sizes.indices where sizes[axis] != 1 {
            if let last = mergedSizes.last,
                strides.indices.allSatisfy({ strides[$0][axis] * sizes[axis] == mergedStrides[$0].last! })
            {
                mergedSizes[mergedSizes.count - 1] = last * sizes[axis]
                for operand in strides.indices { mergedStrides[operand][mergedStrides[operand].count - 1] = strides[operand][axis] }
            } else {
                mergedSizes.append(sizes[axis])
                for operand in strides.indices { mergedStrides[operand].append(strides[operand][axis]) }
            }
        }
        return (mergedSizes, mergedStrides)
    }

    /// Calls `body` with the multi-index's offsets into each operand for every index of `sizes`, in
    /// row-major order (for the reference implementations).
    static func forEachOffset(sizes: [Int], strides: [[Int]], bases: [Int]? = nil, _ body: ([Int]) throws -> Void) rethrows {
        let count = sizes.reduce(1, *)
        guard count > 0 else { return }
        var index = [Int](repeating: 0, count: sizes.count)
        var offsets = bases ?? [Int](repeating: 0, count: strides.count)
        for _ in 0..<count {
            try body(offsets)
            var axis = sizes.count - 1
            while axis >= 0 {
                index[axis] += 1
                for operand in strides.indices { offsets[operand] += strides[operand][axis] }
                if index[axis] < sizes[axis] { break }
                for operand in strides.indices { offsets[operand] -= strides[operand][axis] * sizes[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// A normalised axis: `axis` in -rank..<rank, counted from the end when negative.
    static func axis(_ axis: Int, rank: Int, operation: String, argument: String = "axis") throws -> Int {
        guard (-rank..<rank).contains(axis) else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: argument,
                reason: "axis \(axis) is out of range for rank \(rank) (valid: \(-rank)...\(rank - 1))")
        }
        return axis < 0 ? axis + rank : axis
    }
}

/// The shape and data type of a tensor, which the operators' shape rules work on.
struct TensorType: Hashable, Sendable, CustomStringConvertible {
    var shape: [Int]
    var dataType: DataType

    init(_ shape: [Int], _ dataType: DataType = .float32) {
        self.shape = shape
        self.dataType = dataType
    }

    var count: Int { shape.reduce(1, *) }
    var description: String { dataType == .float32 ? "\(shape)" : "\(shape) \(dataType)" }
}

extension Tensor {
    var type: TensorType { TensorType(shape, dataType) }
}
