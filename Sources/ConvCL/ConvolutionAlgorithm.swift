/// The ways the OpenCL backend can compute a convolution.
public enum ConvolutionAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// Each work-item computes 16 outputs of a row for a block of filters (or, for depthwise
    /// convolutions with stride 1, of four rows for one filter), looping over the window and the
    /// input channels. Needs no workspace; the fallback for every shape.
    case direct
    /// The input patches gathered into a matrix (im2col), then a register-tiled GEMM with explicit
    /// vectors, over chunks of the output positions where the patches outweigh the output. Needs
    /// the patch matrix, or a chunk of it (about 2 MiB), as workspace.
    case im2colGEMM = "im2col-gemm"
    /// Winograd F(4×4, 3×3): 3×3 convolutions with stride 1, dilation 1 and one group only. The
    /// input and the filters are transformed into 36 GEMMs over 4×4 output tiles, which take 4×
    /// fewer multiplications than the convolution. Needs the transformed input, filters and
    /// products as workspace.
    ///
    /// Its rounding error is 2–4× larger: against a float64 reference, a relative L2 error of 1e-6
    /// to 5e-6 for 64 to 512 input channels, where `im2colGEMM` gives 4e-7 to 1.2e-6. Force
    /// `im2colGEMM` (`ConvolutionOptions(algorithm:)`, which computes every shape) where that matters.
    case winograd
}

/// The algorithm the OpenCL backend will use for one convolution, and why.
public struct ConvolutionPlan: Sendable, Equatable, CustomStringConvertible {
    public let algorithm: ConvolutionAlgorithm
    /// Device memory the algorithm needs besides the operands and the result.
    public let workspaceBytes: Int
    /// Why this algorithm: forced by the caller, the heuristic's reason, or the workspace limit.
    public let reason: String
    /// Where the convolution runs as a stride-1 one over its stride's phases, which `algorithm`
    /// computes; nil otherwise.
    var phases: StridePhases? = nil

    public var description: String { "\(algorithm.rawValue) (\(workspaceBytes) bytes of workspace): \(reason)" }
}

/// Tile sizes of the GEMM kernel (`-DTILE_M`, `-DTILE_N`): each work-item keeps `m` filters ×
/// `n` positions of accumulators, as `m` vectors of `n` floats.
struct GEMMTile: Sendable, Hashable {
    let m: Int
    let n: Int
    /// The floats of one vector of the tile (`-DWIDTH`): the device's SIMD width, 4 to 16.
    let width: Int

    /// The tile for a device with SIMD width `vectorWidth` (floats): as many filters and positions
    /// as keep the accumulators in registers. With AVX-512 (width 16, 32 vector registers) 12 × 32
    /// ran fastest on PoCL; with AVX2 (width 8, 16 registers), 6 × 16 as two float8 a row (see
    /// docs/performance.md).
    init(vectorWidth: Int) {
        self.init(m: vectorWidth >= 16 ? 12 : 6, n: vectorWidth >= 16 ? 32 : 16, width: vectorWidth)
    }

    /// `width` is clamped to 4…16 and to a divisor of `n`.
    init(m: Int, n: Int, width: Int = 16) {
        self.m = m
        self.n = n
        self.width = [16, 8, 4].first { $0 <= max(4, width) && n % $0 == 0 } ?? 4
    }

    /// The rows of the depth a work-group of `gemm_deep` takes at a time, every work-item in turn:
    /// a column panel's block of them (16 KiB at 16 columns) stays in the first-level cache while
    /// every filter panel reads it (128 rows ran slower on MatMul 256×4096×1024, 512 no faster).
    static let depthBlock = 256

    /// Whether a GEMM over `depth` rows runs `gemm_deep`: when one column panel is over 128 KiB.
    /// MatMul 256×4096×1024 (panels of 256 KiB) ran 1.2–1.34× faster with it in alternated runs;
    /// 1024×1024×1024 (64 KiB) 7% slower.
    func runsDeep(depth: Int) -> Bool { depth * n * 4 > 128 << 10 }

    /// Column panels per work-group of the GEMM: with few filter panels a work-group takes several
    /// column panels, so that PoCL's cost per work-group stays small against the work (8 work-items
    /// a group gave mel3x3_c1 61 GFLOP/s against 54 with one column panel; 32 and 128 no better).
    func columnPanelsPerGroup(filterPanels: Int) -> Int { max(1, 8 / filterPanels) }

    /// The filters of a group, padded to whole panels.
    func paddedFilters(_ filters: Int) -> Int { Self.roundUp(filters, m) }

    /// The columns of the patch matrix, padded to whole work-groups of the GEMM and to a
    /// multiple of `alignment`.
    func paddedColumns(_ columns: Int, filters: Int, alignment: Int = 1) -> Int {
        let group = n * columnPanelsPerGroup(filterPanels: paddedFilters(filters) / m)
        func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
        return Self.roundUp(columns, group / gcd(group, alignment) * alignment)
    }

    /// The program `source` built for this tile, with `defines` besides.
    func program(_ source: String, _ defines: [String: Int] = [:]) -> ProgramSpec {
        ProgramSpec(source, defines.merging(["TILE_M": m, "TILE_N": n, "WIDTH": width]) { mine, _ in mine })
    }

    static func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }
}

extension ConvolutionGeometry {
    /// Columns of the patch matrix: every output position of the batch.
    var patchColumns: Int { batch * outputHeight * outputWidth }
    /// Rows of the patch matrix: one per (channel, tap) of a group.
    var patchRows: Int { inputChannelsPerGroup * kernelHeight * kernelWidth }

    /// Whether Winograd F(4×4, 3×3) computes this convolution: 3×3, stride 1, dilation 1, one
    /// group, and at most `winogradLeftPads` on the left (its input transform is built per left
    /// pad, so a few programs serve it: "valid", "same" and one more).
    var winogradApplies: Bool {
        kernelHeight == 3 && kernelWidth == 3 && strideHeight == 1 && strideWidth == 1
            && dilationHeight == 1 && dilationWidth == 1 && groups == 1 && Self.winogradLeftPads.contains(padLeft)
    }

    static let winogradLeftPads = 0...2
    /// The tile rows a Winograd transform work-item may take (see `winogradTiles`).
    static let winogradRowsPerItem = [1, 2, 4]

    /// Whether `algorithm` can compute this convolution (only Winograd is restricted).
    func computes(with algorithm: ConvolutionAlgorithm) -> Bool {
        algorithm != .winograd || winogradApplies
    }

    /// The multiply-adds of the convolution: a dot product over (C / groups)·R·S taps per output.
    var multiplyAdds: Int { outputShape.reduce(1, *) * inputChannelsPerGroup * kernelHeight * kernelWidth }

    /// Winograd's 4×4 output tiles over the batch, without padding.
    var winogradRealTiles: Int { batch * ((outputHeight + 3) / 4) * ((outputWidth + 3) / 4) }

    /// How Winograd's 4×4 output tiles are laid out for the transforms, whose work-items take 16
    /// tiles each: 16 / `rowsPerItem` tiles of each of `rowsPerItem` tile rows (1, 2 or 4, the
    /// fewest padding tiles, then the longest rows); the tile rows in `rowGroups` groups of that
    /// many per image and the tile columns in `columnBlocks` blocks; `count` tiles in all, padding
    /// included.
    var winogradTiles: (rowsPerItem: Int, rowGroups: Int, columnBlocks: Int, count: Int) {
        let rows = (outputHeight + 3) / 4, columns = (outputWidth + 3) / 4
        let layouts = Self.winogradRowsPerItem.map { perItem in
            (rowsPerItem: perItem, rowGroups: (rows + perItem - 1) / perItem,
             columnBlocks: (columns + 16 / perItem - 1) / (16 / perItem))
        }
        let best = layouts.min { $0.rowGroups * $0.columnBlocks < $1.rowGroups * $1.columnBlocks }!
        return (best.rowsPerItem, best.rowGroups, best.columnBlocks, 16 * batch * best.rowGroups * best.columnBlocks)
    }

    /// Winograd runs its transforms and GEMMs over chunks of work-items of the transforms (16 tiles
    /// each): as many as keep a chunk's transformed input and products within `chunkBytes`.
    func winogradChunkItems(chunkBytes: Int) -> Int {
        let bytesPerItem = 4 * 36 * 16 * (inputChannels + outputChannels)
        return min(max(1, chunkBytes / bytesPerItem), winogradTiles.count / 16)
    }

    /// The tiles of the largest Winograd chunk, padded to whole GEMM work-groups and to 16.
    func winogradPaddedChunkTiles(tile: GEMMTile, chunkBytes: Int) -> Int {
        tile.paddedColumns(16 * winogradChunkItems(chunkBytes: chunkBytes), filters: outputChannels, alignment: 16)
    }

    /// Columns of the patch matrix that im2col-gemm gathers and multiplies at a time: as many as
    /// keep a chunk's patches within `chunkBytes`, in whole GEMM work-groups (at least one). Only
    /// where a column has more patches than outputs (more taps than filters per group); where the
    /// output's traffic dominates, the extra launches cost more than the cache saves (interleaved,
    /// chunks against one: stride2_7x7 2.14 against 2.51 ms, audio1d 5.8 against 6.1, but
    /// mel3x3_c1 2.06 against 1.84).
    func gemmChunkColumns(tile: GEMMTile, chunkBytes: Int) -> Int {
        let padded = tile.paddedColumns(patchColumns, filters: outputChannelsPerGroup)
        guard patchRows > outputChannelsPerGroup else { return padded }
        let groupColumns = tile.n * tile.columnPanelsPerGroup(filterPanels: tile.paddedFilters(outputChannelsPerGroup) / tile.m)
        return min(padded, max(groupColumns, chunkBytes / (4 * patchRows) / groupColumns * groupColumns))
    }

    /// The workspace of `algorithm` with GEMM tile `tile` and chunks of `chunkBytes` (im2col-gemm)
    /// or `winogradChunkBytes` (Winograd), in bytes: for im2col-gemm a chunk of the patch matrix
    /// and the packed filters of one group (chunks and groups run one after another and reuse them).
    func workspaceBytes(_ algorithm: ConvolutionAlgorithm, tile: GEMMTile, chunkBytes: Int, winogradChunkBytes: Int) -> Int {
        switch algorithm {
        case .direct: 0  // the backend's `directWorkspaceFloats`: packed filters, for some variants
        case .im2colGEMM:
            4 * patchRows * (gemmChunkColumns(tile: tile, chunkBytes: chunkBytes) + tile.paddedFilters(outputChannelsPerGroup))
        case .winograd:
            // 36 transformed input matrices (C × tiles of a chunk), filter matrices (K × C) and
            // products (K × tiles of a chunk).
            4 * 36 * (inputChannels * winogradPaddedChunkTiles(tile: tile, chunkBytes: winogradChunkBytes)
                + inputChannels * tile.paddedFilters(outputChannels)
                + outputChannels * 16 * winogradChunkItems(chunkBytes: winogradChunkBytes))
        }
    }
}
