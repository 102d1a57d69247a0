import Foundation

/// The element types an elementwise operation takes and gives.
enum ElementTypes: Sendable {
    /// float32 operands, a float32 result.
    case float
    /// Operands of one type, float32 or int64; a result of that type.
    case numeric
    /// Operands of one type, float32 or int64; a bool result.
    case comparison
    /// bool operands, a bool result.
    case logical
    /// A bool condition and two operands of one type (any); a result of that type.
    case select
    /// One operand of any type; a result of the given type.
    case cast(DataType)

    /// The result type for operands of `types`, or nil when the operation does not take them.
    func result(_ types: [DataType]) -> DataType? {
        switch self {
        case .float: return types.allSatisfy { $0 == .float32 } ? .float32 : nil
        case .numeric, .comparison:
            guard Set(types).count == 1, [.float32, .int64].contains(types[0]) else { return nil }
            if case .comparison = self { return .bool }
            return types[0]
        case .logical: return types.allSatisfy { $0 == .bool } ? .bool : nil
        case .select: return types.count == 3 && types[0] == .bool && types[1] == types[2] ? types[1] : nil
        case .cast(let target): return types.count == 1 ? target : nil
        }
    }

    /// What the operation takes, for errors.
    var expected: String {
        switch self {
        case .float: "float32 operands"
        case .numeric, .comparison: "operands of one type, float32 or int64"
        case .logical: "bool operands"
        case .select: "a bool condition and two operands of one type"
        case .cast: "one operand"
        }
    }
}

/// One row of the elementwise table: everything ConvCL knows about an operation is here, once.
/// The OpenCL expression is in the operands `a`, `b`, `c` (one element each, of the operands'
/// types) and the parameters `p0`, `p1` (floats); the Double reference takes the operands and the
/// parameters. The conv and GEMM activations draw on the same rows (see `Activation`).
struct ElementwiseRow: Sendable {
    /// ONNX's operator name.
    let name: String
    let arity: Int
    let types: ElementTypes
    /// The parameters' names and defaults (ONNX's attributes), e.g. LeakyRelu's alpha.
    let parameters: [(name: String, value: Float)]
    /// The OpenCL C expression on float32 operands (or the only one).
    let openCL: String
    /// The expression on int64 operands, where it differs.
    let integerOpenCL: String?
    /// The reference on real numbers (float32 operands, and bools as 0 or 1).
    let reference: @Sendable (_ x: [Double], _ p: [Double]) -> Double
    /// The reference on int64 operands, where the operation takes them.
    let integer: (@Sendable (_ x: [Int64]) -> Int64)?

    init(
        _ name: String, _ arity: Int, _ types: ElementTypes, _ openCL: String, integerOpenCL: String? = nil,
        parameters: [(String, Float)] = [], integer: (@Sendable ([Int64]) -> Int64)? = nil,
        _ reference: @escaping @Sendable ([Double], [Double]) -> Double
    ) {
        self.name = name
        self.arity = arity
        self.types = types
        self.openCL = openCL
        self.integerOpenCL = integerOpenCL
        self.parameters = parameters.map { (name: $0.0, value: $0.1) }
        self.reference = reference
        self.integer = integer
    }
}

/// NaN if either operand is NaN (PyTorch's minimum and maximum), else `pick`'s choice.
private func nanPropagating(_ x: [Double], _ pick: (Double, Double) -> Double) -> Double {
    x[0].isNaN || x[1].isNaN ? .nan : pick(x[0], x[1])
}

/// x clamped to [lo, hi]; hi when lo > hi (PyTorch's clamp); NaN stays NaN.
private func clip(_ x: Double, _ lo: Double, _ hi: Double) -> Double {
    let low = x < lo ? lo : x
    return low > hi ? hi : low
}

/// The remainder with the divisor's sign (Python's %, ONNX Mod with fmod = 0).
private func floorRemainder(_ a: Double, _ b: Double) -> Double {
    let r = fmod(a, b)
    return r != 0 && (r < 0) != (b < 0) ? r + b : r
}

private func floorRemainder(_ a: Int64, _ b: Int64) -> Int64 {
    guard b != 0 else { return 0 }
    let r = a.remainderReportingOverflow(dividingBy: b).partialValue
    return r != 0 && (r < 0) != (b < 0) ? r + b : r
}

private func truth(_ value: Bool) -> Double { value ? 1 : 0 }

enum ElementwiseTable {
    /// Every elementwise operation, in ONNX's names. Integer division and remainder by zero give 0,
    /// and Int64.min divided by -1 wraps to Int64.min with remainder 0 (ONNX leaves both undefined;
    /// x86 traps on them).
    static let rows: [ElementwiseRow] = [
        .init("Add", 2, .numeric, "a + b", integer: { $0[0] &+ $0[1] }) { x, _ in x[0] + x[1] },
        .init("Sub", 2, .numeric, "a - b", integer: { $0[0] &- $0[1] }) { x, _ in x[0] - x[1] },
        .init("Mul", 2, .numeric, "a * b", integer: { $0[0] &* $0[1] }) { x, _ in x[0] * x[1] },
        .init("Div", 2, .numeric, "a / b", integerOpenCL: "(b == 0 ? 0 : b == -1 ? (long)(0UL - (ulong)a) : a / b)",
              integer: { $0[1] == 0 ? 0 : $0[0].dividedReportingOverflow(by: $0[1]).partialValue }) { x, _ in x[0] / x[1] },
        .init("Pow", 2, .float, "pow(a, b)") { x, _ in pow(x[0], x[1]) },
        .init("Min", 2, .numeric, "(isnan(a) || isnan(b) ? a + b : fmin(a, b))", integerOpenCL: "min(a, b)",
              integer: { min($0[0], $0[1]) }) { x, _ in nanPropagating(x, min) },
        .init("Max", 2, .numeric, "(isnan(a) || isnan(b) ? a + b : fmax(a, b))", integerOpenCL: "max(a, b)",
              integer: { max($0[0], $0[1]) }) { x, _ in nanPropagating(x, max) },
        .init("Mod", 2, .numeric, "floor_remainder(a, b)", integerOpenCL: "floor_remainder_long(a, b)",
              integer: { floorRemainder($0[0], $0[1]) }) { x, _ in floorRemainder(x[0], x[1]) },
        .init("Fmod", 2, .numeric, "fmod(a, b)", integerOpenCL: "(b == 0 || b == -1 ? 0 : a % b)",
              integer: { $0[1] == 0 ? 0 : $0[0].remainderReportingOverflow(dividingBy: $0[1]).partialValue }) { x, _ in fmod(x[0], x[1]) },
        .init("Neg", 1, .numeric, "-a", integer: { 0 &- $0[0] }) { x, _ in -x[0] },
        .init("Abs", 1, .numeric, "fabs(a)", integerOpenCL: "(a < 0 ? -a : a)", integer: { $0[0] < 0 ? 0 &- $0[0] : $0[0] }) { x, _ in abs(x[0]) },
        .init("Sqrt", 1, .float, "sqrt(a)") { x, _ in x[0].squareRoot() },
        .init("Reciprocal", 1, .float, "1.0f / a") { x, _ in 1 / x[0] },
        .init("Exp", 1, .float, "exp_float(a)") { x, _ in exp(x[0]) },
        .init("Log", 1, .float, "log_float(a)") { x, _ in log(x[0]) },
        .init("Erf", 1, .float, "erf(a)") { x, _ in erf(x[0]) },
        .init("Floor", 1, .float, "floor(a)") { x, _ in x[0].rounded(.down) },
        .init("Ceil", 1, .float, "ceil(a)") { x, _ in x[0].rounded(.up) },
        .init("Relu", 1, .float, "(a < 0.0f ? 0.0f : a)") { x, _ in x[0] < 0 ? 0 : x[0] },
        .init("LeakyRelu", 1, .float, "(a < 0.0f ? p0 * a : a)", parameters: [("alpha", 0.01)]) { x, p in
            x[0] < 0 ? p[0] * x[0] : x[0]
        },
        .init("PRelu", 2, .float, "(a < 0.0f ? b * a : a)") { x, _ in x[0] < 0 ? x[1] * x[0] : x[0] },
        // Not an ONNX operator (onnxruntime's training operator of that name): the gradient a of
        // LeakyRelu's output b, from the output (alpha ≥ 0, so b > 0 exactly where the input was);
        // with alpha 0, Relu's, where relu'(0) = 0 and the masked gradient is +0 as in PyTorch.
        .init("LeakyReluGrad", 2, .float, "(b > 0.0f ? a : p0 == 0.0f ? 0.0f : p0 * a)", parameters: [("alpha", 0)]) { x, p in
            x[1] > 0 ? x[0] : p[0] == 0 ? 0 : p[0] * x[0]
        },
        .init("Sigmoid", 1, .float, "1.0f / (1.0f + exp_float(-a))") { x, _ in 1 / (1 + exp(-x[0])) },
        .init("HardSigmoid", 1, .float, "clip_float(p0 * a + p1, 0.0f, 1.0f)", parameters: [("alpha", 0.2), ("beta", 0.5)]) {
            x, p in clip(p[0] * x[0] + p[1], 0, 1)
        },
        .init("Tanh", 1, .float, "tanh(a)") { x, _ in tanh(x[0]) },
        .init("Softplus", 1, .float, "((a > 0.0f ? a : 0.0f) + log1p(exp_float(-fabs(a))))") { x, _ in
            (x[0] > 0 ? x[0] : 0) + log1p(exp(-abs(x[0])))
        },
        .init("Elu", 1, .float, "(a < 0.0f ? p0 * expm1(a) : a)", parameters: [("alpha", 1)]) { x, p in
            x[0] < 0 ? p[0] * expm1(x[0]) : x[0]
        },
        // Both GELUs in a form without cancellation where a < 0 (1 + erf, 1 + tanh near 0): with
        // erfc, and with 0.5 (1 + tanh u) = 1 / (1 + exp(-2u)); PoCL's tanh(-20) is -1 + 1 ulp.
        .init("Gelu", 1, .float, "(0.5f * a * erfc(-a * M_SQRT1_2_F))") { x, _ in
            0.5 * x[0] * (1 + erf(x[0] / 2.0.squareRoot()))
        },
        .init("GeluTanh", 1, .float, "(a / (1.0f + exp_float(-1.5957691216057308f * (a + 0.044715f * a * a * a))))") { x, _ in
            0.5 * x[0] * (1 + tanh((2 / Double.pi).squareRoot() * (x[0] + 0.044715 * x[0] * x[0] * x[0])))
        },
        .init("Clip", 1, .float, "clip_float(a, p0, p1)", parameters: [("min", -.infinity), ("max", .infinity)]) { x, p in
            clip(x[0], p[0], p[1])
        },
        .init("Equal", 2, .comparison, "a == b", integer: { $0[0] == $0[1] ? 1 : 0 }) { x, _ in truth(x[0] == x[1]) },
        .init("Greater", 2, .comparison, "a > b", integer: { $0[0] > $0[1] ? 1 : 0 }) { x, _ in truth(x[0] > x[1]) },
        .init("Less", 2, .comparison, "a < b", integer: { $0[0] < $0[1] ? 1 : 0 }) { x, _ in truth(x[0] < x[1]) },
        .init("GreaterOrEqual", 2, .comparison, "a >= b", integer: { $0[0] >= $0[1] ? 1 : 0 }) { x, _ in truth(x[0] >= x[1]) },
        .init("LessOrEqual", 2, .comparison, "a <= b", integer: { $0[0] <= $0[1] ? 1 : 0 }) { x, _ in truth(x[0] <= x[1]) },
        .init("Not", 1, .logical, "!a") { x, _ in truth(x[0] == 0) },
        .init("And", 2, .logical, "a && b") { x, _ in truth(x[0] != 0 && x[1] != 0) },
        .init("Or", 2, .logical, "a || b") { x, _ in truth(x[0] != 0 || x[1] != 0) },
        .init("Xor", 2, .logical, "(a != 0) != (b != 0)") { x, _ in truth((x[0] != 0) != (x[1] != 0)) },
        // Not ONNX operators: the normalisations' steps in one pass each. a · b + c and a · b − c
        // (scale and shift), and a / √(b + ε) (a value over its standard deviation).
        .init("MulAdd", 3, .float, "a * b + c") { x, _ in x[0] * x[1] + x[2] },
        .init("MulSub", 3, .float, "a * b - c") { x, _ in x[0] * x[1] - x[2] },
        .init("DivSqrt", 2, .float, "a / sqrt(b + p0)", parameters: [("epsilon", 0)]) { x, p in x[0] / (x[1] + p[0]).squareRoot() },
        .init("Where", 3, .select, "(a ? b : c)", integer: { $0[0] != 0 ? $0[1] : $0[2] }) { x, _ in x[0] != 0 ? x[1] : x[2] },
    ] + DataType.allCases.map { target in
        // Casts are computed exactly by ElementwiseOperation's reference, not through Double.
        ElementwiseRow("Cast", 1, .cast(target), target == .bool ? "(a != 0)" : "(\(target.openCLType))(a)") { x, _ in x[0] }
    }

    /// The row named `name` (for the casts, use `ElementwiseOperation.cast(to:)`).
    static func row(_ name: String) -> ElementwiseRow {
        guard let row = rows.first(where: { $0.name == name }) else { fatalError("no elementwise row \(name)") }
        return row
    }
}
