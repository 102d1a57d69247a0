extension ReferenceBackend {
    public func pool(_ input: Tensor, mode: PoolingMode, descriptor: PoolDescriptor, returnIndices: Bool) throws
        -> (values: Tensor, indices: Tensor?)
    {
        let operation = mode == .max ? "maxPool" : "averagePool"
        let g = try descriptor.geometry(input: input.shape, operation: operation)
        try checkIndicesRequest(mode: mode, returnIndices: returnIndices)
        let x = try hostValues(input, operation, "input")
        var values: [Float] = []
        var indices: [Int64] = []
        for plane in 0..<g.planes {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    var best = -Double.infinity
                    var bestIndex = -1
                    var sum = 0.0
                    var inputTaps = 0
                    var paddedTaps = 0
                    for r in 0..<g.kernelHeight {
                        let ih = oh * g.strideHeight - g.padTop + r * g.dilationHeight
                        for s in 0..<g.kernelWidth {
                            let iw = ow * g.strideWidth - g.padLeft + s * g.dilationWidth
                            // Taps past the padding (a ceil-mode window's end) count for nothing.
                            let inPaddedInput = ih >= -g.padTop && ih < g.inputHeight + g.padBottom
                                && iw >= -g.padLeft && iw < g.inputWidth + g.padRight
                            if inPaddedInput { paddedTaps += 1 }
                            guard ih >= 0, ih < g.inputHeight, iw >= 0, iw < g.inputWidth else { continue }
                            let index = ih * g.inputWidth + iw
                            let value = Double(x[plane * g.inputHeight * g.inputWidth + index])
                            inputTaps += 1
                            sum += value
                            // PyTorch's rule: a larger value or a NaN takes the place; ties keep the first.
                            if bestIndex < 0 || value > best || value.isNaN {
                                best = value
                                bestIndex = index
                            }
                        }
                    }
                    switch mode {
                    case .max:
                        values.append(Float(best))
                        indices.append(Int64(bestIndex))
                    case .average:
                        values.append(Float(sum / Double(g.countIncludePad ? paddedTaps : inputTaps)))
                    }
                }
            }
        }
        return (
            Tensor(shape: g.outputShape, host: .float32(values)),
            returnIndices ? Tensor(shape: g.outputShape, host: .int64(indices)) : nil
        )
    }

    public func activation(_ input: Tensor, _ activation: Activation) throws -> Tensor {
        try validate(activation, operation: "activation")
        let x = try hostValues(input, "activation", "input")
        guard activation != .none else { return input }
        return Tensor(shape: input.shape, host: .float32(x.map { Float(apply(activation, Double($0))) }))
    }
}

/// Indices exist only for max pooling.
func checkIndicesRequest(mode: PoolingMode, returnIndices: Bool) throws {
    if returnIndices && mode != .max {
        throw ConvCLError.invalidArgument(
            operation: "averagePool", argument: "returnIndices", reason: "indices exist only for max pooling")
    }
}

/// Checks an activation's parameters.
func validate(_ activation: Activation, operation: String) throws {
    if case .leakyReLU(let slope) = activation, !slope.isFinite {
        throw ConvCLError.invalidArgument(
            operation: operation, argument: "activation", reason: "leaky ReLU slope must be finite, got \(slope)")
    }
}
