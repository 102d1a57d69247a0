import Foundation
import Testing

@testable import ConvCL

/// WAV reading and resampling: every encoding against the values written, every malformed header
/// refused by name, and the resampler against the band-limited formula evaluated in Double.
@Suite("Audio input")
struct AudioTests {
    /// A WAV file's bytes: `tag` 1 (PCM) or 3 (float), or 0xFFFE with the sub-format's tag.
    static func wav(samples: [Double], channels: Int, rate: Int, tag: Int, bits: Int, extensible: Bool = false) -> [UInt8] {
        func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
        var data: [UInt8] = []
        for value in samples {
            switch (tag, bits) {
            case (3, 32): data += le(Int(Float(value).bitPattern), 4)
            case (3, 64): data += le(Int(truncatingIfNeeded: value.bitPattern), 8)
            case (1, 8): data.append(UInt8(Int((value * 128).rounded()) + 128))
            default: data += le(Int((value * Double(1 << (bits - 1))).rounded()), bits / 8)
            }
        }
        let block = channels * bits / 8
        var fmt = le(extensible ? 0xFFFE : tag, 2) + le(channels, 2) + le(rate, 4) + le(rate * block, 4) + le(block, 2) + le(bits, 2)
        if extensible { fmt += le(22, 2) + le(bits, 2) + le(0, 4) + le(tag, 2) + [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71] }
        var body = Array("WAVE".utf8) + Array("LIST".utf8) + le(3, 4) + [1, 2, 3, 0]  // an odd chunk to skip
        body += Array("fmt ".utf8) + le(fmt.count, 4) + fmt + Array("data".utf8) + le(data.count, 4) + data
        return Array("RIFF".utf8) + le(body.count, 4) + body
    }

    static func write(_ bytes: [UInt8], in directory: URL, name: String = "a.wav") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    @Test("every encoding reads back, mixed down to mono, a block at a time")
    func encodings() throws {
        var random = TestRandom()
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (tag, bits, extensible) in [(1, 8, false), (1, 16, false), (1, 24, false), (1, 32, false), (3, 32, false), (3, 64, false), (1, 24, true), (3, 32, true)] {
            for channels in [1, 2, 3] {
                let frames = random.int(1...3000)
                let samples = (0..<frames * channels).map { _ in Double.random(in: -0.99...0.99, using: &random) }
                let url = try Self.write(Self.wav(samples: samples, channels: channels, rate: 44_100, tag: tag, bits: bits, extensible: extensible), in: directory)
                let reader = try WAVReader(contentsOf: url)
                #expect(reader.sampleRate == 44_100 && reader.channelCount == channels && reader.frameCount == frames)
                var mono: [Float] = []
                while true {
                    let block = try reader.read(maxFrames: random.int(1...700))
                    if block.isEmpty { break }
                    mono += block
                }
                #expect(mono.count == frames)
                // Quantisation: half a step of the encoding (float32: its rounding).
                let step = tag == 3 ? 1e-7 : 1 / Double(1 << (bits - 1))
                var worst = 0.0
                for frame in 0..<min(mono.count, frames) {
                    let expected = (0..<channels).map { samples[frame * channels + $0] }.reduce(0, +) / Double(channels)
                    worst = max(worst, abs(Double(mono[frame]) - expected))
                }
                #expect(worst <= step / 2 + 1e-7, "tag \(tag), \(bits) bits, \(channels) channels: error \(worst); seed \(random.seed)")
            }
        }
    }

    @Test("malformed and unsupported files are refused by name")
    func refused() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = Self.wav(samples: [0.1, -0.2, 0.3, 0.4], channels: 2, rate: 8000, tag: 1, bits: 16)
        func reason(_ bytes: [UInt8]) throws -> String {
            let url = try Self.write(bytes, in: directory)
            do {
                let reader = try WAVReader(contentsOf: url)
                _ = try reader.read(maxFrames: reader.frameCount)
            } catch let error as AudioFileError {
                #expect(error.path == url.path)
                return error.reason
            }
            return "accepted"
        }
        func patched(_ offset: Int, _ values: [UInt8]) -> [UInt8] {
            var bytes = good
            bytes.replaceSubrange(offset..<offset + values.count, with: values)
            return bytes
        }
        let fmt = 12 + 12 + 8  // after RIFF header and the LIST chunk, the fmt body
        #expect(try reason(Array("RIFX".utf8) + good.dropFirst(4)).contains("not a RIFF/WAVE"))
        #expect(try reason(Array(good.prefix(40))).contains("truncated"))
        #expect(try reason(Array(good.dropLast(3))).contains("truncated"))
        #expect(try reason(patched(fmt, [2, 0])).contains("ADPCM"))
        #expect(try reason(patched(fmt + 14, [12, 0])).contains("unsupported encoding"))
        #expect(try reason(patched(fmt + 2, [0, 0])).contains("no channels"))
        #expect(try reason(patched(fmt + 4, [0, 0, 0, 0])).contains("sample rate 0"))
        #expect(try reason(patched(fmt + 12, [3, 0])).contains("block align 3"))
        #expect(try reason(Array(good.prefix(fmt - 8))).contains("no data chunk"))
        // Found by ci/fuzz.sh: a chunk id with a newline in it made a two-line error.
        let oddID = try reason(Array(good.prefix(12)) + [0x0A, 0x49, 0x53, 0x07, 0xFF, 0xFF, 0, 0] + good.dropFirst(20))
        #expect(oddID.contains("chunk '\\x0aIS\\x07' declares 65535 bytes") && !oddID.contains("\n"), "\(oddID)")
        #expect(try reason(Self.wav(samples: [Double.nan], channels: 1, rate: 8000, tag: 3, bits: 32)).contains("not a finite number"))
        #expect(throws: AudioFileError.self) { try WAVReader(contentsOf: directory.appendingPathComponent("missing.wav")) }
        #expect(throws: AudioFileError.self) { try WAVReader(contentsOf: directory) }
    }

    /// The resampler's output against y[n] = Σ x[k] h(n·in/out − k), the same Kaiser-windowed
    /// sinc evaluated in Double sample by sample, fed in random blocks.
    @Test("the resampler matches the band-limited formula in Double, fed in blocks", arguments: [(44_100, 22_050), (48_000, 22_050), (16_000, 22_050), (22_051, 22_050), (8_000, 11_025)])
    func resampler(from inputRate: Int, to outputRate: Int) throws {
        var random = TestRandom()
        let count = random.int(300...900)
        let input = random.floats(count)
        var resampler = try Resampler(from: inputRate, to: outputRate)
        var output: [Float] = []
        var position = 0
        while position < count {
            let size = min(random.int(0...200), count - position)
            output += resampler.process(Array(input[position..<position + size]))
            position += size
        }
        output += resampler.finish()
        let expectedCount = (count * outputRate + inputRate - 1) / inputRate
        #expect(output.count == expectedCount, "\(inputRate) → \(outputRate); seed \(random.seed)")
        let scale = min(1, Double(outputRate) / Double(inputRate))
        let cutoff = 0.975 * scale, beta = 0.1102 * (120 - 8.7)
        let halfWidth = (120 - 8) / (2.285 * .pi * 0.05 * scale) / 2
        func i0(_ x: Double) -> Double {
            var sum = 0.0, term = 1.0, k = 0.0
            while term > 1e-18 * sum || k == 0 {
                sum += term
                k += 1
                term *= (x / 2) * (x / 2) / (k * k)
            }
            return sum
        }
        // The edges, where the leading and trailing zeros come in, and a random sample between.
        let produced = min(output.count, expectedCount)
        let checked = Set(Array(0..<min(12, produced)) + Array(max(0, produced - 12)..<produced) + (0..<40).map { _ in random.int(0...produced - 1) })
        var worst = 0.0
        for n in checked.sorted() {
            let t = Double(n) * Double(inputRate) / Double(outputRate)
            var sum = 0.0
            for k in max(0, Int((t - halfWidth).rounded(.down)))...min(count - 1, Int((t + halfWidth).rounded(.up))) {
                let tau = t - Double(k), x = tau / halfWidth
                guard abs(x) < 1 else { continue }
                let sinc = tau == 0 ? 1 : sin(.pi * cutoff * tau) / (.pi * cutoff * tau)
                sum += Double(input[k]) * cutoff * sinc * i0(beta * (1 - x * x).squareRoot()) / i0(beta)
            }
            worst = max(worst, abs(Double(output[n]) - sum))
        }
        #expect(worst < 2e-6, "\(inputRate) → \(outputRate): largest error \(worst); seed \(random.seed)")
    }

    @Test("tones to 95% of the lower Nyquist frequency come through; ones above it do not")
    func resamplerResponse() throws {
        func resample(_ hertz: Double, from inputRate: Int, to outputRate: Int) throws -> (output: [Float], expected: [Double]) {
            let input = (0..<inputRate / 5).map { Float(sin(2 * .pi * hertz * Double($0) / Double(inputRate) + 0.3)) }
            var resampler = try Resampler(from: inputRate, to: outputRate)
            let output = resampler.process(input) + resampler.finish()
            return (output, (0..<output.count).map { sin(2 * .pi * hertz * Double($0) / Double(outputRate) + 0.3) })
        }
        for (inputRate, outputRate) in [(44_100, 22_050), (16_000, 22_050), (48_000, 22_050)] {
            let nyquist = Double(min(inputRate, outputRate)) / 2
            for hertz in [0.05 * nyquist, 0.9 * nyquist, 0.95 * nyquist] {
                let (output, expected) = try resample(hertz, from: inputRate, to: outputRate)
                let middle = 800..<output.count - 800  // away from the edges, where the signal starts and stops
                let error = middle.map { abs(Double(output[$0]) - expected[$0]) }.max() ?? 1
                #expect(error < 2e-4, "\(inputRate) → \(outputRate), \(hertz) Hz: passband error \(error)")
            }
        }
        for hertz in [11_100.0, 13_000, 20_000] {  // above 22050 Hz's Nyquist frequency
            let (aliased, _) = try resample(hertz, from: 44_100, to: 22_050)
            let leak = aliased[800..<aliased.count - 800].map { abs($0) }.max() ?? 1
            #expect(leak < 1e-5, "a \(hertz) Hz tone leaks \(leak) into 22050 Hz")
        }
    }
}
