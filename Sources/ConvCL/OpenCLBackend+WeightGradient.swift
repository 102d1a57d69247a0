/// The weight gradient of a convolution on the forward's GEMM kernel, in two forms: over the
/// input's patches (any convolution), and Winograd's (3×3, stride 1), which does a quarter of the
/// multiply-adds.
extension OpenCLBackend {
    /// The weight gradient [K, C/groups, R, S] of a convolution as the forward's GEMM: the output
    /// gradient's rows times the input's patches, reduced over the output positions in chunks
    /// (each a product of the GEMM's batch, so that every core has work however few filters and
    /// taps there are), the chunks' partial sums then added in a fixed order (see conv_gemm.cl's
    /// pack_gradient and im2row). Nil when the panels would pass the workspace limit.
    func weightGradientGEMM(input x: Tensor, gradOutput dy: Tensor, _ g: ConvolutionGeometry, operation: String) throws -> Tensor? {
        let tile = gemmTile
        let (positions, columns, filters) = (g.patchColumns, g.patchRows, g.outputChannelsPerGroup)
        let paddedColumns = tile.paddedColumns(columns, filters: filters), paddedFilters = tile.paddedFilters(filters)
        let products = (paddedFilters / tile.m) * (paddedColumns / tile.n)
        // Enough chunks for 64 work-items a core, each at least 256 positions long.
        let chunks = max(1, min((64 * device.computeUnits + products - 1) / products, positions / 256))
        let length = (positions + chunks - 1) / chunks
        let floats = [chunks * length * paddedFilters, chunks * length * paddedColumns]
        guard 4 * floats.reduce(0, +) <= convolution.workspaceLimit else { return nil }
        let (xBuffer, dyBuffer) = (try buffer(of: x, operation, "input"), try buffer(of: dy, operation, "gradOutput"))
        let (partials, partialsBuffer) = try output(shape: [chunks, g.outputChannels, columns], operation: operation)
        try withWorkspace(floats: floats, operation: operation) { scratch in
            for group in 0..<g.groups {
                try launch(
                    tile.program("conv_gemm"), kernel: "pack_gradient",
                    arguments: [.buffer(dyBuffer), .buffer(scratch[0])] + (try int32Arguments([
                        g.outputChannels, filters, group, g.outputHeight * g.outputWidth, positions, length, paddedFilters / tile.m,
                    ], operation)),
                    globalSize: [chunks * length, paddedFilters / tile.m])
                try launch(
                    tile.program("conv_gemm"), kernel: "im2row",
                    arguments: [.buffer(xBuffer), .buffer(scratch[1])] + (try int32Arguments([
                        g.inputChannels, g.inputHeight, g.inputWidth, g.outputHeight, g.outputWidth, g.kernelHeight, g.kernelWidth,
                        g.strideHeight, g.strideWidth, g.padTop, g.padLeft, g.dilationHeight, g.dilationWidth, g.inputChannelsPerGroup,
                        group, positions, columns, length, paddedColumns / tile.n,
                    ], operation)),
                    globalSize: [chunks * length, paddedColumns / tile.n])
                try enqueueGEMM(
                    filterPanels: scratch[0], columnPanels: scratch[1], bias: nil, output: partialsBuffer, depth: length, filters: filters,
                    columns: columns, paddedColumns: paddedColumns, outputChannels: g.outputChannels, spatial: columns, group: group,
                    activation: .none, batch: (chunks, [length * paddedFilters, length * paddedColumns, g.outputChannels * columns]))
            }
        }
        let sum = chunks == 1 ? partials : try reduce(partials, descriptor: ReduceDescriptor(.sum, axes: [0], keepDims: false))
        let gradient = try sum.reshaped([g.outputChannels, g.inputChannelsPerGroup, g.kernelHeight, g.kernelWidth])
        guard g.flipped else { return gradient }
        return try reversed(gradient, axes: [2, 3])
    }

    /// The weight gradient [K, C, 3, 3] of a convolution that Winograd computes, through Winograd's
    /// transforms run backwards (see conv_winograd.cl): the input's tiles transformed as the forward
    /// does, the output gradient's tiles by A dY Aᵀ, 36 GEMMs that reduce over every tile of the
    /// batch, and Gᵀ dU G back to taps. Nil when the panels would pass the workspace limit.
    func weightGradientWinograd(input x: Tensor, gradOutput dy: Tensor, _ g: ConvolutionGeometry, operation: String) throws -> Tensor? {
        let tile = gemmTile
        let (_, rowGroups, columnBlocks, tiles) = g.winogradTiles
        let (channels, filters) = (g.inputChannels, g.outputChannels)
        let paddedChannels = tile.paddedColumns(channels, filters: filters), paddedFilters = tile.paddedFilters(filters)
        let floats = [36 * tiles * paddedFilters, 36 * tiles * paddedChannels, 36 * filters * channels]
        guard 4 * floats.reduce(0, +) <= convolution.workspaceLimit else { return nil }
        let transforms = winogradProgram(g)
        let (xBuffer, dyBuffer) = (try buffer(of: x, operation, "input"), try buffer(of: dy, operation, "gradOutput"))
        let (gradient, weightBuffer) = try output(shape: [filters, channels, 3, 3], operation: operation)
        let sizes = { (values: [Int]) in try int32Arguments(values, operation) }
        // Work-groups of 16 channels or filters, as the forward's transforms.
        let rounded = { (count: Int) in GEMMTile.roundUp(count, 16) }
        try withWorkspace(floats: floats, operation: operation) { scratch in
            let (gradientPanels, inputPanels, products) = (scratch[0], scratch[1], scratch[2])
            try launch(
                transforms, kernel: "transform_input",
                arguments: [.buffer(xBuffer), .buffer(inputPanels)] + (try sizes([
                    channels, g.inputHeight, g.inputWidth, g.padTop, g.padLeft, rowGroups, columnBlocks, 0, tiles / 16, tiles, paddedChannels,
                ])),
                globalSize: [tiles / 16, rounded(paddedChannels)], localSize: [1, 16])
            try launch(
                transforms, kernel: "transform_gradient",
                arguments: [.buffer(dyBuffer), .buffer(gradientPanels)] + (try sizes([
                    filters, g.outputHeight, g.outputWidth, rowGroups, columnBlocks, tiles, paddedFilters,
                ])),
                globalSize: [tiles / 16, rounded(paddedFilters)], localSize: [1, 16])
            // The 36 GEMMs: products[ξ] (filters × channels) = gradient[ξ] · input[ξ]ᵀ over the tiles.
            try enqueueGEMM(
                filterPanels: gradientPanels, columnPanels: inputPanels, bias: nil, output: products, depth: tiles, filters: filters,
                columns: channels, paddedColumns: paddedChannels, outputChannels: filters, spatial: channels, group: 0,
                activation: .none, batch: (36, [tiles * paddedFilters, tiles * paddedChannels, filters * channels]))
            try launch(
                transforms, kernel: "transform_filter_gradient",
                arguments: [.buffer(products), .buffer(weightBuffer)] + (try sizes([filters, channels, g.flipped ? 1 : 0])),
                globalSize: [filters, channels])
        }
        return gradient
    }
}
