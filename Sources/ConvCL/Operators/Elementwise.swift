/// An elementwise operation over NumPy (ONNX) broadcasting: one row of `ElementwiseTable` with
/// its parameters. Use the static members: `.add`, `.sigmoid`, `.leakyRelu(alpha: 0.1)`,
/// `.cast(to: .int64)`, …, with `Backend.elementwise(_:_:)`.
public struct ElementwiseOperation: Sendable, CustomStringConvertible {
    let row: ElementwiseRow
    /// The values of the row's parameters (ONNX's attributes), in the row's order.
    public let parameters: [Float]

    init(_ name: String, _ parameters: [Float]? = nil) {
        row = ElementwiseTable.row(name)
        self.parameters = parameters ?? row.parameters.map(\.value)
    }

    /// ONNX's name of the operation.
    public var name: String { row.name }
    /// How many operands it takes.
    public var arity: Int { row.arity }

    public var description: String {
        let named = zip(row.parameters, parameters).map { "\($0.name): \($1)" }
        if case .cast(let target) = row.types { return "Cast(to: \(target))" }
        return named.isEmpty ? name : "\(name)(\(named.joined(separator: ", ")))"
    }

    /// Every operation of the table, with its default parameters.
    public static var all: [ElementwiseOperation] {
        ElementwiseTable.rows.map { row in
            if case .cast(let target) = row.types { return .cast(to: target) }
            return ElementwiseOperation(row.name)
        }
    }

    public static let add = Self("Add"), sub = Self("Sub"), mul = Self("Mul"), div = Self("Div"), pow = Self("Pow")
    public static let min = Self("Min"), max = Self("Max")
    /// The remainder with the divisor's sign (ONNX Mod, fmod = 0; Python's %).
    public static let mod = Self("Mod")
    /// The remainder with the dividend's sign (ONNX Mod, fmod = 1; C's fmod).
    public static let fmod = Self("Fmod")
    public static let neg = Self("Neg"), abs = Self("Abs"), sqrt = Self("Sqrt"), reciprocal = Self("Reciprocal")
    public static let exp = Self("Exp"), log = Self("Log"), erf = Self("Erf"), floor = Self("Floor"), ceil = Self("Ceil")
    public static let relu = Self("Relu"), sigmoid = Self("Sigmoid"), tanh = Self("Tanh"), softplus = Self("Softplus")
    /// x · slope where x < 0, with the slope per element (broadcast from the second operand).
    public static let prelu = Self("PRelu")
    /// GELU with the exact erf (ONNX Gelu, approximate = "none").
    public static let gelu = Self("Gelu")
    /// GELU with the tanh approximation (ONNX Gelu, approximate = "tanh").
    public static let geluTanh = Self("GeluTanh")
    public static let equal = Self("Equal"), greater = Self("Greater"), less = Self("Less")
    public static let greaterOrEqual = Self("GreaterOrEqual"), lessOrEqual = Self("LessOrEqual")
    public static let not = Self("Not"), and = Self("And"), or = Self("Or"), xor = Self("Xor")
    /// a · b + c (not an ONNX operator: the normalisations' scale and shift in one pass).
    public static let mulAdd = Self("MulAdd")
    /// a · b − c (not an ONNX operator, as `mulAdd`).
    public static let mulSub = Self("MulSub")
    /// condition ? x : y, with a bool condition first.
    public static let `where` = Self("Where")

    public static func leakyRelu(alpha: Float = 0.01) -> Self { Self("LeakyRelu", [alpha]) }
    /// The gradient of LeakyRelu (Relu with alpha 0) from the output's gradient and the output:
    /// `elementwise(.leakyReluGrad(alpha:), gradOutput, output)` is gradOutput where output > 0,
    /// alpha · gradOutput elsewhere (+0 for Relu: relu'(0) = 0). alpha must be ≥ 0, so that the
    /// output's sign is the input's.
    public static func leakyReluGrad(alpha: Float = 0) -> Self { Self("LeakyReluGrad", [alpha]) }
    public static func hardSigmoid(alpha: Float = 0.2, beta: Float = 0.5) -> Self { Self("HardSigmoid", [alpha, beta]) }
    public static func elu(alpha: Float = 1) -> Self { Self("Elu", [alpha]) }
    /// a / √(b + epsilon) (not an ONNX operator: a value over a standard deviation in one pass).
    public static func divSqrt(epsilon: Float = 0) -> Self { Self("DivSqrt", [epsilon]) }
    /// x clamped to [min, max] (max where min > max, as PyTorch's clamp); NaN stays NaN.
    public static func clip(min: Float = -.infinity, max: Float = .infinity) -> Self { Self("Clip", [min, max]) }

    /// Conversion to `type`: float to int64 truncates toward zero (undefined for NaN, ±inf and
    /// values out of range, as in ONNX), anything to bool is `x != 0` (NaN is true).
    public static func cast(to type: DataType) -> Self {
        ElementwiseOperation(row: ElementwiseTable.rows.first { row in
            if case .cast(let target) = row.types { return target == type }
            return false
        }!, parameters: [])
    }

    private init(row: ElementwiseRow, parameters: [Float]) {
        self.row = row
        self.parameters = parameters
    }
}

/// The primitive of every elementwise operation.
struct Elementwise: Primitive {
    let operation: ElementwiseOperation
    var name: String { operation.name }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        func fail(_ reason: String) -> ConvCLError { .invalidArgument(operation: name, argument: "inputs", reason: reason) }
        guard inputs.count == operation.arity else {
            throw fail("takes \(operation.arity) operand\(operation.arity == 1 ? "" : "s"), got \(inputs.count)")
        }
        guard operation.parameters.count == operation.row.parameters.count else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "parameters",
                reason: "expected \(operation.row.parameters.count) (\(operation.row.parameters.map(\.name))), got \(operation.parameters)")
        }
        let types = inputs.map(\.dataType)
        guard let result = operation.row.types.result(types) else {
            throw fail("expected \(operation.row.types.expected), got \(types.map(\.rawValue).joined(separator: ", "))")
        }
        return [TensorType(try Layout.broadcast(inputs.map(\.shape), operation: name), result)]
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let output = outputs[0]
        if case .cast(let target) = operation.row.types { return [Self.cast(inputs[0], to: target)] }
        let strides = types.map { Layout.broadcastStrides($0.shape, to: output.shape) }
        var offsets: [[Int]] = []
        offsets.reserveCapacity(output.count)
        Layout.forEachOffset(sizes: output.shape, strides: strides) { offsets.append($0) }
        let integerOperands = types.count > 1 && types[1].dataType == .int64 || types[0].dataType == .int64
        if integerOperands, let integer = operation.row.integer {
            let values = inputs.map(Self.integers)
            let results = offsets.map { o in integer(o.indices.map { values[$0][o[$0]] }) }
            switch output.dataType {
            case .int64: return [.int64(results)]
            case .bool: return [.bool(results.map { $0 != 0 })]
            case .float32: fatalError("unreachable: integer operations give int64 or bool")
            }
        }
        let values = inputs.map(\.doubles)
        let parameters = operation.parameters.map(Double.init)
        let results = offsets.map { o in operation.row.reference(o.indices.map { values[$0][o[$0]] }, parameters) }
        return [Self.data(results, as: output.dataType)]
    }

    static func integers(_ data: TensorData) -> [Int64] {
        switch data {
        case .int64(let values): values
        case .bool(let values): values.map { $0 ? 1 : 0 }
        case .float32(let values): values.map { truncated(Double($0)) }
        }
    }

    /// x truncated toward zero; Int64.min where that is no int64 (NaN, ±inf, out of range), as
    /// x86's conversion gives (ONNX leaves it undefined).
    static func truncated(_ x: Double) -> Int64 { Int64(exactly: x.rounded(.towardZero)) ?? .min }

    static func data(_ values: [Double], as type: DataType) -> TensorData {
        switch type {
        case .float32: .float32(values.map { Float($0) })
        case .int64: .int64(values.map(truncated))
        case .bool: .bool(values.map { $0 != 0 })
        }
    }

    /// Exact conversions (an int64 rounds to the nearest float once, not through Double).
    static func cast(_ data: TensorData, to type: DataType) -> TensorData {
        switch (data, type) {
        case (.int64(let values), .float32): .float32(values.map { Float($0) })
        case (_, .int64): .int64(integers(data))
        default: Self.data(data.doubles, as: type)
        }
    }

    // MARK: OpenCL

    /// The most merged axes the strided kernel takes.
    static let maxRank = 8

    /// How the kernel reads the operands of `inputs` for `output`: when every operand has the
    /// output's elements in its order, element i each (the flat kernel); otherwise per-axis
    /// strides (0 where an operand is broadcast).
    struct Plan {
        var sizes: [Int]
        var strides: [[Int]]
        var flat: Bool { sizes.count <= 1 && strides.allSatisfy { $0.allSatisfy { $0 == 1 } } }
    }

    func plan(_ inputs: [TensorType], output: TensorType) throws -> Plan {
        let strides = inputs.map { Layout.broadcastStrides($0.shape, to: output.shape) }
        let merged = Layout.merge(sizes: output.shape, strides: strides + [Layout.contiguousStrides(output.shape)])
        guard merged.sizes.count <= Self.maxRank else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "shapes",
                reason: "\(inputs.map(\.shape)) broadcast to \(output.shape) over \(merged.sizes.count) separate axes; the kernel takes at most \(Self.maxRank)")
        }
        // A single element has no axes left: one of size 1 stands for it.
        return merged.sizes.isEmpty
            ? Plan(sizes: [1], strides: inputs.map { _ in [0] }) : Plan(sizes: merged.sizes, strides: Array(merged.strides.dropLast()))
    }

    /// The program of this operation for operands of `inputs`, and the operation's code in it:
    /// one program holds every row of the table that takes these operand types and gives this
    /// result type (all unary float ops, say), each row a case of a switch on the code, so that a
    /// network's elementwise ops need a few programs, not one each. Where every type is float the
    /// rows compute in vectors of the device's width (VECTOR). The generic first-call program has
    /// the strided kernel alone, its loops scalar and not vectorised: half the build time.
    func program(_ inputs: [TensorType], output: TensorType, generic: Bool = false, on backend: OpenCLBackend)
        -> (spec: ProgramSpec, code: Int)
    {
        let types = inputs.map(\.dataType)
        let rows = ElementwiseTable.rows.filter { $0.arity == types.count && $0.types.result(types) == output.dataType }
        let vector = !generic && Self.computesInVectors(inputs, output: output)
        var lines = ["#define ARITY \(types.count)", "#define TY \(output.dataType.openCLType)", "#define ITEMS \(Self.items)"]
            + (generic ? ["#define GENERIC 1"] : []) + (vector ? ["#define VECTOR 1"] : [])
        // An operand past the arity has the first's type (never read; a vector row needs it float).
        for (index, letter) in ["A", "B", "C"].enumerated() {
            lines.append("#define T\(letter) \((index < types.count ? types[index] : types[0]).openCLType)")
        }
        let integer = types.contains(.int64) && !types.contains(.float32)
        lines.append("#define ROWS switch (op) { \\")
        for (code, row) in rows.enumerated() {
            var expression = integer ? row.integerOpenCL ?? row.openCL : row.openCL
            // A cast's C cast takes no vector; float to float is the value itself.
            if case .cast = row.types, vector { expression = "(a)" }
            lines.append("    case \(code): /* \(row.name) */ ROW(\(expression)) break; \\")
        }
        lines.append("    }")
        let code = rows.firstIndex { $0.name == operation.row.name }!
        let variant = types.map(\.rawValue).joined(separator: ",") + "->\(output.dataType)" + (generic ? " generic" : "")
        let spec = ProgramSpec(
            "elementwise", ["LANES": Self.lanes], variant: variant, header: lines.joined(separator: "\n") + "\n")
        return (spec, code)
    }

    /// The floats of a VECTOR program's vectors, whatever the device's width: on AVX2 (width 8)
    /// 16 lanes are two registers, and the rows' inlined exps and divisions run two at a time
    /// (with the inlined exp, Sigmoid of 2^24 values 1.15–1.4× faster than before; adds 1.07×).
    static let lanes = 16

    /// Whether the specialised program for these types computes in vectors (VECTOR): where every
    /// type is float. Its strided kernel then serves operands of the output's shape too, as fast
    /// as the flat kernel, which it leaves out (half the build time).
    static func computesInVectors(_ inputs: [TensorType], output: TensorType) -> Bool {
        (inputs + [output]).allSatisfy { $0.dataType == .float32 }
    }

    /// Outputs per work-item (ITEMS in `Kernels/elementwise.cl`, defined from this). 256 ran
    /// add_broadcast_2p24, sigmoid_2p24 and batchnorm 0.9–1.1× the time of 64, within the noise.
    static let items = 64

    /// The elementwise programs: one per operand and result types that some row takes.
    static func catalogue(on backend: OpenCLBackend) -> [ProgramSpec] {
        ElementwiseOperation.all.flatMap { operation -> [ProgramSpec] in
            let arity = operation.arity
            let candidates: [[DataType]] = DataType.allCases.map { Array(repeating: $0, count: arity) }
                + (arity == 3 ? DataType.allCases.map { [.bool, $0, $0] } : [])
            return candidates.flatMap { types in
                Elementwise(operation: operation).programs(for: types.map { TensorType([1], $0) }, on: backend)
            }
        }
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] {
        guard let output = try? outputTypes(inputs)[0] else { return [] }
        return [false, true].map { program(inputs, output: output, generic: $0, on: backend).spec }
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let output = outputs[0]
        let (result, y) = try backend.output(shape: output.shape, dataType: output.dataType, operation: name)
        guard output.count > 0 else { return [result] }
        let plan = try plan(inputs.map(\.type), output: output)
        let specialized = program(inputs.map(\.type), output: output, on: backend)
        let runsSpecialized = try backend.runsSpecialized([specialized.spec], small: output.count <= OpenCLBackend.firstCallWork)
        let (program, code) = runsSpecialized ? specialized : program(inputs.map(\.type), output: output, generic: true, on: backend)
        var buffers: [KernelArgument] = [.buffer(y)]
        for index in 0..<3 {
            buffers.append(.buffer(index < inputs.count ? try backend.anyBuffer(of: inputs[index], name, "input \(index)") : nil))
        }
        let count = try int32(output.count, name)
        let parameters = [KernelArgument.int32(Int32(code))] + (operation.parameters + [0, 0]).prefix(2).map { KernelArgument.float($0) }
            + [.int32(backend.streams(bytes: output.count * output.dataType.byteSize) ? 1 : 0)]
        let items = Self.items
        if plan.flat, runsSpecialized, !Self.computesInVectors(inputs.map(\.type), output: output) {
            try backend.launch(
                program, kernel: "elementwise_flat", arguments: buffers + [.int32(count)] + parameters,
                globalSize: [GEMMTile.roundUp((output.count + items - 1) / items, 64)], localSize: [64])
            return [result]
        }
        let strides = try (0..<3).map { index -> KernelArgument in
            .int32x8(index < plan.strides.count ? try plan.strides[index].map { try int32($0, name) } : [])
        }
        try backend.launch(
            program, kernel: "elementwise_strided",
            arguments: buffers + [.int32(count), .int32(Int32(plan.sizes.count)), .int32x8(try plan.sizes.map { try int32($0, name) })]
                + strides + parameters,
            globalSize: [GEMMTile.roundUp(output.count / plan.sizes.last! * ((plan.sizes.last! + items - 1) / items), 64)],
            localSize: [64])
        return [result]
    }
}

extension Backend {
    /// Applies an elementwise operation to `operands` (as many as `operation.arity`), broadcast
    /// as NumPy and ONNX do: shapes aligned at their last axes, size-1 axes stretched.
    /// - Throws: `ConvCLError.invalidArgument` when the operand count, their data types (see
    ///   `ElementwiseOperation`) or their shapes do not fit.
    public func elementwise(_ operation: ElementwiseOperation, _ operands: Tensor...) throws -> Tensor {
        try runSingle(Elementwise(operation: operation), operands)
    }

    /// `elementwise` with the operands as an array.
    public func elementwise(_ operation: ElementwiseOperation, operands: [Tensor]) throws -> Tensor {
        try runSingle(Elementwise(operation: operation), operands)
    }
}
