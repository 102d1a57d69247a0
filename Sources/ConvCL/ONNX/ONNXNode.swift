import Foundation

/// One node of a graph as the operator table sees it: its attributes, and (when it runs) its
/// inputs on the backend it runs on.
struct ONNXNode {
    let proto: Onnx_NodeProto
    /// The default domain's opset the model imports.
    let opset: Int
    /// A Conv's fused activation (a graph rewrite merged the node after it).
    var activation: Activation = .none

    var opType: String { proto.opType }
    /// The node's name, or its first output's when it has none, for messages.
    var label: String { proto.name.isEmpty ? "(\(proto.output.first ?? "?"))" : proto.name }

    func fail(_ argument: String, _ reason: String) -> ConvCLError {
        .invalidArgument(operation: "\(opType) node \(label)", argument: argument, reason: reason)
    }

    func attribute(_ name: String) -> Onnx_AttributeProto? { proto.attribute.first { $0.name == name } }

    func int(_ name: String, _ defaultValue: Int) -> Int { attribute(name).map { Int($0.i) } ?? defaultValue }
    func ints(_ name: String) -> [Int]? { attribute(name).map { $0.ints.map { Int($0) } } }
    func float(_ name: String, _ defaultValue: Float) -> Float { attribute(name)?.f ?? defaultValue }
    func string(_ name: String, _ defaultValue: String) -> String {
        attribute(name).map { String(decoding: $0.s, as: UTF8.self) } ?? defaultValue
    }
    func tensor(_ name: String) throws -> (shape: [Int], data: TensorData)? {
        try attribute(name).map { try $0.t.decoded(directory: nil) }
    }

    /// Throws unless attribute `name` is absent or one of `allowed` (for attributes ConvCL
    /// implements only some values of).
    func require(_ name: String, in allowed: [String], default defaultValue: String) throws {
        let value = string(name, defaultValue)
        guard allowed.contains(value) else {
            throw fail(name, "\"\(value)\" is not supported (supported: \(allowed.joined(separator: ", ")))")
        }
    }

    func requireInt(_ name: String, in allowed: [Int], default defaultValue: Int) throws {
        let value = int(name, defaultValue)
        guard allowed.contains(value) else { throw fail(name, "\(value) is not supported (supported: \(allowed))") }
    }
}

/// A node being run: its inputs (nil where the graph leaves an optional input out) and the
/// backend it runs on (the device, or the reference when every input is a host constant).
struct ONNXNodeRun {
    let node: ONNXNode
    let backend: any Backend
    let inputs: [Tensor?]

    var count: Int { inputs.count }

    /// Input `index`, which must be present.
    func input(_ index: Int) throws -> Tensor {
        guard index < inputs.count, let tensor = inputs[index] else {
            throw node.fail("input \(index)", "is required and missing")
        }
        return tensor
    }

    func optional(_ index: Int) -> Tensor? { index < inputs.count ? inputs[index] : nil }

    /// Input `index` read as integers (shapes, axes, pads: int64 or int32 tensors).
    func ints(_ index: Int) throws -> [Int] {
        let tensor = try input(index)
        guard tensor.dataType == .int64 else { throw node.fail("input \(index)", "must be an integer tensor, got \(tensor.dataType)") }
        return try tensor.int64Values().map { value in
            guard let narrow = Int(exactly: value) else { throw node.fail("input \(index)", "value \(value) is out of range") }
            return narrow
        }
    }

    func optionalInts(_ index: Int) throws -> [Int]? { optional(index) == nil ? nil : try ints(index) }

    /// Input `index` read as floats (Clip's bounds, Resize's scales).
    func floats(_ index: Int) throws -> [Float] {
        let tensor = try input(index)
        guard tensor.dataType == .float32 else { throw node.fail("input \(index)", "must be a float tensor, got \(tensor.dataType)") }
        return try tensor.values()
    }

    /// A scalar tensor of `value` on this node's backend, of `like`'s data type.
    func scalar(_ value: Double, like tensor: Tensor) throws -> Tensor {
        switch tensor.dataType {
        case .float32: try backend.tensor(shape: [], values: [Float(value)])
        case .int64: try backend.tensor(shape: [], int64Values: [Int64(value)])
        case .bool: try backend.tensor(shape: [], boolValues: [value != 0])
        }
    }
}
