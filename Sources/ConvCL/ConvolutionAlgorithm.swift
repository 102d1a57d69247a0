/// The ways the OpenCL backend can compute a convolution.
public enum ConvolutionAlgorithm: String, Sendable, Hashable, CaseIterable {
    /// One work-item per output element, looping over the window and the input channels. Needs no
    /// workspace; the fallback for every shape.
    case direct
    /// The input patches gathered into a matrix (im2col), then a register-tiled GEMM with explicit
    /// vectors. Needs the patch matrix as workspace.
    case im2colGEMM = "im2col-gemm"
    /// Winograd F(2×2, 3×3): 3×3 convolutions with stride 1, dilation 1 and one group only. The
    /// input and the filters are transformed into 16 GEMMs over 2×2 output tiles, which take 2.25×
    /// fewer multiplications than the convolution. Needs the transformed input, filters and
    /// products as workspace.
    case winograd
}

/// The algorithm the OpenCL backend will use for one convolution, and why.
public struct ConvolutionPlan: Sendable, Equatable, CustomStringConvertible {
    public let algorithm: ConvolutionAlgorithm
    /// Device memory the algorithm needs besides the operands and the result.
    public let workspaceBytes: Int
    /// Why this algorithm: forced by the caller, the heuristic's reason, or the workspace limit.
    public let reason: String

    public var description: String { "\(algorithm.rawValue) (\(workspaceBytes) bytes of workspace): \(reason)" }
}

/// Tile sizes of the GEMM kernel (`-DTILE_M`, `-DTILE_N`): each work-item keeps `m` filters ×
/// `n` positions of accumulators, as `m` vectors of `n` floats.
struct GEMMTile: Sendable, Hashable {
    let m: Int
    let n: Int

    /// The tile for a device with SIMD width `vectorWidth` (floats): as many filters and positions
    /// as keep the accumulators in registers. With AVX-512 (width 16, 32 vector registers) 12 × 32
    /// ran fastest on PoCL; with AVX2 (width 8, 16 registers), 6 × 16 (see docs/performance.md).
    init(vectorWidth: Int) {
        self.init(m: vectorWidth >= 16 ? 12 : 6, n: vectorWidth >= 16 ? 32 : 16)
    }

    init(m: Int, n: Int) {
        self.m = m
        self.n = n
    }

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

    /// The build options that give a kernel this tile.
    var options: String { "-DTILE_M=\(m) -DTILE_N=\(n)" }

    static func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }
}

extension ConvolutionGeometry {
    /// Columns of the patch matrix: every output position of the batch.
    var patchColumns: Int { batch * outputHeight * outputWidth }
    /// Rows of the patch matrix: one per (channel, tap) of a group.
    var patchRows: Int { inputChannelsPerGroup * kernelHeight * kernelWidth }

    /// Whether Winograd F(2×2, 3×3) computes this convolution: 3×3, stride 1, dilation 1, one group.
    var winogradApplies: Bool {
        kernelHeight == 3 && kernelWidth == 3 && strideHeight == 1 && strideWidth == 1
            && dilationHeight == 1 && dilationWidth == 1 && groups == 1
    }

    /// Whether `algorithm` can compute this convolution (only Winograd is restricted).
    func computes(with algorithm: ConvolutionAlgorithm) -> Bool {
        algorithm != .winograd || winogradApplies
    }

    /// Winograd's 2×2 output tiles: rows, columns padded to a multiple of 16 (a work-item of the
    /// transforms takes 16 tiles of one row), and all of them over the batch with that padding.
    var winogradTiles: (rows: Int, paddedColumns: Int, count: Int) {
        let rows = (outputHeight + 1) / 2, columns = GEMMTile.roundUp((outputWidth + 1) / 2, 16)
        return (rows, columns, batch * rows * columns)
    }

    /// The workspace of `algorithm` with GEMM tile `tile`, in bytes: for im2col-GEMM the patch
    /// matrix and the packed filters of one group (groups run one after another and reuse them).
    func workspaceBytes(_ algorithm: ConvolutionAlgorithm, tile: GEMMTile) -> Int {
        switch algorithm {
        case .direct: 0
        case .im2colGEMM:
            4 * patchRows * (tile.paddedColumns(patchColumns, filters: outputChannelsPerGroup) + tile.paddedFilters(outputChannelsPerGroup))
        case .winograd:
            // 16 transformed input matrices (C × tiles), filter matrices (K × C) and products (K × tiles).
            4 * 16 * (inputChannels * tile.paddedColumns(winogradTiles.count, filters: outputChannels, alignment: 16)
                + inputChannels * tile.paddedFilters(outputChannels) + outputChannels * winogradTiles.count)
        }
    }
}
