extension OpenCLBackend {
    /// The algorithm `conv2d` would use for these operands, its workspace, and why. In find mode
    /// this times the candidates when the shape is new (see `ConvolutionOptions.find`).
    /// - Throws: as `conv2d` does for invalid arguments, and when a forced algorithm exceeds the
    ///   workspace limit.
    public func plan(input: [Int], weight: [Int], bias: [Int]?, descriptor: Conv2DDescriptor) throws -> ConvolutionPlan {
        try plan(try descriptor.geometry(input: input, weight: weight, bias: bias))
    }

    /// The algorithm `conv1d` would use for these operands, its workspace, and why.
    public func plan(input: [Int], weight: [Int], bias: [Int]?, descriptor: Conv1DDescriptor) throws -> ConvolutionPlan {
        try plan(try descriptor.geometry(input: input, weight: weight, bias: bias))
    }

    /// The workspace `algorithm` needs for `g` on this backend, in bytes.
    func workspaceBytes(_ algorithm: ConvolutionAlgorithm, _ g: ConvolutionGeometry) -> Int {
        algorithm == .direct
            ? 4 * directWorkspaceFloats(g)
            : g.workspaceBytes(algorithm, tile: gemmTile, chunkBytes: gemmChunkBytes, winogradChunkBytes: winogradChunkBytes)
    }

    func plan(_ g: ConvolutionGeometry) throws -> ConvolutionPlan {
        let limit = convolution.workspaceLimit
        if let forced = convolution.algorithm, !g.computes(with: forced) {
            throw ConvCLError.invalidArgument(
                operation: "conv2d", argument: "algorithm",
                reason: "winograd computes 3×3 convolutions with stride 1, dilation 1, one group and a left pad of "
                    + "\(ConvolutionGeometry.winogradLeftPads.lowerBound)…\(ConvolutionGeometry.winogradLeftPads.upperBound); this one has kernel "
                    + "\(g.kernelHeight)×\(g.kernelWidth), stride \(g.strideHeight)×\(g.strideWidth), "
                    + "dilation \(g.dilationHeight)×\(g.dilationWidth), \(g.groups) group(s), left pad \(g.padLeft)")
        }
        if let phases = StridePhases(g) { return try phasePlan(phases) }
        if let forced = convolution.algorithm {
            let bytes = workspaceBytes(forced, g)
            guard bytes <= limit else {
                throw ConvCLError.invalidArgument(
                    operation: "conv2d", argument: "algorithm",
                    reason: "\(forced.rawValue) needs \(bytes) bytes of workspace, over the limit of \(limit) bytes")
            }
            return ConvolutionPlan(algorithm: forced, workspaceBytes: bytes, reason: "forced by the caller")
        }
        if convolution.find { return try findPlan(g) }
        // The GEMM pays when several filters share the patch matrix and each output is a long
        // enough dot product. Depthwise, single-filter groups and shallow products stay direct
        // (mel3x3_c1, 9 taps and 32 filters: direct 0.87× the time of im2col-gemm, median of 22
        // runs of both in one process, since it writes each output row front to back and needs
        // no patch matrix).
        guard g.outputChannelsPerGroup >= 4 else {
            return ConvolutionPlan(
                algorithm: .direct, workspaceBytes: workspaceBytes(.direct, g),
                reason: "\(g.outputChannelsPerGroup) filter(s) per group: too few to share a GEMM")
        }
        guard g.patchRows >= 16 else {
            return ConvolutionPlan(
                algorithm: .direct, workspaceBytes: workspaceBytes(.direct, g),
                reason: "\(g.patchRows) taps per output: too short a product to pay for a patch matrix")
        }
        // Winograd F(4×4, 3×3) does a quarter of the multiplications; it pays with at least 8
        // channels in and out and 32 tiles (resnet3x3: 0.38 ms against 0.91 for im2col-gemm;
        // with 16 tiles of 32 or 256 channels, and with 4 input channels, it lost).
        if g.winogradApplies, g.inputChannels >= 8, g.outputChannels >= 8, g.winogradRealTiles >= 32 {
            let bytes = workspaceBytes(.winograd, g)
            if bytes <= limit {
                return ConvolutionPlan(
                    algorithm: .winograd, workspaceBytes: bytes,
                    reason: "3×3 stride 1 over \(g.winogradRealTiles) 4×4 tiles, \(g.inputChannels) channels in and \(g.outputChannels) out")
            }
        }
        // With few filters, im2col-gemm reads a patch matrix taps× the input's size for little
        // reuse, while the direct kernel, at unit stride along the width, slides over input rows
        // held in cache (basicpitch3x39_c8: direct 7.1 ms against 36.3 for im2col-gemm; 32 filters
        // of 3×9 over 16 channels 6.9 against 10.7, of 5×5 over 8 channels 3.4 against 4.9; with
        // 64 filters, mel3x3_c32, im2col-gemm wins; at stride 3 direct loses by 2.4-2.9×). With at
        // most 4 channels a group the patches are reused even less, and direct won up to 48
        // filters on the AVX2 machine (two runs each: Basic Pitch's first constant-Q octave, 36
        // filters of 1×256 over one channel, 0.86-1.03 ms against 1.36-2.24; 48 such filters
        // 1.02-1.17 against 1.39-1.89; 40 of 3×3 over 4 channels 1.05-1.45 against 1.28-2.09; 48
        // of 5×5 over 2 channels 1.45-2.13 against 1.67-2.63; with 64 filters it was a toss-up).
        if g.strideWidth == 1, g.dilationWidth == 1, g.outputChannelsPerGroup <= (g.inputChannelsPerGroup <= 4 ? 48 : 32) {
            return ConvolutionPlan(
                algorithm: .direct, workspaceBytes: workspaceBytes(.direct, g),
                reason: "\(g.outputChannelsPerGroup) filters per group at unit stride: sliding over cached input rows beats a \(g.patchRows)×\(g.patchColumns) patch matrix")
        }
        let bytes = workspaceBytes(.im2colGEMM, g)
        guard bytes <= limit else {
            return ConvolutionPlan(
                algorithm: .direct, workspaceBytes: workspaceBytes(.direct, g),
                reason: "im2col-gemm would need \(bytes) bytes of workspace, over the limit of \(limit) bytes")
        }
        return ConvolutionPlan(
            algorithm: .im2colGEMM, workspaceBytes: bytes,
            reason: "\(g.outputChannelsPerGroup) filters per group share a \(g.patchRows)×\(g.patchColumns) patch matrix")
    }

    /// The plan of a convolution run over its stride's phases: the stride-1 convolution's own,
    /// its workspace grown by the phase input and kernel.
    private func phasePlan(_ phases: StridePhases) throws -> ConvolutionPlan {
        let inner = try plan(phases.inner)
        let counts = phases.strides[0] * phases.strides[1]
        return ConvolutionPlan(
            algorithm: inner.algorithm, workspaceBytes: inner.workspaceBytes + 4 * phases.workspaceFloats,
            reason: "over the stride's \(counts) phases, a stride-1 convolution of \(phases.inner.inputChannels) channels "
                + "and a \(phases.inner.kernelHeight)×\(phases.inner.kernelWidth) kernel: \(inner.reason)",
            phases: phases)
    }

    public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, descriptor: Conv2DDescriptor) throws -> Tensor {
        let g = try descriptor.geometry(input: input.shape, weight: weight.shape, bias: bias?.shape)
        let plan = try plan(g)
        if let phases = plan.phases {
            let phaseWeight = try derived(weight, "phases \(phases.strides) \(phases.inner.kernelHeight)×\(phases.inner.kernelWidth)") {
                try phases.phaseWeight(weight, on: self)
            }
            return try conv2d(phases.phaseInput(input, on: self), weight: phaseWeight, bias: bias, descriptor: phases.innerDescriptor)
        }
        let x = try buffer(of: input, "conv2d", "input")
        let w = try checkedWeight(weight)
        let b = try bias.map { try buffer(of: $0, "conv2d", "bias") }
        let algorithm = plan.algorithm
        let (output, y) = try self.output(shape: g.outputShape, operation: "conv2d")
        if try convolution.algorithm != nil
            || runsSpecialized(convolutionPrograms(algorithm, g), small: g.multiplyAdds <= Self.firstCallWork)
        {
            try run(algorithm, g, x, w, b, y)
        } else {
            try runGeneric(g, x, try buffer(of: w, "conv2d", "weight"), b, y)
        }
        return output
    }

    /// The most work (multiply-adds, or values read) an operation may have to run on the generic
    /// first-call kernels while its specialised programs are not built (`KernelTier.automatic`):
    /// about what the generic kernels do in the time a specialised program takes to build.
    static let firstCallWork = 1 << 28

    /// The generic first-call program of every convolution (see `KernelTier`).
    static let genericConvolutionProgram = ProgramSpec("conv2d_direct", ["FIRST_CALL": 1])

    /// Enqueues the generic first-call kernel: one output per work-item.
    private func runGeneric(_ g: ConvolutionGeometry, _ x: CLBuffer, _ w: CLBuffer, _ b: CLBuffer?, _ y: CLBuffer) throws {
        let (activation, slope) = activationArguments(g.activation)
        try launch(
            Self.genericConvolutionProgram, kernel: "conv2d_generic",
            arguments: [.buffer(x), .buffer(w), .buffer(b), .buffer(y)] + (try int32Arguments([
                g.batch, g.inputChannels, g.inputHeight, g.inputWidth, g.outputChannels, g.kernelHeight, g.kernelWidth,
                g.outputHeight, g.outputWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft,
                g.dilationHeight, g.dilationWidth, g.groups, g.flipped ? 1 : 0,
            ], "conv2d")) + [.int32(activation), .float(slope)],
            globalSize: [g.outputWidth, g.outputHeight, g.batch * g.outputChannels])
    }

    /// `weight`, checked to be a float32 tensor of this backend.
    private func checkedWeight(_ weight: Tensor) throws -> Tensor {
        _ = try buffer(of: weight, "conv2d", "weight")
        return weight
    }

    /// The filters of `w` rearranged for a kernel by `fill` (into a buffer of `floats` floats):
    /// made once and kept with `w` where it keeps derived forms (an uploaded weight, such as a
    /// model's: Basic Pitch packed its constant filters 30 times a call), else made into
    /// `scratch` on every call. `key` names the arrangement: each argument `fill` passes.
    private func prepared(_ w: Tensor, _ key: String, floats: Int, scratch: CLBuffer, _ fill: (CLBuffer) throws -> Void) throws -> CLBuffer {
        guard w.keepsDerivedForms else {
            try fill(scratch)
            return scratch
        }
        let form = try derived(w, key) {
            let (form, buffer) = try output(shape: [floats], operation: "conv2d")
            try fill(buffer)
            return form
        }
        return try buffer(of: form, "conv2d", "prepared weight")
    }

    /// Enqueues the convolution `g` of `x` and `w` (and `b`) into `y` with `algorithm`.
    func run(_ algorithm: ConvolutionAlgorithm, _ g: ConvolutionGeometry, _ x: CLBuffer, _ w: Tensor, _ b: CLBuffer?, _ y: CLBuffer) throws {
        switch algorithm {
        case .direct: try runDirect(g, x, w, b, y)
        case .im2colGEMM: try runGEMM(g, x, w, b, y)
        case .winograd: try runWinograd(g, x, w, b, y)
        }
    }

    /// How the direct algorithm computes `g`: with `conv2d_rows` (one filter per work-item at stride
    /// 1, for the kernel sizes and pads it is built for), else with `conv2d_direct` over blocks of
    /// filters.
    enum DirectVariant {
        case rows(ProgramSpec, segments: Int)
        case filters(ProgramSpec, perItem: Int, windows: Int)

        var program: ProgramSpec {
            switch self {
            case .rows(let program, _), .filters(let program, _, _): program
            }
        }
    }

    /// The kernel sizes [R, S] conv2d_rows is built for: square kernels and 1-D ones of 3, 5 and
    /// 7 taps (depthwise layers' sizes), each at dilation 1 with no padding on the left or half
    /// the kernel's width there, so that a handful of programs covers them (other depthwise shapes
    /// run conv2d_direct with one filter per work-item).
    static let rowKernelSizes = [[3, 3], [5, 5], [7, 7], [1, 3], [1, 5], [1, 7], [3, 1], [5, 1], [7, 1]]

    /// The filters per work-item conv2d_direct is built for, most first: each input vector read
    /// serves all of them. 16 accumulators of float16 fill half of AVX-512's registers (4, 8 and
    /// 16 gave resnet3x3 74, 104 and 177 GFLOP/s); with narrower vectors, 8. (32 crashed inside
    /// PoCL's work-group code.) Blocks of 2 serve groups of 2 or 3 filters (the last block
    /// shifted back over the first): basicpitch7x7's input gradient, 3 filters over the stride's
    /// phases, 2.31 → 1.73 ms against one filter a work-item (alternated).
    var directFilterBlocks: [Int] { [vectorWidth >= 16 ? 16 : 8, 8, 4, 2, 1] }

    /// The filters per work-item conv2d_direct takes for `g`: the most of `directFilterBlocks`
    /// the group's filters fill. With 8-float vectors, 8 filters' float16 sums take all 16
    /// registers and two of them spill to memory on every tap, which costs most where a tap
    /// row is long; kernels 16 columns wide or more take 4 (alternated on the AVX2 machine:
    /// the 1×256 bank 0.71 → 0.39–0.41 ms, basicpitch3x39 6.4 → 4.8–5.1; with short rows 8
    /// stay ahead: mel3x3_c1 1.88 against 2.07–2.16, basicpitch5x5 2.68 against 2.93–2.99).
    /// A block over 4 is skipped where its blocks compute more filters than blocks of 4 would
    /// (the last block shifts back over the one before): stride2_7x7's input gradient, 12
    /// filters over the phases, 5.36–5.40 → 4.82–4.92 ms with 3 blocks of 4 instead of 2 of 8.
    func directFilters(_ g: ConvolutionGeometry) -> Int {
        let blocks = vectorWidth < 16 && g.kernelWidth >= 16 ? [4, 1] : directFilterBlocks
        let filters = g.outputChannelsPerGroup
        return blocks.first { $0 <= filters && ($0 <= 4 || GEMMTile.roundUp(filters, $0) <= GEMMTile.roundUp(filters, 4)) } ?? 1
    }

    /// conv2d_direct for `filters` filters per work-item, each over `windows` windows of 16
    /// outputs side by side.
    static func directProgram(filters: Int, windows: Int) -> ProgramSpec {
        ProgramSpec("conv2d_direct", ["FILTERS": filters, "WINDOWS": windows])
    }

    /// The windows of 16 outputs a conv2d_direct work-item computes side by side for `g` with
    /// `filters` filters: with one filter, 4 on rows of 256 outputs or more at stride 1, so that
    /// four chains of multiply-adds are in flight where one was (the 1×256 bank's input gradient
    /// 1.7 → 0.9 ms; alternated, 2 windows 1.0–1.3, 8 windows 1.0–1.2). On shorter rows the
    /// lanes past the row's end cost more than the chains save (basicpitch7x7's input gradient,
    /// rows of 88: 2.3 → 3.2 ms with 4), and at stride 2 the even-lane permutes bound it (the
    /// 1×256 filter at stride 2: 0.60 → 0.72–0.80 ms).
    static func directWindows(_ g: ConvolutionGeometry, filters: Int) -> Int {
        filters == 1 && g.strideWidth == 1 && g.outputWidth >= 256 ? oneFilterWindows : 1
    }

    /// The windows of a one-filter work-item on long rows (see `directWindows`).
    static let oneFilterWindows = 4

    func directVariant(_ g: ConvolutionGeometry) -> DirectVariant {
        let filtersPerItem = directFilters(g)
        // With up to 3 filters a group (depthwise) and stride 1, one filter per work-item, where the
        // loads and the work-item overhead dominate: conv2d_rows reads each input row once, as aligned
        // chunks whose constant permutes give the taps, and keeps the sums of the output rows under it
        // in registers. depthwise3x3 on the Xeon against the earlier kernel (0.80 ms): tails stored
        // from registers 0.87×, masked whole loads of partial chunks 0.96×, input rows streamed into
        // rotating sums (8 rows per work-item) 0.67×, then 28 rows instead of 8 0.89× (a whole column
        // kept). Up to 4 segments of 16 outputs share their chunks (2 segments: 1.4× slower; see
        // `rowSegments`).
        if g.outputChannelsPerGroup < 4, g.strideHeight == 1, g.strideWidth == 1, g.dilationHeight == 1, g.dilationWidth == 1,
            Self.rowKernelSizes.contains([g.kernelHeight, g.kernelWidth]), [0, g.kernelWidth / 2].contains(g.padLeft)
        {
            return .rows(Self.rowsProgram(kernel: [g.kernelHeight, g.kernelWidth], padLeft: g.padLeft), segments: Self.rowSegments(g.kernelHeight))
        }
        let windows = Self.directWindows(g, filters: filtersPerItem)
        return .filters(Self.directProgram(filters: filtersPerItem, windows: windows), perItem: filtersPerItem, windows: windows)
    }

    /// Segments of 16 outputs a conv2d_rows work-item computes side by side: up to 4, while their
    /// sums, R of them each, fit in half the registers.
    static func rowSegments(_ kernelHeight: Int) -> Int { min(max(1, 16 / kernelHeight), 4) }

    /// conv2d_rows built for an R×S kernel (`kernel` [R, S]) and a left pad.
    static func rowsProgram(kernel: [Int], padLeft: Int) -> ProgramSpec {
        ProgramSpec("conv2d_direct", [
            "ROW_TAPS": kernel[1], "TAP_ROWS": kernel[0], "PAD_SHIFT": padLeft, "ROW_SEGMENTS": rowSegments(kernel[0]),
        ])
    }

    /// Winograd's program for `g`: its tile layout and left pad are built in.
    func winogradProgram(_ g: ConvolutionGeometry) -> ProgramSpec {
        gemmTile.program("conv_winograd", ["ROWS": g.winogradTiles.rowsPerItem, "PAD_SHIFT": g.padLeft])
    }

    /// The floats of the direct algorithm's workspace: conv2d_direct's filters packed block by
    /// block (see `pack_filters`); conv2d_rows needs none.
    func directWorkspaceFloats(_ g: ConvolutionGeometry) -> Int {
        guard case .filters(_, let perItem, _) = directVariant(g) else { return 0 }
        let blocks = g.groups * ((g.outputChannelsPerGroup + perItem - 1) / perItem)
        return blocks * perItem * g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth
    }

    private func runDirect(_ g: ConvolutionGeometry, _ x: CLBuffer, _ weight: Tensor, _ b: CLBuffer?, _ y: CLBuffer) throws {
        let (activation, slope) = activationArguments(g.activation)
        let w = try buffer(of: weight, "conv2d", "weight")
        switch directVariant(g) {
        case .rows(let program, let segments):
            // Segments past the end of a narrow row compute zeros and store nothing.
            let columnBlocks = (g.outputWidth + 16 * segments - 1) / (16 * segments)
            let rows = directRowsPerItem ?? perWorkItem(g.outputHeight, otherWorkItems: g.batch * g.outputChannels * columnBlocks)
            let global = [columnBlocks, (g.outputHeight + rows - 1) / rows, g.batch * g.outputChannels]
            try launch(
                program, kernel: "conv2d_rows",
                arguments: [.buffer(x), .buffer(w), .buffer(b), .buffer(y)] + (try int32Arguments([
                    g.batch, g.inputChannels, g.inputHeight, g.inputWidth, g.outputChannels, g.outputHeight, g.outputWidth,
                    g.padTop, g.padLeft, g.groups, rows, g.flipped ? 1 : 0,
                ], "conv2d")) + [.int32(activation), .float(slope)],
                globalSize: global, localSize: splitting(global))
        case .filters(let program, let filtersPerItem, let windows):
            let blocks = g.groups * ((g.outputChannelsPerGroup + filtersPerItem - 1) / filtersPerItem)
            let taps = g.inputChannelsPerGroup * g.kernelHeight * g.kernelWidth
            // A work-item computes its row's passes of 16·windows outputs one after another, so
            // that each output row is written front to back (mel3x3_c1: 8 passes a work-item 0.84×
            // the time of 1; a kernel writing 25 MiB as rows of 512 bytes beat one writing 64-byte
            // pieces of 16 rows at a time by 1.3×).
            let rowPasses = (g.outputWidth + 16 * windows - 1) / (16 * windows)
            let passes = perWorkItem(rowPasses, otherWorkItems: g.outputHeight * g.batch * blocks)
            let global = [(rowPasses + passes - 1) / passes, g.outputHeight, g.batch * blocks]
            let packing = [g.outputChannels, g.groups, taps]
            let floats = directWorkspaceFloats(g)
            try withWorkspace(floats: [weight.keepsDerivedForms ? 0 : floats], operation: "conv2d") { scratch in
                let filters = try prepared(weight, "pack_filters \(program) \(packing)", floats: floats, scratch: scratch[0]) { target in
                    try launch(
                        program, kernel: "pack_filters", arguments: [.buffer(w), .buffer(target)] + (try int32Arguments(packing, "conv2d")),
                        globalSize: [taps, blocks])
                }
                try launch(
                    program, kernel: "conv2d_direct",
                    arguments: [.buffer(x), .buffer(filters), .buffer(b), .buffer(y)] + (try int32Arguments([
                        g.batch, g.inputChannels, g.inputHeight, g.inputWidth, g.outputChannels, g.kernelHeight, g.kernelWidth,
                        g.outputHeight, g.outputWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft,
                        g.dilationHeight, g.dilationWidth, g.groups, passes, g.flipped ? 1 : 0,
                    ], "conv2d")) + [.int32(activation), .float(slope)],
                    globalSize: global, localSize: splitting(global))
            }
        }
    }

    /// A work-group size for the direct kernels' launch of `global` work-items that makes at least
    /// 16 work-groups per compute unit (or one per work-item, where there are fewer): each
    /// dimension a divisor of the global one, as large as that allows. Left to choose, PoCL put
    /// the 224 work-items of resnet3x3's direct kernel (rows of 4 segments) into one work-group,
    /// which ran on one core: 3.3 ms against 1.7.
    private func splitting(_ global: [Int]) -> [Int] {
        let wanted = 16 * device.computeUnits
        var local = global
        func groups() -> Int { zip(global, local).reduce(1) { $0 * $1.0 / $1.1 } }
        while groups() < wanted, let largest = local.indices.max(by: { local[$0] < local[$1] }), local[largest] > 1 {
            local[largest] /= (2...local[largest]).first { local[largest] % $0 == 0 }!
        }
        return local
    }

    /// How many of `count` pieces of work (output rows, segments of a row) a work-item of the
    /// direct kernels takes in turn, when the launch has `otherWorkItems` work-items for each
    /// block of them: all of them, unless that launches fewer than 64 work-items per compute unit;
    /// then fewer, so that it launches that many.
    private func perWorkItem(_ count: Int, otherWorkItems: Int) -> Int {
        let wanted = 64 * device.computeUnits
        let blocks = min(count, max(1, (wanted + otherWorkItems - 1) / otherWorkItems))
        return (count + blocks - 1) / blocks
    }

    /// im2col and the GEMM take the columns (output positions) in chunks whose patches stay in
    /// cache for the GEMM: the chunk's patch matrix is the workspace, so it is bounded too.
    private func runGEMM(_ g: ConvolutionGeometry, _ x: CLBuffer, _ weight: Tensor, _ b: CLBuffer?, _ y: CLBuffer) throws {
        let w = try buffer(of: weight, "conv2d", "weight")
        let columns = g.patchColumns, rows = g.patchRows
        let tile = gemmTile
        let paddedColumns = tile.paddedColumns(columns, filters: g.outputChannelsPerGroup)
        let paddedFilters = tile.paddedFilters(g.outputChannelsPerGroup)
        let chunk = g.gemmChunkColumns(tile: tile, chunkBytes: gemmChunkBytes)
        try withWorkspace(floats: [rows * chunk, weight.keepsDerivedForms ? 0 : rows * paddedFilters], operation: "conv2d") { scratch in
            let patches = scratch[0]
            for group in 0..<g.groups {
                let packing = [g.outputChannelsPerGroup, rows, g.kernelHeight * g.kernelWidth, paddedFilters, group, g.flipped ? 1 : 0]
                let packed = try prepared(
                    weight, "pack_weights \(tile.program("conv_gemm")) \(packing)", floats: rows * paddedFilters, scratch: scratch[1]
                ) { target in
                    try launch(
                        tile.program("conv_gemm"), kernel: "pack_weights",
                        arguments: [.buffer(w), .buffer(target)] + (try int32Arguments(packing, "conv2d")),
                        globalSize: [paddedFilters, rows])
                }
                for first in stride(from: 0, to: paddedColumns, by: chunk) {
                    let count = min(chunk, paddedColumns - first)
                    try launch(
                        tile.program("conv_gemm"), kernel: "im2col",
                        arguments: [.buffer(x), .buffer(patches)] + (try int32Arguments([
                            g.inputChannels, g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth,
                            g.kernelHeight, g.kernelWidth, g.strideHeight, g.strideWidth, g.padTop, g.padLeft,
                            g.dilationHeight, g.dilationWidth, g.inputChannelsPerGroup, group, columns, paddedColumns, rows,
                            first / tile.n,
                        ], "conv2d")),
                        globalSize: [rows, count / tile.n])
                    try enqueueGEMM(
                        filterPanels: packed, columnPanels: patches, bias: b, output: y,
                        depth: rows, filters: g.outputChannelsPerGroup, columns: columns, paddedColumns: count,
                        outputChannels: g.outputChannels, spatial: g.outputHeight * g.outputWidth, group: group,
                        activation: g.activation, firstColumn: first)
                }
            }
        }
    }

    /// Enqueues the GEMM kernel: output = A · B for `filters` rows of A (packed in filter panels)
    /// and the `paddedColumns` columns of B from `firstColumn` on (packed in column panels; of
    /// `columns` in all, the rest padding), each a dot product over `depth`. Outputs go to channel `group · filters + m` of an NCHW
    /// tensor of `outputChannels` channels and `spatial` positions per image, with the bias and
    /// the activation. `batch` runs that many independent products, `strides` floats apart in A,
    /// B and the output.
    func enqueueGEMM(
        filterPanels: CLBuffer, columnPanels: CLBuffer, bias: CLBuffer?, output: CLBuffer,
        depth: Int, filters: Int, columns: Int, paddedColumns: Int, outputChannels: Int, spatial: Int, group: Int,
        activation: Activation, batch: (count: Int, strides: [Int]) = (1, [0, 0, 0]), firstColumn: Int = 0
    ) throws {
        let tile = gemmTile
        let panels = tile.paddedFilters(filters) / tile.m
        // A work-group covers every filter panel of its column panels, which stay in cache (when
        // the device allows a group that large; otherwise the driver chooses).
        let groupSize = [panels, tile.columnPanelsPerGroup(filterPanels: panels), 1]
        let (kind, slope) = activationArguments(activation)
        let deep = tile.runsDeep(depth: depth)
        try launch(
            tile.program("conv_gemm"), kernel: deep ? "gemm_deep" : "gemm",
            arguments: [.buffer(filterPanels), .buffer(columnPanels), .buffer(bias), .buffer(output)]
                + (try int32Arguments([depth, filters, columns, outputChannels, spatial, group], "conv2d"))
                + [.int32(kind), .float(slope)] + (try int32Arguments(batch.strides + [firstColumn / tile.n], "conv2d"))
                + (deep ? [.int32(Int32(GEMMTile.depthBlock))] : []),
            globalSize: [panels, paddedColumns / tile.n, batch.count],
            localSize: groupSize[0] * groupSize[1] <= device.maxWorkGroupSize ? groupSize : nil)
    }

    private func runWinograd(_ g: ConvolutionGeometry, _ x: CLBuffer, _ weight: Tensor, _ b: CLBuffer?, _ y: CLBuffer) throws {
        let w = try buffer(of: weight, "conv2d", "weight")
        let tile = gemmTile
        let (_, rowGroups, columnBlocks, tiles) = g.winogradTiles
        let transforms = winogradProgram(g)
        let channels = g.inputChannels, filters = g.outputChannels
        let chunkItems = g.winogradChunkItems(chunkBytes: winogradChunkBytes)
        let paddedChunkTiles = g.winogradPaddedChunkTiles(tile: tile, chunkBytes: winogradChunkBytes)
        let paddedFilters = tile.paddedFilters(filters)
        let (activation, slope) = activationArguments(g.activation)
        let sizes = { (values: [Int]) in try int32Arguments(values, "conv2d") }
        // Explicit work-groups of 16 channels (or filters): with the driver's choice, PoCL
        // overflowed its stack on large grids.
        let group = 16
        let rounded = { (count: Int) in GEMMTile.roundUp(count, group) }
        try withWorkspace(
            floats: [36 * channels * paddedChunkTiles, 36 * filters * 16 * chunkItems, weight.keepsDerivedForms ? 0 : 36 * channels * paddedFilters],
            operation: "conv2d"
        ) { scratch in
            let (transformedInput, products) = (scratch[0], scratch[1])
            let transform = [filters, channels, paddedFilters, g.flipped ? 1 : 0]
            let transformedFilters = try prepared(
                weight, "transform_filters \(transforms) \(transform)", floats: 36 * channels * paddedFilters, scratch: scratch[2]
            ) { target in
                try launch(
                    transforms, kernel: "transform_filters", arguments: [.buffer(w), .buffer(target)] + (try sizes(transform)),
                    globalSize: [paddedFilters / tile.m, rounded(channels)], localSize: [1, group])
            }
            for first in stride(from: 0, to: tiles / 16, by: chunkItems) {
                let items = min(chunkItems, tiles / 16 - first)
                let paddedTiles = tile.paddedColumns(16 * items, filters: filters, alignment: 16)
                try launch(
                    transforms, kernel: "transform_input",
                    arguments: [.buffer(x), .buffer(transformedInput)] + (try sizes([
                        channels, g.inputHeight, g.inputWidth, g.padTop, g.padLeft, rowGroups, columnBlocks, first, items, paddedTiles, 0,
                    ])),
                    globalSize: [paddedTiles / 16, rounded(channels)], localSize: [1, group])
                // The 36 GEMMs: products[ξ] (filters × tiles) = filters[ξ] · input[ξ], no bias or activation.
                try enqueueGEMM(
                    filterPanels: transformedFilters, columnPanels: transformedInput, bias: nil, output: products,
                    depth: channels, filters: filters, columns: 16 * items, paddedColumns: paddedTiles,
                    outputChannels: filters, spatial: 16 * items, group: 0, activation: .none,
                    batch: (36, [channels * paddedFilters, channels * paddedTiles, filters * 16 * items]))
                try launch(
                    transforms, kernel: "transform_output",
                    arguments: [.buffer(products), .buffer(b), .buffer(y)] + (try sizes([
                        filters, g.outputHeight, g.outputWidth, rowGroups, columnBlocks, first, 16 * items,
                    ])) + [.int32(activation), .float(slope)],
                    globalSize: [items, rounded(filters)], localSize: [1, group])
            }
        }
    }
}
