/// A tensor recorded on a `Tape`: the value an operation gave, and its place on the tape.
public struct Variable: Sendable {
    /// The value, a tensor of the tape's backend.
    public let value: Tensor
    let id: Int
    /// Whether a gradient flows to it: a parameter, or the result of an operation on one.
    let requiresGradient: Bool

    public var shape: [Int] { value.shape }
}

/// Reverse-mode differentiation over a recorded sequence of operations (a Wengert list, as
/// PyTorch's autograd and JAX's `vjp` build one): each operation on the tape computes its value
/// on the backend now and records how to turn the gradient of its output into the gradients of its
/// inputs. `gradients(of:withRespectTo:)` then walks the records backwards, once, summing the
/// gradients of a variable used more than once. Every backward rule is one of the backend's
/// backward passes, so the gradients stay on the device and are bit-identical run after run.
///
/// A tape records one evaluation (a training step); make a new one for the next. It is not
/// shared between threads.
public final class Tape {
    public let backend: any Backend

    /// Given the gradient of a record's output and which of its inputs need one, their gradients
    /// (nil where not needed).
    typealias Backward = (_ gradient: Tensor, _ needs: [Bool]) throws -> [Tensor?]

    private struct Record {
        let inputs: [Variable]
        let backward: Backward?
    }

    private var records: [Record] = []

    public init(backend: any Backend) {
        self.backend = backend
    }

    /// A variable the gradients are taken with respect to (a layer's weight, say).
    public func parameter(_ tensor: Tensor) -> Variable { leaf(tensor, requiresGradient: true) }

    /// A variable no gradient flows to (the data, the labels).
    public func constant(_ tensor: Tensor) -> Variable { leaf(tensor, requiresGradient: false) }

    private func leaf(_ tensor: Tensor, requiresGradient: Bool) -> Variable {
        records.append(Record(inputs: [], backward: nil))
        return Variable(value: tensor, id: records.count - 1, requiresGradient: requiresGradient)
    }

    /// Records an operation's result `value` on `inputs` with its backward rule.
    func record(_ value: Tensor, _ inputs: [Variable], backward: @escaping Backward) -> Variable {
        let requires = inputs.contains { $0.requiresGradient }
        records.append(Record(inputs: inputs, backward: requires ? backward : nil))
        return Variable(value: value, id: records.count - 1, requiresGradient: requires)
    }

    /// The gradients of `loss`, a variable of one element, with respect to each of `variables`
    /// (zeros for one the loss does not depend on), shaped as each.
    /// - Throws: `ConvCLError.invalidArgument` for a loss of more than one element, or a variable
    ///   of another tape.
    public func gradients(of loss: Variable, withRespectTo variables: [Variable]) throws -> [Tensor] {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: "gradients", argument: argument, reason: reason)
        }
        guard loss.value.count == 1, loss.value.dataType == .float32 else {
            throw fail("loss", "must be one float32 element, got \(loss.value.type)")
        }
        for variable in variables + [loss] where variable.id >= records.count {
            throw fail("variables", "variable \(variable.id) is not on this tape of \(records.count) records")
        }
        let requested = Set(variables.map(\.id))
        var gradients: [Int: Tensor] = [loss.id: try backend.tensor(shape: loss.shape, values: [1])]
        for id in stride(from: loss.id, through: 0, by: -1) {
            guard let gradient = gradients[id], let backward = records[id].backward else { continue }
            let inputs = records[id].inputs
            let results = try backward(gradient, inputs.map(\.requiresGradient))
            for (input, result) in zip(inputs, results) where input.requiresGradient {
                guard let result else { continue }
                guard result.shape == input.shape else {
                    throw fail("backward", "a rule gave a gradient of shape \(result.shape) for an input of shape \(input.shape)")
                }
                gradients[input.id] = try gradients[input.id].map { try backend.elementwise(.add, $0, result) } ?? result
            }
            // No longer needed: its buffer can serve the next gradient.
            if !requested.contains(id) { gradients[id] = nil }
        }
        return try variables.map { variable in
            try gradients[variable.id] ?? backend.tensor(shape: variable.shape, values: [Float](repeating: 0, count: variable.value.count))
        }
    }
}

/// Evaluates `body` on a new tape with `parameters` as its parameters, and gives the loss it
/// returns and the loss's gradients with respect to each parameter.
public func valueAndGradients(
    on backend: any Backend, with parameters: [Tensor], of body: (Tape, [Variable]) throws -> Variable
) throws -> (loss: Tensor, gradients: [Tensor]) {
    let tape = Tape(backend: backend)
    let variables = parameters.map(tape.parameter)
    let loss = try body(tape, variables)
    return (loss.value, try tape.gradients(of: loss, withRespectTo: variables))
}
