import Foundation

/// Writes a trained `Sequential` as an ONNX model (opset 17): one node per layer (a convolution's
/// fused activation as its own node), the parameters as initializers, dropout left out (the
/// identity outside training). onnxruntime and `Model` run the file.
extension Sequential {
    /// The ONNX model's bytes, for inputs of `inputShape` (nil for a symbolic size, "N").
    /// - Throws: `ConvCLError.invalidArgument` for a layer ONNX has no operator for here.
    public func onnxModel(inputShape: [Int?]) throws -> Data {
        var graph = Onnx_GraphProto()
        graph.name = "convcl"
        var current = "input"
        for (index, layer) in layers.enumerated() {
            let prefix = "layer\(index)"
            var initializers: [(String, Tensor)] = []
            let nodes = try exportNodes(layer, input: current, prefix: prefix, initializers: &initializers)
            for (name, tensor) in initializers {
                graph.initializer.append(Onnx_TensorProto(name: name, shape: tensor.shape, data: try tensor.data()))
            }
            graph.node += nodes
            current = nodes.last?.output[0] ?? current
        }
        // The last node writes the graph's output.
        if var last = graph.node.popLast() {
            last.output = ["output"]
            graph.node.append(last)
        } else {
            graph.node.append(onnxNode("Identity", [current], ["output"]))
        }
        graph.input = [valueInfo("input", inputShape)]
        graph.output = [valueInfo("output", nil)]
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "ConvCL"
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        model.graph = graph
        return try model.serializedData()
    }
}

private func exportNodes(_ layer: any Layer, input: String, prefix: String, initializers: inout [(String, Tensor)]) throws -> [Onnx_NodeProto] {
    func unsupported(_ reason: String) -> ConvCLError {
        .invalidArgument(operation: "onnxModel", argument: "layers", reason: reason)
    }
    switch layer {
    case let conv as Conv1d:
        let d = conv.descriptor
        return try convolutionNodes(
            conv.parameters, input: input, prefix: prefix, stride: [d.stride], padding: d.padding, dilation: [d.dilation], groups: d.groups,
            mode: d.mode, activation: d.activation, initializers: &initializers)
    case let conv as Conv2d:
        let d = conv.descriptor
        return try convolutionNodes(
            conv.parameters, input: input, prefix: prefix, stride: d.stride, padding: d.padding, dilation: d.dilation, groups: d.groups,
            mode: d.mode, activation: d.activation, initializers: &initializers)
    case let dense as Linear:
        initializers.append(("\(prefix).weight", dense.parameters[0]))
        if dense.parameters.count > 1 { initializers.append(("\(prefix).bias", dense.parameters[1])) }
        return [onnxNode("Gemm", [input] + initializers.suffix(dense.parameters.count).map(\.0), ["\(prefix).out"], [.int("transB", 1)])]
    case let pool as MaxPool:
        return [try poolNode("MaxPool", pool.descriptor, input, prefix)]
    case let pool as AvgPool:
        guard (pool.descriptor.dilation ?? []).allSatisfy({ $0 == 1 }) else {
            throw unsupported("AveragePool with dilation needs opset 19; the export writes opset 17")
        }
        return [try poolNode("AveragePool", pool.descriptor, input, prefix)]
    case let norm as BatchNorm:
        let names = ["scale", "bias", "mean", "var"].map { "\(prefix).\($0)" }
        initializers += zip(names, norm.parameters + [norm.runningMean, norm.runningVariance]).map { ($0, $1) }
        return [onnxNode("BatchNormalization", [input] + names, ["\(prefix).out"], [.float("epsilon", norm.epsilon), .float("momentum", 1 - norm.momentum)])]
    case is GlobalAvgPool:
        return [
            onnxNode("GlobalAveragePool", [input], ["\(prefix).pooled"]),
            onnxNode("Flatten", ["\(prefix).pooled"], ["\(prefix).out"], [.int("axis", 1)]),
        ]
    case is ReLU:
        return [onnxNode("Relu", [input], ["\(prefix).out"])]
    case is Flatten:
        return [onnxNode("Flatten", [input], ["\(prefix).out"], [.int("axis", 1)])]
    case let unsqueeze as Unsqueeze:
        initializers.append(("\(prefix).axes", Tensor(shape: [1], host: .int64([Int64(unsqueeze.axis)]))))
        return [onnxNode("Unsqueeze", [input, "\(prefix).axes"], ["\(prefix).out"])]
    case is Dropout:
        return []
    case let inner as Sequential:
        var nodes: [Onnx_NodeProto] = []
        var current = input
        for (index, layer) in inner.layers.enumerated() {
            let more = try exportNodes(layer, input: current, prefix: "\(prefix).\(index)", initializers: &initializers)
            nodes += more
            current = more.last?.output[0] ?? current
        }
        return nodes
    default:
        throw unsupported("no ONNX operator for a layer of type \(type(of: layer))")
    }
}

private func convolutionNodes(
    _ parameters: [Tensor], input: String, prefix: String, stride: [Int], padding: Padding, dilation: [Int], groups: Int,
    mode: ConvolutionMode, activation: Activation, initializers: inout [(String, Tensor)]
) throws -> [Onnx_NodeProto] {
    var weight = parameters[0]
    if mode == .convolution {
        // ONNX's Conv correlates: a true convolution's kernel is stored flipped.
        let values = try weight.values(), taps = weight.shape.dropFirst(2).reduce(1, *)
        var flipped = values
        for start in Swift.stride(from: 0, to: values.count, by: taps) {
            for tap in 0..<taps { flipped[start + tap] = values[start + taps - 1 - tap] }
        }
        weight = Tensor(shape: weight.shape, host: .float32(flipped))
    }
    initializers.append(("\(prefix).weight", weight))
    if parameters.count > 1 { initializers.append(("\(prefix).bias", parameters[1])) }
    let kernel = Array(weight.shape.dropFirst(2))
    var attributes: [Onnx_AttributeProto] = [
        .ints("kernel_shape", kernel), .ints("strides", stride), .ints("dilations", dilation), .int("group", groups),
    ]
    attributes += paddingAttributes(padding, rank: kernel.count)
    var nodes = [onnxNode("Conv", [input] + initializers.suffix(parameters.count).map(\.0), ["\(prefix).conv"], attributes)]
    switch activation {
    case .none: break
    case .relu: nodes.append(onnxNode("Relu", ["\(prefix).conv"], ["\(prefix).out"]))
    case .leakyReLU(let slope): nodes.append(onnxNode("LeakyRelu", ["\(prefix).conv"], ["\(prefix).out"], [.float("alpha", slope)]))
    }
    return nodes
}

private func poolNode(_ op: String, _ d: PoolDescriptor, _ input: String, _ prefix: String) throws -> Onnx_NodeProto {
    var attributes: [Onnx_AttributeProto] = [.ints("kernel_shape", d.kernel), .ints("strides", d.stride ?? d.kernel), .int("ceil_mode", d.ceilMode ? 1 : 0)]
    if op == "MaxPool", let dilation = d.dilation { attributes.append(.ints("dilations", dilation)) }
    if op == "AveragePool" { attributes.append(.int("count_include_pad", d.countIncludePad ? 1 : 0)) }
    attributes += paddingAttributes(d.padding, rank: d.kernel.count)
    return onnxNode(op, [input], ["\(prefix).out"], attributes)
}

private func paddingAttributes(_ padding: Padding, rank: Int) -> [Onnx_AttributeProto] {
    switch padding {
    case .explicit(let pads): [.ints("pads", pads)]
    case .valid: [.ints("pads", [Int](repeating: 0, count: 2 * rank))]
    case .sameUpper: [.string("auto_pad", "SAME_UPPER")]
    case .sameLower: [.string("auto_pad", "SAME_LOWER")]
    }
}

func onnxNode(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
    var node = Onnx_NodeProto()
    node.opType = op
    node.input = inputs
    node.output = outputs
    node.name = outputs[0]
    node.attribute = attributes
    return node
}

private func valueInfo(_ name: String, _ shape: [Int?]?) -> Onnx_ValueInfoProto {
    var info = Onnx_ValueInfoProto()
    info.name = name
    info.type.tensorType.elemType = 1  // FLOAT
    if let shape {
        info.type.tensorType.shape.dim = shape.map { size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if let size { dimension.dimValue = Int64(size) } else { dimension.dimParam = "N" }
            return dimension
        }
    }
    return info
}

/// Attributes as ONNX stores them, for the export, the graph rewrites and the tests' models.
extension Onnx_AttributeProto {
    static func ints(_ name: String, _ values: [Int]) -> Self {
        var a = Self()
        a.name = name
        a.type = .ints
        a.ints = values.map(Int64.init)
        return a
    }

    static func int(_ name: String, _ value: Int) -> Self {
        var a = Self()
        a.name = name
        a.type = .int
        a.i = Int64(value)
        return a
    }

    static func float(_ name: String, _ value: Float) -> Self {
        var a = Self()
        a.name = name
        a.type = .float
        a.f = value
        return a
    }

    static func string(_ name: String, _ value: String) -> Self {
        var a = Self()
        a.name = name
        a.type = .string
        a.s = Data(value.utf8)
        return a
    }
}
