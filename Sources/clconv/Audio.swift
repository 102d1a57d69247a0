import Foundation

/// Mono audio samples in [-1, 1] and their rate.
struct Audio {
    var samples: [Float]
    var sampleRate: Int

    /// Reads a 16-bit PCM WAV file (any channel count, mixed down to mono).
    static func readWAV(path: String) throws -> Audio {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError("\(path): cannot be read")
        }
        let bytes = [UInt8](data)
        func fail(_ problem: String) -> InputError { InputError("\(path): \(problem)") }
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        guard bytes.count >= 12, String(decoding: bytes[0..<4], as: UTF8.self) == "RIFF",
            String(decoding: bytes[8..<12], as: UTF8.self) == "WAVE"
        else { throw fail("not a RIFF/WAVE file") }
        var position = 12
        var format: (channels: Int, rate: Int, bits: Int, encoding: Int)?
        while position + 8 <= bytes.count {
            let id = String(decoding: bytes[position..<position + 4], as: UTF8.self)
            let size = u32(position + 4)
            let body = position + 8
            guard size <= bytes.count - body else { throw fail("chunk '\(id)' is truncated") }
            if id == "fmt " {
                guard size >= 16 else { throw fail("the fmt chunk is too short") }
                format = (u16(body + 2), u32(body + 4), u16(body + 14), u16(body))
            } else if id == "data" {
                guard let format else { throw fail("the data chunk comes before the fmt chunk") }
                // 1 is PCM; 0xFFFE (extensible) is accepted when its samples are 16-bit integers.
                guard format.encoding == 1 || format.encoding == 0xFFFE, format.bits == 16 else {
                    throw fail("only 16-bit PCM is supported (format \(format.encoding), \(format.bits) bits)")
                }
                guard format.channels > 0, format.rate > 0 else { throw fail("no channels or no sample rate") }
                let frames = size / (2 * format.channels)
                var samples = [Float](repeating: 0, count: frames)
                for frame in 0..<frames {
                    var sum = 0
                    for channel in 0..<format.channels {
                        sum += Int(Int16(truncatingIfNeeded: u16(body + 2 * (frame * format.channels + channel))))
                    }
                    samples[frame] = Float(sum) / Float(format.channels) / 32768
                }
                return Audio(samples: samples, sampleRate: format.rate)
            }
            position = body + size + (size & 1)  // chunks are padded to an even size
        }
        throw fail("no data chunk")
    }

    /// A few seconds of a melody: notes with four harmonics each, a short attack and a decay.
    static func melody(sampleRate: Int = 16_000) -> Audio {
        let notes = [60, 64, 67, 72, 71, 67, 64, 62, 65, 69, 74, 72]  // MIDI numbers
        let noteLength = sampleRate / 4
        var samples = [Float](repeating: 0, count: notes.count * noteLength)
        for (index, note) in notes.enumerated() {
            let frequency = 440 * pow(2, Double(note - 69) / 12)
            for i in 0..<noteLength {
                let t = Double(i) / Double(sampleRate)
                let envelope = min(1, t / 0.01) * exp(-3 * t)
                var value = 0.0
                for harmonic in 1...4 { value += sin(2 * .pi * frequency * Double(harmonic) * t) / Double(harmonic) }
                samples[index * noteLength + i] = Float(0.4 * envelope * value)
            }
        }
        return Audio(samples: samples, sampleRate: sampleRate)
    }
}
