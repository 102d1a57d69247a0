import Foundation
import ConvCL

/// Mono audio samples in [-1, 1] and their rate.
struct Audio {
    var samples: [Float]
    var sampleRate: Int

    /// Reads a WAV file of any supported encoding, mixed down to mono.
    static func readWAV(path: String) throws -> Audio {
        let (samples, rate) = try WAVReader.readMono(contentsOf: URL(fileURLWithPath: path))
        return Audio(samples: samples, sampleRate: rate)
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
