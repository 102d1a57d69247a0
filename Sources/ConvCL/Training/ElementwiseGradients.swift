import Foundation

/// What an elementwise operation's backward rule sees: the operands, the output, the output's
/// gradient (all of the output's broadcast shape but the operands, which keep theirs) and the
/// row's parameters; and the backend's operations to write the rule with.
struct ElementwiseGradientContext {
    let backend: any Backend
    let x: [Tensor]
    let y: Tensor
    let dy: Tensor
    let p: [Float]

    func op(_ operation: ElementwiseOperation, _ operands: Tensor...) throws -> Tensor {
        try backend.elementwise(operation, operands: operands)
    }

    func scalar(_ value: Float) throws -> Tensor { try backend.tensor(shape: [], values: [value]) }

    /// 1 where `comparison` holds, else 0 (float32).
    func mask(_ comparison: ElementwiseOperation, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try op(.cast(to: .float32), try op(comparison, a, b))
    }

    /// dy where `comparison` holds of (a, b), else `otherwise`.
    func select(_ comparison: ElementwiseOperation, _ a: Tensor, _ b: Tensor, _ otherwise: Tensor) throws -> Tensor {
        try op(.where, try op(comparison, a, b), dy, otherwise)
    }

    func zeros() throws -> Tensor { try backend.constantOfShape(dy.shape) }
}

/// The backward rules of the elementwise table, by row name: each gives the gradient of every
/// operand (of the output's shape; the tape sums it down to the operand's own shape), with
/// PyTorch's conventions at the kinks: relu'(0) = 0, |x|'(0) = 0, max and min split a tie evenly,
/// clip passes the gradient on its bounds, floor and ceil have zero gradient. Rows not here (the
/// comparisons, the logical operations, casts between other types, LeakyReluGrad) have no
/// gradient; a rule's nil entry means that operand has none (Fmod's divisor, as in PyTorch).
enum ElementwiseGradients {
    typealias Rule = @Sendable (ElementwiseGradientContext) throws -> [Tensor?]

    static let rules: [String: Rule] = [
        "Add": { c in [c.dy, c.dy] },
        "Sub": { c in [c.dy, try c.op(.neg, c.dy)] },
        "Mul": { c in [try c.op(.mul, c.dy, c.x[1]), try c.op(.mul, c.dy, c.x[0])] },
        "Div": { c in [try c.op(.div, c.dy, c.x[1]), try c.op(.neg, try c.op(.div, try c.op(.mul, c.dy, c.y), c.x[1]))] },
        "Pow": { c in
            // b·a^(b−1) and a^b·ln a.
            let exponentLess = try c.op(.pow, c.x[0], try c.op(.sub, c.x[1], try c.scalar(1)))
            return [
                try c.op(.mul, c.dy, try c.op(.mul, c.x[1], exponentLess)),
                try c.op(.mul, c.dy, try c.op(.mul, c.y, try c.op(.log, c.x[0]))),
            ]
        },
        "Max": { c in try evenSplit(c, .greater) },
        "Min": { c in try evenSplit(c, .less) },
        "Mod": { c in [c.dy, try c.op(.neg, try c.op(.mul, c.dy, try c.op(.floor, try c.op(.div, c.x[0], c.x[1]))))] },
        "Fmod": { c in [c.dy, nil] },
        "Neg": { c in [try c.op(.neg, c.dy)] },
        "Abs": { c in
            let sign = try c.op(.sub, try c.mask(.greater, c.x[0], try c.scalar(0)), try c.mask(.less, c.x[0], try c.scalar(0)))
            return [try c.op(.mul, c.dy, sign)]
        },
        "Sqrt": { c in [try c.op(.div, c.dy, try c.op(.mul, c.y, try c.scalar(2)))] },
        "Reciprocal": { c in [try c.op(.neg, try c.op(.mul, c.dy, try c.op(.mul, c.y, c.y)))] },
        "Exp": { c in [try c.op(.mul, c.dy, c.y)] },
        "Log": { c in [try c.op(.div, c.dy, c.x[0])] },
        "Erf": { c in
            let density = try c.op(.exp, try c.op(.neg, try c.op(.mul, c.x[0], c.x[0])))
            return [try c.op(.mul, c.dy, try c.op(.mul, density, try c.scalar(Float(2 / Double.pi.squareRoot()))))]
        },
        "Floor": { c in [try c.zeros()] },
        "Ceil": { c in [try c.zeros()] },
        "Relu": { c in [try c.op(.leakyReluGrad(alpha: 0), c.dy, c.x[0])] },
        "LeakyRelu": { c in [try c.op(.leakyReluGrad(alpha: c.p[0]), c.dy, c.x[0])] },
        "PRelu": { c in
            let positive = try c.op(.greater, c.x[0], try c.scalar(0))
            return [
                try c.op(.where, positive, c.dy, try c.op(.mul, c.dy, c.x[1])),
                try c.op(.where, positive, try c.zeros(), try c.op(.mul, c.dy, c.x[0])),
            ]
        },
        "Sigmoid": { c in [try c.op(.mul, c.dy, try c.op(.mul, c.y, try c.op(.sub, try c.scalar(1), c.y)))] },
        "HardSigmoid": { c in
            // The slope where the output is strictly between its bounds.
            let inside = try c.op(
                .mul, try c.mask(.greater, c.y, try c.scalar(0)), try c.mask(.less, c.y, try c.scalar(1)))
            return [try c.op(.mul, c.dy, try c.op(.mul, inside, try c.scalar(c.p[0])))]
        },
        "Tanh": { c in [try c.op(.mul, c.dy, try c.op(.sub, try c.scalar(1), try c.op(.mul, c.y, c.y)))] },
        "Softplus": { c in [try c.op(.mul, c.dy, try c.op(.sigmoid, c.x[0]))] },
        "Elu": { c in
            let negative = try c.op(.mul, c.dy, try c.op(.mul, try c.op(.exp, c.x[0]), try c.scalar(c.p[0])))
            return [try c.select(.greater, c.x[0], try c.scalar(0), negative)]
        },
        "Gelu": { c in
            // Φ(a) + a·φ(a).
            let a = c.x[0]
            let cdf = try c.op(.mul, try c.op(.add, try c.op(.erf, try c.op(.mul, a, try c.scalar(Float(1 / 2.0.squareRoot())))), try c.scalar(1)), try c.scalar(0.5))
            let pdf = try c.op(.mul, try c.op(.exp, try c.op(.mul, try c.op(.mul, a, a), try c.scalar(-0.5))), try c.scalar(Float(1 / (2 * Double.pi).squareRoot())))
            return [try c.op(.mul, c.dy, try c.op(.mulAdd, a, pdf, cdf))]
        },
        "GeluTanh": { c in
            // 0.5(1 + t) + 0.5·a·(1 − t²)·k(1 + 3·0.044715·a²), t = tanh(k(a + 0.044715·a³)).
            let a = c.x[0], k = Float((2 / Double.pi).squareRoot())
            let square = try c.op(.mul, a, a)
            let t = try c.op(.tanh, try c.op(.mul, try c.op(.mulAdd, try c.op(.mul, square, a), try c.scalar(0.044715), a), try c.scalar(k)))
            let slope = try c.op(.mul, try c.op(.mulAdd, square, try c.scalar(3 * 0.044715), try c.scalar(1)), try c.scalar(k))
            let inner = try c.op(.mul, try c.op(.mul, try c.op(.sub, try c.scalar(1), try c.op(.mul, t, t)), slope), a)
            return [try c.op(.mul, c.dy, try c.op(.mul, try c.op(.add, try c.op(.add, t, try c.scalar(1)), inner), try c.scalar(0.5)))]
        },
        "Clip": { c in
            let inside = try c.op(
                .mul, try c.mask(.greaterOrEqual, c.x[0], try c.scalar(c.p[0])), try c.mask(.lessOrEqual, c.x[0], try c.scalar(c.p[1])))
            return [try c.op(.mul, c.dy, inside)]
        },
        "MulAdd": { c in [try c.op(.mul, c.dy, c.x[1]), try c.op(.mul, c.dy, c.x[0]), c.dy] },
        "MulSub": { c in [try c.op(.mul, c.dy, c.x[1]), try c.op(.mul, c.dy, c.x[0]), try c.op(.neg, c.dy)] },
        // y = a / √(b + ε): dy / √(b + ε) for a, and −y / (2 (b + ε)) · dy for b.
        "DivSqrt": { c in
            let shifted = try c.op(.add, c.x[1], try c.scalar(c.p[0]))
            return [try c.op(.divSqrt(epsilon: c.p[0]), c.dy, c.x[1]),
                    try c.op(.mul, c.dy, try c.op(.div, c.y, try c.op(.mul, shifted, try c.scalar(-2))))]
        },
        "Where": { c in [nil, try c.op(.where, c.x[0], c.dy, try c.zeros()), try c.op(.where, c.x[0], try c.zeros(), c.dy)] },
    ]

    /// Max's or min's gradients: to the operand that wins (`wins` of (a, b)), half to each on a tie.
    private static func evenSplit(_ c: ElementwiseGradientContext, _ wins: ElementwiseOperation) throws -> [Tensor?] {
        let tie = try c.op(.mul, try c.mask(.equal, c.x[0], c.x[1]), try c.scalar(0.5))
        let first = try c.op(.add, try c.mask(wins, c.x[0], c.x[1]), tie)
        let second = try c.op(.add, try c.mask(wins, c.x[1], c.x[0]), tie)
        return [try c.op(.mul, c.dy, first), try c.op(.mul, c.dy, second)]
    }

    /// The rule of `operation`, or nil when it has no gradient (a float32-to-float32 cast passes
    /// the gradient through).
    static func rule(_ operation: ElementwiseOperation) -> Rule? {
        if case .cast(.float32) = operation.row.types { return { c in [c.x[0].dataType == .float32 ? c.dy : nil] } }
        return rules[operation.name]
    }
}

extension Tape {
    /// An elementwise operation (`Backend.elementwise`), differentiable where the table has a rule
    /// (`ElementwiseGradients`); an operand's gradient is summed over the axes it was broadcast
    /// along, back to its shape.
    /// - Throws: `ConvCLError.invalidArgument` when an operand that needs a gradient has none.
    public func elementwise(_ operation: ElementwiseOperation, _ operands: Variable...) throws -> Variable {
        try elementwise(operation, operands: operands)
    }

    /// `elementwise(_:_:)` with the operands in an array.
    public func elementwise(_ operation: ElementwiseOperation, operands: [Variable]) throws -> Variable {
        let y = try backend.elementwise(operation, operands: operands.map(\.value))
        let rule = ElementwiseGradients.rule(operation)
        if operands.contains(where: \.requiresGradient), rule == nil {
            throw ConvCLError.invalidArgument(
                operation: operation.name, argument: "operands", reason: "\(operation) has no gradient, and an operand needs one")
        }
        return record(y, operands) { [backend] dy, needs in
            let context = ElementwiseGradientContext(backend: backend, x: operands.map(\.value), y: y, dy: dy, p: operation.parameters)
            let gradients = try rule!(context)
            return try zip(operands.indices, gradients).map { index, gradient in
                guard needs[index] else { return nil }
                guard let gradient else {
                    throw ConvCLError.invalidArgument(
                        operation: operation.name, argument: "operand \(index)", reason: "\(operation) has no gradient for this operand")
                }
                return try backend.sumToShape(gradient, operands[index].shape)
            }
        }
    }
}

extension Backend {
    /// `x` summed over the axes along which `shape` was broadcast to x's shape (NumPy's rules),
    /// then shaped as `shape`: the gradient of a broadcast operand.
    func sumToShape(_ x: Tensor, _ shape: [Int]) throws -> Tensor {
        if x.shape == shape { return x }
        let offset = x.shape.count - shape.count
        let axes = x.shape.indices.filter { $0 < offset || (shape[$0 - offset] == 1 && x.shape[$0] != 1) }
        let summed = axes.isEmpty ? x : try reduce(x, descriptor: ReduceDescriptor(.sum, axes: axes, keepDims: true))
        return try summed.reshaped(shape)
    }
}
