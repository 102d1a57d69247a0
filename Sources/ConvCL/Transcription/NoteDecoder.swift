import Foundation

/// Makes notes from a posteriorgram as Basic Pitch does (its `note_creation.py`, default path):
/// 1. keys outside the frequency limits are silenced;
/// 2. inferred onsets: where the note likelihood rises over both of the last two frames, the rise
///    (scaled to the onsets' maximum) stands in for the onset when larger;
/// 3. every onset that is a strict local maximum in time and at least the onset threshold starts a
///    note, latest first; the note lasts while the key's remaining energy stays at or above the frame
///    threshold, tolerating 10 frames below it; notes no longer than the minimum are dropped, and a
///    kept note clears its key and both neighbours over its frames;
/// 4. the melodia trick: while any remaining energy exceeds the frame threshold, the strongest frame
///    grows a note forwards and backwards the same way, clearing as it goes;
/// 5. pitch bends: per frame, the contour's peak within 25 bins of the note's pitch, weighted by a
///    Gaussian (σ = 5 bins), in thirds of a semitone: Basic Pitch's rule, but measured from the bin
///    where the model puts an in-tune note (one above the bin Basic Pitch's Python measures from).
struct NoteDecoder {
    let options: TranscriptionOptions
    /// Frames below the frame threshold a note survives, plus one.
    static let energyTolerance = 11

    func notes(from posteriorgram: Posteriorgram) -> [NoteEvent] {
        let frames = posteriorgram.frameCount, keys = Posteriorgram.keyCount
        guard frames > 0 else { return [] }
        // Likelihoods stay float32 (remaining energy only ever drops to zero); the onsets become
        // Double, as Basic Pitch's inferred onsets are, so that ties fall as they fall there.
        var note = posteriorgram.note
        var onset = posteriorgram.onset.map(Double.init)
        silenceOutsideLimits(&note, &onset, frames: frames)
        if options.inferOnsets { inferOnsets(&onset, note: note, frames: frames) }

        var remaining = note
        var events: [(start: Int, end: Int, key: Int)] = []
        let threshold = options.frameThreshold, minimum = options.minimumNoteFrames
        func quiet(_ frame: Int, _ key: Int) -> Bool { Double(remaining[frame * keys + key]) < threshold }
        func clear(_ frame: Int, _ key: Int) {
            remaining[frame * keys + key] = 0
            if key < keys - 1 { remaining[frame * keys + key + 1] = 0 }
            if key > 0 { remaining[frame * keys + key - 1] = 0 }
        }

        // Onsets that are strict local maxima in time, latest first (then highest key first).
        var onsets: [(frame: Int, key: Int)] = []
        if frames >= 3 {
            for frame in 1..<frames - 1 {
                for key in 0..<keys {
                    let value = onset[frame * keys + key]
                    if value > onset[(frame - 1) * keys + key], value > onset[(frame + 1) * keys + key], value >= options.onsetThreshold {
                        onsets.append((frame, key))
                    }
                }
            }
        }
        for (start, key) in onsets.reversed() {
            var frame = start + 1, below = 0
            while frame < frames - 1, below < Self.energyTolerance {
                below = quiet(frame, key) ? below + 1 : 0
                frame += 1
            }
            let end = frame - below
            guard end - start > minimum else { continue }
            for f in start..<end { clear(f, key) }
            events.append((start, end, key))
        }

        if options.melodiaTrick {
            // Remaining energy only ever drops to zero, so the strongest cell still intact in
            // (value descending, index ascending) order is the current maximum.
            var candidates: [(value: Float, index: Int)] = []
            for index in remaining.indices where Double(remaining[index]) > threshold { candidates.append((remaining[index], index)) }
            candidates.sort { $0.value != $1.value ? $0.value > $1.value : $0.index < $1.index }
            for (value, index) in candidates where remaining[index] == value {
                let middle = index / keys, key = index % keys
                remaining[index] = 0
                var frame = middle + 1, below = 0
                while frame < frames - 1, below < Self.energyTolerance {
                    below = quiet(frame, key) ? below + 1 : 0
                    clear(frame, key)
                    frame += 1
                }
                let end = frame - 1 - below
                frame = middle - 1
                below = 0
                while frame > 0, below < Self.energyTolerance {
                    below = quiet(frame, key) ? below + 1 : 0
                    clear(frame, key)
                    frame -= 1
                }
                let start = frame + 1 + below
                guard end - start > minimum else { continue }
                events.append((start, end, key))
            }
        }

        return events.map { event in
            var sum = 0.0
            for frame in event.start..<event.end { sum += Double(note[frame * keys + event.key]) }
            return NoteEvent(
                start: Posteriorgram.time(ofFrame: event.start), end: Posteriorgram.time(ofFrame: event.end),
                pitch: event.key + Posteriorgram.lowestMIDIPitch, amplitude: sum / Double(event.end - event.start),
                pitchBends: options.pitchBends ? pitchBends(posteriorgram, event.start, event.end, event.key) : nil)
        }
    }

    /// Zeroes the keys below the minimum and from the maximum frequency on (Basic Pitch's rounding).
    private func silenceOutsideLimits(_ note: inout [Float], _ onset: inout [Double], frames: Int) {
        let keys = Posteriorgram.keyCount
        func key(_ hertz: Double) -> Int {
            min(max(Int((12 * log2(hertz / 440) + 69 - Double(Posteriorgram.lowestMIDIPitch)).rounded(.toNearestOrEven)), 0), keys)
        }
        var silenced: [Range<Int>] = []
        if let high = options.maximumFrequency { silenced.append(key(high)..<keys) }
        if let low = options.minimumFrequency { silenced.append(0..<key(low)) }
        for range in silenced {
            for frame in 0..<frames {
                for k in range {
                    note[frame * keys + k] = 0
                    onset[frame * keys + k] = 0
                }
            }
        }
    }

    /// The onsets' maximum with the scaled rise of the note likelihood over the last two frames.
    private func inferOnsets(_ onset: inout [Double], note: [Float], frames: Int) {
        let keys = Posteriorgram.keyCount
        var rise = [Double](repeating: 0, count: frames * keys)
        for frame in 2..<max(frames, 2) {
            for key in 0..<keys {
                let value = Double(note[frame * keys + key])
                let smallest = min(value - Double(note[(frame - 1) * keys + key]), value - Double(note[(frame - 2) * keys + key]))
                rise[frame * keys + key] = max(smallest, 0)
            }
        }
        let largestRise = rise.max() ?? 0
        guard largestRise > 0 else { return }  // Basic Pitch divides by zero here: nothing to add
        // Multiplied before dividing, as Basic Pitch does: the largest rise then equals the largest
        // onset exactly, and the peak picking's ties fall the same way.
        let largestOnset = onset.max() ?? 0
        for index in onset.indices { onset[index] = max(onset[index], largestOnset * rise[index] / largestRise) }
    }

    /// Thirds of a semitone from the note's pitch to the contour's Gaussian-weighted peak, per frame.
    private func pitchBends(_ posteriorgram: Posteriorgram, _ start: Int, _ end: Int, _ key: Int) -> [Int]? {
        let bins = Posteriorgram.contourBinCount, tolerance = 25
        guard posteriorgram.contour.count == posteriorgram.frameCount * bins else { return nil }
        // The model puts an in-tune note's contour peak one bin above 36 log2(f / 27.5), the bin
        // Basic Pitch's Python centres on (so it bends every in-tune note a third of a semitone
        // sharp: its issue #87); the bends here are measured from the bin of an in-tune note.
        let centre = 3 * key + 1
        let low = max(centre - tolerance, 0), high = min(bins, centre + tolerance + 1)
        return (start..<end).map { frame in
            var best = low, bestValue = -Double.infinity
            for bin in low..<high {
                let distance = Double(bin - centre) / 5
                let value = Double(posteriorgram.contour[frame * bins + bin]) * exp(-0.5 * distance * distance)
                if value > bestValue {
                    best = bin
                    bestValue = value
                }
            }
            return best - centre
        }
    }
}
