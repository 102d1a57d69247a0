/// The programs a model's first run asks for, known at load so that the build helper can build
/// them while the run builds the others: with the automatic kernel tier a first run of small
/// operations runs the generic first-call programs, which depend on an operation's kind and
/// operand types but not on its shapes, so the graph and its types name them. The specialised
/// programs depend on shapes and are not predicted (operations queue them as they run).
enum ProgramsAhead {
    /// The generic programs the device nodes of `nodes` ask for, in the order of first use, on
    /// `backend`. Types follow the graph from `types` (its inputs and initializers): a Cast gives
    /// its `to`, a comparison bool, Shape and Size int64, Where its second operand's; any other
    /// node its first input's. A node whose inputs are all constants is folded on the host and
    /// needs nothing; a node whose types are not known is left out (it builds when it runs).
    static func programs(_ nodes: [ONNXNode], types known: [String: DataType], constants: Set<String>, on backend: OpenCLBackend)
        -> [ProgramSpec]
    {
        var types = known
        var constant = constants
        var programs: [ProgramSpec] = []
        for node in nodes {
            let inputs = node.proto.input
            let inputTypes = inputs.map { $0.isEmpty ? nil : types[$0] }
            let output = outputType(node, inputTypes)
            for name in node.proto.output where !name.isEmpty { types[name] = output }
            if Model.runsOnHost(node, constants: constant) {
                constant.formUnion(node.proto.output)
                continue
            }
            for spec in nodePrograms(node, inputTypes, output, on: backend) where !programs.contains(spec) { programs.append(spec) }
        }
        return programs
    }

    private static func outputType(_ node: ONNXNode, _ inputs: [DataType?]) -> DataType? {
        switch node.opType {
        case "Cast": return Int32(exactly: node.int("to", 0)).flatMap(ONNXElementType.dataType)
        case "Shape", "Size": return .int64
        case "Constant", "ConstantOfShape": return (try? node.tensor("value"))?.data.dataType ?? (node.opType == "Constant" ? nil : .float32)
        case "Where": return inputs.count > 1 ? inputs[1] : nil
        default:
            if let row = elementwiseRow(node.opType), case .comparison = row.types { return .bool }
            if let row = elementwiseRow(node.opType), case .logical = row.types { return .bool }
            return inputs.first ?? nil
        }
    }

    /// The table's row an op type runs as: its own, or Add's for Sum and Mean (every row of one
    /// operand and result types shares a program).
    private static func elementwiseRow(_ opType: String) -> ElementwiseRow? {
        let name = ["Sum": "Add", "Mean": "Add"][opType] ?? opType
        return ElementwiseTable.rows.first { $0.name == name && { if case .cast = $0.types { false } else { true } }($0) }
    }

    private static func nodePrograms(_ node: ONNXNode, _ inputs: [DataType?], _ output: DataType?, on backend: OpenCLBackend)
        -> [ProgramSpec]
    {
        func elementwise(_ types: [DataType?], _ operation: ElementwiseOperation) -> [ProgramSpec] {
            // Checked as the operation checks its operands (a Max of one input, say, is no
            // binary program), so that only a program the run can ask for is named.
            let primitive = Elementwise(operation: operation)
            let known = types.compactMap { $0 }.map { TensorType([1], $0) }
            guard known.count == types.count, let output = try? primitive.outputTypes(known).first else { return [] }
            return [primitive.program(known, output: output, generic: true, on: backend).spec]
        }
        switch node.opType {
        case "Conv": return [OpenCLBackend.genericConvolutionProgram]
        case "ConvTranspose": return [ConvTranspose.program]
        case "Resize": return [Resize.program]
        case "Softmax", "LogSoftmax": return [Softmax.program(on: backend)]
        case "MaxPool", "AveragePool":
            let returnIndices = node.proto.output.count > 1 && !node.proto.output[1].isEmpty
            return [backend.poolProgram(mode: node.opType == "MaxPool" ? .max : .average, returnIndices: returnIndices, nil)]
        case "Transpose", "Concat", "Slice", "Pad", "Split", "Gather", "Expand", "Tile":
            guard let type = inputs.first ?? nil else { return [] }
            // Pairs of 4-byte elements that stay together move as 8-byte ones (`stridedCopy`):
            // whether a node's do depends on its shapes, so both programs are named.
            return type.byteSize == 4 ? [copyProgram(type), copyProgram(.int64)] : [copyProgram(type)]
        case "Cast":
            guard let from = inputs.first ?? nil, let to = output, from != to else { return [] }
            return elementwise([from], .cast(to: to))
        default:
            if node.opType.hasPrefix("Reduce") { return [ProgramSpec("reduce", OpenCLBackend.ReduceProgram.generic.defines(.sum))] }
            guard let row = elementwiseRow(node.opType) else { return [] }
            return elementwise(Array(inputs.prefix(row.arity)), ElementwiseOperation(row.name))
        }
    }
}
