import Foundation

/// The ONNX operators that make tensors from shapes and scalars (Shape, Size, ConstantOfShape,
/// Range). Their results are small and computed on the host, then made tensors of the backend.
/// (Identity and inference-mode Dropout return their input: tensors are immutable.)
extension Backend {
    /// ONNX Shape: `x`'s shape as an int64 tensor of its rank (axes start…end, negative from the end,
    /// clamped, as opset 15's attributes).
    public func shape(of x: Tensor, start: Int = 0, end: Int? = nil) throws -> Tensor {
        let rank = x.shape.count
        func clamp(_ axis: Int) -> Int { min(max(axis < 0 ? axis + rank : axis, 0), rank) }
        let (first, last) = (clamp(start), clamp(end ?? rank))
        let sizes = first < last ? x.shape[first..<last].map { Int64($0) } : []
        return try tensor(shape: [sizes.count], int64Values: sizes)
    }

    /// ONNX Size: `x`'s element count as an int64 scalar.
    public func size(of x: Tensor) throws -> Tensor {
        try tensor(shape: [], int64Values: [Int64(x.count)])
    }

    /// ONNX ConstantOfShape: a tensor of `shape` whose every element is `value`'s one element
    /// (default: float32 zero).
    public func constantOfShape(_ shape: [Int], value: TensorData = .float32([0])) throws -> Tensor {
        guard value.count == 1 else {
            throw ConvCLError.invalidArgument(
                operation: "ConstantOfShape", argument: "value", reason: "expected one element, got \(value.count)")
        }
        let count = try checkedElementCount(shape, operation: "ConstantOfShape")
        switch value {
        case .float32(let v): return try tensor(shape: shape, values: Array(repeating: v[0], count: count))
        case .int64(let v): return try tensor(shape: shape, int64Values: Array(repeating: v[0], count: count))
        case .bool(let v): return try tensor(shape: shape, boolValues: Array(repeating: v[0], count: count))
        }
    }

    /// ONNX Range for float32: start, start + delta, … while before `limit`;
    /// max(⌈(limit − start) / delta⌉, 0) elements, each the previous plus delta in float32 (as
    /// ONNX's definition and onnxruntime accumulate).
    public func range(start: Float, limit: Float, delta: Float) throws -> Tensor {
        let count = try rangeCount(Double(start), Double(limit), Double(delta))
        var values: [Float] = []
        var value = start
        for _ in 0..<count {
            values.append(value)
            value += delta
        }
        return try tensor(shape: [count], values: values)
    }

    /// ONNX Range for int64.
    public func range(start: Int64, limit: Int64, delta: Int64) throws -> Tensor {
        let count = try rangeCount(Double(start), Double(limit), Double(delta))
        return try tensor(shape: [count], int64Values: (0..<count).map { start + Int64($0) * delta })
    }

    private func rangeCount(_ start: Double, _ limit: Double, _ delta: Double) throws -> Int {
        guard delta != 0, start.isFinite, limit.isFinite, delta.isFinite else {
            throw ConvCLError.invalidArgument(
                operation: "Range", argument: "delta", reason: "start \(start), limit \(limit), delta \(delta): delta must be finite and not 0")
        }
        let count = max(((limit - start) / delta).rounded(.up), 0)
        guard count <= Double(Int32.max) else {
            throw ConvCLError.invalidArgument(operation: "Range", argument: "limit", reason: "\(count) elements are too many")
        }
        return Int(count)
    }
}
