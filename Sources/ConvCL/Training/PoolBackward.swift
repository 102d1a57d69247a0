/// The gradient of pooling's input (PyTorch's `max_pool2d_with_indices_backward` and
/// `avg_pool2d_backward`, 1-D and 2-D): inputs the output's gradient and, for max pooling, the
/// forward's indices (int64, a flat index into each input plane); the result has `inputShape`.
struct PoolBackward: Primitive {
    let mode: PoolingMode
    let descriptor: PoolDescriptor
    let inputShape: [Int]
    var name: String { mode == .max ? "maxPoolBackward" : "averagePoolBackward" }

    func geometry(_ inputs: [TensorType]) throws -> PoolGeometry {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: name, argument: argument, reason: reason)
        }
        let g = try descriptor.geometry(input: inputShape, operation: name)
        let expected = mode == .max ? 2 : 1
        guard inputs.count == expected else {
            throw fail("inputs", mode == .max ? "takes the output's gradient and the forward's indices" : "takes the output's gradient")
        }
        guard inputs[0].dataType == .float32, inputs[0].shape == g.outputShape else {
            throw fail("gradOutput", "expected float32 of the forward's output shape \(g.outputShape) (input \(inputShape)), got \(inputs[0])")
        }
        if mode == .max, inputs[1].dataType != .int64 || inputs[1].shape != g.outputShape {
            throw fail("indices", "expected int64 of the forward's output shape \(g.outputShape), got \(inputs[1])")
        }
        return g
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try geometry(inputs)
        return [TensorType(inputShape)]
    }

    /// Scatters each window's gradient onto its taps (the kernel gathers instead). An index that
    /// names no tap of its window (only a hand-made one can) passes nothing, on both backends.
    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let g = try geometry(types)
        let dy = inputs[0].doubles
        let indices: [Int64]
        if case .int64(let values) = inputs.count > 1 ? inputs[1] : .int64([]) { indices = values } else { indices = [] }
        let plane = g.inputHeight * g.inputWidth
        var dx = [Double](repeating: 0, count: outputs[0].count)
        for p in 0..<g.planes {
            for oh in 0..<g.outputHeight {
                for ow in 0..<g.outputWidth {
                    let q = (p * g.outputHeight + oh) * g.outputWidth + ow
                    var taps: [Int] = []
                    var paddedTaps = 0
                    for r in 0..<g.kernelHeight {
                        let ih = oh * g.strideHeight - g.padTop + r * g.dilationHeight
                        for s in 0..<g.kernelWidth {
                            let iw = ow * g.strideWidth - g.padLeft + s * g.dilationWidth
                            if ih >= -g.padTop, ih < g.inputHeight + g.padBottom, iw >= -g.padLeft, iw < g.inputWidth + g.padRight {
                                paddedTaps += 1
                            }
                            if ih >= 0, ih < g.inputHeight, iw >= 0, iw < g.inputWidth { taps.append(ih * g.inputWidth + iw) }
                        }
                    }
                    switch mode {
                    case .max:
                        if taps.contains(Int(indices[q])) { dx[p * plane + Int(indices[q])] += dy[q] }
                    case .average:
                        let divisor = Double(g.countIncludePad ? paddedTaps : taps.count)
                        // As the kernel: the float32 quotient, summed.
                        for tap in taps { dx[p * plane + tap] += Double(Float(dy[q]) / Float(divisor)) }
                    }
                }
            }
        }
        return [.float32(dx.map { Float($0) })]
    }

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let g = try geometry(inputs.map(\.type))
        let (result, dx) = try backend.output(shape: outputs[0].shape, operation: name)
        let count = try int32Count(outputs[0].shape, name)
        _ = try int32Count(inputs[0].shape, name)
        let sizes = [
            g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth, g.strideHeight, g.strideWidth,
            g.padTop, g.padLeft, g.padBottom, g.padRight, g.dilationHeight, g.dilationWidth, mode == .average ? 1 : 0,
            g.countIncludePad ? 1 : 0,
        ]
        try backend.launch(
            ConvWeightGradient.program, kernel: "pool_backward",
            arguments: [
                .buffer(dx), .buffer(try backend.buffer(of: inputs[0], name, "gradOutput")),
                .buffer(mode == .max ? try backend.anyBuffer(of: inputs[1], name, "indices") : nil), .int32(Int32(count)),
            ] + (try sizes.map { .int32(try int32($0, name)) }),
            globalSize: [GEMMTile.roundUp(count, 64)], localSize: [64])
        return [result]
    }

    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] { [ConvWeightGradient.program] }
}

extension Backend {
    /// The backward pass of max pooling (1-D or 2-D): the gradient of the input [N, C, …], each
    /// window's output gradient going to the tap its index names (the first maximum, as the
    /// forward chose it); overlapping windows add up.
    /// - Parameters:
    ///   - gradOutput: the gradient of the forward's output.
    ///   - indices: the forward's indices (`maxPoolWithIndices`), of the output's shape.
    ///   - inputShape: the forward's input shape.
    public func maxPoolBackward(gradOutput: Tensor, indices: Tensor, inputShape: [Int], descriptor: PoolDescriptor) throws -> Tensor {
        try runSingle(PoolBackward(mode: .max, descriptor: descriptor, inputShape: inputShape), [gradOutput, indices])
    }

    /// The backward pass of average pooling (1-D or 2-D): each window's output gradient divided by
    /// the forward's divisor (its taps in the input, or in the padded input with
    /// `countIncludePad`; a ceil-mode window clipped at the padding, as PyTorch clips it) and given
    /// to each of its taps in the input.
    public func averagePoolBackward(gradOutput: Tensor, inputShape: [Int], descriptor: PoolDescriptor) throws -> Tensor {
        try runSingle(PoolBackward(mode: .average, descriptor: descriptor, inputShape: inputShape), [gradOutput])
    }
}
