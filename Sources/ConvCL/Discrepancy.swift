/// How far a result is from a reference: the largest absolute difference and the relative L2
/// error ‖actual − expected‖ / ‖expected‖ over the finite values (absolute when those are all
/// zero). A NaN or an infinity on one side not matched by the same value on the other makes both
/// infinite, as does a difference in length.
public struct Discrepancy: Sendable, Equatable {
    public let maxAbsolute: Double
    public let relativeL2: Double

    public init(actual: [Float], expected: [Float]) {
        guard actual.count == expected.count else {
            (maxAbsolute, relativeL2) = (.infinity, .infinity)
            return
        }
        var maxAbsolute = 0.0, difference = 0.0, norm = 0.0
        for (a, e) in zip(actual, expected) {
            if !a.isFinite || !e.isFinite {
                if !(a.isNaN && e.isNaN) && a != e {
                    (self.maxAbsolute, relativeL2) = (.infinity, .infinity)
                    return
                }
                continue
            }
            let d = Double(a) - Double(e)
            maxAbsolute = max(maxAbsolute, abs(d))
            difference += d * d
            norm += Double(e) * Double(e)
        }
        self.maxAbsolute = maxAbsolute
        relativeL2 = norm > 0 ? (difference / norm).squareRoot() : difference.squareRoot()
    }

    /// The largest |actual − expected| / scale over the elements: for a sum, `scale` is the same
    /// sum of |x| (its condition), where a relative error would blow up on outputs that cancel to
    /// near zero. Infinite when the counts differ.
    public static func largestScaledError(actual: [Float], expected: [Float], scale: [Float]) -> Double {
        guard actual.count == expected.count, expected.count == scale.count else { return .infinity }
        var worst = 0.0
        for index in actual.indices {
            let difference = abs(Double(actual[index]) - Double(expected[index]))
            worst = max(worst, difference / max(Double(scale[index]), 1e-30))
        }
        return worst
    }
}
