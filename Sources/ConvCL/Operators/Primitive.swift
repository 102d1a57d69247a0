/// One operator, written once for both backends (MLX's primitives): its parameters, its shape
/// rule and validation, its reference implementation and its OpenCL encoding. `Backend`'s
/// labelled methods are one line each into a primitive, and `OperatorRegistry` lists them for the
/// checks that walk every operator.
protocol Primitive: Sendable, CustomStringConvertible {
    /// The operator's name in errors (ONNX's op type where there is one).
    var name: String { get }

    /// Checks the inputs' shapes and data types and gives the outputs'; both backends run it before
    /// anything else, so they can never disagree on shapes.
    /// - Throws: `ConvCLError.invalidArgument` naming the operator, the argument and the values.
    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType]

    /// The outputs computed plainly on the host (in Double where values are real numbers).
    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData]

    /// Enqueues the kernels that compute the outputs on `backend` (tensors of `backend`, already
    /// validated against `outputs`).
    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor]

    /// The programs `encode` builds for inputs of these types (for `prepare` and the catalogue).
    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec]
}

extension Primitive {
    /// The name and the parameters, for check labels and errors.
    var description: String {
        let parameters = Mirror(reflecting: self).children.map { "\($0.label ?? "_"): \(String(describing: $0.value))" }
        return "\(name)(\(parameters.joined(separator: ", ")))"
    }
}

extension Backend {
    /// Runs `primitive` on this backend: validates, then computes on the host or the device.
    func run(_ primitive: any Primitive, _ inputs: [Tensor]) throws -> [Tensor] {
        let outputs = try primitive.outputTypes(inputs.map(\.type))
        for (index, output) in outputs.enumerated() {
            try checkedElementCount(output.shape, operation: primitive.name, argument: outputs.count == 1 ? "output" : "output \(index)")
        }
        switch self {
        case let reference as ReferenceBackend:
            let data = try inputs.enumerated().map { try reference.hostData($1, primitive.name, "input \($0)") }
            let results = try primitive.reference(data, types: inputs.map(\.type), outputs: outputs)
            return zip(outputs, results).map { Tensor(shape: $0.shape, host: $1) }
        case let device as OpenCLBackend:
            for (index, input) in inputs.enumerated() { _ = try device.anyBuffer(of: input, primitive.name, "input \(index)") }
            return try primitive.encode(inputs, outputs: outputs, on: device)
        default:
            throw ConvCLError.invalidArgument(
                operation: primitive.name, argument: "backend", reason: "\(name) is neither an OpenCLBackend nor the ReferenceBackend")
        }
    }

    /// Runs a primitive of one output.
    func runSingle(_ primitive: any Primitive, _ inputs: [Tensor]) throws -> Tensor {
        try run(primitive, inputs)[0]
    }
}
