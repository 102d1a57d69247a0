extension OpenCLBackend {
    public func pool(_ input: Tensor, mode: PoolingMode, descriptor: PoolDescriptor, returnIndices: Bool) throws
        -> (values: Tensor, indices: IndexTensor?)
    {
        let operation = mode == .max ? "maxPool" : "averagePool"
        let g = try descriptor.geometry(input: input.shape, operation: operation)
        try checkIndicesRequest(mode: mode, returnIndices: returnIndices)
        let x = try buffer(of: input, operation, "input")
        let (output, y) = try self.output(shape: g.outputShape, operation: operation)
        var indices: IndexTensor?
        var indexBuffer: CLBuffer?
        if returnIndices {
            let buffer = try allocate(Int64.self, count: output.count, operation: operation)
            indices = IndexTensor(shape: g.outputShape, storage: .device(DeviceStorage(buffer: buffer, backend: self)))
            indexBuffer = buffer
        }
        // The window's shape is built in (its loops unroll, its loads are specialised); the rest
        // are arguments, so that configurations differing in padding or vertical stride share a program.
        let defines = [
            "MODE": mode == .max ? 0 : 1, "INDICES": returnIndices ? 1 : 0, "WINDOW_R": g.kernelHeight, "WINDOW_S": g.kernelWidth,
            "DILATION_W": g.dilationWidth, "VECTOR_STRIDE": [1, 2].contains(g.strideWidth) ? g.strideWidth : 0,
        ]
        let arguments = [
            g.planes, g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth, g.strideHeight, g.strideWidth,
            g.padTop, g.padLeft, g.padBottom, g.padRight, g.dilationHeight, g.countIncludePad ? 1 : 0,
        ]
        try launch(
            source: "pool2d", kernel: "pool2d", options: defines.sorted { $0.key < $1.key }.map { "-D\($0.key)=\($0.value)" }.joined(separator: " "),
            arguments: [.buffer(x), .buffer(y), .buffer(indexBuffer)] + (try int32Arguments(arguments, operation)),
            globalSize: [g.outputHeight, g.planes])
        return (output, indices)
    }

    public func reduce(_ input: Tensor, descriptor: ReduceDescriptor) throws -> Tensor {
        let layout = try descriptor.layout(input: input.shape)
        let x = try buffer(of: input, "reduce", "input")
        let (output, y) = try self.output(shape: layout.outputShape, operation: "reduce")
        guard layout.outputCount > 0 else { return output }
        // Enough partials per output to occupy the device when there are few outputs, each a
        // chunk of a few thousand elements.
        let chunkTarget = 4096
        let splits = max(1, min((layout.reducedCount + chunkTarget - 1) / chunkTarget, 16384 / layout.outputCount))
        let options = "-DOP=\(descriptor.operation.kernelCode)"
        if splits == 1, descriptor.operation != .logSumExp, layout.reducedStrides == [1], layout.reducedCount >= 16 {
            // The reduced axes are the trailing ones, so the input is [outputs][reducedCount] (global
            // pooling's planes): 16 outputs per work-item, folded together.
            try launch(
                source: "reduce", kernel: "reduce_rows", options: options,
                arguments: [.buffer(x), .buffer(y)] + (try int32Arguments([layout.outputCount, layout.reducedCount], "reduce")),
                globalSize: [(layout.outputCount + 15) / 16])
            return output
        }
        let chunk = (layout.reducedCount + splits - 1) / splits
        let vectors: [KernelArgument] = [
            .int32(Int32(layout.keptSizes.count)), .int32x8(try layout.keptSizes.map { try int32($0, "reduce") }),
            .int32x8(try layout.keptStrides.map { try int32($0, "reduce") }),
            .int32(Int32(layout.reducedSizes.count)), .int32x8(try layout.reducedSizes.map { try int32($0, "reduce") }),
            .int32x8(try layout.reducedStrides.map { try int32($0, "reduce") }),
        ]
        let sizes = try int32Arguments([layout.outputCount, splits, layout.reducedCount, chunk], "reduce")
        guard splits > 1 else {
            // One chunk per output: the first stage finishes it, with no second launch or partials.
            try launch(
                source: "reduce", kernel: "reduce_partial", options: options,
                arguments: [.buffer(x), .buffer(nil), .buffer(y)] + sizes + vectors, globalSize: [layout.outputCount])
            return output
        }
        let partials = try allocate(SIMD2<Float>.self, count: layout.outputCount * splits, operation: "reduce")
        defer { recycle(partials) }  // once both stages are enqueued
        try launch(
            source: "reduce", kernel: "reduce_partial", options: options,
            arguments: [.buffer(x), .buffer(partials), .buffer(nil)] + sizes + vectors,
            globalSize: [layout.outputCount * splits])
        try launch(
            source: "reduce", kernel: "reduce_final", options: options,
            arguments: [.buffer(partials), .buffer(y)]
                + (try int32Arguments([layout.outputCount, splits, layout.reducedCount], "reduce")),
            globalSize: [layout.outputCount])
        return output
    }

    public func activation(_ input: Tensor, _ activation: Activation) throws -> Tensor {
        try validate(activation, operation: "activation")
        let x = try buffer(of: input, "activation", "input")
        // Tensors are immutable, so the identity needs no copy.
        guard activation != .none else { return input }
        let (output, y) = try self.output(shape: input.shape, operation: "activation")
        let (kind, slope) = activationArguments(activation)
        guard output.count > 0 else { return output }
        try launch(
            source: "activation", kernel: "activation",
            arguments: [.buffer(x), .buffer(y), .int32(Int32(output.count)), .int32(kind), .float(slope)],
            globalSize: [output.count])
        return output
    }
}

/// Sizes as a kernel's `int` arguments, each checked to fit.
func int32Arguments(_ values: [Int], _ operation: String) throws -> [KernelArgument] {
    try values.map { .int32(try int32($0, operation)) }
}

/// An activation as the kernels' (kind, slope) arguments: 0 none, 1 ReLU, 2 leaky ReLU.
func activationArguments(_ activation: Activation) -> (Int32, Float) {
    switch activation {
    case .none: (0, 0)
    case .relu: (1, 0)
    case .leakyReLU(let slope): (2, slope)
    }
}
