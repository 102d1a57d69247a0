/// A place where ConvCL's operations run: an OpenCL device (`OpenCLBackend`) or plain Swift on
/// the CPU (`ReferenceBackend`). Both take the same descriptors and validate them the same way,
/// so one program, or one test, runs unchanged on either.
///
/// Layout is NCHW float32 (NCL in 1-D). Every operation checks its arguments before anything is
/// dispatched and throws `ConvCLError.invalidArgument` naming the operation, the argument and the
/// values. Tensors of one backend cannot be passed to another.
public protocol Backend: AnyObject, Sendable {
    /// A short description: the device name, or "CPU reference".
    var name: String { get }

    /// Makes a tensor of this backend from row-major values of any data type.
    /// - Throws: `ConvCLError.invalidArgument` when the values do not fill `shape`.
    func tensor(shape: [Int], data: TensorData) throws -> Tensor

    /// 2-D convolution (cross-correlation by default) of `input` [N, C, H, W] with `weight`
    /// [K, C/groups, R, S], plus `bias` [K] if given, then the descriptor's activation; the result
    /// is [N, K, OH, OW].
    func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, descriptor: Conv2DDescriptor) throws -> Tensor

    /// 1-D or 2-D pooling of `input` ([N, C, L] or [N, C, H, W]); with `returnIndices` (max
    /// pooling only) also the argmax of each window as a flat index into its input plane
    /// (PyTorch's convention), an int64 tensor.
    func pool(_ input: Tensor, mode: PoolingMode, descriptor: PoolDescriptor, returnIndices: Bool) throws
        -> (values: Tensor, indices: Tensor?)

    /// Reduces `input` over the descriptor's axes.
    func reduce(_ input: Tensor, descriptor: ReduceDescriptor) throws -> Tensor

    /// Applies an activation to every element.
    func activation(_ input: Tensor, _ activation: Activation) throws -> Tensor
}

extension Backend {
    /// Makes a float32 tensor of this backend from row-major values.
    /// - Throws: `ConvCLError.invalidArgument` when `values.count` does not fill `shape`.
    public func tensor(shape: [Int], values: [Float]) throws -> Tensor {
        try tensor(shape: shape, data: .float32(values))
    }

    /// Makes an int64 tensor of this backend from row-major values.
    public func tensor(shape: [Int], int64Values values: [Int64]) throws -> Tensor {
        try tensor(shape: shape, data: .int64(values))
    }

    /// Makes a bool tensor of this backend from row-major values.
    public func tensor(shape: [Int], boolValues values: [Bool]) throws -> Tensor {
        try tensor(shape: shape, data: .bool(values))
    }

    /// 1-D convolution of `input` [N, C, L] with `weight` [K, C/groups, S] (+ `bias` [K]);
    /// the result is [N, K, OL]. Exactly conv2d over a height of 1.
    public func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor?, descriptor: Conv1DDescriptor) throws -> Tensor {
        let g = try descriptor.geometry(input: input.shape, weight: weight.shape, bias: bias?.shape)
        let output = try conv2d(
            try input.reshaped([g.batch, g.inputChannels, 1, g.inputWidth]),
            weight: try weight.reshaped([g.outputChannels, g.inputChannelsPerGroup, 1, g.kernelWidth]),
            bias: bias, descriptor: descriptor.as2D)
        return try output.reshaped([g.batch, g.outputChannels, g.outputWidth])
    }

    /// Max pooling (1-D or 2-D, by `descriptor.kernel.count`). Padding never wins; NaN does.
    public func maxPool(_ input: Tensor, descriptor: PoolDescriptor) throws -> Tensor {
        try pool(input, mode: .max, descriptor: descriptor, returnIndices: false).values
    }

    /// Max pooling with the argmax of each window: a flat index into its input plane
    /// (`h * W + w`; in 1-D the position), as PyTorch's `return_indices=True` gives.
    public func maxPoolWithIndices(_ input: Tensor, descriptor: PoolDescriptor) throws
        -> (values: Tensor, indices: Tensor)
    {
        let result = try pool(input, mode: .max, descriptor: descriptor, returnIndices: true)
        return (result.values, result.indices!)
    }

    /// Average pooling (1-D or 2-D, by `descriptor.kernel.count`).
    public func averagePool(_ input: Tensor, descriptor: PoolDescriptor) throws -> Tensor {
        try pool(input, mode: .average, descriptor: descriptor, returnIndices: false).values
    }

    /// The mean of each map: [N, C, H, W] → [N, C, 1, 1], [N, C, L] → [N, C, 1].
    public func globalAveragePool(_ input: Tensor) throws -> Tensor {
        try reduce(input, descriptor: try globalDescriptor(.mean, input, "globalAveragePool"))
    }

    /// The maximum of each map: [N, C, H, W] → [N, C, 1, 1], [N, C, L] → [N, C, 1].
    public func globalMaxPool(_ input: Tensor) throws -> Tensor {
        try reduce(input, descriptor: try globalDescriptor(.max, input, "globalMaxPool"))
    }

    private func globalDescriptor(_ operation: ReductionOperation, _ input: Tensor, _ name: String) throws
        -> ReduceDescriptor
    {
        guard input.shape.count >= 3, input.shape.allSatisfy({ $0 > 0 }) else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "input",
                reason: "expected rank ≥ 3 [N, C, spatial…] with every dimension > 0, got shape \(input.shape)")
        }
        return ReduceDescriptor(operation, axes: Array(2..<input.shape.count), keepDims: true)
    }
}
