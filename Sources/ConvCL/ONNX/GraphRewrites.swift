import Foundation

/// One rewrite ConvCL made to a model's graph when it loaded it: the nodes merged into a Conv.
public struct GraphRewrite: Sendable, CustomStringConvertible {
    /// How it was merged: "zero padding into its pads [...]", "batch normalisation into its
    /// weights and bias", "a per-channel constant into its bias", or "Relu fused" / "LeakyRelu fused".
    public let kind: String
    /// The Conv node that now does the merged work.
    public let node: String
    /// The node merged into it, gone from the plan.
    public let removed: String

    public var description: String { "\(removed) into \(node): \(kind)" }
}

/// The graph rewrites of a model at load, each applied only where its result is the graph's own
/// up to float32 rounding: a Conv absorbs
/// - a zero constant Pad of its spatial axes before it (into its pads; not under `auto_pad`);
/// - an inference BatchNormalization after it with constant parameters, when its weight and bias
///   are constants (W·s and (b − mean)·s + β with s = scale / √(var + ε), computed in Double);
/// - an Add of a constant that broadcasts as one value per output channel (into its bias);
/// - then a Relu or LeakyRelu (its fused activation). Not Sigmoid: an exp in the kernels' fused
///   activation made every convolution program 10–15% slower to build (`clconv prepare` 67.5 →
///   74–78 s), for no measurable gain on Basic Pitch, whose sigmoids are on small outputs.
/// The value between the two nodes must have no other reader and not be a graph output.
struct GraphRewriter {
    private(set) var nodes: [ONNXNode]
    /// The initializers, with the folded weights and biases added (under new names) and those no
    /// node reads any more removed.
    private(set) var initializers: [String: Tensor]
    private(set) var applied: [GraphRewrite] = []
    private let graphOutputs: Set<String>

    init(nodes: [ONNXNode], initializers: [String: Tensor], graphOutputs: Set<String>) {
        self.nodes = nodes
        self.initializers = initializers
        self.graphOutputs = graphOutputs
    }

    /// Applies every rewrite until none applies, then drops the initializers nothing reads.
    mutating func run() throws {
        var changed = true
        while changed {
            changed = false
            for index in nodes.indices where nodes[index].opType == "Conv" {
                if try foldPad(into: index) || foldFollower(into: index) {
                    changed = true
                    break
                }
            }
        }
        let read = Set(nodes.flatMap(\.proto.input)).union(graphOutputs)
        initializers = initializers.filter { read.contains($0.key) }
    }

    /// The index of the only node that reads `name`, when `name` is not a graph output.
    private func soleReader(of name: String) -> Int? {
        guard !graphOutputs.contains(name) else { return nil }
        let readers = nodes.indices.filter { nodes[$0].proto.input.contains(name) }
        return readers.count == 1 ? readers[0] : nil
    }

    /// A constant input's values as Doubles (an initializer, or a Constant node's `value`).
    private func constant(_ name: String) throws -> (shape: [Int], values: [Double])? {
        if let tensor = initializers[name] {
            return (tensor.shape, try tensor.data().doubles)
        }
        guard let node = nodes.first(where: { $0.opType == "Constant" && $0.proto.output.first == name }),
            let (shape, data) = try node.tensor("value")
        else { return nil }
        return (shape, data.doubles)
    }

    private mutating func record(_ kind: String, conv: Int, removed: Int) {
        applied.append(GraphRewrite(kind: kind, node: nodes[conv].label, removed: "\(nodes[removed].label) (\(nodes[removed].opType))"))
    }

    /// A Pad of zeros on the spatial axes only, whose only reader is the Conv at `index`.
    private mutating func foldPad(into index: Int) throws -> Bool {
        let conv = nodes[index]
        guard conv.string("auto_pad", "NOTSET") == "NOTSET", let padIndex = nodes.firstIndex(where: { $0.opType == "Pad" && $0.proto.output.first == conv.proto.input[0] }),
            soleReader(of: conv.proto.input[0]) == index
        else { return false }
        let pad = nodes[padIndex]
        let inputs = pad.proto.input
        guard pad.string("mode", "constant") == "constant", inputs.count >= 2, inputs.count < 4 || inputs[3].isEmpty,
            let pads = try constant(inputs[1])?.values.map({ Int($0) }), pads.count >= 6, pads.count % 2 == 0
        else { return false }
        if inputs.count >= 3, !inputs[2].isEmpty {
            guard let value = try constant(inputs[2]), value.values.allSatisfy({ $0 == 0 }) else { return false }
        }
        let rank = pads.count / 2, spatial = rank - 2
        guard pads[0] == 0, pads[1] == 0, pads[rank] == 0, pads[rank + 1] == 0, pads.allSatisfy({ $0 >= 0 }) else { return false }
        let old = conv.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
        guard old.count == 2 * spatial else { return false }
        let begins = (0..<spatial).map { old[$0] + pads[2 + $0] }, ends = (0..<spatial).map { old[spatial + $0] + pads[rank + 2 + $0] }
        var proto = conv.proto
        proto.input[0] = inputs[0]
        proto.attribute.removeAll { $0.name == "pads" }
        proto.attribute.append(.ints("pads", begins + ends))
        record("zero padding into its pads \(begins + ends)", conv: index, removed: padIndex)
        nodes[index] = ONNXNode(proto: proto, opset: conv.opset, activation: conv.activation)
        nodes.remove(at: padIndex)
        return true
    }

    /// The node after the Conv at `index`: BatchNormalization, a per-channel Add, or an activation.
    private mutating func foldFollower(into index: Int) throws -> Bool {
        let conv = nodes[index]
        guard conv.activation == .none, let output = conv.proto.output.first, let next = soleReader(of: output) else { return false }
        let follower = nodes[next]
        var proto = conv.proto
        var activation = Activation.none
        let kind: String
        switch follower.opType {
        case "Relu":
            activation = .relu
            kind = "Relu fused"
        case "LeakyRelu":
            activation = .leakyReLU(slope: follower.float("alpha", 0.01))
            kind = "LeakyRelu fused"
        case "BatchNormalization":
            guard follower.proto.output.count == 1, follower.int("training_mode", 0) == 0,
                let (weightShape, weight) = try constant(conv.proto.input[1]), weightShape.count >= 3
            else { return false }
            let k = weightShape[0]
            let parameters = try follower.proto.input.dropFirst().map { try constant($0) }
            guard parameters.count == 4, parameters.allSatisfy({ $0?.values.count == k }) else { return false }
            let (scale, beta, mean, variance) = (parameters[0]!.values, parameters[1]!.values, parameters[2]!.values, parameters[3]!.values)
            guard let bias = try convBias(conv, filters: k) else { return false }
            let epsilon = Double(follower.float("epsilon", 1e-5))
            let factor = (0..<k).map { scale[$0] / (variance[$0] + epsilon).squareRoot() }
            let perFilter = weight.count / k
            let folded = weight.indices.map { Float(weight[$0] * factor[$0 / perFilter]) }
            let foldedBias = (0..<k).map { Float((bias[$0] - mean[$0]) * factor[$0] + beta[$0]) }
            proto.input = [proto.input[0], addInitializer("\(output)/folded_weight", weightShape, folded), addInitializer("\(output)/folded_bias", [k], foldedBias)]
            kind = "batch normalisation into its weights and bias"
        case "Add":
            guard follower.proto.input.count == 2, let other = follower.proto.input.first(where: { $0 != output }),
                let weightShape = try constant(conv.proto.input[1])?.shape, weightShape.count >= 3, let (shape, addend) = try constant(other)
            else { return false }
            // One value per output channel, or one for all: the addend's shape, aligned to the
            // output's axes from the right, is [1, K or 1, 1, …].
            let k = weightShape[0], rank = weightShape.count
            guard shape.count <= rank else { return false }
            let aligned = [Int](repeating: 1, count: rank - shape.count) + shape
            guard aligned[0] == 1, aligned.dropFirst(2).allSatisfy({ $0 == 1 }), aligned[1] == 1 || aligned[1] == k,
                let bias = try convBias(conv, filters: k)
            else { return false }
            let sum = (0..<k).map { Float(bias[$0] + addend[aligned[1] == 1 ? 0 : $0]) }
            proto.input = [proto.input[0], proto.input[1], addInitializer("\(output)/folded_bias", [k], sum)]
            kind = "a per-channel constant into its bias"
        default:
            return false
        }
        proto.output = follower.proto.output
        record(kind, conv: index, removed: next)
        nodes[index] = ONNXNode(proto: proto, opset: conv.opset, activation: activation)
        nodes.remove(at: next)
        return true
    }

    /// The Conv's bias as Doubles (zeros without one); nil when it is not a constant.
    private func convBias(_ conv: ONNXNode, filters: Int) throws -> [Double]? {
        guard conv.proto.input.count > 2, !conv.proto.input[2].isEmpty else { return [Double](repeating: 0, count: filters) }
        guard let bias = try constant(conv.proto.input[2]), bias.values.count == filters else { return nil }
        return bias.values
    }

    /// Adds a float32 initializer under a name no value of the graph has, and returns the name.
    private mutating func addInitializer(_ base: String, _ shape: [Int], _ values: [Float]) -> String {
        let taken = Set(nodes.flatMap { $0.proto.input + $0.proto.output }).union(initializers.keys)
        var name = base, suffix = 1
        while taken.contains(name) {
            suffix += 1
            name = "\(base)\(suffix)"
        }
        initializers[name] = Tensor(shape: shape, host: .float32(values))
        return name
    }
}
