import Foundation

/// Band-limited sample-rate conversion by the exact rational factor `outputRate / inputRate`, fed a
/// block at a time: a polyphase bank of Kaiser-windowed sinc filters.
///
/// Output sample `n` is the input's band-limited value at time `n / outputRate` (the input's sample
/// `k` is at `k / inputRate`, zeros before the first and after the last), and a signal of `N` input
/// samples gives `ceil(N · outputRate / inputRate)` output samples, as librosa's resamplers align
/// and count them. The defaults follow libsoxr's high quality (librosa's default): flat to 95% of the
/// lower Nyquist frequency, 120 dB down from it on. The bank holds one phase per distinct fractional
/// position when there are at most 4096 of them (every common rate), else 4096 phases between which
/// coefficients are interpolated linearly (an error below 1e-7 of the signal).
public struct Resampler: Sendable {
    /// Samples per second in.
    public let inputRate: Int
    /// Samples per second out.
    public let outputRate: Int
    /// The factor in lowest terms: `up / down == outputRate / inputRate`.
    private let up: Int, down: Int
    /// Taps per phase (even, a multiple of 8), centred on the output's position.
    private let taps: Int
    /// Phases in the bank (not counting the extra last one, a whole sample on).
    private let phases: Int
    /// `phases + 1` rows of `taps` coefficients each.
    private let bank: [Float]
    /// Input samples from absolute index `bufferStart` on (negative indices are the leading zeros).
    private var buffer: [Float]
    private var bufferStart: Int
    private var inputCount = 0
    private var produced = 0

    /// A resampler from `inputRate` to `outputRate` samples per second.
    /// - Parameters:
    ///   - passband: where the passband ends, as a fraction of the lower Nyquist frequency.
    ///   - stopband: where the stopband begins, as a fraction of it (above `passband`).
    ///   - attenuation: the stopband's attenuation in dB (the Kaiser window's shape follows).
    public init(from inputRate: Int, to outputRate: Int, passband: Double = 0.95, stopband: Double = 1, attenuation: Double = 120) throws {
        guard inputRate > 0, outputRate > 0 else {
            throw ConvCLError.invalidArgument(operation: "Resampler", argument: "rates", reason: "\(inputRate) Hz to \(outputRate) Hz: both must be positive")
        }
        guard passband > 0, stopband > passband, stopband <= 2, attenuation >= 21, attenuation <= 200 else {
            throw ConvCLError.invalidArgument(
                operation: "Resampler", argument: "filter",
                reason: "passband \(passband), stopband \(stopband), attenuation \(attenuation) dB: need 0 < passband < stopband ≤ 2 and 21 ≤ attenuation ≤ 200")
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        var (a, b) = (inputRate, outputRate)
        while b != 0 { (a, b) = (b, a % b) }
        up = outputRate / a
        down = inputRate / a
        let scale = min(1, Double(up) / Double(down))
        // The cutoff and the transition, relative to the input's Nyquist frequency; Kaiser's
        // formulas give the window's shape and the length the transition needs.
        let cutoff = (passband + stopband) / 2 * scale
        let transition = (stopband - passband) * scale
        let beta = attenuation > 50 ? 0.1102 * (attenuation - 8.7) : 0.5842 * pow(attenuation - 21, 0.4) + 0.07886 * (attenuation - 21)
        let halfWidth = (attenuation - 8) / (2.285 * Double.pi * transition) / 2
        let half = (Int(halfWidth.rounded(.up)) + 3) / 4 * 4
        taps = 2 * half
        phases = min(up, 4096)
        func besselI0(_ x: Double) -> Double {
            var sum = 1.0, term = 1.0, k = 1.0
            while term > 1e-17 * sum {
                term *= (x / (2 * k)) * (x / (2 * k))
                sum += term
                k += 1
            }
            return sum
        }
        let normaliser = besselI0(beta)
        var bank = [Float](repeating: 0, count: (phases + 1) * taps)
        for phase in 0...phases {
            let fraction = Double(phase) / Double(phases)
            for tap in 0..<taps {
                // Tap `tap` weighs input sample q - half + 1 + tap for an output at q + fraction.
                let tau = fraction - Double(tap - half + 1)
                let x = tau / halfWidth
                guard abs(x) < 1 else { continue }
                let argument = Double.pi * cutoff * tau
                let sinc = argument == 0 ? 1 : sin(argument) / argument
                bank[phase * taps + tap] = Float(cutoff * sinc * besselI0(beta * (1 - x * x).squareRoot()) / normaliser)
            }
        }
        self.bank = bank
        buffer = [Float](repeating: 0, count: half)
        bufferStart = -half
    }

    /// Resamples the next block of input, returning every output sample it completes.
    public mutating func process(_ input: [Float]) -> [Float] {
        guard up != down else { return input }
        buffer += input
        inputCount += input.count
        return drain(limit: nil)
    }

    /// Output samples in all for `inputCount` input samples: `ceil(inputCount · outputRate / inputRate)`.
    public func outputCount(inputCount: Int) -> Int {
        (inputCount * up + down - 1) / down
    }

    /// Ends the input, returning the remaining output samples.
    public mutating func finish() -> [Float] {
        guard up != down else { return [] }
        buffer += [Float](repeating: 0, count: taps)
        return drain(limit: outputCount(inputCount: inputCount))
    }

    /// Output samples whose taps all lie in the buffer (up to `limit` in all, when given), then
    /// drops the input no later output needs.
    private mutating func drain(limit: Int?) -> [Float] {
        let half = taps / 2
        var output: [Float] = []
        let available = bufferStart + buffer.count
        buffer.withUnsafeBufferPointer { samples in
            bank.withUnsafeBufferPointer { coefficients in
                while limit.map({ produced < $0 }) ?? true {
                    let position = produced * down
                    let q = position / up
                    let first = q - half + 1
                    guard first + taps <= available else { break }
                    // The phase in the bank, and how far towards the next one (0 when exact).
                    let scaled = (position % up) * phases
                    let phase = scaled / up
                    let weight = Float(scaled % up) / Float(up)
                    let x = UnsafeRawPointer(samples.baseAddress! + (first - bufferStart))
                    let h = UnsafeRawPointer(coefficients.baseAddress! + phase * taps)
                    var sum = SIMD8<Float>()
                    if weight == 0 {
                        for offset in stride(from: 0, to: taps * 4, by: 32) {
                            sum += x.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                                * h.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                        }
                    } else {
                        let next = h + taps * 4
                        for offset in stride(from: 0, to: taps * 4, by: 32) {
                            let h0 = h.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                            let h1 = next.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                            sum += x.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) * (h0 + weight * (h1 - h0))
                        }
                    }
                    output.append(sum.sum())
                    produced += 1
                }
            }
        }
        let needed = produced * down / up - half + 1
        if needed > bufferStart {
            buffer.removeFirst(min(needed - bufferStart, buffer.count))
            bufferStart = needed
        }
        return output
    }
}
