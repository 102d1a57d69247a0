/// Which gradients a backward pass computes: only those asked for are.
public struct GradientSelection: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The gradient of the operation's input (the data).
    public static let input = GradientSelection(rawValue: 1)
    /// The gradient of the weight.
    public static let weight = GradientSelection(rawValue: 2)
    /// The gradient of the bias.
    public static let bias = GradientSelection(rawValue: 4)
    public static let all: GradientSelection = [.input, .weight, .bias]
}

/// The gradients of a convolution's loss with respect to its operands; nil where not asked for.
public struct ConvolutionGradients: Sendable {
    /// Shaped as the input: [N, C, H, W] (1-D: [N, C, L]).
    public let input: Tensor?
    /// Shaped as the weight: [K, C/groups, R, S] (1-D: [K, C/groups, S]).
    public let weight: Tensor?
    /// [K].
    public let bias: Tensor?
}

/// The gradient of a 2-D convolution's weight (PyTorch's `convolution_backward` weight output):
/// input [N, C, H, W] and the gradient of the output before the activation, [N, K, OH, OW]; the
/// result has `weightShape`. With `mode: .convolution` the forward flipped the kernel, and so
/// does this.
struct ConvWeightGradient: Primitive {
    /// The forward's parameters (its activation is not used: the gradient comes masked).
    let descriptor: Conv2DDescriptor
    let weightShape: [Int]
    var name: String { "ConvWeightGradient" }

    func geometry(_ inputs: [TensorType]) throws -> ConvolutionGeometry {
        guard inputs.count == 2, inputs.allSatisfy({ $0.dataType == .float32 }) else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "inputs", reason: "takes the float32 input and output gradient, got \(inputs)")
        }
        var forward = descriptor
        forward.activation = .none
        let g = try forward.geometry(input: inputs[0].shape, weight: weightShape, bias: nil)
        guard inputs[1].shape == g.outputShape else {
            throw ConvCLError.invalidArgument(
                operation: name, argument: "gradOutput",
                reason: "expected the forward's output shape \(g.outputShape) (input \(inputs[0].shape), weight \(weightShape)), got \(inputs[1].shape)")
        }
        return g
    }

    func outputTypes(_ inputs: [TensorType]) throws -> [TensorType] {
        _ = try geometry(inputs)
        return [TensorType(weightShape)]
    }

    func reference(_ inputs: [TensorData], types: [TensorType], outputs: [TensorType]) throws -> [TensorData] {
        let g = try geometry(types)
        let (x, dy) = (inputs[0].doubles, inputs[1].doubles)
        let (cg, kg) = (g.inputChannelsPerGroup, g.outputChannelsPerGroup)
        var dw = [Double](repeating: 0, count: outputs[0].count)
        for n in 0..<g.batch {
            for k in 0..<g.outputChannels {
                for oh in 0..<g.outputHeight {
                    for ow in 0..<g.outputWidth {
                        let gradient = dy[((n * g.outputChannels + k) * g.outputHeight + oh) * g.outputWidth + ow]
                        for c in 0..<cg {
                            let channel = k / kg * cg + c
                            for r in 0..<g.kernelHeight {
                                let ih = oh * g.strideHeight - g.padTop + r * g.dilationHeight
                                guard ih >= 0, ih < g.inputHeight else { continue }
                                for s in 0..<g.kernelWidth {
                                    let iw = ow * g.strideWidth - g.padLeft + s * g.dilationWidth
                                    guard iw >= 0, iw < g.inputWidth else { continue }
                                    // Tap (r, s) applied weight (R-1-r, S-1-s) in a true convolution.
                                    let (wr, ws) = g.flipped ? (g.kernelHeight - 1 - r, g.kernelWidth - 1 - s) : (r, s)
                                    let value = x[((n * g.inputChannels + channel) * g.inputHeight + ih) * g.inputWidth + iw]
                                    dw[((k * cg + c) * g.kernelHeight + wr) * g.kernelWidth + ws] += gradient * value
                                }
                            }
                        }
                    }
                }
            }
        }
        return [.float32(dw.map { Float($0) })]
    }

    static let program = ProgramSpec("training")
    /// Whether the gradient is summed along rows (`alongRows`): for groups of few filters and
    /// channels (depthwise), where the GEMM does not run and the alternative gathers; and without
    /// groups, for one input channel, or 16 taps or fewer in all at a stride of 1 along the width
    /// (a 3×3 over a spectrogram, Basic Pitch's 1×256 filter bank over the audio), where the
    /// GEMM's patches are as large as the work and its panels mostly padding. bench --backward,
    /// alternated: the 1×256 filter bank 1.6–1.8 ms against 2.8–3.0 through the GEMM; one channel
    /// into 128 filters of 5×5 5.5–6.8 against 11.6–12.7, into 16 of 7×7 1.4–1.6 against 4.4–6.1.
    /// With more channels it lost (Basic Pitch's 8-channel 3×39 16.7–17.0 against 13.7–14.1; a 3×3
    /// from 32 channels 71–73 against 14–17).
    ///
    /// At a stride along the width, the input's columns are cut into its phases first, so that
    /// each tap reads one phase at stride 1.
    static func summedAlongRows(_ g: ConvolutionGeometry) -> Bool {
        if g.groups == 1 { return g.inputChannelsPerGroup == 1 || (g.strideWidth == 1 && g.patchRows <= 16) }
        return g.outputChannelsPerGroup < 16 && g.inputChannelsPerGroup <= 8
    }
    /// The fewest input channels for which Winograd's form of the gradient runs (below, its 36
    /// GEMMs are too narrow to pay for the transforms).
    static let winogradChannels = 16

    func encode(_ inputs: [Tensor], outputs: [TensorType], on backend: OpenCLBackend) throws -> [Tensor] {
        let g = try geometry(inputs.map(\.type))
        // The GEMM reads the input's patches (taps× its size) once per panel of filters, so it
        // pays with 16 filters a group or more; below that the convolution form (bench
        // --backward: with 32-128 filters the GEMM took 0.5-0.8× the convolution form's time,
        // with 8 filters 7×, with one 30×; docs/performance.md).
        if Self.summedAlongRows(g) { return [try alongRows(inputs[0], inputs[1], g, on: backend)] }
        if g.outputChannelsPerGroup >= 16 {
            if g.winogradApplies, g.inputChannels >= Self.winogradChannels,
                let gradient = try backend.weightGradientWinograd(input: inputs[0], gradOutput: inputs[1], g, operation: name)
            {
                return [gradient]
            }
            if let gradient = try backend.weightGradientGEMM(input: inputs[0], gradOutput: inputs[1], g, operation: name) { return [gradient] }
        }
        if g.groups == 1 { return [try asConvolution(inputs[0], inputs[1], g, on: backend)] }
        let (result, dw) = try backend.output(shape: outputs[0].shape, operation: name)
        let count = try int32Count(outputs[0].shape, name)
        _ = try int32Count(inputs[0].shape, name)
        _ = try int32Count(inputs[1].shape, name)
        let sizes = [
            g.batch, g.inputChannels, g.inputHeight, g.inputWidth, g.outputChannels, g.outputHeight, g.outputWidth,
            g.kernelHeight, g.kernelWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft, g.dilationHeight,
            g.dilationWidth, g.groups, g.flipped ? 1 : 0,
        ]
        try backend.launch(
            Self.program, kernel: "conv_weight_grad",
            arguments: [
                .buffer(dw), .buffer(try backend.buffer(of: inputs[0], name, "input")),
                .buffer(try backend.buffer(of: inputs[1], name, "gradOutput")), .int32(Int32(count)),
            ] + (try sizes.map { .int32(try int32($0, name)) }),
            globalSize: [GEMMTile.roundUp(count, 64)], localSize: [64])
        return [result]
    }

    /// Few channels a group (depthwise), or one input channel (a 3×3 over a spectrogram, a filter
    /// bank over audio): each work-item of `conv_weight_grad_rows` sums up to 16 taps of one filter
    /// and channel along output rows, 16 positions at a time, reading the output gradient's row
    /// once for them all (at a stride along the width, from the input's phases);
    /// the rows are cut into parts for 64 work-items a core, whose partial sums are then added in
    /// a fixed order.
    private func alongRows(_ x: Tensor, _ dy: Tensor, _ g: ConvolutionGeometry, on backend: OpenCLBackend) throws -> Tensor {
        let (rows, filterChannels) = (g.batch * g.outputHeight, g.outputChannels * g.inputChannelsPerGroup)
        let blocks = (g.kernelHeight * g.kernelWidth + 15) / 16
        let parts = max(1, min(rows, (64 * backend.device.computeUnits + blocks * filterChannels - 1) / (blocks * filterChannels)))
        let rowsPerPart = (rows + parts - 1) / parts
        let used = (rows + rowsPerPart - 1) / rowsPerPart
        let (partials, buffer) = try backend.output(shape: [used] + weightShape, operation: name)
        _ = try int32Count(x.shape, name)
        _ = try int32Count(dy.shape, name)
        // At a stride along the width, the columns in its phases, padded: [N, C·sW, H, JW], tap s
        // reading phase (s·dilation) mod sW from column ow + (s·dilation) / sW on.
        var (input, width, padLeft) = (x, g.inputWidth, g.padLeft)
        if g.strideWidth > 1 {
            width = g.outputWidth + (g.kernelWidth - 1) * g.dilationWidth / g.strideWidth
            input = try StridePhases.split(
                x, strides: [1, g.strideWidth], into: [g.batch, g.inputChannels * g.strideWidth, g.inputHeight, width],
                pads: [0, g.padLeft], keepsDerived: false, on: backend, "input")
            padLeft = 0
        }
        let sizes = [
            g.batch, g.inputChannels, g.inputHeight, width, g.outputChannels, g.outputHeight, g.outputWidth,
            g.kernelHeight, g.kernelWidth, g.strideHeight, g.padTop, padLeft, g.dilationHeight, g.dilationWidth, g.groups,
            g.flipped ? 1 : 0, rowsPerPart, g.strideWidth,
        ]
        try backend.launch(
            Self.program, kernel: "conv_weight_grad_rows",
            arguments: [.buffer(buffer), .buffer(try backend.buffer(of: input, name, "input")), .buffer(try backend.buffer(of: dy, name, "gradOutput"))]
                + (try sizes.map { .int32(try int32($0, name)) }),
            globalSize: [blocks, GEMMTile.roundUp(filterChannels, 16), used], localSize: [1, 16, 1])
        guard used > 1 else { return try partials.reshaped(weightShape) }
        return try backend.reduce(partials, descriptor: ReduceDescriptor(.sum, axes: [0], keepDims: false))
    }

    /// Without groups, the weight gradient is itself a convolution, run on the forward's fast
    /// kernels: the input with batch and channels swapped ([C, N, H, W]) correlated with the
    /// output gradient as the kernel ([K, N, OH, OW]), the forward's dilation as the stride and its
    /// stride as the dilation, gives [C, K, R…, S…]; its first R × S positions, channels swapped
    /// back, are the gradient (flipped for a true convolution).
    private func asConvolution(_ x: Tensor, _ dy: Tensor, _ g: ConvolutionGeometry, on backend: OpenCLBackend) throws -> Tensor {
        // The pads the forward read beyond the input's end (at most the ones it was given).
        let bottom = max(0, (g.kernelHeight - 1) * g.dilationHeight + (g.outputHeight - 1) * g.strideHeight - g.padTop - (g.inputHeight - 1))
        let right = max(0, (g.kernelWidth - 1) * g.dilationWidth + (g.outputWidth - 1) * g.strideWidth - g.padLeft - (g.inputWidth - 1))
        let correlation = try backend.conv2d(
            try backend.transpose(x, permutation: [1, 0, 2, 3]), weight: try backend.transpose(dy, permutation: [1, 0, 2, 3]), bias: nil,
            descriptor: Conv2DDescriptor(
                stride: [g.dilationHeight, g.dilationWidth], padding: .explicit([g.padTop, g.padLeft, bottom, right]),
                dilation: [g.strideHeight, g.strideWidth]))
        var taps = try backend.slice(correlation, starts: [0, 0], ends: [g.kernelHeight, g.kernelWidth], axes: [2, 3])
        if g.flipped { taps = try backend.reversed(taps, axes: [2, 3]) }
        return try backend.transpose(taps, permutation: [1, 0, 2, 3])
    }

    /// The training program (the kernels that sum along rows, or gather), with the copy program's
    /// phase split where the rows' form takes a stride, and the GEMM's and Winograd's where `encode`
    /// runs them (the convolution form's come from the convolutions it runs).
    func programs(for inputs: [TensorType], on backend: OpenCLBackend) -> [ProgramSpec] {
        guard let g = try? geometry(inputs) else { return [Self.program] }
        if Self.summedAlongRows(g) { return [Self.program] + (g.strideWidth > 1 ? [copyProgram(.float32)] : []) }
        guard g.outputChannelsPerGroup >= 16 else { return [Self.program] }
        let winograd = g.winogradApplies && g.inputChannels >= Self.winogradChannels
        return [Self.program, backend.gemmTile.program("conv_gemm")] + (winograd ? [backend.winogradProgram(g)] : [])
    }
}

extension Backend {
    /// The backward pass of `conv2d` (PyTorch's `convolution_backward`): the gradients of a loss
    /// with respect to the input, the weight and the bias, given the gradient of the loss with
    /// respect to the output, `gradOutput` [N, K, OH, OW].
    ///
    /// The input gradient is the transposed convolution of the output gradient (with the kernel
    /// flipped for `mode: .convolution`); the weight gradient correlates the input with it; the
    /// bias gradient sums it over the batch and the positions. Each is a sum in a fixed order, so
    /// the same operands give bit-identical gradients run after run.
    /// - Parameters:
    ///   - input: the forward's input [N, C, H, W] (its values are read only for the weight
    ///     gradient).
    ///   - weight: the forward's weight [K, C/groups, R, S] (its values are read only for the
    ///     input gradient).
    ///   - output: the forward's output, needed when the descriptor has an activation: the
    ///     gradient passes where the output is > 0 (relu'(0) = 0), and is scaled by the slope
    ///     elsewhere for a leaky ReLU, whose slope must then be ≥ 0 (PyTorch's rule for a
    ///     gradient from the output).
    ///   - computing: the gradients to compute; the others are nil.
    /// - Throws: `ConvCLError.invalidArgument` when a shape does not match the forward's.
    public func conv2dBackward(
        gradOutput: Tensor, input: Tensor, weight: Tensor, output: Tensor? = nil, descriptor: Conv2DDescriptor,
        computing: GradientSelection = .all
    ) throws -> ConvolutionGradients {
        let operation = "conv2dBackward"
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: operation, argument: argument, reason: reason)
        }
        let g = try descriptor.geometry(input: input.shape, weight: weight.shape, bias: nil)
        guard gradOutput.dataType == .float32, gradOutput.shape == g.outputShape else {
            throw fail("gradOutput", "expected float32 of the forward's output shape \(g.outputShape), got \(gradOutput.type)")
        }
        let gradient = try gradientBeforeActivation(gradOutput, output: output, activation: descriptor.activation, operation)
        var inputGradient: Tensor?
        if computing.contains(.input) {
            let pads = try resolvePadding(
                descriptor.padding, input: [g.inputHeight, g.inputWidth], kernel: [g.kernelHeight, g.kernelWidth],
                stride: descriptor.stride, dilation: descriptor.dilation, operation: operation)
            // The output padding gives back the input rows and columns past the last window,
            // which no output read: (in + pads − dilated kernel) mod stride of them.
            let outputPadding = [
                (g.inputHeight + pads[0] + pads[2] - g.dilationHeight * (g.kernelHeight - 1) - 1) % g.strideHeight,
                (g.inputWidth + pads[1] + pads[3] - g.dilationWidth * (g.kernelWidth - 1) - 1) % g.strideWidth,
            ]
            let kernel = g.flipped ? try reversed(weight, axes: [2, 3]) : weight
            inputGradient = try convTranspose(
                gradient, weight: kernel,
                descriptor: ConvTransposeDescriptor(
                    stride: descriptor.stride, padding: .explicit(pads), outputPadding: outputPadding, dilation: descriptor.dilation,
                    groups: g.groups))
        }
        let weightGradient =
            computing.contains(.weight)
            ? try runSingle(ConvWeightGradient(descriptor: descriptor, weightShape: weight.shape), [input, gradient]) : nil
        let biasGradient =
            computing.contains(.bias) ? try reduce(gradient, descriptor: ReduceDescriptor(.sum, axes: [0, 2, 3], keepDims: false)) : nil
        return ConvolutionGradients(input: inputGradient, weight: weightGradient, bias: biasGradient)
    }

    /// The backward pass of `conv1d`: `conv2dBackward` over a height of 1, with the 1-D shapes
    /// ([N, C, L], [K, C/groups, S], [N, K, OL]).
    public func conv1dBackward(
        gradOutput: Tensor, input: Tensor, weight: Tensor, output: Tensor? = nil, descriptor: Conv1DDescriptor,
        computing: GradientSelection = .all
    ) throws -> ConvolutionGradients {
        let g = try descriptor.geometry(input: input.shape, weight: weight.shape, bias: nil)
        let outputShape = [g.batch, g.outputChannels, 1, g.outputWidth]
        guard gradOutput.shape == [g.batch, g.outputChannels, g.outputWidth] else {
            throw ConvCLError.invalidArgument(
                operation: "conv1dBackward", argument: "gradOutput",
                reason: "expected the forward's output shape \([g.batch, g.outputChannels, g.outputWidth]), got \(gradOutput.shape)")
        }
        if let output, output.shape != gradOutput.shape {
            throw ConvCLError.invalidArgument(
                operation: "conv1dBackward", argument: "output", reason: "expected shape \(gradOutput.shape), got \(output.shape)")
        }
        let gradients = try conv2dBackward(
            gradOutput: try gradOutput.reshaped(outputShape), input: try input.reshaped([g.batch, g.inputChannels, 1, g.inputWidth]),
            weight: try weight.reshaped([g.outputChannels, g.inputChannelsPerGroup, 1, g.kernelWidth]),
            output: try output?.reshaped(outputShape), descriptor: descriptor.as2D, computing: computing)
        return ConvolutionGradients(
            input: try gradients.input?.reshaped(input.shape), weight: try gradients.weight?.reshaped(weight.shape), bias: gradients.bias)
    }

    /// The gradient before a fused activation, from the one after it and the forward's output.
    func gradientBeforeActivation(_ gradOutput: Tensor, output: Tensor?, activation: Activation, _ operation: String) throws -> Tensor {
        let slope: Float
        switch activation {
        case .none: return gradOutput
        case .relu: slope = 0
        case .leakyReLU(let value): slope = value
        }
        guard slope >= 0 else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "activation",
                reason: "a leaky ReLU's gradient is taken from its output, which needs a slope ≥ 0 (its sign is then the input's); got \(slope)")
        }
        guard let output else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "output", reason: "the forward's output is needed for the gradient of its \(activation) activation")
        }
        guard output.dataType == .float32, output.shape == gradOutput.shape else {
            throw ConvCLError.invalidArgument(
                operation: operation, argument: "output", reason: "expected float32 of shape \(gradOutput.shape), got \(output.type)")
        }
        return try elementwise(.leakyReluGrad(alpha: slope), gradOutput, output)
    }
}
