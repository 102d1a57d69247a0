/// Reductions on a `Tape`, with PyTorch's gradients: sum and mean spread the gradient over the
/// reduced elements; max and min (PyTorch's amax, amin) split it evenly among the elements equal to
/// the result; sum of squares gives 2x; log-sum-exp gives the softmax of the reduced elements.
extension Tape {
    /// `Backend.reduce` over `axes` (negative from the end; nil reduces every axis).
    /// - Throws: `ConvCLError.invalidArgument` for a reduction without a gradient here (prod,
    ///   l1, l2, logsum) when its operand needs one.
    public func reduce(_ x: Variable, _ operation: ReductionOperation, axes: [Int]? = nil, keepDims: Bool = false) throws -> Variable {
        let rank = x.shape.count
        let resolved = try (axes?.isEmpty == false ? axes! : Array(0..<rank)).map { axis in
            guard (-rank..<max(rank, 1)).contains(axis) else {
                throw ConvCLError.invalidArgument(operation: "reduce", argument: "axes", reason: "\(axis) is out of range for shape \(x.shape)")
            }
            return axis < 0 ? axis + rank : axis
        }
        guard [.sum, .mean, .max, .min, .sumSquare, .logSumExp].contains(operation) || !x.requiresGradient else {
            throw ConvCLError.invalidArgument(
                operation: "reduce", argument: "operation", reason: "\(operation.rawValue) has no gradient here (sum, mean, max, min, sumsquare and logsumexp do)")
        }
        let descriptor = ReduceDescriptor(operation, axes: resolved, keepDims: keepDims)
        let y = try backend.reduce(x.value, descriptor: descriptor)
        let kept = x.shape.enumerated().map { resolved.contains($0) ? 1 : $1 }
        let count = Float(resolved.reduce(1) { $0 * x.shape[$1] })
        return record(y, [x]) { [backend] dy, _ in
            let spread = try backend.expand(try dy.reshaped(kept), to: x.shape)
            func scalar(_ value: Float) throws -> Tensor { try backend.tensor(shape: [], values: [value]) }
            // The result broadcast back to x's shape (for max, min and log-sum-exp).
            func full() throws -> Tensor { try backend.expand(try y.reshaped(kept), to: x.shape) }
            switch operation {
            case .sum: return [spread]
            case .mean: return [try backend.elementwise(.mul, spread, try scalar(1 / count))]
            case .max, .min:
                let winners = try backend.elementwise(.cast(to: .float32), try backend.elementwise(.equal, x.value, try full()))
                let ties = try backend.reduce(winners, descriptor: ReduceDescriptor(.sum, axes: resolved, keepDims: true))
                return [try backend.elementwise(.div, try backend.elementwise(.mul, spread, winners), ties)]
            case .sumSquare: return [try backend.elementwise(.mul, spread, try backend.elementwise(.mul, x.value, try scalar(2)))]
            default:  // logSumExp
                return [try backend.elementwise(.mul, spread, try backend.elementwise(.exp, try backend.elementwise(.sub, x.value, try full())))]
            }
        }
    }

    /// The sum of every element, shape [].
    public func sum(_ x: Variable) throws -> Variable { try reduce(x, .sum) }
}

extension Tape {
    /// Softmax along `axis`; its gradient is y ⊙ (dy − Σ dy ⊙ y) along the axis.
    public func softmax(_ x: Variable, axis: Int = -1) throws -> Variable {
        let y = try backend.softmax(x.value, axis: axis)
        let resolved = axis < 0 ? axis + x.shape.count : axis
        return record(y, [x]) { [backend] dy, _ in
            let weighted = try backend.reduce(try backend.elementwise(.mul, dy, y), descriptor: ReduceDescriptor(.sum, axes: [resolved]))
            return [try backend.elementwise(.mul, y, try backend.elementwise(.sub, dy, weighted))]
        }
    }

    /// Log-softmax along `axis`; its gradient is dy − softmax · Σ dy along the axis.
    public func logSoftmax(_ x: Variable, axis: Int = -1) throws -> Variable {
        let y = try backend.logSoftmax(x.value, axis: axis)
        let resolved = axis < 0 ? axis + x.shape.count : axis
        return record(y, [x]) { [backend] dy, _ in
            let total = try backend.reduce(dy, descriptor: ReduceDescriptor(.sum, axes: [resolved]))
            return [try backend.elementwise(.sub, dy, try backend.elementwise(.mul, try backend.elementwise(.exp, y), total))]
        }
    }

    /// The mean binary cross-entropy of `logits` against `targets` (in [0, 1], same shape),
    /// PyTorch's `binary_cross_entropy_with_logits`: max(z, 0) − z·t + log(1 + exp(−|z|)) per
    /// element, so that no exp overflows. Its gradient is (sigmoid(z) − t) / count.
    public func binaryCrossEntropyWithLogits(_ logits: Variable, _ targets: Variable) throws -> Variable {
        guard logits.shape == targets.shape else {
            throw ConvCLError.invalidArgument(
                operation: "binaryCrossEntropyWithLogits", argument: "targets", reason: "expected shape \(logits.shape), got \(targets.shape)")
        }
        let (z, t) = (logits.value, targets.value)
        func scalar(_ value: Float) throws -> Tensor { try backend.tensor(shape: [], values: [value]) }
        let count = Float(z.count)
        // softplus(z) − z·t is the same sum, computed without overflow by Softplus's row.
        let perElement = try backend.elementwise(.sub, try backend.elementwise(.softplus, z), try backend.elementwise(.mul, z, t))
        let loss = try backend.elementwise(
            .mul, try backend.reduce(perElement, descriptor: ReduceDescriptor(.sum, keepDims: false)), try scalar(1 / count))
        // (The rule must not call `scalar`, which holds the tape: the tape holds the rule.)
        return record(loss, [logits, targets]) { [backend] dl, needs in
            let scale = try backend.elementwise(.mul, dl, try backend.tensor(shape: [], values: [1 / count]))
            return [
                needs[0] ? try backend.elementwise(.mul, try backend.elementwise(.sub, try backend.elementwise(.sigmoid, z), t), scale) : nil,
                // d/dt of −z·t.
                needs[1] ? try backend.elementwise(.mul, try backend.elementwise(.neg, z), scale) : nil,
            ]
        }
    }
}
