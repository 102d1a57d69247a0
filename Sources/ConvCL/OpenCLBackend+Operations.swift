extension OpenCLBackend {
    public func pool(_ input: Tensor, mode: PoolingMode, descriptor: PoolDescriptor, returnIndices: Bool) throws
        -> (values: Tensor, indices: Tensor?)
    {
        let operation = mode == .max ? "maxPool" : "averagePool"
        let g = try descriptor.geometry(input: input.shape, operation: operation)
        try checkIndicesRequest(mode: mode, returnIndices: returnIndices)
        let x = try buffer(of: input, operation, "input")
        let (output, y) = try self.output(shape: g.outputShape, operation: operation)
        var indices: Tensor?
        var indexBuffer: CLBuffer?
        if returnIndices {
            let buffer = try allocate(Int64.self, count: output.count, operation: operation)
            indices = Tensor(shape: g.outputShape, dataType: .int64, storage: .device(DeviceStorage(buffer: buffer, backend: self)))
            indexBuffer = buffer
        }
        let arguments = [
            g.planes, g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth,
            g.strideHeight, g.strideWidth, g.padTop, g.padLeft, g.padBottom, g.padRight, g.dilationHeight, g.dilationWidth,
            g.countIncludePad ? 1 : 0,
        ]
        let specialized = poolProgram(mode: mode, returnIndices: returnIndices, g)
        let runsSpecialized = try runsSpecialized([specialized], small: g.work <= Self.firstCallWork)
        try launch(
            runsSpecialized ? specialized : poolProgram(mode: mode, returnIndices: returnIndices, nil),
            kernel: "pool2d",
            arguments: [.buffer(x), .buffer(y), .buffer(indexBuffer)] + (try int32Arguments(arguments, operation)),
            globalSize: runsSpecialized ? [g.outputHeight, g.planes] : [g.outputWidth, g.outputHeight, g.planes])
        return (output, indices)
    }

    /// The pooling program for `g`: the mode, whether indices are written, and the horizontal
    /// stride's vector loads are built in (see `Kernels/pool2d.cl`); for nil, the generic
    /// first-call program of the mode.
    func poolProgram(mode: PoolingMode, returnIndices: Bool, _ g: PoolGeometry?) -> ProgramSpec {
        guard let g else {
            return ProgramSpec("pool2d", ["MODE": mode == .max ? 0 : 1, "INDICES": returnIndices ? 1 : 0, "FIRST_CALL": 1])
        }
        return Self.poolProgram(
            mode: mode, returnIndices: returnIndices, strideWidth: g.strideWidth, kernelWidth: g.kernelWidth,
            dilationWidth: g.dilationWidth)
    }

    static func poolProgram(mode: PoolingMode, returnIndices: Bool, strideWidth: Int, kernelWidth: Int, dilationWidth: Int)
        -> ProgramSpec
    {
        let vectorStride = [1, 2].contains(strideWidth) ? strideWidth : 0
        return ProgramSpec("pool2d", [
            "MODE": mode == .max ? 0 : 1, "INDICES": returnIndices ? 1 : 0, "VECTOR_STRIDE": vectorStride,
            "PAIRS": vectorStride == 2 && kernelWidth == 2 && dilationWidth == 1 ? 1 : 0,
        ])
    }

    /// The reduction programs: `reduce_rows` alone (heavy to build: 1.5 s of PoCL's 1.9 s for all
    /// three kernels), `reduce_partial` and `reduce_final`, each per operation, or those two
    /// without their vector paths for first calls, one program for every operation, which takes
    /// it as an argument (see `Kernels/reduce.cl`).
    enum ReduceProgram {
        case rows, general, generic

        func defines(_ operation: ReductionOperation) -> [String: Int] {
            switch self {
            case .rows: ["OP": operation.kernelCode, "ROWS": 1]
            case .general: ["OP": operation.kernelCode]
            case .generic: ["FIRST_CALL": 1]
            }
        }
    }

    /// Whether the specialised reduction of `layout` is `reduce_rows`: the reduced axes are the
    /// trailing ones and one chunk per output (the input is [outputs][reducedCount], as global
    /// pooling's planes are). 16 outputs per work-item, folded together.
    func reducesRows(_ operation: ReductionOperation, _ layout: ReductionLayout) -> Bool {
        reduceSplits(layout) == 1 && operation != .logSumExp && layout.reducedStrides == [1] && layout.reducedCount >= 16
    }

    /// Enough partials per output to occupy the device when there are few outputs, each a chunk of
    /// a few thousand elements.
    func reduceSplits(_ layout: ReductionLayout) -> Int {
        let chunkTarget = 4096
        return max(1, min((layout.reducedCount + chunkTarget - 1) / chunkTarget, 16384 / max(1, layout.outputCount)))
    }

    /// The program that reduces `layout` with the specialised kernels or the generic ones.
    func reduceProgram(_ operation: ReductionOperation, layout: ReductionLayout, specialized: Bool) -> ProgramSpec {
        let kind: ReduceProgram = !specialized ? .generic : reducesRows(operation, layout) ? .rows : .general
        return ProgramSpec("reduce", kind.defines(operation))
    }

    public func reduce(_ input: Tensor, descriptor: ReduceDescriptor) throws -> Tensor {
        let layout = try descriptor.layout(input: input.shape)
        let x = try buffer(of: input, "reduce", "input")
        let (output, y) = try self.output(shape: layout.outputShape, operation: "reduce")
        guard layout.outputCount > 0 else { return output }
        let splits = reduceSplits(layout)
        let specialized = reduceProgram(descriptor.operation, layout: layout, specialized: true)
        let runsSpecialized = try runsSpecialized([specialized], small: input.count <= Self.firstCallWork)
        let program = runsSpecialized ? specialized : reduceProgram(descriptor.operation, layout: layout, specialized: false)
        if runsSpecialized, reducesRows(descriptor.operation, layout) {
            try launch(
                program, kernel: "reduce_rows",
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
        let operation = KernelArgument.int32(Int32(descriptor.operation.kernelCode))
        guard splits > 1 else {
            // One chunk per output: the first stage finishes it, with no second launch or partials.
            try launch(
                program, kernel: "reduce_partial",
                arguments: [.buffer(x), .buffer(nil), .buffer(y)] + sizes + vectors + [operation], globalSize: [layout.outputCount])
            return output
        }
        let partials = try allocate(SIMD2<Float>.self, count: layout.outputCount * splits, operation: "reduce")
        defer { recycle(partials) }  // once both stages are enqueued
        try launch(
            program, kernel: "reduce_partial",
            arguments: [.buffer(x), .buffer(partials), .buffer(nil)] + sizes + vectors + [operation],
            globalSize: [layout.outputCount * splits])
        try launch(
            program, kernel: "reduce_final",
            arguments: [.buffer(partials), .buffer(y)]
                + (try int32Arguments([layout.outputCount, splits, layout.reducedCount], "reduce")) + [operation],
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
            ProgramSpec("activation"), kernel: "activation",
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
