/// What a reduction computes, with ONNX's definitions (ReduceSum, ReduceMean, …).
public enum ReductionOperation: String, Sendable, Hashable, CaseIterable {
    case sum, mean, max, min, prod
    /// Σ|x|.
    case l1
    /// √(Σx²).
    case l2
    /// Σx².
    case sumSquare = "sumsquare"
    /// log(Σx).
    case logSum = "logsum"
    /// log(Σexp(x)), computed without overflow for large inputs.
    case logSumExp = "logsumexp"

    /// The kernel's `OP` define.
    var kernelCode: Int {
        Self.allCases.firstIndex(of: self)!
    }
}

/// The parameters of a reduction.
public struct ReduceDescriptor: Sendable, Hashable {
    public var operation: ReductionOperation
    /// The axes to reduce (negative counts from the end); nil or empty reduces all of them.
    public var axes: [Int]?
    /// Keep reduced axes as size 1 (ONNX's default) or drop them.
    public var keepDims: Bool

    public init(_ operation: ReductionOperation, axes: [Int]? = nil, keepDims: Bool = true) {
        self.operation = operation
        self.axes = axes
        self.keepDims = keepDims
    }
}

/// A reduction resolved against an input shape, in a canonical form for the kernel: size-1 axes
/// dropped and adjacent axes of the same kind (kept or reduced) merged, so the output index and
/// the reduced index each decompose over at most a few (size, stride) pairs.
struct ReductionLayout: Hashable {
    var outputShape: [Int]
    var outputCount: Int
    var reducedCount: Int
    var keptSizes: [Int], keptStrides: [Int]
    var reducedSizes: [Int], reducedStrides: [Int]

    /// The most merged axes of each kind the kernel takes.
    static let maxMergedRank = 8
}

extension ReduceDescriptor {
    func layout(input shape: [Int], operation name: String = "reduce") throws -> ReductionLayout {
        func fail(_ argument: String, _ reason: String) -> ConvCLError {
            .invalidArgument(operation: name, argument: argument, reason: reason)
        }
        let rank = shape.count
        var reduced = [Bool](repeating: axes?.isEmpty ?? true, count: rank)
        for axis in axes ?? [] {
            guard (-rank..<rank).contains(axis) else {
                throw fail("axes", "axis \(axis) is out of range for rank \(rank) (valid: \(-rank)...\(rank - 1)); axes \(axes!)")
            }
            let normalized = axis < 0 ? axis + rank : axis
            guard !reduced[normalized] else { throw fail("axes", "axis \(axis) is repeated in \(axes!)") }
            reduced[normalized] = true
        }
        var outputShape: [Int] = []
        for (size, isReduced) in zip(shape, reduced) where !isReduced || keepDims {
            outputShape.append(isReduced ? 1 : size)
        }
        // Row-major strides, then merge adjacent axes of the same kind (size-1 axes drop out).
        var strides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * shape[axis + 1] }
        var groups: [(size: Int, stride: Int, reduced: Bool)] = []
        for axis in 0..<rank where shape[axis] != 1 {
            if let last = groups.last, last.reduced == reduced[axis] {
                groups[groups.count - 1] = (last.size * shape[axis], strides[axis], last.reduced)
            } else {
                groups.append((shape[axis], strides[axis], reduced[axis]))
            }
        }
        let kept = groups.filter { !$0.reduced }
        let reducedGroups = groups.filter(\.reduced)
        guard kept.count <= ReductionLayout.maxMergedRank, reducedGroups.count <= ReductionLayout.maxMergedRank else {
            throw fail("axes", "\(axes ?? []) over shape \(shape) alternates kept and reduced axes more than 8 times")
        }
        return ReductionLayout(
            outputShape: outputShape,
            outputCount: outputShape.reduce(1, *),
            reducedCount: zip(shape, reduced).filter(\.1).map(\.0).reduce(1, *),
            keptSizes: kept.map(\.size), keptStrides: kept.map(\.stride),
            reducedSizes: reducedGroups.map(\.size), reducedStrides: reducedGroups.map(\.stride))
    }
}
