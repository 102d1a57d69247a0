/// Batch normalisation in training mode on a `Tape` (PyTorch's `batch_norm` with
/// `training=True`): each channel of x [N, C, …] normalised by the batch's mean and biased
/// variance over every axis but the channel's, then scaled and shifted; the gradient flows through
/// the batch statistics too.
extension Tape {
    /// Returns y, and the batch's mean and unbiased variance per channel ([C], for the running
    /// averages).
    public func batchNormalization(_ x: Variable, scale: Variable, bias: Variable, epsilon: Float = 1e-5) throws
        -> (output: Variable, mean: Tensor, variance: Tensor)
    {
        let channels = x.shape.count >= 2 ? x.shape[1] : 0
        guard x.shape.count >= 2, scale.shape == [channels], bias.shape == [channels] else {
            throw ConvCLError.invalidArgument(
                operation: "batchNormalization", argument: "scale",
                reason: "expected x [N, C, …] with scale and bias [C], got \(x.shape), \(scale.shape), \(bias.shape)")
        }
        let axes = [0] + Array(2..<x.shape.count)
        let count = axes.reduce(1) { $0 * x.shape[$1] }
        guard count > 1 else {
            throw ConvCLError.invalidArgument(
                operation: "batchNormalization", argument: "x", reason: "training needs more than one value per channel, got shape \(x.shape)")
        }
        let b = backend
        func scalar(_ value: Float) throws -> Tensor { try b.tensor(shape: [], values: [value]) }
        func perChannel(_ t: Tensor) throws -> Tensor { try t.reshaped([1, channels] + [Int](repeating: 1, count: x.shape.count - 2)) }
        func channelMean(_ t: Tensor) throws -> Tensor { try b.reduce(t, descriptor: ReduceDescriptor(.mean, axes: axes, keepDims: true)) }
        let mean = try channelMean(x.value)
        let centered = try b.elementwise(.sub, x.value, mean)
        let variance = try channelMean(try b.elementwise(.mul, centered, centered))
        let inverse = try b.elementwise(.reciprocal, try b.elementwise(.sqrt, try b.elementwise(.add, variance, try scalar(epsilon))))
        let normalized = try b.elementwise(.mul, centered, inverse)
        let y = try b.elementwise(.mulAdd, normalized, try perChannel(scale.value), try perChannel(bias.value))
        let output = record(y, [x, scale, bias]) { dy, needs in
            func channelSum(_ t: Tensor) throws -> Tensor { try b.reduce(t, descriptor: ReduceDescriptor(.sum, axes: axes, keepDims: true)) }
            let sumDy = try channelSum(dy)
            let sumDyNormalized = try channelSum(try b.elementwise(.mul, dy, normalized))
            var gradients: [Tensor?] = [nil, nil, nil]
            if needs[0] {
                // (γ / σ) · (dy − mean(dy) − x̂ · mean(dy · x̂)).
                let meanDy = try b.elementwise(.mul, sumDy, try scalar(1 / Float(count)))
                let meanDyNormalized = try b.elementwise(.mul, sumDyNormalized, try scalar(1 / Float(count)))
                let inner = try b.elementwise(.sub, try b.elementwise(.sub, dy, meanDy), try b.elementwise(.mul, normalized, meanDyNormalized))
                gradients[0] = try b.elementwise(.mul, inner, try b.elementwise(.mul, inverse, try perChannel(scale.value)))
            }
            if needs[1] { gradients[1] = try sumDyNormalized.reshaped([channels]) }
            if needs[2] { gradients[2] = try sumDy.reshaped([channels]) }
            return gradients
        }
        let unbiased = try b.elementwise(.mul, variance, try scalar(Float(count) / Float(count - 1)))
        return (output, try mean.reshaped([channels]), try unbiased.reshaped([channels]))
    }
}

/// Batch normalisation (`torch.nn.BatchNorm1d`/`2d`): parameters scale (γ, ones) and bias (β,
/// zeros); while training it normalises by the batch's statistics and updates the running mean
/// and (unbiased) variance by `momentum`; otherwise it uses the running ones.
public final class BatchNorm: Layer {
    public var parameters: [Tensor]
    /// The running statistics [C] (not parameters: no optimizer changes them).
    public private(set) var runningMean: Tensor, runningVariance: Tensor
    public let epsilon: Float, momentum: Float

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1, backend: any Backend) throws {
        let ones = [Float](repeating: 1, count: channels), zeros = [Float](repeating: 0, count: channels)
        parameters = [try backend.tensor(shape: [channels], values: ones), try backend.tensor(shape: [channels], values: zeros)]
        runningMean = try backend.tensor(shape: [channels], values: zeros)
        runningVariance = try backend.tensor(shape: [channels], values: ones)
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        let b = tape.backend
        guard training else {
            // The running statistics: an affine map per channel, y = γ·(x − μ)/√(v + ε) + β.
            let y = try b.batchNormalization(
                x.value, scale: parameters[0].value, bias: parameters[1].value, mean: runningMean, variance: runningVariance, epsilon: epsilon)
            let shape = [1, x.shape[1]] + [Int](repeating: 1, count: x.shape.count - 2)
            let axes = [0] + Array(2..<x.shape.count)
            let (mean, variance, epsilon) = (runningMean, runningVariance, epsilon)
            return tape.record(y, [x, parameters[0], parameters[1]]) { dy, needs in
                let inverse = try b.elementwise(
                    .reciprocal, try b.elementwise(.sqrt, try b.elementwise(.add, variance, try b.tensor(shape: [], values: [epsilon])))).reshaped(shape)
                let normalized = try b.elementwise(.mul, try b.elementwise(.sub, x.value, try mean.reshaped(shape)), inverse)
                func channelSum(_ t: Tensor) throws -> Tensor { try b.reduce(t, descriptor: ReduceDescriptor(.sum, axes: axes, keepDims: false)) }
                return [
                    needs[0] ? try b.elementwise(.mul, dy, try b.elementwise(.mul, inverse, try parameters[0].value.reshaped(shape))) : nil,
                    needs[1] ? try channelSum(try b.elementwise(.mul, dy, normalized)) : nil,
                    needs[2] ? try channelSum(dy) : nil,
                ]
            }
        }
        let (y, mean, variance) = try tape.batchNormalization(x, scale: parameters[0], bias: parameters[1], epsilon: epsilon)
        let keep = try b.tensor(shape: [], values: [1 - momentum]), take = try b.tensor(shape: [], values: [momentum])
        runningMean = try b.elementwise(.mulAdd, runningMean, keep, try b.elementwise(.mul, mean, take))
        runningVariance = try b.elementwise(.mulAdd, runningVariance, keep, try b.elementwise(.mul, variance, take))
        return y
    }
}
