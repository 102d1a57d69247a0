/// An operation named by its operands' shapes and its descriptor, for `OpenCLBackend.prepare(_:)`
/// to build its programs ahead of the first call.
public enum PlannedOperation: Sendable {
    /// `conv2d(_:weight:bias:descriptor:)` with operands of these shapes.
    case conv2d(input: [Int], weight: [Int], bias: [Int]?, Conv2DDescriptor)
    /// `conv1d(_:weight:bias:descriptor:)` with operands of these shapes.
    case conv1d(input: [Int], weight: [Int], bias: [Int]?, Conv1DDescriptor)
    /// `pool(_:mode:descriptor:returnIndices:)` on an input of this shape.
    case pool(input: [Int], PoolingMode, PoolDescriptor, returnIndices: Bool = false)
    /// `reduce(_:descriptor:)` on an input of this shape.
    case reduce(input: [Int], ReduceDescriptor)
    /// `activation(_:_:)`.
    case activation(Activation)
}

extension OpenCLBackend {
    /// Builds the programs that `operations` need, in two processes when `buildHelper` is set
    /// (PoCL compiles one program at a time per process), so that a
    /// chain of operations whose shapes are known pays its builds at once instead of one by one
    /// at each operation's first call. With `KernelTier.automatic` those are the generic
    /// first-call programs, and the specialised ones start building in the background; with
    /// `.specialized`, the specialised ones. Programs already built, or in the on-disk cache,
    /// cost (almost) nothing.
    /// - Throws: as the operations themselves would for invalid arguments (before building
    ///   anything), or the first build error.
    public func prepare(_ operations: [PlannedOperation]) throws {
        var now: [ProgramSpec] = []
        for operation in operations {
            let (specialized, generic, work) = try programs(for: operation)
            switch kernelTier {
            case .specialized: now += specialized
            case .generic: now += generic
            case .automatic:
                // As the operation will choose; the specialised programs it does not wait for start
                // building in the background once these are built.
                now += try runsSpecialized(specialized, small: work <= Self.firstCallWork) ? specialized : generic
            }
        }
        try build(now)
    }

    /// Builds every program that ConvCL's operations can use on this device (see
    /// `programCatalogue`), in two processes when `buildHelper` is set, into the on-disk cache: for an
    /// installer or a container image to pay every build once (`clconv prepare`).
    /// - Returns: how many programs there are.
    @discardableResult
    public func prepareAll() throws -> Int {
        let catalogue = programCatalogue
        try build(catalogue)
        return catalogue.count
    }

    /// The programs `operation` uses with the specialised kernels and with the generic first-call
    /// ones, chosen exactly as the operation chooses them, and its work as the operation counts
    /// it against `firstCallWork`.
    func programs(for operation: PlannedOperation) throws -> (specialized: [ProgramSpec], generic: [ProgramSpec], work: Int) {
        switch operation {
        case .conv2d(let input, let weight, let bias, let descriptor):
            return try convolutionPrograms(try descriptor.geometry(input: input, weight: weight, bias: bias))
        case .conv1d(let input, let weight, let bias, let descriptor):
            return try convolutionPrograms(try descriptor.geometry(input: input, weight: weight, bias: bias))
        case .pool(let input, let mode, let descriptor, let returnIndices):
            let g = try descriptor.geometry(input: input, operation: mode == .max ? "maxPool" : "averagePool")
            try checkIndicesRequest(mode: mode, returnIndices: returnIndices)
            return (
                [poolProgram(mode: mode, returnIndices: returnIndices, g)], [poolProgram(mode: mode, returnIndices: returnIndices, nil)],
                g.work)
        case .reduce(let input, let descriptor):
            let layout = try descriptor.layout(input: input)
            guard layout.outputCount > 0 else { return ([], [], 0) }
            return (
                [reduceProgram(descriptor.operation, layout: layout, specialized: true)],
                [reduceProgram(descriptor.operation, layout: layout, specialized: false)], input.reduce(1, *))
        case .activation(let activation):
            try validate(activation, operation: "activation")
            return activation == .none ? ([], [], 0) : ([ProgramSpec("activation")], [ProgramSpec("activation")], 0)
        }
    }

    /// A convolution's programs and work (see `programs(for:)`); a forced algorithm always runs
    /// its specialised kernels.
    func convolutionPrograms(_ g: ConvolutionGeometry) throws -> (specialized: [ProgramSpec], generic: [ProgramSpec], work: Int) {
        let plan = try plan(g)
        if let phases = plan.phases {
            // The input and the kernel are cut into phases by phase_split, in the copy program.
            let inner = try convolutionPrograms(phases.inner)
            return (inner.specialized + [copyProgram(.float32)], inner.generic + [copyProgram(.float32)], inner.work)
        }
        let specialized = convolutionPrograms(plan.algorithm, g)
        return (specialized, convolution.algorithm == nil ? [Self.genericConvolutionProgram] : specialized, g.multiplyAdds)
    }

    /// The specialised programs of `algorithm` for `g`.
    func convolutionPrograms(_ algorithm: ConvolutionAlgorithm, _ g: ConvolutionGeometry) -> [ProgramSpec] {
        switch algorithm {
        case .direct: [directVariant(g).program]
        case .im2colGEMM: [gemmTile.program("conv_gemm")]
        // Winograd's 36 products are GEMMs.
        case .winograd: [winogradProgram(g), gemmTile.program("conv_gemm")]
        }
    }

    /// Every program ConvCL's operations can use on this device: each kernel source with each of
    /// the few variants its defines take (tile sizes for this device's vector width, the
    /// reduction, the pooling mode), and the generic first-call programs. Sizes are kernel
    /// arguments, so this list is short and fixed.
    var programCatalogue: [ProgramSpec] {
        var specs: [ProgramSpec] = [gemmTile.program("conv_gemm"), ProgramSpec("activation")]
        for rows in ConvolutionGeometry.winogradRowsPerItem {
            for pad in ConvolutionGeometry.winogradLeftPads {
                specs.append(gemmTile.program("conv_winograd", ["ROWS": rows, "PAD_SHIFT": pad]))
            }
        }
        for kernel in Self.rowKernelSizes {
            for pad in Set([0, kernel[1] / 2]) { specs.append(Self.rowsProgram(kernel: kernel, padLeft: pad)) }
        }
        for filters in Set(directFilterBlocks) { specs.append(Self.directProgram(filters: filters, windows: 1)) }
        specs.append(Self.directProgram(filters: 1, windows: Self.oneFilterWindows))
        for (mode, indices) in [(PoolingMode.max, false), (.max, true), (.average, false)] {
            for (stride, width) in [(1, 1), (2, 1), (2, 2), (3, 1)] {
                specs.append(Self.poolProgram(mode: mode, returnIndices: indices, strideWidth: stride, kernelWidth: width, dilationWidth: 1))
            }
        }
        for operation in ReductionOperation.allCases {
            specs += [ReduceProgram.rows, .general, .generic].map { ProgramSpec("reduce", $0.defines(operation)) }
        }
        specs.append(Self.genericConvolutionProgram)
        for (mode, indices) in [(PoolingMode.max, false), (.max, true), (.average, false)] {
            specs.append(poolProgram(mode: mode, returnIndices: indices, nil))
        }
        specs += Elementwise.catalogue(on: self) + DataType.allCases.map(copyProgram) + [ConvTranspose.program, Resize.program, Softmax.program(on: self)]
        return Array(Set(specs)).sorted { $0.description < $1.description }
    }

    /// The programs this backend has built or loaded so far.
    var builtPrograms: Set<ProgramSpec> { programSlots.withLock { Set($0.keys) } }
}
