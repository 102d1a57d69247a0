import ConvCL
import Foundation

/// Synthesized notes of random timbre, labelled by pitch class: the training example's data.
///
/// Each note is a MIDI pitch in `lowestNote ..< lowestNote + octaves·12`, detuned by up to ±25
/// cents, with vibrato of up to ±15 cents at 4–7 Hz, and 1–8 harmonics (those below 95% of
/// Nyquist) that are stretched as a stiff string's are (inharmonicity up to 3·10⁻⁴), whose
/// amplitudes fall off at a random rate, each scaled at random, the fundamental missing one time
/// in five, at random phases; an attack of 2–30 ms and an exponential decay; white noise up to a
/// third of the tone's peak; a random onset in the first eighth of the clip; a random gain. The
/// label is the pitch class (C = 0 … B = 11), the same in every octave.
struct NoteDataset {
    static let sampleRate = 8000.0
    static let lowestNote = 55  // G3, 196 Hz
    static let octaves = 3
    static let classes = 12
    static let names = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]

    let samples: Int
    /// [count, 1, samples], row-major.
    var audio: [Float] = []
    var labels: [Int] = []
    var notes: [Int] = []

    var count: Int { labels.count }

    init(count: Int, samples: Int, generator: inout SeededGenerator) {
        self.samples = samples
        audio.reserveCapacity(count * samples)
        for _ in 0..<count {
            let note = Self.lowestNote + Int.random(in: 0..<12 * Self.octaves, using: &generator)
            notes.append(note)
            labels.append(note % 12)
            audio += Self.synthesize(note: note, samples: samples, generator: &generator)
        }
    }

    static func frequency(_ note: Double) -> Double { 440 * pow(2, (note - 69) / 12) }

    static func synthesize(note: Int, samples: Int, generator: inout SeededGenerator) -> [Float] {
        func uniform(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &generator) }
        let fundamental = frequency(Double(note) + uniform(-0.25...0.25))
        let harmonics = Int.random(in: 1...8, using: &generator)
        let rolloff = uniform(0.3...2), stretch = uniform(0...3e-4)
        let missingFundamental = harmonics > 2 && Int.random(in: 0..<5, using: &generator) == 0
        let vibratoDepth = uniform(0...0.15) / 12, vibratoRate = uniform(4...7), vibratoPhase = uniform(0...(2 * Double.pi))
        let attack = uniform(0.002...0.03), decay = uniform(1...12)
        let onset = Int.random(in: 0...samples / 8, using: &generator)
        var wave = [Double](repeating: 0, count: samples)
        for harmonic in (missingFundamental ? 2 : 1)...harmonics {
            let h = Double(harmonic)
            let f = fundamental * h * (1 + stretch * h * h).squareRoot()
            guard f < sampleRate / 2 * 0.95 else { break }
            let amplitude = pow(h, -rolloff) * uniform(0.2...1)
            var phase = uniform(0...(2 * Double.pi))
            for t in onset..<samples {
                // The phase advances at the vibrato's instantaneous frequency.
                let time = Double(t - onset) / sampleRate
                phase += 2 * Double.pi * f * pow(2, vibratoDepth * sin(2 * Double.pi * vibratoRate * time + vibratoPhase)) / sampleRate
                wave[t] += amplitude * sin(phase)
            }
        }
        var peak = 0.0
        for t in 0..<samples {
            let time = Double(t - onset) / sampleRate
            wave[t] *= t < onset ? 0 : min(1, time / attack) * exp(-decay * time)
            peak = max(peak, abs(wave[t]))
        }
        let noise = uniform(0...0.33) * peak
        for t in 0..<samples { wave[t] += noise * uniform(-1...1) }
        let gain = uniform(0.3...1) / max(peak + noise, 1e-9)
        return wave.map { Float($0 * gain) }
    }

    /// Examples `range` as a batch: audio [n, 1, samples] and labels.
    func batch(_ indices: some Collection<Int>, backend: any Backend) throws -> (Tensor, [Int]) {
        var values: [Float] = []
        values.reserveCapacity(indices.count * samples)
        for index in indices { values += audio[index * samples..<(index + 1) * samples] }
        return (try backend.tensor(shape: [indices.count, 1, samples], values: values), indices.map { labels[$0] })
    }
}
