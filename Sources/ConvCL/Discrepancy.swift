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
}
