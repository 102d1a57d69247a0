import Foundation

/// One optimizer step on one parameter tensor, as a device kernel: inputs the weight, its
/// gradient and the optimizer's state tensors; outputs the new weight and the new state. The
/// formulas are PyTorch's (`torch.optim.SGD` with dampening 0, `torch.optim.Adam`), in float32 as
/// the kernel computes them.
struct OptimizerStep: Primitive {
    enum Rule: Hashable {
        case sgd(learningRate: Float, momentum: Float, weightDecay: Float, nesterov: Bool)
        /// `step` counts from 1.
        case adam(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, step: Int)

        var stateCount: Int {
            if case .sgd = self { return 1 }
            return 2
        }
    }

    let rule: Rule
    var name: String { if case .sgd = rule { "sgdStep" } else { "adamStep" } }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        guard inputs.count == 2 + rule.stateCount, inputs.allSatisfy({ $0 == inputs[0] && $0.dataType == .float32 }) else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "inputs",
                reason: "takes the weight, its gradient and \(rule.stateCount) state tensors, all float32 of one shape; got \(inputs)")
        }
        return [TensorType](repeating: inputs[0], count: 1 + rule.stateCount)
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let values = inputs.map { data -> [Float] in
            if case .float32(let values) = data { return values }
            return []
        }
        let (w, g) = (values[0], values[1])
        switch rule {
        case .sgd(let lr, let momentum, let decay, let nesterov):
            var (newW, newV) = (w, w)
            for i in w.indices {
                let d = g[i] + decay * w[i]
                let v = momentum * values[2][i] + d
                newV[i] = v
                newW[i] = w[i] - lr * (nesterov ? d + momentum * v : v)
            }
            return [.float32(newW), .float32(newV)]
        case .adam(let lr, let beta1, let beta2, let epsilon, let decay, let step):
            let (c1, c2) = corrections(beta1, beta2, step)
            var (newW, newM, newV) = (w, w, w)
            for i in w.indices {
                let d = g[i] + decay * w[i]
                let m = beta1 * values[2][i] + (1 - beta1) * d
                let v = beta2 * values[3][i] + (1 - beta2) * d * d
                (newM[i], newV[i]) = (m, v)
                newW[i] = w[i] - (lr / c1) * m / (v.squareRoot() / c2.squareRoot() + epsilon)
            }
            return [.float32(newW), .float32(newM), .float32(newV)]
        }
    }

    /// 1 − β^step for both betas, in Double then rounded (as PyTorch computes them on the host).
    private func corrections(_ beta1: Float, _ beta2: Float, _ step: Int) -> (Float, Float) {
        (Float(1 - pow(Double(beta1), Double(step))), Float(1 - pow(Double(beta2), Double(step))))
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let made = try outputs.map { try backend.output(shape: $0.shape, operation: name) }
        let count = try int32Count(inputs[0].shape, name)
        let buffers = try inputs.enumerated().map { try backend.buffer(of: $1, name, "input \($0)") }
        let head: [KernelArgument] = made.map { .buffer($0.1) } + buffers.map { .buffer($0) } + [.int32(Int32(count))]
        switch rule {
        case .sgd(let lr, let momentum, let decay, let nesterov):
            try backend.launch(
                ConvWeightGradient.program, kernel: "sgd_step",
                arguments: head + [.float(lr), .float(momentum), .float(decay), .int32(nesterov ? 1 : 0)],
                globalSize: [GEMMTile.roundUp(max(count, 1), 64)], localSize: [64])
        case .adam(let lr, let beta1, let beta2, let epsilon, let decay, let step):
            let (c1, c2) = corrections(beta1, beta2, step)
            try backend.launch(
                ConvWeightGradient.program, kernel: "adam_step",
                arguments: head + [.float(lr), .float(beta1), .float(beta2), .float(epsilon), .float(decay), .float(c1), .float(c2)],
                globalSize: [GEMMTile.roundUp(max(count, 1), 64)], localSize: [64])
        }
        return made.map(\.0)
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { [ConvWeightGradient.program] }
}

/// Updates parameters from their gradients, keeping its state (velocities, moments) as tensors
/// of the parameters' backend: parameters and state stay on the device through training.
public protocol Optimizer: AnyObject {
    /// Replaces each of `parameters` by its updated value, given `gradients` (one per parameter,
    /// of its shape). The state is kept per position in `parameters`, so pass them in one order.
    func step(_ parameters: inout [Tensor], gradients: [Tensor]) throws
}

/// Stochastic gradient descent with momentum and weight decay (`torch.optim.SGD`, dampening 0).
public final class SGD: Optimizer {
    public let backend: any Backend
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float, nesterov: Bool
    private var velocities: [Tensor] = []

    public init(backend: any Backend, learningRate: Float, momentum: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.backend = backend
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public func step(_ parameters: inout [Tensor], gradients: [Tensor]) throws {
        try checkStep(parameters, gradients, state: velocities.count, "SGD")
        if velocities.isEmpty { velocities = try parameters.map { try zeros(like: $0, backend) } }
        let rule = OptimizerStep.Rule.sgd(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        for index in parameters.indices {
            let results = try backend.run(OptimizerStep(rule: rule), [parameters[index], gradients[index], velocities[index]])
            (parameters[index], velocities[index]) = (results[0], results[1])
        }
    }
}

/// Adam (`torch.optim.Adam`, with L2 weight decay added to the gradient).
public final class Adam: Optimizer {
    public let backend: any Backend
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    private var means: [Tensor] = [], squares: [Tensor] = []
    /// Steps taken.
    public private(set) var steps = 0

    public init(
        backend: any Backend, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        self.backend = backend
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public func step(_ parameters: inout [Tensor], gradients: [Tensor]) throws {
        try checkStep(parameters, gradients, state: means.count, "Adam")
        if means.isEmpty {
            means = try parameters.map { try zeros(like: $0, backend) }
            squares = try parameters.map { try zeros(like: $0, backend) }
        }
        steps += 1
        let rule = OptimizerStep.Rule.adam(
            learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay, step: steps)
        for index in parameters.indices {
            let results = try backend.run(OptimizerStep(rule: rule), [parameters[index], gradients[index], means[index], squares[index]])
            (parameters[index], means[index], squares[index]) = (results[0], results[1], results[2])
        }
    }
}

/// Checks a step's operands; `state` is how many parameters the optimizer has state for (0
/// before its first step).
private func checkStep(_ parameters: [Tensor], _ gradients: [Tensor], state: Int, _ operation: String) throws {
    guard state == 0 || state == parameters.count else {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "parameters", reason: "the optimizer holds state for \(state) parameters, got \(parameters.count)")
    }
    guard parameters.count == gradients.count, zip(parameters, gradients).allSatisfy({ $0.shape == $1.shape }) else {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "gradients",
            reason: "expected one per parameter, of its shape: parameters \(parameters.map(\.shape)), gradients \(gradients.map(\.shape))")
    }
}

private func zeros(like tensor: Tensor, _ backend: any Backend) throws -> Tensor {
    try backend.tensor(shape: tensor.shape, values: [Float](repeating: 0, count: tensor.count))
}
