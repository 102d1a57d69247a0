import Foundation
import SwiftProtobuf

/// One dimension of a model input's or output's declared shape.
public enum ModelDimension: Sendable, Hashable, CustomStringConvertible {
    /// A fixed size.
    case fixed(Int)
    /// A named size the caller chooses (a batch dimension, say).
    case symbolic(String)
    /// A size the model leaves unnamed.
    case unknown

    public var description: String {
        switch self {
        case .fixed(let size): "\(size)"
        case .symbolic(let name): name
        case .unknown: "?"
        }
    }
}

/// A model input or output: its name, element type and declared shape.
public struct ModelValue: Sendable, CustomStringConvertible {
    public let name: String
    /// ONNX's element type name (FLOAT, INT64, …).
    public let elementType: String
    /// ConvCL's data type for it (nil when ConvCL has none).
    public let dataType: DataType?
    /// The declared shape, or nil when the model declares none.
    public let shape: [ModelDimension]?

    public var description: String {
        "\(name): \(elementType) [\(shape.map { $0.map(\.description).joined(separator: ", ") } ?? "unknown rank")]"
    }
}

/// What one node of a model's run cost: where it ran, its time, its kernels and, for a
/// convolution, the algorithm and why it was chosen.
public struct NodeProfile: Sendable, Codable, CustomStringConvertible {
    public let name: String
    public let opType: String
    /// "device" (the model's backend), "host" (its inputs are constants and shapes: folded on
    /// the CPU for this input shape) or "cached" (folded by an earlier run of the same shape).
    public let placement: String
    /// Wall time, including waiting for the node's kernels to finish.
    public let seconds: Double
    /// The node's kernels' run time on the device (the queue's profiling counters); 0 off OpenCL.
    public let deviceSeconds: Double
    /// The OpenCL kernels the node launched, in order.
    public let kernels: [String]
    /// A convolution's algorithm and the reason for it.
    public let convolution: String?
    /// The shapes of the node's inputs (empty for an absent optional input).
    public let inputShapes: [[Int]]

    public var description: String {
        let time = String(format: "%9.3f ms  %9.3f ms device", seconds * 1e3, deviceSeconds * 1e3)
        return "\(time)  \(placement.padding(toLength: 6, withPad: " ", startingAt: 0)) \(opType) \(inputShapes.map(\.description).joined(separator: " ")) \(name)"
            + (kernels.isEmpty ? "" : "  [\(kernelCounts)]") + (convolution.map { "  \($0)" } ?? "")
    }

    /// The kernels by name with their launch counts, in order of first launch ("im2col ×4, gemm ×4").
    var kernelCounts: String {
        var order: [String] = [], counts: [String: Int] = [:]
        for kernel in kernels {
            if counts[kernel] == nil { order.append(kernel) }
            counts[kernel, default: 0] += 1
        }
        return order.map { counts[$0]! > 1 ? "\($0) ×\(counts[$0]!)" : $0 }.joined(separator: ", ")
    }
}

/// A node ConvCL cannot run, with the reason.
public struct UnsupportedNode: Sendable, CustomStringConvertible {
    public let name: String
    public let opType: String
    public let domain: String
    public let opset: Int
    public let reason: String

    public var description: String {
        "\(name) (\(domain.isEmpty ? "" : domain + ".")\(opType), opset \(opset)): \(reason)"
    }
}

/// An ONNX model ready to run on a backend: parsed and validated as a whole when loaded (every
/// node's operator, opset and attributes; an unsupported model is one error listing every
/// offending node), its initializers on the device once, and a plan per input shape that folds
/// the shape arithmetic (Shape → Gather → Concat → Reshape and the like) on the host.
///
/// ```swift
/// let model = try Model(contentsOf: url, backend: backend)
/// let outputs = try model.run(["input": tensor])
/// ```
///
/// A model is safe to share: any number of threads or tasks may run it at once, on inputs of
/// any shapes; each run has its own values, and the per-shape plans are shared under a lock.
public final class Model: Sendable {
    /// The graph's inputs that the caller feeds (initializers excluded).
    public let inputs: [ModelValue]
    public let outputs: [ModelValue]
    /// The default domain's opset the model imports.
    public let opset: Int
    /// How many nodes of each op type the graph has (before any rewrite).
    public let operatorCounts: [String: Int]
    /// The rewrites made at load, in order (empty with `rewrites: false`).
    public let rewrites: [GraphRewrite]
    /// The backend the model runs on.
    public let backend: any Backend

    let nodes: [ONNXNode]
    /// The initializers on the host (for the nodes folded there) and on the backend (uploaded
    /// once, at load).
    let initializers: [String: Tensor]
    let deviceInitializers: [String: Tensor]
    /// The generic programs its first run on an OpenCL backend asks for, predicted at load and
    /// handed to the build helper (see `ProgramsAhead`); empty with the specialised tier.
    let programsAhead: [ProgramSpec]
    /// For each value, the index of the last node that reads it (graph outputs are kept).
    let lastUse: [String: Int]
    private let reference = ReferenceBackend()
    /// Per input shapes: the values computed from constants and shapes alone, on the host and, once
    /// a device node has read them, on the backend; later runs skip their nodes.
    private let plans = Locked<[[[Int]]: Plan]>([:])

    /// Two runs of one shape at once may both fold a value; they store the same one.
    final class Plan: Sendable {
        let host = Locked<[String: Tensor]>([:])
        let device = Locked<[String: Tensor]>([:])
    }

    /// Loads the model at `url` (external data files beside it) for `backend`. With `rewrites`
    /// (the default) each Conv absorbs the zero Pad before it and the BatchNormalization,
    /// per-channel Add and Relu or LeakyRelu after it where that is exact up to float32 rounding
    /// (`rewrites` lists what was merged); `rewrites: false` runs the graph node for node.
    /// - Throws: `ConvCLError.invalidArgument` when the file cannot be read or parsed, or when any
    ///   node is unsupported (all of them listed).
    public convenience init(contentsOf url: URL, backend: any Backend, rewrites: Bool = true) throws {
        try self.init(proto: Model.readProto(url), directory: url.deletingLastPathComponent(), backend: backend, rewrites: rewrites)
    }

    /// Loads a model from its serialized bytes; `directory` holds its external data files, if any.
    /// `rewrites` as for `init(contentsOf:backend:rewrites:)`.
    public convenience init(serializedData data: Data, directory: URL? = nil, backend: any Backend, rewrites: Bool = true) throws {
        try self.init(proto: Model.parse(data), directory: directory, backend: backend, rewrites: rewrites)
    }

    private init(proto: Onnx_ModelProto, directory: URL?, backend: any Backend, rewrites: Bool) throws {
        let opset = Model.defaultOpset(proto)
        let graph = proto.graph
        self.opset = opset
        self.backend = backend

        // Opsets 22 and 23 changed no semantics of the operators ConvCL runs, only their types.
        guard (11...23).contains(opset) else {
            throw ConvCLError.invalidArgument(operation: "Model", argument: "opset", reason: "default-domain opset \(opset) is not supported (11 to 23 are)")
        }
        var initializers: [String: Tensor] = [:]
        for tensor in graph.initializer {
            let (shape, values) = try tensor.decoded(directory: directory)
            initializers[tensor.name] = Tensor(shape: shape, host: values)
        }

        func value(_ info: Onnx_ValueInfoProto) -> ModelValue {
            let tensor = info.type.tensorType
            let shape: [ModelDimension]? = tensor.hasShape ? tensor.shape.dim.map { dimension in
                switch dimension.value {
                case .dimValue(let size)?: .fixed(Int(size))
                case .dimParam(let name)?: name.isEmpty ? .unknown : .symbolic(name)
                case nil: .unknown
                }
            } : nil
            return ModelValue(
                name: info.name, elementType: ONNXElementType.name(tensor.elemType), dataType: ONNXElementType.dataType(tensor.elemType),
                shape: shape)
        }
        inputs = graph.input.filter { initializers[$0.name] == nil }.map(value)
        outputs = graph.output.map(value)
        for input in inputs where input.dataType == nil {
            throw ConvCLError.invalidArgument(
                operation: "Model", argument: "input \(input.name)", reason: "element type \(input.elementType) is not supported")
        }
        for value in inputs + outputs {
            if let shape = value.shape, shape.contains(where: { if case .fixed(let size) = $0 { size < 0 } else { false } }) {
                throw ConvCLError.invalidArgument(
                    operation: "Model", argument: value.name, reason: "declared shape \(shape) has a negative dimension")
            }
        }

        let (nodes, issues) = Model.validate(graph, opset: opset, inputs: Set(initializers.keys).union(inputs.map(\.name)))
        let defined = Set(initializers.keys).union(inputs.map(\.name)).union(graph.node.flatMap(\.output))
        for output in outputs where !defined.contains(output.name) {
            throw ConvCLError.invalidArgument(operation: "Model", argument: "output \(output.name)", reason: "no node or initializer computes it")
        }
        guard issues.isEmpty else {
            throw ConvCLError.invalidArgument(
                operation: "Model", argument: "nodes",
                reason: "\(issues.count) node(s) cannot run:\n" + issues.map { "  \($0)" }.joined(separator: "\n"))
        }
        var rewriter = GraphRewriter(nodes: nodes, initializers: initializers, graphOutputs: Set(outputs.map(\.name)))
        if rewrites { try rewriter.run() }
        self.nodes = rewriter.nodes
        self.rewrites = rewriter.applied
        self.initializers = rewriter.initializers
        deviceInitializers = try rewriter.initializers.mapValues { try Model.constant($0, on: backend) }
        if let device = backend as? OpenCLBackend, device.kernelTier != .specialized {
            var types = rewriter.initializers.mapValues(\.dataType)
            for input in inputs { types[input.name] = input.dataType }
            programsAhead = ProgramsAhead.programs(self.nodes, types: types, constants: Set(rewriter.initializers.keys), on: device)
            device.buildAhead(programsAhead)
        } else {
            programsAhead = []
        }
        var lastUse: [String: Int] = [:]
        for (index, node) in self.nodes.enumerated() {
            for name in node.proto.input where !name.isEmpty { lastUse[name] = index }
        }
        for output in outputs { lastUse[output.name] = Int.max }
        self.lastUse = lastUse
        operatorCounts = Dictionary(graph.node.map { ($0.opType, 1) }, uniquingKeysWith: +)
    }

    /// How many nodes of each kind the model runs after its rewrites: a Conv with a fused
    /// activation counts as "Conv+Relu" and the like.
    public var plannedOperatorCounts: [String: Int] {
        Dictionary(nodes.map { node in
            switch node.activation {
            case .none: (node.opType, 1)
            case .relu: ("\(node.opType)+Relu", 1)
            case .leakyReLU: ("\(node.opType)+LeakyRelu", 1)
            }
        }, uniquingKeysWith: +)
    }

    /// Every ONNX operator (default domain) ConvCL runs, sorted.
    public static var supportedOperators: [String] { ONNXOperators.table.keys.sorted() }

    /// The nodes of the model at `url` that ConvCL cannot run, with the reasons, without loading
    /// it onto a backend (empty when every node can run).
    /// - Throws: `ConvCLError.invalidArgument` when the file cannot be read or parsed.
    public static func unsupportedNodes(contentsOf url: URL) throws -> [UnsupportedNode] {
        let proto = try readProto(url)
        let graph = proto.graph
        let initializers = Set(graph.initializer.map(\.name))
        return validate(graph, opset: defaultOpset(proto), inputs: initializers.union(graph.input.map(\.name))).issues
    }

    private static func readProto(_ url: URL) throws -> Onnx_ModelProto {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConvCLError.invalidArgument(operation: "Model", argument: "url", reason: "cannot read \(url.path): \(error.localizedDescription)")
        }
        return try parse(data, name: url.path)
    }

    private static func parse(_ data: Data, name: String = "data") throws -> Onnx_ModelProto {
        do { return try Onnx_ModelProto(serializedBytes: data) } catch {
            throw ConvCLError.invalidArgument(operation: "Model", argument: name, reason: "not an ONNX model (\(data.count) bytes): \(error)")
        }
    }

    private static func defaultOpset(_ proto: Onnx_ModelProto) -> Int {
        Int(proto.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }?.version ?? 0)
    }

    /// Checks every node: a known operator of the default domain, its opset and attributes
    /// supported, its inputs defined before it (ONNX requires topological order; `inputs` are the
    /// names defined before the first node).
    static func validate(_ graph: Onnx_GraphProto, opset: Int, inputs: Set<String>) -> (nodes: [ONNXNode], issues: [UnsupportedNode]) {
        var issues: [UnsupportedNode] = []
        func unsupported(_ node: Onnx_NodeProto, _ reason: String) {
            let label = node.name.isEmpty ? "(\(node.output.first ?? "?"))" : node.name
            issues.append(UnsupportedNode(name: label, opType: node.opType, domain: node.domain, opset: opset, reason: reason))
        }
        var defined = inputs
        var nodes: [ONNXNode] = []
        for proto in graph.node {
            let node = ONNXNode(proto: proto, opset: opset)
            nodes.append(node)
            for name in proto.input where !name.isEmpty && !defined.contains(name) {
                unsupported(proto, "input \"\(name)\" is not defined before the node")
            }
            for name in proto.output where !name.isEmpty && defined.contains(name) {
                unsupported(proto, "output \"\(name)\" is already defined (by an input, an initializer or an earlier node): ONNX names each value once")
            }
            defined.formUnion(proto.output)
            guard proto.domain.isEmpty || proto.domain == "ai.onnx" else {
                unsupported(proto, "domain \(proto.domain) is not supported")
                continue
            }
            guard let operation = ONNXOperators.table[proto.opType] else {
                unsupported(proto, "operator not supported")
                continue
            }
            if opset < operation.since { unsupported(proto, "ConvCL follows its definition from opset \(operation.since)") }
            do { try operation.check(node) } catch let error as ConvCLError {
                if case .invalidArgument(_, let argument, let reason) = error { unsupported(proto, "\(argument): \(reason)") } else {
                    unsupported(proto, "\(error)")
                }
            } catch {
                unsupported(proto, "\(error)")
            }
        }
        return (nodes, issues)
    }

    /// Runs the model: `feeds` binds every input by name (tensors of this model's backend, or of
    /// the reference backend); returns every output by name.
    /// - Throws: `ConvCLError.invalidArgument` for a missing or unknown input, a wrong data type
    ///   or a shape that contradicts a fixed dimension; an operator's error names its node.
    public func run(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        try run(feeds, observe: nil)
    }

    /// Runs the model as `run(_:)` does, calling `observe` after each node with the node's name,
    /// op type and outputs (for node-by-node checks such as `clconv model check`).
    public func run(
        _ feeds: [String: Tensor], observe: ((_ node: String, _ opType: String, _ outputs: [(name: String, tensor: Tensor)]) throws -> Void)?
    ) throws -> [String: Tensor] {
        try execute(feeds, observe: observe, profile: nil)
    }

    /// Runs the model as `run(_:)` does and profiles every node: each waits for its kernels
    /// before the next starts, so the run is slower than an unprofiled one, and each node's
    /// time is its own.
    public func profiledRun(_ feeds: [String: Tensor]) throws -> (outputs: [String: Tensor], profile: [NodeProfile]) {
        var profile: [NodeProfile] = []
        let outputs = try execute(feeds, observe: nil) { profile.append($0) }
        return (outputs, profile)
    }

    private func execute(
        _ feeds: [String: Tensor], observe: ((_ node: String, _ opType: String, _ outputs: [(name: String, tensor: Tensor)]) throws -> Void)?,
        profile: ((NodeProfile) -> Void)?
    ) throws -> [String: Tensor] {
        for name in feeds.keys where !inputs.contains(where: { $0.name == name }) {
            throw ConvCLError.invalidArgument(
                operation: "Model.run", argument: name, reason: "is not an input of the model (inputs: \(inputs.map(\.name).joined(separator: ", ")))")
        }
        var values: [String: Tensor] = initializers
        for input in inputs {
            guard let tensor = feeds[input.name] else {
                throw ConvCLError.invalidArgument(operation: "Model.run", argument: input.name, reason: "the input is not given")
            }
            try check(tensor, against: input)
            values[input.name] = tensor
        }
        let signature = inputs.map { feeds[$0.name]!.shape }
        let known = plans.withLock { $0[signature] }
        let plan = known ?? Plan()
        // Values that depend only on constants and the input shapes: computed on the host.
        var constant = Set(initializers.keys)
        for (index, node) in nodes.enumerated() {
            let outputNames = node.proto.output.filter { !$0.isEmpty }
            let start = DispatchTime.now().uptimeNanoseconds
            if known != nil, plan.host.withLock({ host in outputNames.allSatisfy { host[$0] != nil } }) {
                constant.formUnion(outputNames)
                profile?(NodeProfile(name: node.label, opType: node.opType, placement: "cached", seconds: 0, deviceSeconds: 0, kernels: [], convolution: nil, inputShapes: []))
            } else {
                let inputNames = node.proto.input
                let isConstant = Model.runsOnHost(node, constants: constant)
                let target: any Backend = isConstant ? reference : backend
                let inputs = try inputNames.map { name -> Tensor? in
                    guard !name.isEmpty else { return nil }
                    if constant.contains(name) {
                        // Shape and Size read only the shape: a device tensor is fine where it is.
                        return isConstant ? try host(name, values, plan) : try device(name, plan)
                    }
                    guard let tensor = values[name] else { return nil }
                    return isConstant ? tensor : try onDevice(tensor)
                }
                let results: [Tensor]
                do {
                    let nodeRun = ONNXNodeRun(node: node, backend: target, inputs: inputs)
                    if let profile {
                        let recorder = EventRecorder()
                        results = try EventRecorder.$current.withValue(recorder) { try ONNXOperators.table[node.opType]!.run(nodeRun) }
                        try (target as? OpenCLBackend)?.synchronize()
                        profile(NodeProfile(
                            name: node.label, opType: node.opType, placement: isConstant ? "host" : "device",
                            seconds: Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9, deviceSeconds: try recorder.deviceSeconds(),
                            kernels: recorder.kernels, convolution: try ONNXOperators.convolutionPlan(nodeRun)?.description,
                            inputShapes: inputs.map { $0?.shape ?? [] }))
                    } else {
                        results = try ONNXOperators.table[node.opType]!.run(nodeRun)
                    }
                } catch let error as ConvCLError {
                    // Errors of the node's own checks already name it.
                    if case .invalidArgument(let operation, _, _) = error, operation == "\(node.opType) node \(node.label)" { throw error }
                    throw ConvCLError.invalidArgument(operation: "\(node.opType) node \(node.label)", argument: "run", reason: "\(error)")
                }
                for (name, tensor) in zip(node.proto.output, results) where !name.isEmpty {
                    if isConstant {
                        constant.insert(name)
                        plan.host.withLock { $0[name] = tensor }
                    } else {
                        values[name] = tensor
                    }
                }
            }
            if let observe {
                try observe(node.label, node.opType, outputNames.map { ($0, try values[$0] ?? host($0, values, plan)) })
            }
            for name in node.proto.input where lastUse[name] == index { values[name] = nil }
        }
        plans.withLock { plans in
            if plans[signature] == nil { plans[signature] = plan }
        }
        var results: [String: Tensor] = [:]
        for output in outputs {
            results[output.name] = try constant.contains(output.name) ? device(output.name, plan) : values[output.name]!
        }
        return results
    }

    /// Whether `node` is folded on the host: it reads only shapes (Shape, Size) or nothing
    /// (Constant), or every input it has is among `constants`.
    static func runsOnHost(_ node: ONNXNode, constants: Set<String>) -> Bool {
        let inputs = node.proto.input
        return ["Shape", "Size", "Constant"].contains(node.opType)
            || !inputs.isEmpty && inputs.allSatisfy { $0.isEmpty || constants.contains($0) }
    }

    /// A constant value (an initializer or a folded one) on the host; a fed input as it was given.
    private func host(_ name: String, _ values: [String: Tensor], _ plan: Plan) throws -> Tensor {
        if let tensor = initializers[name] ?? plan.host.withLock({ $0[name] }) { return tensor }
        return values[name]!
    }

    /// A constant value on the backend: uploaded once per plan.
    private func device(_ name: String, _ plan: Plan) throws -> Tensor {
        if let tensor = deviceInitializers[name] ?? plan.device.withLock({ $0[name] }) { return tensor }
        let uploaded = try Model.constant(plan.host.withLock { $0[name]! }, on: backend)
        plan.device.withLock { $0[name] = uploaded }
        return uploaded
    }

    /// A constant host tensor on `backend`. An OpenCL backend's copy keeps the values on the host
    /// too, so that nodes reading a constant's values (Reshape's shape, Slice's starts, Pad's pads)
    /// do not wait for the device to finish every kernel enqueued before them.
    private static func constant(_ tensor: Tensor, on backend: any Backend) throws -> Tensor {
        guard let device = backend as? OpenCLBackend else { return tensor }
        return try device.tensor(shape: tensor.shape, data: tensor.data(), keepingHostCopy: true)
    }

    /// `tensor` on the backend (a host tensor is uploaded).
    private func onDevice(_ tensor: Tensor) throws -> Tensor {
        guard case .host = tensor.storage, !(backend is ReferenceBackend) else { return tensor }
        return try backend.tensor(shape: tensor.shape, data: tensor.data())
    }

    private func check(_ tensor: Tensor, against input: ModelValue) throws {
        if let type = input.dataType, tensor.dataType != type {
            throw ConvCLError.invalidArgument(
                operation: "Model.run", argument: input.name, reason: "expected \(input.elementType), got a \(tensor.dataType) tensor")
        }
        guard let shape = input.shape else { return }
        guard tensor.shape.count == shape.count else {
            throw ConvCLError.invalidArgument(
                operation: "Model.run", argument: input.name, reason: "expected shape [\(shape.map(\.description).joined(separator: ", "))], got \(tensor.shape)")
        }
        for (size, dimension) in zip(tensor.shape, shape) {
            if case .fixed(let fixed) = dimension, fixed != size {
                throw ConvCLError.invalidArgument(
                    operation: "Model.run", argument: input.name, reason: "expected shape [\(shape.map(\.description).joined(separator: ", "))], got \(tensor.shape)")
            }
        }
    }
}
