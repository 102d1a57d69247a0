/// The operations a `Tape` records: each runs the backend's forward now and keeps what its
/// backward pass needs (the inputs, the output, max pooling's indices).
/// (Backward rules capture the backend, never the tape: the tape holds the rules.)
extension Tape {

    /// `Backend.conv2d`, with its gradients from `conv2dBackward`.
    public func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, descriptor: Conv2DDescriptor) throws -> Variable {
        let y = try backend.conv2d(x.value, weight: weight.value, bias: bias?.value, descriptor: descriptor)
        return record(y, [x, weight] + (bias.map { [$0] } ?? [])) { [backend] dy, needs in
            let g = try backend.conv2dBackward(
                gradOutput: dy, input: x.value, weight: weight.value, output: y, descriptor: descriptor, computing: selection(needs))
            return [g.input, g.weight] + (bias == nil ? [] : [g.bias])
        }
    }

    /// `Backend.conv1d`, with its gradients from `conv1dBackward`.
    public func conv1d(_ x: Variable, weight: Variable, bias: Variable? = nil, descriptor: Conv1DDescriptor) throws -> Variable {
        let y = try backend.conv1d(x.value, weight: weight.value, bias: bias?.value, descriptor: descriptor)
        return record(y, [x, weight] + (bias.map { [$0] } ?? [])) { [backend] dy, needs in
            let g = try backend.conv1dBackward(
                gradOutput: dy, input: x.value, weight: weight.value, output: y, descriptor: descriptor, computing: selection(needs))
            return [g.input, g.weight] + (bias == nil ? [] : [g.bias])
        }
    }

    /// Max pooling (1-D or 2-D); the gradient goes through the forward's argmax.
    public func maxPool(_ x: Variable, descriptor: PoolDescriptor) throws -> Variable {
        let (y, indices) = try backend.maxPoolWithIndices(x.value, descriptor: descriptor)
        return record(y, [x]) { [backend] dy, _ in
            [try backend.maxPoolBackward(gradOutput: dy, indices: indices, inputShape: x.shape, descriptor: descriptor)]
        }
    }

    /// Average pooling (1-D or 2-D).
    public func averagePool(_ x: Variable, descriptor: PoolDescriptor) throws -> Variable {
        let y = try backend.averagePool(x.value, descriptor: descriptor)
        return record(y, [x]) { [backend] dy, _ in
            [try backend.averagePoolBackward(gradOutput: dy, inputShape: x.shape, descriptor: descriptor)]
        }
    }

    /// The mean over every spatial axis, [N, C, 1…]: each input gets its plane's gradient divided
    /// by the plane's size.
    public func globalAveragePool(_ x: Variable) throws -> Variable {
        let y = try backend.globalAveragePool(x.value)
        let scale = 1 / Float(x.shape.dropFirst(2).reduce(1, *))
        return record(y, [x]) { [backend] dy, _ in
            [try backend.expand(try backend.elementwise(.mul, dy, try backend.tensor(shape: [], values: [scale])), to: x.shape)]
        }
    }

    /// ReLU; relu'(0) = 0.
    public func relu(_ x: Variable) throws -> Variable { try leakyRelu(x, slope: 0) }

    /// x where x > 0, slope · x elsewhere; the slope must be ≥ 0 (the gradient is taken from the
    /// output).
    public func leakyRelu(_ x: Variable, slope: Float) throws -> Variable {
        guard slope >= 0 else {
            throw ConvCLError.invalidArgument(operation: "leakyRelu", argument: "slope", reason: "must be ≥ 0 on a tape, got \(slope)")
        }
        let y = try backend.elementwise(slope == 0 ? .relu : .leakyRelu(alpha: slope), x.value)
        return record(y, [x]) { [backend] dy, _ in [try backend.elementwise(.leakyReluGrad(alpha: slope), dy, y)] }
    }

    /// The same values in `shape` (of the same element count).
    public func reshape(_ x: Variable, _ shape: [Int]) throws -> Variable {
        record(try x.value.reshaped(shape), [x]) { dy, _ in [try dy.reshaped(x.shape)] }
    }

    /// [N, …] as [N, everything else].
    public func flatten(_ x: Variable) throws -> Variable {
        try reshape(x, [x.shape.first ?? 1, x.shape.dropFirst().reduce(1, *)])
    }

    /// A dense layer, PyTorch's `linear`: x [N, in] · weightᵀ (weight [out, in]) + bias [out].
    public func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) throws -> Variable {
        guard x.shape.count == 2, weight.shape.count == 2, x.shape[1] == weight.shape[1] else {
            throw ConvCLError.invalidArgument(
                operation: "linear", argument: "weight", reason: "expected x [N, in] and weight [out, in], got \(x.shape) and \(weight.shape)")
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw ConvCLError.invalidArgument(operation: "linear", argument: "bias", reason: "expected [\(weight.shape[0])], got \(bias.shape)")
        }
        let y = try backend.gemm(x.value, weight.value, bias?.value, transB: true)
        return record(y, [x, weight] + (bias.map { [$0] } ?? [])) { [backend] dy, needs in
            [
                needs[0] ? try backend.matmul(dy, weight.value) : nil,
                needs[1] ? try backend.gemm(dy, x.value, transA: true) : nil,
            ] + (bias == nil ? [] : [needs[2] ? try backend.reduce(dy, descriptor: ReduceDescriptor(.sum, axes: [0], keepDims: false)) : nil])
        }
    }

    /// Inverted dropout, PyTorch's `dropout` in training: each element is zeroed with
    /// `probability` and the others scaled by 1 / (1 − probability), the mask drawn from
    /// `generator` (so a seed replays it).
    public func dropout(_ x: Variable, probability: Float, generator: inout SeededGenerator) throws -> Variable {
        guard (0..<1).contains(probability) else {
            throw ConvCLError.invalidArgument(operation: "dropout", argument: "probability", reason: "must lie in [0, 1), got \(probability)")
        }
        let keep = 1 / (1 - probability)
        let mask = try backend.tensor(
            shape: x.shape, values: (0..<x.value.count).map { _ in Float.random(in: 0..<1, using: &generator) < probability ? 0 : keep })
        let y = try backend.elementwise(.mul, x.value, mask)
        return record(y, [x]) { [backend] dy, _ in [try backend.elementwise(.mul, dy, mask)] }
    }

    /// The mean cross-entropy of `logits` [N, classes] against class indices `labels` (N of
    /// them), PyTorch's `cross_entropy`: mean over the batch of logsumexp(logits) − logits[label],
    /// through LogSoftmax so that large logits do not overflow. Its gradient is
    /// (softmax(logits) − one-hot) / N.
    public func crossEntropy(_ logits: Variable, labels: [Int]) throws -> Variable {
        guard logits.shape.count == 2, labels.count == logits.shape[0] else {
            throw ConvCLError.invalidArgument(
                operation: "crossEntropy", argument: "labels", reason: "expected logits [N, classes] and N labels, got \(logits.shape) and \(labels.count)")
        }
        let classes = logits.shape[1]
        if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
            throw ConvCLError.invalidArgument(operation: "crossEntropy", argument: "labels", reason: "\(bad) is not a class in 0..<\(classes)")
        }
        var hot = [Float](repeating: 0, count: labels.count * classes)
        for (row, label) in labels.enumerated() { hot[row * classes + label] = 1 }
        let oneHot = try backend.tensor(shape: logits.shape, values: hot)
        let logProbabilities = try backend.logSoftmax(logits.value, axis: 1)
        let picked = try backend.reduce(try backend.elementwise(.mul, logProbabilities, oneHot), descriptor: ReduceDescriptor(.sum, keepDims: false))
        let scale = try backend.tensor(shape: [], values: [-1 / Float(labels.count)])
        let loss = try backend.elementwise(.mul, picked, scale)
        return record(loss, [logits]) { [backend] dl, _ in
            let probabilities = try backend.elementwise(.exp, logProbabilities)
            let perRow = try backend.elementwise(.mul, dl, try backend.tensor(shape: [], values: [1 / Float(labels.count)]))
            return [try backend.elementwise(.mul, try backend.elementwise(.sub, probabilities, oneHot), perRow)]
        }
    }

    /// The mean squared error of `prediction` against `target` (same shape), PyTorch's `mse_loss`.
    public func meanSquaredError(_ prediction: Variable, _ target: Variable) throws -> Variable {
        guard prediction.shape == target.shape else {
            throw ConvCLError.invalidArgument(
                operation: "meanSquaredError", argument: "target", reason: "expected shape \(prediction.shape), got \(target.shape)")
        }
        let difference = try backend.elementwise(.sub, prediction.value, target.value)
        let count = Float(prediction.value.count)
        let sum = try backend.reduce(try backend.elementwise(.mul, difference, difference), descriptor: ReduceDescriptor(.sum, keepDims: false))
        let loss = try backend.elementwise(.mul, sum, try backend.tensor(shape: [], values: [1 / count]))
        return record(loss, [prediction, target]) { [backend] dl, needs in
            let gradient = try backend.elementwise(
                .mul, difference, try backend.elementwise(.mul, dl, try backend.tensor(shape: [], values: [2 / count])))
            return [needs[0] ? gradient : nil, needs[1] ? try backend.elementwise(.neg, gradient) : nil]
        }
    }
}

/// The gradients a convolution's backward computes, from which of (input, weight, bias) need one.
private func selection(_ needs: [Bool]) -> GradientSelection {
    var computing: GradientSelection = []
    if needs[0] { computing.insert(.input) }
    if needs.count > 1 && needs[1] { computing.insert(.weight) }
    if needs.count > 2 && needs[2] { computing.insert(.bias) }
    return computing
}

extension Tape {
    /// `Backend.matmul` of operands of rank ≥ 2 ([…, N, K] × […, K, M], batch axes broadcast):
    /// dA = dY · Bᵀ and dB = Aᵀ · dY, each summed over the batch axes its operand was broadcast along.
    public func matmul(_ a: Variable, _ b: Variable) throws -> Variable {
        guard a.shape.count >= 2, b.shape.count >= 2 else {
            throw ConvCLError.invalidArgument(
                operation: "matmul", argument: "inputs", reason: "on a tape both operands need rank ≥ 2, got \(a.shape) and \(b.shape)")
        }
        let y = try backend.matmul(a.value, b.value)
        return record(y, [a, b]) { [backend] dy, needs in
            func transposed(_ t: Tensor) throws -> Tensor {
                let rank = t.shape.count
                return try backend.transpose(t, permutation: Array(0..<rank - 2) + [rank - 1, rank - 2])
            }
            return [
                needs[0] ? try backend.sumToShape(try backend.matmul(dy, try transposed(b.value)), a.shape) : nil,
                needs[1] ? try backend.sumToShape(try backend.matmul(try transposed(a.value), dy), b.shape) : nil,
            ]
        }
    }
}
