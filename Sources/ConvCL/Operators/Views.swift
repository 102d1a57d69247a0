/// Reshape, Flatten, Squeeze and Unsqueeze: new shapes of the same elements, with no copy (a
/// tensor is immutable, so a view shares its storage). Each follows ONNX's shape rule.
extension Tensor {
    /// ONNX Reshape: a 0 keeps the input's size of that axis (with `allowZero`, ONNX's
    /// allowzero = 1, it is a size of 0), one −1 takes what the other axes leave.
    public func reshaped(onnx shape: [Int], allowZero: Bool = false) throws -> Tensor {
        func fail(_ reason: String) -> ConvCLError { .invalidArgument(operation: "Reshape", argument: "shape", reason: reason) }
        var resolved = try shape.enumerated().map { axis, size -> Int in
            guard size >= -1 else { throw fail("\(shape) has a size below -1") }
            guard size == 0, !allowZero else { return size }
            guard axis < self.shape.count else { throw fail("\(shape) keeps axis \(axis) (0), which input \(self.shape) lacks") }
            return self.shape[axis]
        }
        let unknown = resolved.indices.filter { resolved[$0] == -1 }
        guard unknown.count <= 1 else { throw fail("\(shape) has more than one -1") }
        guard !allowZero || unknown.isEmpty || !resolved.contains(0) else { throw fail("\(shape) has both a -1 and a 0 (allowzero)") }
        if let axis = unknown.first {
            let known = resolved.filter { $0 != -1 }.reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw fail("\(shape): \(count) elements of \(self.shape) do not divide into axes of \(known) elements")
            }
            resolved[axis] = count / known
        }
        guard resolved.reduce(1, *) == count else { throw fail("\(shape) holds \(resolved.reduce(1, *)) elements; input \(self.shape) has \(count)") }
        return try reshaped(resolved)
    }

    /// ONNX Flatten: [d0 ⋯ d(axis−1), d(axis) ⋯ d(n−1)] as a matrix; axis in -rank...rank.
    public func flattened(axis: Int = 1) throws -> Tensor {
        let rank = shape.count
        guard (-rank...rank).contains(axis) else {
            throw ConvCLError.invalidArgument(
                operation: "Flatten", argument: "axis", reason: "axis \(axis) is out of range for rank \(rank) (valid: \(-rank)...\(rank))")
        }
        let a = axis < 0 ? axis + rank : axis
        return try reshaped([shape[..<a].reduce(1, *), shape[a...].reduce(1, *)])
    }

    /// ONNX Squeeze: without the size-1 `axes` (all size-1 axes when nil).
    public func squeezed(axes: [Int]? = nil) throws -> Tensor {
        let rank = shape.count
        let chosen = try Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map {
            try Layout.axis($0, rank: rank, operation: "Squeeze", argument: "axes")
        })
        guard chosen.count == (axes?.count ?? chosen.count) else {
            throw ConvCLError.invalidArgument(operation: "Squeeze", argument: "axes", reason: "\(axes!) repeats an axis")
        }
        if let wrong = chosen.sorted().first(where: { shape[$0] != 1 }) {
            throw ConvCLError.invalidArgument(
                operation: "Squeeze", argument: "axes", reason: "axis \(wrong) of \(shape) has size \(shape[wrong]), not 1")
        }
        return try reshaped(shape.indices.filter { !chosen.contains($0) }.map { shape[$0] })
    }

    /// ONNX Unsqueeze: size-1 axes inserted at `axes` (of the result, negative from its end).
    public func unsqueezed(axes: [Int]) throws -> Tensor {
        let rank = shape.count + axes.count
        let chosen = try Set(axes.map { try Layout.axis($0, rank: rank, operation: "Unsqueeze", argument: "axes") })
        guard chosen.count == axes.count else {
            throw ConvCLError.invalidArgument(operation: "Unsqueeze", argument: "axes", reason: "\(axes) repeats an axis")
        }
        var sizes = shape.makeIterator()
        return try reshaped((0..<rank).map { chosen.contains($0) ? 1 : sizes.next()! })
    }
}
