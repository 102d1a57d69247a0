/// A layer of a network trained with a `Tape`: its parameters (tensors of one backend, kept on
/// it) and its forward on the tape.
public protocol Layer: AnyObject {
    /// The parameters, in a fixed order (a convolution's: weight, then bias). An optimizer's
    /// step replaces them.
    var parameters: [Tensor] { get set }

    /// The layer applied to `x` on `tape`, with `parameters` the tape's variables of this layer's
    /// parameters (in their order). `training` switches dropout on.
    func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable
}

extension Layer {
    public var parameters: [Tensor] {
        get { [] }
        set {}
    }
}

/// Uniform values in [-bound, bound): PyTorch's default initialisation of convolutions and dense
/// layers (Kaiming uniform with a = √5, i.e. bound 1 / √fanIn, for weight and bias alike).
private func uniform(_ shape: [Int], bound: Float, _ backend: any Backend, _ generator: inout SeededGenerator) throws -> Tensor {
    try backend.tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -bound..<bound, using: &generator) })
}

/// A 1-D convolution layer (`torch.nn.Conv1d`): weight [out, in/groups, kernel] and bias [out].
public final class Conv1d: Layer {
    public var parameters: [Tensor]
    public let descriptor: Conv1DDescriptor

    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernel: Int, descriptor: Conv1DDescriptor = .init(), bias: Bool = true,
        backend: any Backend, generator: inout SeededGenerator
    ) throws {
        self.descriptor = descriptor
        let bound = 1 / Float(inputChannels / max(descriptor.groups, 1) * kernel).squareRoot()
        parameters = [try uniform([outputChannels, inputChannels / max(descriptor.groups, 1), kernel], bound: bound, backend, &generator)]
        if bias { parameters.append(try uniform([outputChannels], bound: bound, backend, &generator)) }
    }

    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.conv1d(x, weight: parameters[0], bias: parameters.count > 1 ? parameters[1] : nil, descriptor: descriptor)
    }
}

/// A 2-D convolution layer (`torch.nn.Conv2d`): weight [out, in/groups, R, S] and bias [out].
public final class Conv2d: Layer {
    public var parameters: [Tensor]
    public let descriptor: Conv2DDescriptor

    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernel: [Int], descriptor: Conv2DDescriptor = .init(), bias: Bool = true,
        backend: any Backend, generator: inout SeededGenerator
    ) throws {
        self.descriptor = descriptor
        let perGroup = inputChannels / max(descriptor.groups, 1)
        let bound = 1 / Float(perGroup * kernel.reduce(1, *)).squareRoot()
        parameters = [try uniform([outputChannels, perGroup] + kernel, bound: bound, backend, &generator)]
        if bias { parameters.append(try uniform([outputChannels], bound: bound, backend, &generator)) }
    }

    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.conv2d(x, weight: parameters[0], bias: parameters.count > 1 ? parameters[1] : nil, descriptor: descriptor)
    }
}

/// A dense layer (`torch.nn.Linear`): weight [out, in] and bias [out], on [N, in].
public final class Linear: Layer {
    public var parameters: [Tensor]

    public init(_ inputs: Int, _ outputs: Int, bias: Bool = true, backend: any Backend, generator: inout SeededGenerator) throws {
        let bound = 1 / Float(inputs).squareRoot()
        parameters = [try uniform([outputs, inputs], bound: bound, backend, &generator)]
        if bias { parameters.append(try uniform([outputs], bound: bound, backend, &generator)) }
    }

    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.linear(x, weight: parameters[0], bias: parameters.count > 1 ? parameters[1] : nil)
    }
}

/// Max pooling (1-D or 2-D by the descriptor's kernel).
public final class MaxPool: Layer {
    public let descriptor: PoolDescriptor
    public init(_ descriptor: PoolDescriptor) { self.descriptor = descriptor }
    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.maxPool(x, descriptor: descriptor)
    }
}

/// Average pooling (1-D or 2-D by the descriptor's kernel).
public final class AvgPool: Layer {
    public let descriptor: PoolDescriptor
    public init(_ descriptor: PoolDescriptor) { self.descriptor = descriptor }
    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.averagePool(x, descriptor: descriptor)
    }
}

/// The mean over the spatial axes, flattened to [N, C] for a dense layer after it.
public final class GlobalAvgPool: Layer {
    public init() {}
    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.flatten(try tape.globalAveragePool(x))
    }
}

/// ReLU.
public final class ReLU: Layer {
    public init() {}
    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.relu(x)
    }
}

/// [N, …] as [N, everything else].
public final class Flatten: Layer {
    public init() {}
    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        try tape.flatten(x)
    }
}

/// A new axis of size 1 at `axis` (ONNX Unsqueeze): a 1-D layer's [N, C, L] as an image
/// [N, 1, C, L] for a 2-D layer after it, with axis 1.
public final class Unsqueeze: Layer {
    public let axis: Int
    public init(axis: Int) { self.axis = axis }
    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        guard (0...x.shape.count).contains(axis) else {
            throw ConvCLError.invalidArgument(operation: "Unsqueeze", argument: "axis", reason: "\(axis) is outside 0...\(x.shape.count) for \(x.shape)")
        }
        var shape = x.shape
        shape.insert(1, at: axis)
        return try tape.reshape(x, shape)
    }
}

/// Inverted dropout while training (`torch.nn.Dropout`); the identity otherwise. Its masks come
/// from its own seeded generator, so a seed replays a training run.
public final class Dropout: Layer {
    public let probability: Float
    private var generator: SeededGenerator

    public init(_ probability: Float, seed: UInt64) {
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        training && probability > 0 ? try tape.dropout(x, probability: probability, generator: &generator) : x
    }
}

/// Layers applied one after the other; its parameters are theirs, in order.
public final class Sequential: Layer {
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public var parameters: [Tensor] {
        get { layers.flatMap(\.parameters) }
        set {
            var rest = newValue[...]
            for layer in layers {
                let count = layer.parameters.count
                layer.parameters = Array(rest.prefix(count))
                rest = rest.dropFirst(count)
            }
        }
    }

    public func forward(_ x: Variable, parameters: [Variable], on tape: Tape, training: Bool) throws -> Variable {
        var y = x
        var rest = parameters[...]
        for layer in layers {
            let count = layer.parameters.count
            y = try layer.forward(y, parameters: Array(rest.prefix(count)), on: tape, training: training)
            rest = rest.dropFirst(count)
        }
        return y
    }

    /// The network on `input` outside training (dropout off), recorded on a tape of `backend`
    /// that is then dropped.
    public func callAsFunction(_ input: Tensor, backend: any Backend) throws -> Tensor {
        let tape = Tape(backend: backend)
        return try forward(tape.constant(input), parameters: parameters.map(tape.constant), on: tape, training: false).value
    }

    /// One training step: the loss `loss` gives for the network's output on `input`, its
    /// gradients, and `optimizer`'s update of the parameters. Returns the loss and the output.
    @discardableResult
    public func trainingStep(
        _ input: Tensor, backend: any Backend, optimizer: any Optimizer, loss: (Tape, Variable) throws -> Variable
    ) throws -> (loss: Float, output: Tensor) {
        let tape = Tape(backend: backend)
        let variables = parameters.map(tape.parameter)
        let output = try forward(tape.constant(input), parameters: variables, on: tape, training: true)
        let value = try loss(tape, output)
        var updated = parameters
        try optimizer.step(&updated, gradients: try tape.gradients(of: value, withRespectTo: variables))
        parameters = updated
        return (try value.value.values()[0], output.value)
    }
}
